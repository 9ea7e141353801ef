package firesmoke_test

import (
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

var initOnce sync.Once

// detector loads a zoo fire/smoke model with the real ONNX Runtime,
// reporting down to threshold.
func detector(t testing.TB, name string, threshold float32) *models.Detector {
	t.Helper()
	var err error
	initOnce.Do(func() { err = models.InitRuntime(testenv.ONNXRuntime(t)) })
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.Zoo(name)
	if err != nil {
		t.Fatal(err)
	}
	d, err := models.NewDetector(m, testenv.ModelsDir(t), models.Options{Threshold: threshold})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// newFrameDetector runs d on whole frames: the firesmoke.Detector the
// engine gives Stills.
func newFrameDetector(t testing.TB, d *models.Detector) *analyzer.FrameDetector {
	t.Helper()
	fd, err := analyzer.NewFrameDetector(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fd.Close() })
	return fd
}

// epoch is the capture time of a clip's first frame in the tests.
var epoch = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// playClip decodes a clip and calls fn on one frame every interval of its
// presentation time (the first frame at or after each multiple), as the
// pipeline's sampler does.
func playClip(t testing.TB, name string, interval time.Duration, fn func(ts time.Time, f *decode.Frame)) {
	t.Helper()
	v, err := decode.OpenVideo(testenv.Clip(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var f decode.Frame
	next := time.Duration(0)
	for {
		if err := v.Next(&f); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			t.Fatal(err)
		}
		if f.PTS < next {
			continue
		}
		for next <= f.PTS {
			next += interval
		}
		fn(epoch.Add(f.PTS), &f)
	}
}
