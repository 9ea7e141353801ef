package models

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/matthan/matthan/models/zoo"
)

// Format names the layout of a detector's raw output tensor.
type Format string

// The output layouts the decoders understand.
const (
	// FormatYOLOX is the raw YOLOX head [1, N, 5+C]: per row x, y offsets in
	// grid cells, log w, log h, objectness, C class probabilities; N covers
	// the grids of strides 8, 16 and 32.
	FormatYOLOX Format = "yolox"
	// FormatYOLOv8 is [1, 4+C, N]: rows cx, cy, w, h in input pixels, then C
	// class scores; no objectness.
	FormatYOLOv8 Format = "yolov8"
	// FormatYOLOv5 is [1, N, W] with W >= 5+C: cx, cy, w, h in input pixels,
	// objectness, any extra columns (landmarks), then the C class
	// probabilities as the last C columns. N = 3 anchors × the strides 8, 16,
	// 32 grids.
	FormatYOLOv5 Format = "yolov5"
)

// ColorOrder is the channel order a model expects.
type ColorOrder string

// The channel orders.
const (
	BGR ColorOrder = "bgr"
	RGB ColorOrder = "rgb"
)

// Align says where the resized image sits inside the letterboxed input.
type Align string

// The letterbox alignments.
const (
	// AlignTopLeft puts the image at the top-left corner; padding goes right
	// and below (YOLOX).
	AlignTopLeft Align = "top-left"
	// AlignCenter centres the image; padding is split on both sides, the odd
	// pixel going right or below (YOLOv5/v8).
	AlignCenter Align = "center"
)

// LayoutNCHW is the only tensor layout supported: batch, channel, row, column.
const LayoutNCHW = "NCHW"

// gridStrides are the feature-map strides of every supported detector head.
var gridStrides = [...]int{8, 16, 32}

// yolov5Anchors is the number of anchors per grid cell of a YOLOv5 head.
const yolov5Anchors = 3

// Manifest describes one detection model: provenance of its weights, the
// input it expects and the layout of its output. It is read from YAML
// (models/zoo/<name>.yaml) and checked by Validate.
type Manifest struct {
	Name    string   `yaml:"name"`    // short identifier, also the zoo file name
	Version string   `yaml:"version"` // upstream version of the weights
	Licence string   `yaml:"licence"` // licence of the weights
	File    string   `yaml:"file"`    // weights file name inside the models folder
	URL     string   `yaml:"url"`     // upstream download location
	SHA256  []string `yaml:"sha256"`  // accepted sha256 digests of File (hex)

	Input  InputSpec  `yaml:"input"`
	Output OutputSpec `yaml:"output"`

	// Classes are the model's class names in output order.
	Classes []string `yaml:"classes"`
	// Labels maps a class name to the product label reported for it. When
	// Labels is present, detections of classes without a label are dropped;
	// when it is absent, every class is reported under its own name.
	Labels map[string]string `yaml:"labels"`
	// StandIns maps a class without a label to the label of the objects
	// the model mistakes for it (a COCO detector calls a bus seen in glare
	// a boat or an airplane). Such a box is never reported; a Scheduler
	// opened with SchedulerOptions.StandIns gives it, marked StandIn, to a
	// tracker, which may let it continue a confirmed track of that label
	// and never start one with it.
	StandIns map[string]string `yaml:"stand_ins"`

	// Threshold is the default minimum confidence of a detection, in (0, 1).
	Threshold float32 `yaml:"threshold"`
	// NMSIoU is the overlap above which a lower-scored box of the same class
	// is suppressed, in (0, 1].
	NMSIoU float32 `yaml:"nms_iou"`
}

// InputSpec describes the input tensor of a model and how a frame is turned
// into it: value = (pixel × Scale − Mean[c]) / Std[c], c in model channel
// order.
type InputSpec struct {
	Name      string        `yaml:"name"`   // tensor name in the ONNX graph
	Width     int           `yaml:"width"`  // input width in pixels
	Height    int           `yaml:"height"` // input height in pixels
	Layout    string        `yaml:"layout"` // only NCHW
	Color     ColorOrder    `yaml:"color"`  // bgr or rgb
	Scale     float32       `yaml:"scale"`  // multiplies the 0–255 pixel value first
	Mean      Channels      `yaml:"mean"`   // subtracted after scaling, per model channel
	Std       Channels      `yaml:"std"`    // divides last, per model channel
	Letterbox LetterboxSpec `yaml:"letterbox"`
	// Focus is FocusFold when the graph begins with YOLOX's Focus and the
	// loader is to fold it into the preprocessing; empty runs the graph as
	// published.
	Focus string `yaml:"focus"`
}

// TensorShape is the batch-1 shape of the tensor the preprocessing writes
// and the session reads: [1, 3, H, W], or with the Focus folded
// [1, 12, H/2, W/2] (see FocusFold).
func (in InputSpec) TensorShape() []int64 {
	if in.Focus == FocusFold {
		return []int64{1, 4 * 3, int64(in.Height / 2), int64(in.Width / 2)}
	}
	return []int64{1, 3, int64(in.Height), int64(in.Width)}
}

