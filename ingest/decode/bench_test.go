package decode

import (
	"testing"
	"time"
)

// BenchmarkDecode decodes the overhead clip (640x360 H.264 High with
// B-frames) on one thread, one access unit per iteration, looping the clip.
// frames/s counts decoded pictures; aus/s is the input rate sustained.
func BenchmarkDecode(b *testing.B) {
	dm, pkts := readAll(b, clip(b, clipOverhead))
	for _, mode := range []Mode{EveryFrame, SkipNonReference, KeyframesOnly} {
		b.Run(mode.String(), func(b *testing.B) {
			d, err := NewDecoder(dm.Codec())
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			d.SetMode(mode)
			pictures := 0
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				j := i % len(pkts)
				if j == 0 && i > 0 {
					for {
						ready, _ := d.Flush()
						if !ready {
							break
						}
						pictures++
					}
				}
				ready, err := d.Decode(accessUnit(dm.Params(), pkts[j]))
				if err != nil {
					b.Fatal(err)
				}
				if ready {
					pictures++
				}
			}
			s := time.Since(start).Seconds()
			b.ReportMetric(float64(pictures)/s, "frames/s")
			b.ReportMetric(float64(b.N)/s, "aus/s")
		})
	}
}

// BenchmarkConvert converts one decoded 640x360 picture to BGR24: straight
// to the model's input size (as Convert, and as ConvertKeep keeping the
// picture, then released as a pipeline does), and at native size.
func BenchmarkConvert(b *testing.B) {
	dm, pkts := readAll(b, clip(b, clipOverhead))
	d, err := NewDecoder(dm.Codec())
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for _, p := range pkts {
		ready, err := d.Decode(accessUnit(dm.Params(), p))
		if err != nil {
			b.Fatal(err)
		}
		if ready {
			break
		}
	}
	for _, size := range []struct {
		name string
		w, h int
		keep bool
	}{{"416x234", 416, 234, false}, {"416x234-kept", 416, 234, true}, {"native", 0, 0, false}} {
		b.Run(size.name, func(b *testing.B) {
			var f Frame
			defer f.Close()
			convert := func() error {
				if !size.keep {
					return d.Convert(&f, size.w, size.h)
				}
				err := d.ConvertKeep(&f, size.w, size.h)
				f.Release()
				return err
			}
			if err := convert(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := convert(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
