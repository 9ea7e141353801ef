package models_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/matthan/matthan/models"
)

func TestSessionOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opt  models.SessionOptions
		want string // "" = valid; else a substring of the error
	}{
		{"zero value", models.SessionOptions{}, ""},
		{"all set", models.SessionOptions{IntraOpThreads: 2, InterOpThreads: 2, GraphOptimization: "basic", ExecutionProvider: "cuda"}, ""},
		{"negative intra", models.SessionOptions{IntraOpThreads: -1}, "IntraOpThreads -1"},
		{"negative inter", models.SessionOptions{InterOpThreads: -3}, "InterOpThreads -3"},
		{"unknown level", models.SessionOptions{GraphOptimization: "max"}, `GraphOptimization "max": want disable, basic, extended or all`},
		{"unknown provider", models.SessionOptions{ExecutionProvider: "rocm"}, `ExecutionProvider "rocm": want cpu, cuda or tensorrt`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opt.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if !errors.Is(err, models.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want ErrInvalidOptions mentioning %q", err, tt.want)
			}
		})
	}
}

// TestSessionProviderUnavailable asks the CPU-only library of this machine
// for CUDA and TensorRT: each must be refused naming the provider, the
// library and what it does have.
func TestSessionProviderUnavailable(t *testing.T) {
	initRuntime(t)
	avail, err := models.AvailableProviders()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(avail, []string{"cpu"}) {
		t.Fatalf("AvailableProviders = %v; this test expects the CPU-only build installed by make deps", avail)
	}
	for _, p := range []string{models.ProviderCUDA, models.ProviderTensorRT} {
		t.Run(p, func(t *testing.T) {
			d, err := models.NewDetector(yoloxManifest(t), modelsDir(t), models.Options{Session: models.SessionOptions{ExecutionProvider: p}})
			if err == nil {
				d.Close()
				t.Fatalf("provider %s accepted", p)
			}
			if !errors.Is(err, models.ErrProviderUnavailable) {
				t.Fatalf("NewDetector = %v, want ErrProviderUnavailable", err)
			}
			for _, want := range []string{"execution provider " + p, "has only cpu", "libonnxruntime.so", "yolox_nano.onnx"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			t.Log(err)
			s, err := models.NewScheduler(yoloxManifest(t), modelsDir(t), models.SchedulerOptions{Session: models.SessionOptions{ExecutionProvider: p}})
			if !errors.Is(err, models.ErrProviderUnavailable) {
				if s != nil {
					s.Close()
				}
				t.Fatalf("NewScheduler = %v, want ErrProviderUnavailable", err)
			}
		})
	}
	_, err = models.NewDetector(yoloxManifest(t), modelsDir(t), models.Options{Session: models.SessionOptions{GraphOptimization: "max"}})
	if !errors.Is(err, models.ErrInvalidOptions) || !strings.Contains(err.Error(), "yolox_nano.onnx") {
		t.Errorf("bad graph optimisation: %v, want ErrInvalidOptions naming the file", err)
	}
}

// TestSessionOptionsSameDetections runs the real model on a real frame
// with every optimisation level and thread layout: the detections must not
// change (optimisations fuse and reorder, so scores may differ by float
// rounding only).
func TestSessionOptionsSameDetections(t *testing.T) {
	initRuntime(t)
	f := loadFrame(t, extractFrame(t, "traffic_intersection_signals_cctv_day.mp4", "10"))
	var want []models.Detection
	for _, so := range []models.SessionOptions{
		{},
		{GraphOptimization: models.OptimizeDisable},
		{GraphOptimization: models.OptimizeBasic},
		{GraphOptimization: models.OptimizeExtended, IntraOpThreads: 2},
		{GraphOptimization: models.OptimizeAll, IntraOpThreads: 2, InterOpThreads: 2, ExecutionProvider: models.ProviderCPU},
	} {
		t.Run(fmt.Sprintf("%+v", so), func(t *testing.T) {
			got := detectFrame(t, newYOLOX(t, models.Options{Session: so}), f)
			if want == nil {
				want = got
				if len(want) == 0 {
					t.Fatal("no detections on the intersection frame")
				}
				return
			}
			if !sameDets(got, want, 1e-3, 0.05) {
				t.Errorf("detections\n%v\ndiffer from the default options'\n%v", got, want)
			}
		})
	}
}

// sameDets reports whether two detection lists agree: same classes in the
// same order, confidences within dc, box corners within db pixels.
func sameDets(a, b []models.Detection, dc, db float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Class != b[i].Class || abs32(a[i].Confidence-b[i].Confidence) > dc {
			return false
		}
		for c := range 4 {
			if abs32(a[i].Box[c]-b[i].Box[c]) > db {
				return false
			}
		}
	}
	return true
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