// Channels holds one value per colour channel, in model channel order.
type Channels [3]float32

// UnmarshalYAML requires exactly three numbers.
func (c *Channels) UnmarshalYAML(n *yaml.Node) error {
	var v []float32
	if err := n.Decode(&v); err != nil {
		return err
	}
	if len(v) != len(c) {
		return fmt.Errorf("line %d: want %d values, one per channel, got %d", n.Line, len(c), len(v))
	}
	copy(c[:], v)
	return nil
}

// LetterboxSpec says how a frame of another aspect ratio is fitted into the
// input: scaled by min(W/w, H/h), placed by Align, the rest filled with Pad.
type LetterboxSpec struct {
	Pad   int   `yaml:"pad"`   // 0–255 grey level of the padding, before scaling
	Align Align `yaml:"align"` // top-left or center
}

// OutputSpec names the output tensor and its layout.
type OutputSpec struct {
	Name   string `yaml:"name"`   // tensor name in the ONNX graph
	Format Format `yaml:"format"` // yolox, yolov8 or yolov5
}

// ManifestError reports one invalid field of a manifest. It unwraps to
// ErrInvalidManifest.
type ManifestError struct {
	Manifest string // manifest file or model name
	Field    string // YAML path of the field, e.g. "input.width"
	Problem  string // what was expected and what was found
}

// Error implements error.
func (e *ManifestError) Error() string {
	return fmt.Sprintf("manifest %s: %s: %s", e.Manifest, e.Field, e.Problem)
}

// Unwrap returns ErrInvalidManifest.
func (e *ManifestError) Unwrap() error { return ErrInvalidManifest }

// ParseManifest decodes a manifest from YAML and validates it. Unknown keys
// are errors. source names the data in errors (a file name).
func ParseManifest(data []byte, source string) (Manifest, error) {
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("manifest %s: %w: %w", source, ErrInvalidManifest, err)
	}
	if err := m.validate(source); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// LoadManifest reads and validates the manifest at path.
func LoadManifest(path string) (Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("load manifest: %w", err)
	}
	return ParseManifest(data, path)
}

// Zoo returns the embedded manifest of the named model.
func Zoo(name string) (Manifest, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return Manifest{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownModel, name, strings.Join(ZooNames(), ", "))
	}
	file := name + ".yaml"
	data, err := fs.ReadFile(zoo.FS, file)
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownModel, name, strings.Join(ZooNames(), ", "))
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("zoo %s: %w", file, err)
	}
	m, err := ParseManifest(data, "zoo/"+file)
	if err != nil {
		return Manifest{}, err
	}
	if m.Name != name {
		return Manifest{}, &ManifestError{Manifest: "zoo/" + file, Field: "name", Problem: fmt.Sprintf("must match the file name %q, got %q", name, m.Name)}
	}
	return m, nil
}

