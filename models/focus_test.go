package models_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/models"
)

// TestFocusFoldSameOutputs runs real frames through YOLOX-Nano twice: the
// published graph on the plain NCHW tensor, and the graph with its Focus
// folded (what Detectors run) on the tensor the preprocessing writes for
// it. Folding only moves where the numbers are computed, so the raw outputs
// must be identical, value for value, and so must the detections.
func TestFocusFoldSameOutputs(t *testing.T) {
	initRuntime(t)
	m := yoloxManifest(t)
	if m.Input.Focus != models.FocusFold {
		t.Fatalf("the zoo's yolox_nano has input.focus %q, want %s", m.Input.Focus, models.FocusFold)
	}
	data, err := os.ReadFile(filepath.Join(modelsDir(t), m.File))
	if err != nil {
		t.Fatal(err)
	}
	graph, input, err := m.RunGraph(data)
	if err != nil {
		t.Fatal(err)
	}
	if input == m.Input.Name || len(graph) >= len(data) {
		t.Fatalf("RunGraph left the graph as published (input %s, %d of %d bytes)", input, len(graph), len(data))
	}
	plain := m.Input
	plain.Focus = ""
	published := newPlainSession(t, data, m.Input.Name, plain.TensorShape(), m)
	folded := newPlainSession(t, graph, input, m.Input.TensorShape(), m)
	prePlain, err := analyzer.NewPreprocessor(plain)
	if err != nil {
		t.Fatal(err)
	}
	defer prePlain.Close()
	preFolded, err := analyzer.NewPreprocessor(m.Input)
	if err != nil {
		t.Fatal(err)
	}
	defer preFolded.Close()

	mPlain := m
	mPlain.Input = plain
	dPlain, err := models.NewDetector(mPlain, modelsDir(t), models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dPlain.Close()
	dFolded := newYOLOX(t, models.Options{})

	for _, fr := range []struct{ clip, sec string }{
		{"traffic_intersection_signals_cctv_day.mp4", "10"},
		{"pedestrians_plaza_elevated_day.mp4", "5"}, // 960×540: letterboxed with padding
	} {
		f := loadFrame(t, extractFrame(t, fr.clip, fr.sec))
		a, _, err := prePlain.Tensor(f)
		if err != nil {
			t.Fatal(err)
		}
		want := published.run(t, a)
		b, _, err := preFolded.Tensor(f)
		if err != nil {
			t.Fatal(err)
		}
		got := folded.run(t, b)
		differ := 0
		for k := range want {
			if got[k] != want[k] {
				differ++
			}
		}
		if differ > 0 {
			t.Errorf("%s@%ss: %d of %d output values differ between the published and the folded graph", fr.clip, fr.sec, differ, len(want))
		}
		dp, df := detectFrame(t, dPlain, f), detectFrame(t, dFolded, f)
		if len(dp) == 0 || len(dp) != len(df) {
			t.Fatalf("%s@%ss: %d detections published, %d folded", fr.clip, fr.sec, len(dp), len(df))
		}
		for k := range dp {
			if dp[k] != df[k] {
				t.Errorf("%s@%ss: detection %d published %+v, folded %+v", fr.clip, fr.sec, k, dp[k], df[k])
			}
		}
		t.Logf("%s@%ss: %d output values and %d detections identical", fr.clip, fr.sec, len(want), len(dp))
	}
}

// TestFocusNotFolded asks to fold the Focus of a model that has none (the
// fire/smoke detector): folding is an optimisation, so the model loads and
// runs its graph as published — Input has no Focus, the detections are
// those of the manifest that asks for nothing — and FoldError says why,
// naming the file.
func TestFocusNotFolded(t *testing.T) {
	initRuntime(t)
	m, err := models.Zoo("firesmoke_416")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := models.NewDetector(m, modelsDir(t), models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.FoldError(); err != nil {
		t.Errorf("FoldError without input.focus: %v", err)
	}
	m.Input.Focus = models.FocusFold
	d, err := models.NewDetector(m, modelsDir(t), models.Options{})
	if err != nil {
		t.Fatalf("NewDetector with a Focus to fold that is not there: %v", err)
	}
	defer d.Close()
	err = d.FoldError()
	if !errors.Is(err, models.ErrShapeMismatch) {
		t.Fatalf("FoldError = %v, want ErrShapeMismatch", err)
	}
	for _, want := range []string{filepath.Join(modelsDir(t), m.File), "input.focus fold", "not the 4 Slices of a Focus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("FoldError %q does not say %q", err, want)
		}
	}
	if d.Input().Focus != "" {
		t.Errorf("Input().Focus = %q after the fold failed, want none", d.Input().Focus)
	}
	sched, err := models.NewScheduler(m, modelsDir(t), models.SchedulerOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sched.Close()
	if !errors.Is(sched.FoldError(), models.ErrShapeMismatch) {
		t.Errorf("Scheduler.FoldError = %v, want ErrShapeMismatch", sched.FoldError())
	}
	f := loadFrame(t, extractFrame(t, "fire_smoke_model_house_garden_day.mp4", "15"))
	want, got := detectFrame(t, plain, f), detectFrame(t, d, f)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("detections %+v, want those of the manifest without the fold %+v", got, want)
	}
}

// plainSession is a batch-1 ONNX Runtime session over one graph.
type plainSession struct {
	s   *ort.AdvancedSession
	in  *ort.Tensor[float32]
	out *ort.Tensor[float32]
}

func newPlainSession(t *testing.T, graph []byte, input string, shape []int64, m models.Manifest) *plainSession {
	t.Helper()
	in, err := ort.NewEmptyTensor[float32](ort.NewShape(shape...))
	if err != nil {
		t.Fatal(err)
	}
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(1, 3549, int64(5+len(m.Classes))))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewAdvancedSessionWithONNXData(graph, []string{input}, []string{m.Output.Name}, []ort.Value{in}, []ort.Value{out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Destroy(); in.Destroy(); out.Destroy() })
	return &plainSession{s: s, in: in, out: out}
}

// run returns a copy of the output for the input tensor.
func (p *plainSession) run(t *testing.T, tensor []float32) []float32 {
	t.Helper()
	copy(p.in.GetData(), tensor)
	if err := p.s.Run(); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), p.out.GetData()...)
}
