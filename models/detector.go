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
	// sessions, not from one inference). It is kept for callers that set
	// nothing else; Session.IntraOpThreads wins when both are set.
	Threads int
	// Threshold is the minimum confidence reported; defaults to (0) the
	// manifest's threshold.
	Threshold float32
	// Session tunes the ONNX Runtime session (threads, graph optimisation,
	// execution provider); see SessionOptions for its defaults.
	Session SessionOptions
	// StandIns is SchedulerOptions.StandIns for this detector.
	StandIns bool
}

// Detector runs one detection model with ONNX Runtime. It is safe for
// concurrent use; inferences are serialised (use a Scheduler to run several
// at once). Close frees its C memory.
type Detector struct {
	mod *model

	mu sync.Mutex
	r  *runner // nil after Close
}

// NewDetector loads the weights m.File from dir and checks them against the
// manifest: the file exists, its sha256 is one the manifest accepts, and the
// graph's input and output names, element types and shapes are the
// manifest's. InitRuntime must have succeeded first.
func NewDetector(m Manifest, dir string, opt Options) (*Detector, error) {
	so := opt.Session
	if so.IntraOpThreads == 0 {
		so.IntraOpThreads = opt.Threads
	}
	mod, err := loadModel(m, dir, opt.Threshold, so)
	if err != nil {
		return nil, err
	}
	mod.standIns = opt.StandIns
	r, err := mod.newRunner(1)
	if err != nil {
		return nil, err
	}
	return &Detector{mod: mod, r: r}, nil
}

// model is a loaded, checked weights file and what every session of it
// shares.
type model struct {
	m         Manifest
	file      string
	graph     []byte // the graph sessions run (Manifest.RunGraph)
	inName    string // and the name of its input
	foldErr   error  // why input.focus fold was not applied, if it was asked and not
	threshold float32
	session   SessionOptions // with defaults, valid
	outDims   []int64        // concrete output shape of one item (batch 1)
	inLen     int            // float32 values of one input item
	outLen    int            // float32 values of one output item
	dynamic   bool           // the graph's batch axis is dynamic
	standIns  bool           // report the manifest's stand-ins (SchedulerOptions.StandIns)
}

// loadModel reads and checks the weights (see NewDetector).
func loadModel(m Manifest, dir string, threshold float32, so SessionOptions) (*model, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if !RuntimeInitialized() {
		return nil, fmt.Errorf("load model %s: %w", m.Name, ErrRuntimeNotInitialized)
	}
	file := filepath.Join(dir, m.File)
	if err := so.Validate(); err != nil {
		return nil, fmt.Errorf("load model %s: %w", file, err)
	}
	so = so.withDefaults()
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
	graph, inName, err := m.RunGraph(data)
	var foldErr error
	if err != nil {
		// Folding is an optimisation: a graph whose Focus is not exactly
		// YOLOX's runs as published, on the plain tensor (Input() tells the
		// preprocessing), and FoldError says why.
		foldErr = fmt.Errorf("model %s: %w", file, err)
		m.Input.Focus = ""
		graph, inName = data, m.Input.Name
	}
	outLen := 1
	for _, d := range outDims[1:] {
		outLen *= int(d)
	}
	return &model{
		m: m, file: file, graph: graph, inName: inName, foldErr: foldErr, threshold: threshold, session: so, outDims: outDims,
		inLen:   3 * m.Input.Width * m.Input.Height,
		outLen:  outLen,
		dynamic: dynamicBatch(ins, outs, m.Output.Name),
	}, nil
}

