package health_test

import (
	"testing"

	"github.com/matthan/matthan/analyzer/health"
	"github.com/matthan/matthan/ingest/decode"
)

// BenchmarkObserve measures the cost of one measured frame, per frame size
// of the sample footage: the CPU a camera costs at 2 samples a second is
// twice this per second.
func BenchmarkObserve(b *testing.B) {
	for _, name := range []string{clipFire, clipIntersection, clipPlaza} {
		b.Run(name, func(b *testing.B) {
			cam := newCamera(b, name, 0)
			var frames []decode.Frame
			for range 20 {
				f, _ := cam.sample()
				c := *f
				c.Pix = append([]byte(nil), f.Pix...)
				frames = append(frames, c)
			}
			mon := &health.Monitor{Camera: "cam"}
			defer mon.Close()
			at := epoch
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				f := &frames[i%len(frames)]
				at = at.Add(health.DefaultInterval)
				f.Capture = at
				if err := mon.Observe(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