// ZooNames lists the names of the embedded manifests, sorted.
func ZooNames() []string {
	entries, err := fs.ReadDir(zoo.FS, ".")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Validate checks every field and returns all problems found, each a
// *ManifestError naming the field.
func (m Manifest) Validate() error {
	src := m.Name
	if src == "" {
		src = "(unnamed)"
	}
	return m.validate(src)
}

func (m Manifest) validate(src string) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ManifestError{Manifest: src, Field: field, Problem: fmt.Sprintf(format, args...)})
	}

	if m.Name == "" {
		bad("name", "required")
	}
	switch {
	case m.File == "":
		bad("file", "required")
	case path.Base(m.File) != m.File || strings.ContainsRune(m.File, '\\') || m.File == "." || m.File == "..":
		bad("file", "must be a bare file name inside the models folder, got %q", m.File)
	}
	if len(m.SHA256) == 0 {
		bad("sha256", "at least one digest required")
	}
	for i, h := range m.SHA256 {
		if !isHexDigest(h) {
			bad(fmt.Sprintf("sha256[%d]", i), "must be 64 lower-case hex digits, got %q", h)
		}
	}

	in := m.Input
	if in.Name == "" {
		bad("input.name", "required (the ONNX input tensor name)")
	}
	if in.Width <= 0 || in.Width%32 != 0 {
		bad("input.width", "must be a positive multiple of 32, got %d", in.Width)
	}
	if in.Height <= 0 || in.Height%32 != 0 {
		bad("input.height", "must be a positive multiple of 32, got %d", in.Height)
	}
	if in.Layout != LayoutNCHW {
		bad("input.layout", "must be %s, got %q", LayoutNCHW, in.Layout)
	}
	if in.Color != BGR && in.Color != RGB {
		bad("input.color", "must be %s or %s, got %q", BGR, RGB, in.Color)
	}
	if !(in.Scale > 0) {
		bad("input.scale", "must be > 0 (1 for 0–255 input, 0.00392156862745098 for 0–1), got %g", in.Scale)
	}
	for c, s := range in.Std {
		if !(s > 0) {
			bad(fmt.Sprintf("input.std[%d]", c), "must be > 0, got %g", s)
		}
	}
	if in.Letterbox.Pad < 0 || in.Letterbox.Pad > 255 {
		bad("input.letterbox.pad", "must be a grey level 0–255, got %d", in.Letterbox.Pad)
	}
	if in.Letterbox.Align != AlignTopLeft && in.Letterbox.Align != AlignCenter {
		bad("input.letterbox.align", "must be %s or %s, got %q", AlignTopLeft, AlignCenter, in.Letterbox.Align)
	}
	if in.Focus != "" && in.Focus != FocusFold {
		bad("input.focus", "must be %s (YOLOX's Focus folded into the preprocessing) or absent, got %q", FocusFold, in.Focus)
	}

	if m.Output.Name == "" {
		bad("output.name", "required (the ONNX output tensor name)")
	}
	switch m.Output.Format {
	case FormatYOLOX, FormatYOLOv8, FormatYOLOv5:
	default:
		bad("output.format", "must be %s, %s or %s, got %q", FormatYOLOX, FormatYOLOv8, FormatYOLOv5, m.Output.Format)
	}

	if len(m.Classes) == 0 {
		bad("classes", "at least one class name required, in output order")
	}
	seen := make(map[string]int, len(m.Classes))
	for i, c := range m.Classes {
		if c == "" {
			bad(fmt.Sprintf("classes[%d]", i), "empty class name")
			continue
		}
		if j, dup := seen[c]; dup {
			bad(fmt.Sprintf("classes[%d]", i), "%q repeats classes[%d]", c, j)
		}
		seen[c] = i
	}
	for _, k := range slices.Sorted(maps.Keys(m.Labels)) {
		if _, ok := seen[k]; !ok {
			bad("labels."+k, "%q is not one of classes", k)
		}
		if m.Labels[k] == "" {
			bad("labels."+k, "empty product label")
		}
	}
	labelled := make(map[string]bool, len(m.Labels))
	for _, l := range m.Labels {
		labelled[l] = true
	}
	for _, k := range slices.Sorted(maps.Keys(m.StandIns)) {
		switch _, isClass := seen[k]; {
		case m.Labels == nil:
			bad("stand_ins."+k, "stand-ins need labels: without them every class is reported")
		case !isClass:
			bad("stand_ins."+k, "%q is not one of classes", k)
		case m.Labels[k] != "":
			bad("stand_ins."+k, "%q has a label: it is reported, it stands in for nothing", k)
		case !labelled[m.StandIns[k]]:
			bad("stand_ins."+k, "%q is not one of the labels", m.StandIns[k])
		}
	}

	if !(m.Threshold > 0 && m.Threshold < 1) {
		bad("threshold", "must be in (0, 1), got %g", m.Threshold)
	}
	if !(m.NMSIoU > 0 && m.NMSIoU <= 1) {
		bad("nms_iou", "must be in (0, 1], got %g", m.NMSIoU)
	}
	return errors.Join(errs...)
}

// Label returns the product label of class id and whether detections of it
// are reported (see Manifest.Labels).
func (m Manifest) Label(id int) (string, bool) {
	if id < 0 || id >= len(m.Classes) {
		return "", false
	}
	name := m.Classes[id]
	if m.Labels == nil {
		return name, true
	}
	l, ok := m.Labels[name]
	return l, ok
}

// StandIn returns the label class id stands in for (see
// Manifest.StandIns), if it is a stand-in.
func (m Manifest) StandIn(id int) (string, bool) {
	if id < 0 || id >= len(m.Classes) {
		return "", false
	}
	l, ok := m.StandIns[m.Classes[id]]
	return l, ok
}

// gridCells is the number of cells of the stride 8, 16 and 32 grids over a
// w×h input.
func gridCells(w, h int) int {
	n := 0
	for _, s := range gridStrides {
		n += (w / s) * (h / s)
	}
	return n
}

// inputShape is the NCHW input shape the manifest describes: the published
// graph's (see InputSpec.TensorShape for the graph as run).
func (m Manifest) inputShape() []int64 {
	return []int64{1, 3, int64(m.Input.Height), int64(m.Input.Width)}
}

// outputShape is the output shape the manifest implies. For yolov5 the row
// width is open (extra columns allowed): it is returned as -1, and the
// minimum is 5+C.
func (m Manifest) outputShape() []int64 {
	c := int64(len(m.Classes))
	n := int64(gridCells(m.Input.Width, m.Input.Height))
	switch m.Output.Format {
	case FormatYOLOX:
		return []int64{1, n, 5 + c}
	case FormatYOLOv8:
		return []int64{1, 4 + c, n}
	case FormatYOLOv5:
		return []int64{1, yolov5Anchors * n, -1}
	}
	return nil
}

func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
