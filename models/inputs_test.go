package models_test

import (
	"testing"

	"github.com/matthan/matthan/models"
)

// newProbeDetector opens a Detector on the batch probe model, whose output
// echoes its input (see probeInput).
func newProbeDetector(t *testing.T) *models.Detector {
	t.Helper()
	m, dir := batchProbe(t)
	initRuntime(t)
	d, err := models.NewDetector(m, dir, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestDetectReadsCallerBuffer reuses one input buffer, as a preprocessor
// does, writing another frame into it before each call: Detect reads the
// buffer in place, and every answer must be the frame written last, never
// one seen before.
func TestDetectReadsCallerBuffer(t *testing.T) {
	d := newProbeDetector(t)
	buf := make([]float32, 3*32*32)
	for i := range 3 * 16 {
		copy(buf, probeInput(i))
		dets, err := d.Detect(buf, models.Letterbox{Scale: 1}, 32, 32)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkProbe(i, dets); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := models.BoundInputs(d); n != 1 {
		t.Errorf("%d buffers bound after calls on one buffer, want 1", n)
	}
}

// TestDetectManyCallerBuffers has more callers' buffers than a session keeps
// bound, in turn: answers stay right as bindings are replaced, the bound
// buffers never exceed the limit, and the buffers left unused are let go.
func TestDetectManyCallerBuffers(t *testing.T) {
	d := newProbeDetector(t)
	bufs := make([][]float32, models.MaxCallerInputs+16)
	for i := range bufs {
		bufs[i] = probeInput(i)
	}
	for pass := range 3 {
		for i, buf := range bufs {
			dets, err := d.Detect(buf, models.Letterbox{Scale: 1}, 32, 32)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkProbe(i, dets); err != nil {
				t.Fatalf("pass %d, buffer %d: %v", pass, i, err)
			}
			if n := models.BoundInputs(d); n > models.MaxCallerInputs {
				t.Fatalf("%d buffers bound, limit %d", n, models.MaxCallerInputs)
			}
		}
	}
	if n := models.BoundInputs(d); n != models.MaxCallerInputs {
		t.Errorf("%d buffers bound after %d in turn, want the limit %d", n, len(bufs), models.MaxCallerInputs)
	}
	// One caller goes on alone: the others are let go once idle long enough.
	for range 2 * models.CallerInputIdle {
		if _, err := d.Detect(bufs[0], models.Letterbox{Scale: 1}, 32, 32); err != nil {
			t.Fatal(err)
		}
	}
	if n := models.BoundInputs(d); n != 1 {
		t.Errorf("%d buffers bound after %d calls on one, want 1", n, 2*models.CallerInputIdle)
	}
}

// TestDetectAllocations checks that, in steady state, a Detect call of a
// Detector or of a Scheduler allocates only the slice it returns to the
// caller, on a real frame with detections.
func TestDetectAllocations(t *testing.T) {
	m := yoloxManifest(t)
	d := newYOLOX(t, models.Options{})
	f := realTensors(t, d.Input())[0]
	s := newScheduler(t, m, modelsDir(t), models.SchedulerOptions{Workers: 1})
	for name, detect := range map[string]func([]float32, models.Letterbox, int, int) ([]models.Detection, error){
		"detector":  d.Detect,
		"scheduler": s.Detect,
	} {
		t.Run(name, func(t *testing.T) {
			if name == "scheduler" && raceEnabled {
				t.Skip("the race detector makes sync.Pool drop requests")
			}
			var err error
			allocs := testing.AllocsPerRun(10, func() {
				var dets []models.Detection
				dets, err = detect(f.input, f.lb, f.fw, f.fh)
				if err == nil && len(dets) == 0 {
					t.Error("no detections on the intersection frame")
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if allocs > 1 {
				t.Errorf("%v allocations per Detect, want 1 (the returned slice)", allocs)
			}
		})
	}
}
