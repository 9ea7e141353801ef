package models_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matthan/matthan/models"
)

func TestZooManifestsValidate(t *testing.T) {
	names := models.ZooNames()
	if len(names) == 0 {
		t.Fatal("no manifests embedded in the zoo")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			m, err := models.Zoo(name)
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != name {
				t.Errorf("name %q, want %q", m.Name, name)
			}
		})
	}
}

func TestZooYOLOXNano(t *testing.T) {
	m, err := models.Zoo("yolox_nano")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Classes) != 80 {
		t.Fatalf("%d classes, want the 80 COCO classes", len(m.Classes))
	}
	for id, want := range map[int]string{0: "person", 2: "car", 7: "truck", 9: "traffic light", 79: "toothbrush"} {
		if m.Classes[id] != want {
			t.Errorf("classes[%d] = %q, want %q", id, m.Classes[id], want)
		}
	}
	tests := []struct {
		id    int
		label string
		ok    bool
	}{
		{0, "person", true}, {1, "bicycle", true}, {2, "car", true}, {3, "motorcycle", true},
		{5, "bus", true}, {7, "truck", true}, {9, "", false}, {16, "", false}, {80, "", false}, {-1, "", false},
	}
	for _, tt := range tests {
		label, ok := m.Label(tt.id)
		if label != tt.label || ok != tt.ok {
			t.Errorf("Label(%d) = %q, %v; want %q, %v", tt.id, label, ok, tt.label, tt.ok)
		}
	}
	in := m.Input
	if in.Width != 416 || in.Height != 416 || in.Color != models.BGR || in.Scale != 1 ||
		in.Letterbox.Pad != 114 || in.Letterbox.Align != models.AlignTopLeft {
		t.Errorf("input %+v does not match the models MANIFEST (416×416 BGR 0–255, top-left pad 114)", in)
	}
	if m.Output.Format != models.FormatYOLOX || m.Output.Name != "output" {
		t.Errorf("output %+v", m.Output)
	}
}

func TestZooUnknown(t *testing.T) {
	for _, name := range []string{"nope", "", "../models/zoo/yolox_nano", "zoo"} {
		_, err := models.Zoo(name)
		if !errors.Is(err, models.ErrUnknownModel) {
			t.Errorf("Zoo(%q) = %v, want ErrUnknownModel", name, err)
		}
		if err != nil && !strings.Contains(err.Error(), "yolox_nano") {
			t.Errorf("Zoo(%q) error %q does not list the known models", name, err)
		}
	}
}