// RunGraph returns the ONNX graph a Detector or Scheduler runs for data,
// the content of m.File, and the name of its input: data itself, or with
// input.focus fold the graph without its Focus (see FocusFold), checked to
// take InputSpec.TensorShape. Whatever keeps a graph from being folded is
// an ErrShapeMismatch naming it (a Detector then runs the graph as
// published: FoldError).
func (m Manifest) RunGraph(data []byte) (graph []byte, input string, err error) {
	if m.Input.Focus != FocusFold {
		return data, m.Input.Name, nil
	}
	graph, input, err = foldFocus(data, m.Input.Name, 3, int64(m.Input.Height), int64(m.Input.Width))
	if err == nil {
		var ins []ort.InputOutputInfo
		if ins, _, err = ort.GetInputOutputInfoWithONNXData(graph); err == nil {
			want := m.Input.TensorShape()
			if len(ins) != 1 || ins[0].Name != input {
				err = fmt.Errorf("folded graph has inputs %s, not %s", infoNames(ins), input)
			} else if _, ok := matchDims(ins[0].Dimensions, want); !ok {
				err = fmt.Errorf("folded input %s is %v, not %v", input, []int64(ins[0].Dimensions), want)
			}
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w: input.focus %s: %w", ErrShapeMismatch, FocusFold, err)
	}
	return graph, input, nil
}

// dynamicBatch reports whether the first axis of the input and of the
// output named out are both dynamic, so that one run can take several
// frames.
func dynamicBatch(ins, outs []ort.InputOutputInfo, out string) bool {
	i := slices.IndexFunc(outs, func(o ort.InputOutputInfo) bool { return o.Name == out })
	return len(ins) == 1 && i >= 0 && len(ins[0].Dimensions) > 0 && len(outs[i].Dimensions) > 0 &&
		ins[0].Dimensions[0] <= 0 && outs[i].Dimensions[0] <= 0
}

// runner is one ONNX Runtime session of a model with its tensors. Tensors
// for every batch size up to maxBatch share one input and one output buffer,
// and each batch size has its tensors bound to the session once (an
// IoBinding), so a run of k frames allocates nothing. A run of one frame
// reads it from the caller's buffer, bound once too (see runInPlace). A
// runner is not safe for concurrent use.
type runner struct {
	mod      *model
	session  *ort.DynamicAdvancedSession
	inBuf    []float32              // maxBatch input items
	outBuf   []float32              // maxBatch output items
	ins      []*ort.Tensor[float32] // ins[k-1]: batch k over inBuf; built on first use
	outs     []*ort.Tensor[float32] // outs[k-1]: batch k over outBuf
	bindings []*ort.IoBinding       // bindings[k-1]: ins[k-1] and outs[k-1] bound to session
	cands    []Detection            // decoder scratch, reused

	callers map[*float32]*callerInput // by the first value of the buffer; at most maxCallerInputs
	runs    uint64                    // runInPlace calls, for callerInput.last
}

// newRunner opens a session able to run batches of up to maxBatch frames
// (1 unless the model's batch axis is dynamic).
func (mod *model) newRunner(maxBatch int) (*runner, error) {
	if !mod.dynamic {
		maxBatch = 1
	}
	r := &runner{
		mod:      mod,
		inBuf:    make([]float32, maxBatch*mod.inLen),
		outBuf:   make([]float32, maxBatch*mod.outLen),
		ins:      make([]*ort.Tensor[float32], maxBatch),
		outs:     make([]*ort.Tensor[float32], maxBatch),
		bindings: make([]*ort.IoBinding, maxBatch),
		callers:  make(map[*float32]*callerInput, maxCallerInputs),
	}
	opts, err := mod.session.ortOptions()
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", mod.file, err)
	}
	defer opts.Destroy()
	r.session, err = ort.NewDynamicAdvancedSessionWithONNXData(mod.graph,
		[]string{mod.inName}, []string{mod.m.Output.Name}, opts)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w: %w", mod.file, ErrCorruptModel, err)
	}
	return r, nil
}

// maxBatch is the largest batch the runner takes.
func (r *runner) maxBatch() int { return len(r.ins) }

// input returns the buffer of item i of the next run.
func (r *runner) input(i int) []float32 { return r.inBuf[i*r.mod.inLen : (i+1)*r.mod.inLen] }

// run runs the first k items of the input buffer.
func (r *runner) run(k int) error {
	if r.bindings[k-1] == nil {
		if err := r.bind(k); err != nil {
			return err
		}
	}
	if err := r.session.RunWithBinding(r.bindings[k-1]); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	return nil
}

// bind builds the tensors of batch k over the buffers and binds them to the
// session.
func (r *runner) bind(k int) error {
	in, err := ort.NewTensor(batchShape(k, r.mod.m.Input.TensorShape()), r.inBuf[:k*r.mod.inLen])
	if err != nil {
		return fmt.Errorf("input tensor of batch %d: %w", k, err)
	}
	out, err := ort.NewTensor(batchShape(k, r.mod.outDims), r.outBuf[:k*r.mod.outLen])
	if err != nil {
		in.Destroy()
		return fmt.Errorf("output tensor of batch %d: %w", k, err)
	}
	b, err := r.session.CreateIoBinding()
	if err == nil {
		err = b.BindInput(r.mod.inName, in)
		if err == nil {
			err = b.BindOutput(r.mod.m.Output.Name, out)
		}
		if err != nil {
			b.Destroy()
		}
	}
	if err != nil {
		in.Destroy()
		out.Destroy()
		return fmt.Errorf("bind tensors of batch %d: %w", k, err)
	}
	r.ins[k-1], r.outs[k-1], r.bindings[k-1] = in, out, b
	return nil
}

// batchShape is a copy of shape with its first axis set to k. (ort.NewShape
// keeps the slice it is given, so writing into it would change the shared
// shape under other workers.)
func batchShape(k int, shape []int64) ort.Shape {
	s := make(ort.Shape, len(shape))
	copy(s, shape)
	s[0] = int64(k)
	return s
}

