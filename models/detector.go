package models

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Options tune a Detector. The zero value is usable.
type Options struct {
	// Threads is the number of intra-op threads of the session; defaults to 1
	// (a node runs many cameras: parallelism comes from batching and
	// sessions, not from one inference).
	Threads int
	// Threshold is the minimum confidence reported; defaults to (0) the
	// manifest's threshold.
	Threshold float32
}

// Detector runs one detection model with ONNX Runtime. It is safe for
// concurrent use; inferences are serialised. Close frees its C memory.
type Detector struct {
	m         Manifest
	file      string
	threshold float32
	outDims   []int64 // concrete output shape

	mu      sync.Mutex
	session *ort.AdvancedSession
	in      *ort.Tensor[float32]
	out     *ort.Tensor[float32]
	cands   []Detection // decoder scratch, reused
}

// NewDetector loads the weights m.File from dir and checks them against the
// manifest: the file exists, its sha256 is one the manifest accepts, and the
// graph's input and output names, element types and shapes are the
// manifest's. InitRuntime must have succeeded first.
func NewDetector(m Manifest, dir string, opt Options) (*Detector, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if !RuntimeInitialized() {
		return nil, fmt.Errorf("load model %s: %w", m.Name, ErrRuntimeNotInitialized)
	}
	file := filepath.Join(dir, m.File)
	threads := opt.Threads
	if threads <= 0 {
		threads = 1
	}
	threshold := opt.Threshold
	if threshold == 0 {
		threshold = m.Threshold
	}
	if !(threshold > 0 && threshold < 1) {
		return nil, fmt.Errorf("load model %s: threshold must be in (0, 1), got %g", file, threshold)
	}

	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load model %s: %w: %s (set MATTHAN_MODELS_DIR or run \"make deps\")", m.Name, ErrModelMissing, file)
	}
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", file, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); !slices.Contains(m.SHA256, got) {
		return nil, fmt.Errorf("load model %s: %w: sha256 is %s, manifest %s expects %s",
			file, ErrChecksum, got, m.Name, strings.Join(m.SHA256, " or "))
	}

	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w: %w", file, ErrCorruptModel, err)
	}
	outDims, err := checkGraph(m, ins, outs)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w: %w", file, ErrShapeMismatch, err)
	}

	d := &Detector{m: m, file: file, threshold: threshold, outDims: outDims}
	if err := d.open(data, threads); err != nil {
		d.Close()
		return nil, fmt.Errorf("load model %s: %w", file, err)
	}
	return d, nil
}

// open allocates the tensors and the session.
func (d *Detector) open(data []byte, threads int) error {
	var err error
	if d.in, err = ort.NewEmptyTensor[float32](ort.NewShape(d.m.inputShape()...)); err != nil {
		return fmt.Errorf("input tensor: %w", err)
	}
	if d.out, err = ort.NewEmptyTensor[float32](ort.NewShape(d.outDims...)); err != nil {
		return fmt.Errorf("output tensor: %w", err)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return fmt.Errorf("session options: %w", err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		return fmt.Errorf("intra-op threads %d: %w", threads, err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return fmt.Errorf("inter-op threads: %w", err)
	}
	d.session, err = ort.NewAdvancedSessionWithONNXData(data,
		[]string{d.m.Input.Name}, []string{d.m.Output.Name},
		[]ort.Value{d.in}, []ort.Value{d.out}, opts)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorruptModel, err)
	}
	return nil
}

// checkGraph compares the graph's tensors with the manifest and returns the
// concrete output shape.
func checkGraph(m Manifest, ins, outs []ort.InputOutputInfo) ([]int64, error) {
	if len(ins) != 1 {
		return nil, fmt.Errorf("model has %d inputs %s, manifest describes one (%s)", len(ins), infoNames(ins), m.Input.Name)
	}
	in := ins[0]
	if in.Name != m.Input.Name {
		return nil, fmt.Errorf("model input is %s, manifest says %s", in.Name, m.Input.Name)
	}
	if in.DataType != ort.TensorElementDataTypeFloat {
		return nil, fmt.Errorf("input %s is %s, manifest needs float32", in.Name, in.DataType)
	}
	if _, ok := matchDims(in.Dimensions, m.inputShape()); !ok {
		return nil, fmt.Errorf("input %s is %v, manifest says %v", in.Name, []int64(in.Dimensions), m.inputShape())
	}

	i := slices.IndexFunc(outs, func(o ort.InputOutputInfo) bool { return o.Name == m.Output.Name })
	if i < 0 {
		return nil, fmt.Errorf("model has no output %s (outputs %s)", m.Output.Name, infoNames(outs))
	}
	out := outs[i]
	if out.DataType != ort.TensorElementDataTypeFloat {
		return nil, fmt.Errorf("output %s is %s, manifest needs float32", out.Name, out.DataType)
	}
	want := m.outputShape()
	dims, ok := matchDims(out.Dimensions, want)
	if ok && m.Output.Format == FormatYOLOv5 {
		ok = dims[2] >= int64(5+len(m.Classes))
		want[2] = int64(5 + len(m.Classes)) // for the message: the minimum
	}
	if !ok {
		return nil, fmt.Errorf("output %s is %v, manifest (%s, %d classes, %d×%d input) says %v",
			out.Name, []int64(out.Dimensions), m.Output.Format, len(m.Classes), m.Input.Width, m.Input.Height, want)
	}
	return dims, nil
}