func TestManifestValidateNamesField(t *testing.T) {
	base, err := models.Zoo("yolox_nano")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field  string
		mutate func(m *models.Manifest)
	}{
		{"name", func(m *models.Manifest) { m.Name = "" }},
		{"file", func(m *models.Manifest) { m.File = "" }},
		{"file", func(m *models.Manifest) { m.File = "../etc/passwd" }},
		{"sha256", func(m *models.Manifest) { m.SHA256 = nil }},
		{"sha256[1]", func(m *models.Manifest) { m.SHA256 = []string{m.SHA256[0], "XYZ"} }},
		{"input.name", func(m *models.Manifest) { m.Input.Name = "" }},
		{"input.width", func(m *models.Manifest) { m.Input.Width = 400 }},
		{"input.height", func(m *models.Manifest) { m.Input.Height = 0 }},
		{"input.layout", func(m *models.Manifest) { m.Input.Layout = "NHWC" }},
		{"input.color", func(m *models.Manifest) { m.Input.Color = "grey" }},
		{"input.scale", func(m *models.Manifest) { m.Input.Scale = 0 }},
		{"input.std[2]", func(m *models.Manifest) { m.Input.Std[2] = 0 }},
		{"input.letterbox.pad", func(m *models.Manifest) { m.Input.Letterbox.Pad = 300 }},
		{"input.letterbox.align", func(m *models.Manifest) { m.Input.Letterbox.Align = "middle" }},
		{"input.focus", func(m *models.Manifest) { m.Input.Focus = "unfold" }},
		{"output.name", func(m *models.Manifest) { m.Output.Name = "" }},
		{"output.format", func(m *models.Manifest) { m.Output.Format = "ssd" }},
		{"classes", func(m *models.Manifest) { m.Classes = nil; m.Labels = nil }},
		{"classes[3]", func(m *models.Manifest) { m.Classes = append([]string(nil), m.Classes...); m.Classes[3] = "person" }},
		{"labels.tractor", func(m *models.Manifest) { m.Labels = map[string]string{"tractor": "vehicle"} }},
		{"labels.car", func(m *models.Manifest) { m.Labels = map[string]string{"car": ""} }},
		{"stand_ins.tractor", func(m *models.Manifest) { m.StandIns = map[string]string{"tractor": "bus"} }},
		{"stand_ins.car", func(m *models.Manifest) { m.StandIns = map[string]string{"car": "bus"} }},
		{"stand_ins.boat", func(m *models.Manifest) { m.StandIns = map[string]string{"boat": "ship"} }},
		{"stand_ins.boat", func(m *models.Manifest) { m.Labels = nil; m.StandIns = map[string]string{"boat": "bus"} }},
		{"threshold", func(m *models.Manifest) { m.Threshold = 1.5 }},
		{"threshold", func(m *models.Manifest) { m.Threshold = 0 }},
		{"nms_iou", func(m *models.Manifest) { m.NMSIoU = -0.1 }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			m := base
			m.Input.Std = base.Input.Std
			tt.mutate(&m)
			err := m.Validate()
			if !errors.Is(err, models.ErrInvalidManifest) {
				t.Fatalf("Validate() = %v, want ErrInvalidManifest", err)
			}
			var me *models.ManifestError
			if !errors.As(err, &me) || me.Field != tt.field {
				t.Fatalf("Validate() = %v, want the first problem in field %s", err, tt.field)
			}
			if !strings.Contains(err.Error(), tt.field+":") {
				t.Errorf("message %q does not name %s", err, tt.field)
			}
		})
	}
	if err := base.Validate(); err != nil {
		t.Fatalf("the zoo manifest itself: %v", err)
	}
}

func TestParseManifestYAML(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("zoo", "yolox_nano.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		yaml    string
		wantErr string // substring; "" = valid
	}{
		{"zoo file", string(good), ""},
		{"unknown key", string(good) + "\nanchors: [1, 2]\n", "field anchors not found"},
		{"unknown nested key", strings.Replace(string(good), "  layout: NCHW", "  layout: NCHW\n  dtype: float16", 1), "field dtype not found"},
		{"mean of 2", strings.Replace(string(good), "mean: [0, 0, 0]", "mean: [0, 0]", 1), "one per channel, got 2"},
		{"not yaml", "name: [", "manifest bad.yaml"},
		{"width as text", strings.Replace(string(good), "width: 416", "width: wide", 1), "wide"},
		{"missing output", strings.Replace(string(good), "  format: yolox", "", 1), "output.format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := models.ParseManifest([]byte(tt.yaml), "bad.yaml")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m.Name != "yolox_nano" {
					t.Errorf("name %q", m.Name)
				}
				return
			}
			if !errors.Is(err, models.ErrInvalidManifest) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseManifest = %v, want ErrInvalidManifest mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzParseManifest feeds arbitrary YAML to the manifest parser: it must
// never panic, and whatever it accepts must pass Validate.
func FuzzParseManifest(f *testing.F) {
	for _, name := range models.ZooNames() {
		b, err := os.ReadFile(filepath.Join("zoo", name+".yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: ["))
	f.Add([]byte("input: {mean: [1, 2]}"))
	f.Add([]byte("labels: {car: ''}\nclasses: [car, car]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := models.ParseManifest(data, "fuzz.yaml")
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted a manifest that fails Validate: %v", err)
		}
		if len(m.Classes) == 0 || m.Input.Width <= 0 {
			t.Fatalf("accepted %+v", m)
		}
	})
}