// detections decodes item i of the last run (see Detector.Detect).
func (r *runner) detections(i int, lb Letterbox, frameW, frameH int) ([]Detection, error) {
	mod := r.mod
	out := r.outBuf[i*mod.outLen : (i+1)*mod.outLen]
	classes := len(mod.m.Classes)
	var err error
	cands := r.cands[:0]
	switch mod.m.Output.Format {
	case FormatYOLOX:
		cands, err = DecodeYOLOX(cands, out, mod.m.Input.Width, mod.m.Input.Height, classes, mod.threshold)
	case FormatYOLOv8:
		cands, err = DecodeYOLOv8(cands, out, int(mod.outDims[2]), classes, mod.threshold)
	case FormatYOLOv5:
		cands, err = DecodeYOLOv5(cands, out, int(mod.outDims[1]), int(mod.outDims[2]), classes, mod.threshold)
	}
	r.cands = cands
	if err != nil {
		return nil, err
	}
	kept := NMS(cands, mod.m.NMSIoU)
	dets := make([]Detection, 0, len(kept))
	for _, c := range kept {
		label, ok := mod.m.Label(c.ClassID)
		if !ok && mod.standIns {
			label, c.StandIn = mod.m.StandIn(c.ClassID)
			ok = c.StandIn
		}
		if !ok {
			continue
		}
		b := lb.FrameBox(c.Box, frameW, frameH)
		if b[2] <= b[0] || b[3] <= b[1] {
			continue
		}
		dets = append(dets, Detection{Class: label, ClassID: c.ClassID, Confidence: c.Confidence, Box: b, StandIn: c.StandIn})
	}
	return dets, nil
}

// close frees the session and the tensors.
func (r *runner) close() error {
	var errs []error
	for key, c := range r.callers {
		errs = append(errs, c.close())
		delete(r.callers, key)
	}
	for i := range r.ins {
		if r.bindings[i] != nil {
			errs = append(errs, r.bindings[i].Destroy(), r.ins[i].Destroy(), r.outs[i].Destroy())
			r.ins[i], r.outs[i], r.bindings[i] = nil, nil, nil
		}
	}
	if r.session != nil {
		errs = append(errs, r.session.Destroy())
		r.session = nil
	}
	return errors.Join(errs...)
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
func (d *Detector) Manifest() Manifest { return d.mod.m }

// Input returns the input the model expects; build a preprocessor from it.
func (d *Detector) Input() InputSpec { return d.mod.m.Input }

// Threshold returns the minimum confidence reported.
func (d *Detector) Threshold() float32 { return d.mod.threshold }

// FoldError says why the manifest's input.focus fold could not be applied
// (the graph then runs as published, and Input has no Focus): an
// ErrShapeMismatch naming the file and what differs from YOLOX's Focus. It
// is nil when the Focus was folded or the manifest did not ask for it.
func (d *Detector) FoldError() error { return d.mod.foldErr }

// DynamicBatch reports whether the model's batch axis is dynamic (a
// Scheduler then runs several frames in one inference).
func (d *Detector) DynamicBatch() bool { return d.mod.dynamic }

// Detect runs the model on one preprocessed input tensor (NCHW, the size of
// Input()) of a frameW×frameH frame letterboxed by lb. It returns the
// detections above the threshold whose class has a product label, after
// class-aware NMS, in frame pixels clipped to the frame, highest confidence
// first. The returned slice belongs to the caller. input is read where it
// lies, not copied, so it must not change before Detect returns; the
// detector keeps it bound to the session afterwards (it never reads it
// outside a call), so that a caller reusing one buffer, as a preprocessor
// does, costs no setup per frame.
func (d *Detector) Detect(input []float32, lb Letterbox, frameW, frameH int) ([]Detection, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.mod.m
	if d.r == nil {
		return nil, fmt.Errorf("detect %s: %w", m.Name, ErrClosed)
	}
	if len(input) != d.mod.inLen {
		return nil, fmt.Errorf("detect %s: %w: %d values, model input %v needs %d",
			m.Name, ErrInputSize, len(input), m.Input.TensorShape(), d.mod.inLen)
	}
	if err := d.r.runInPlace(input); err != nil {
		return nil, fmt.Errorf("detect %s: %w", m.Name, err)
	}
	dets, err := d.r.detections(0, lb, frameW, frameH)
	if err != nil {
		return nil, fmt.Errorf("detect %s: %w", m.Name, err)
	}
	return dets, nil
}

// Close frees the session and its tensors. It is safe to call more than
// once; Detect fails with ErrClosed afterwards.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.r == nil {
		return nil
	}
	err := d.r.close()
	d.r = nil
	return err
}