// matchDims matches a graph shape against the wanted one. A dynamic graph
// dimension (≤ 0) takes the wanted value; a wanted -1 accepts any concrete
// graph value. It returns the concrete shape.
func matchDims(got ort.Shape, want []int64) ([]int64, bool) {
	if len(got) != len(want) {
		return nil, false
	}
	dims := make([]int64, len(got))
	for i, g := range got {
		switch {
		case want[i] < 0 && g > 0:
			dims[i] = g
		case want[i] < 0:
			return nil, false // both open: the output size cannot be known
		case g <= 0 || g == want[i]:
			dims[i] = want[i]
		default:
			return nil, false
		}
	}
	return dims, true
}

func infoNames(infos []ort.InputOutputInfo) string {
	names := make([]string, len(infos))
	for i, in := range infos {
		names[i] = fmt.Sprintf("%s%v", in.Name, []int64(in.Dimensions))
	}
	return "[" + strings.Join(names, " ") + "]"
}

// Manifest returns the manifest the detector was built from.
func (d *Detector) Manifest() Manifest { return d.m }

// Input returns the input the model expects; build a preprocessor from it.
func (d *Detector) Input() InputSpec { return d.m.Input }

// Threshold returns the minimum confidence reported.
func (d *Detector) Threshold() float32 { return d.threshold }

// Detect runs the model on one preprocessed input tensor (NCHW, the size of
// Input()) of a frameW×frameH frame letterboxed by lb. It returns the
// detections above the threshold whose class has a product label, after
// class-aware NMS, in frame pixels clipped to the frame, highest confidence
// first. The returned slice belongs to the caller.
func (d *Detector) Detect(input []float32, lb Letterbox, frameW, frameH int) ([]Detection, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.session == nil {
		return nil, fmt.Errorf("detect %s: %w", d.m.Name, ErrClosed)
	}
	buf := d.in.GetData()
	if len(input) != len(buf) {
		return nil, fmt.Errorf("detect %s: %w: %d values, model input %v needs %d",
			d.m.Name, ErrInputSize, len(input), d.m.inputShape(), len(buf))
	}
	copy(buf, input)
	if err := d.session.Run(); err != nil {
		return nil, fmt.Errorf("detect %s: run: %w", d.m.Name, err)
	}
	out := d.out.GetData()
	classes := len(d.m.Classes)
	var err error
	cands := d.cands[:0]
	switch d.m.Output.Format {
	case FormatYOLOX:
		cands, err = DecodeYOLOX(cands, out, d.m.Input.Width, d.m.Input.Height, classes, d.threshold)
	case FormatYOLOv8:
		cands, err = DecodeYOLOv8(cands, out, int(d.outDims[2]), classes, d.threshold)
	case FormatYOLOv5:
		cands, err = DecodeYOLOv5(cands, out, int(d.outDims[1]), int(d.outDims[2]), classes, d.threshold)
	}
	d.cands = cands
	if err != nil {
		return nil, fmt.Errorf("detect %s: %w", d.m.Name, err)
	}
	kept := NMS(cands, d.m.NMSIoU)
	dets := make([]Detection, 0, len(kept))
	for _, c := range kept {
		label, ok := d.m.Label(c.ClassID)
		if !ok {
			continue
		}
		b := lb.FrameBox(c.Box, frameW, frameH)
		if b[2] <= b[0] || b[3] <= b[1] {
			continue
		}
		dets = append(dets, Detection{Class: label, ClassID: c.ClassID, Confidence: c.Confidence, Box: b})
	}
	return dets, nil
}

// Close frees the session and its tensors. It is safe to call more than
// once; Detect fails with ErrClosed afterwards.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	if d.session != nil {
		errs = append(errs, d.session.Destroy())
		d.session = nil
	}
	if d.in != nil {
		errs = append(errs, d.in.Destroy())
		d.in = nil
	}
	if d.out != nil {
		errs = append(errs, d.out.Destroy())
		d.out = nil
	}
	return errors.Join(errs...)
}
