package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// InferenceResult is the rate of one inference configuration on one
// preprocessed tensor run in a loop.
type InferenceResult struct {
	Name         string  `json:"name"`
	Kind         string  `json:"kind"` // kindRaw, kindRawBefore, kindRawAfter, kindRawPublished or kindDetect
	Threads      int     `json:"threads"`
	Sessions     int     `json:"sessions"` // sessions running at once
	Runs         int     `json:"runs"`
	Seconds      float64 `json:"seconds"`
	FramesPerSec float64 `json:"frames_per_sec"`
	MsPerFrame   float64 `json:"ms_per_frame"` // latency of one run in one session
	// Infer is the scheduler's own account (kindDetect only).
	Infer infer `json:"inference,omitzero"`
}

// Kinds of InferenceResult.
const (
	kindRaw       = "raw"        // session.Run only
	kindRawBefore = "raw-before" // the same, measured again just before the saturated run
	kindRawAfter  = "raw-after"  // and just after it
	// kindRawPublished is kindRaw on the graph as published, where the
	// scheduler runs it with its Focus folded (models.FocusFold).
	kindRawPublished = "raw-published"
	kindDetect       = "detect" // Scheduler.Detect: + output decoding + NMS
)

// tensorSample is one real frame, preprocessed for the model.
type tensorSample struct {
	data          []float32 // for the graph as run
	plain         []float32 // for the graph as published (differs when its Focus is folded)
	lb            models.Letterbox
	width, height int
}

// sampleTensor preprocesses the first picture of clip for the model input.
func sampleTensor(spec models.InputSpec, clip string) (tensorSample, error) {
	f, err := firstFrame(clip)
	if err != nil {
		return tensorSample{}, err
	}
	plain := spec
	plain.Focus = ""
	var t [2][]float32
	var lb models.Letterbox
	for i, s := range []models.InputSpec{spec, plain} {
		pre, err := analyzer.NewPreprocessor(s)
		if err != nil {
			return tensorSample{}, fmt.Errorf("bench: %w", err)
		}
		data, l, err := pre.Tensor(f)
		t[i], lb = append([]float32(nil), data...), l
		pre.Close()
		if err != nil {
			return tensorSample{}, fmt.Errorf("bench: preprocess %s: %w", filepath.Base(clip), err)
		}
	}
	return tensorSample{data: t[0], plain: t[1], lb: lb, width: f.Width, height: f.Height}, nil
}

// graph is an ONNX graph of the model with its input's name and batch-1
// shape.
type graph struct {
	data  []byte
	input string
	shape []int64
}

// graphs reads m's weights and returns the graph the scheduler runs
// (models.Manifest.RunGraph) and the graph as published.
func graphs(cfg Config, m models.Manifest) (asRun, published graph, err error) {
	data, err := os.ReadFile(filepath.Join(cfg.ModelsDir, m.File))
	if err != nil {
		return graph{}, graph{}, fmt.Errorf("bench: %w", err)
	}
	g, name, err := m.RunGraph(data)
	if err != nil {
		return graph{}, graph{}, fmt.Errorf("bench: %w", err)
	}
	plain := m.Input
	plain.Focus = ""
	return graph{g, name, m.Input.TensorShape()}, graph{data, m.Input.Name, plain.TensorShape()}, nil
}

// firstFrame decodes the first picture of clip at its own size.
func firstFrame(clip string) (*decode.Frame, error) {
	dm, err := decode.OpenFile(clip)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer dm.Close()
	dec, err := decode.NewDecoder(dm.Codec())
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer dec.Close()
	for {
		p, err := dm.Read()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("bench: %s: no picture decoded", filepath.Base(clip))
		}
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		ready, _ := dec.Decode(ingest.AccessUnit{Params: dm.Params(), NALUs: p.NALUs, PTS: p.PTS, Keyframe: p.Keyframe})
		if !ready {
			continue
		}
		f := &decode.Frame{}
		if err := dec.Convert(f, 0, 0); err != nil {
			return nil, fmt.Errorf("bench: %s: %w", filepath.Base(clip), err)
		}
		return f, nil
	}
}

// inferenceSeconds is how long each inference configuration runs.
func inferenceSeconds(quick bool) time.Duration {
	if quick {
		return time.Second
	}
	return 5 * time.Second
}

// measureInference measures the raw ONNX Runtime rate of the graph the
// scheduler runs with 1 and 2 intra-op threads, with cfg.Threads and the
// scheduler's workers running at once (and so again on the graph as
// published when the scheduler folds its Focus), and the scheduler's
// Detect rate with all its workers busy.
func measureInference(ctx context.Context, cfg Config, m models.Manifest, t tensorSample, workers int, sched *models.Scheduler) ([]InferenceResult, error) {
	asRun, published, err := graphs(cfg, m)
	if err != nil {
		return nil, err
	}
	d := inferenceSeconds(cfg.Quick)
	type config struct{ threads, sessions int }
	configs := []config{{1, 1}, {2, 1}}
	if cfg.Threads > 2 {
		configs = append(configs, config{cfg.Threads, 1})
	}
	if workers > 1 {
		configs = append(configs, config{cfg.Threads, workers})
	}
	var out []InferenceResult
	for _, c := range configs {
		r, err := rawInference(ctx, asRun, m, t.data, c.threads, c.sessions, d)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if m.Input.Focus != "" {
		r, err := rawInference(ctx, published, m, t.plain, cfg.Threads, max(workers, 1), d)
		if err != nil {
			return nil, err
		}
		r.Name += ", graph as published"
		r.Kind = kindRawPublished
		out = append(out, r)
	}
	r, err := detectRate(ctx, sched, t, cfg.Threads, workers, d)
	if err != nil {
		return nil, err
	}
	return append(out, r), nil
}

// rawName names a raw inference configuration in tables and charts.
func rawName(threads, sessions int) string {
	if sessions == 1 {
		return fmt.Sprintf("raw ORT, %d thread(s)", threads)
	}
	return fmt.Sprintf("raw ORT, %d×%d-thread sessions", sessions, threads)
}

// rawInference runs sessions ONNX Runtime sessions of threads intra-op
// threads at once, each looping Run on input for d, and returns their total
// rate. The sessions are built as the scheduler builds them: one inter-op
// thread, every graph optimisation.
func rawInference(ctx context.Context, g graph, m models.Manifest, input []float32, threads, sessions int, d time.Duration) (InferenceResult, error) {
	_, outs, err := ort.GetInputOutputInfoWithONNXData(g.data)
	if err != nil {
		return InferenceResult{}, fmt.Errorf("bench: model %s: %w", m.File, err)
	}
	var outShape ort.Shape
	for _, o := range outs {
		if o.Name == m.Output.Name {
			outShape = append(ort.Shape(nil), o.Dimensions...)
		}
	}
	for i, v := range outShape {
		if v <= 0 && i == 0 {
			outShape[i] = 1
		} else if v <= 0 {
			return InferenceResult{}, fmt.Errorf("bench: model %s: output %s has a dynamic dimension %v", m.File, m.Output.Name, outShape)
		}
	}
	if outShape == nil {
		return InferenceResult{}, fmt.Errorf("bench: model %s has no output %s", m.File, m.Output.Name)
	}

	type worker struct {
		session *ort.AdvancedSession
		in, out *ort.Tensor[float32]
		runs    int
		err     error
	}
	ws := make([]*worker, sessions)
	defer func() {
		for _, w := range ws {
			if w == nil {
				continue
			}
			if w.session != nil {
				w.session.Destroy()
			}
			if w.in != nil {
				w.in.Destroy()
			}
			if w.out != nil {
				w.out.Destroy()
			}
		}
	}()
	for i := range ws {
		w := &worker{}
		ws[i] = w
		if w.in, err = ort.NewTensor(ort.NewShape(g.shape...), append([]float32(nil), input...)); err != nil {
			return InferenceResult{}, fmt.Errorf("bench: input tensor: %w", err)
		}
		if w.out, err = ort.NewEmptyTensor[float32](outShape); err != nil {
			return InferenceResult{}, fmt.Errorf("bench: output tensor: %w", err)
		}
		opts, err := ort.NewSessionOptions()
		if err != nil {
			return InferenceResult{}, fmt.Errorf("bench: session options: %w", err)
		}
		err = errors.Join(opts.SetIntraOpNumThreads(threads), opts.SetInterOpNumThreads(1),
			opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll))
		if err == nil {
			w.session, err = ort.NewAdvancedSessionWithONNXData(g.data, []string{g.input}, []string{m.Output.Name},
				[]ort.Value{w.in}, []ort.Value{w.out}, opts)
		}
		opts.Destroy()
		if err != nil {
			return InferenceResult{}, fmt.Errorf("bench: session with %d threads: %w", threads, err)
		}
		for range 3 { // warm-up: the first runs allocate and plan
			if err := w.session.Run(); err != nil {
				return InferenceResult{}, fmt.Errorf("bench: warm-up run: %w", err)
			}
		}
	}

	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if w.err = w.session.Run(); w.err != nil {
					return
				}
				w.runs++
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if ctx.Err() != nil {
		return InferenceResult{}, errStopped
	}
	runs := 0
	for _, w := range ws {
		if w.err != nil {
			return InferenceResult{}, fmt.Errorf("bench: run: %w", w.err)
		}
		runs += w.runs
	}
	return InferenceResult{
		Name: rawName(threads, sessions), Kind: kindRaw, Threads: threads, Sessions: sessions,
		Runs: runs, Seconds: secs, FramesPerSec: float64(runs) / secs,
		MsPerFrame: 1000 * secs * float64(sessions) / float64(max(runs, 1)),
	}, nil
}

// detectRate calls sched.Detect from two goroutines per worker for d, so
// that a worker always finds the next frame queued when it finishes one, as
// in the saturated full path (with one caller per worker, each worker would
// idle while its answer goes back and the caller's next frame comes in).
func detectRate(ctx context.Context, sched *models.Scheduler, t tensorSample, threads, workers int, d time.Duration) (InferenceResult, error) {
	for range 3 {
		if _, err := sched.Detect(t.data, t.lb, t.width, t.height); err != nil {
			return InferenceResult{}, fmt.Errorf("bench: %w", err)
		}
	}
	callers := 2 * workers
	stats0 := sched.Stats()
	start := time.Now()
	deadline := start.Add(d)
	runs := make([]int, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, errs[i] = sched.Detect(t.data, t.lb, t.width, t.height); errs[i] != nil {
					return
				}
				runs[i]++
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	stats1 := sched.Stats()
	if ctx.Err() != nil {
		return InferenceResult{}, errStopped
	}
	if err := errors.Join(errs...); err != nil {
		return InferenceResult{}, fmt.Errorf("bench: %w", err)
	}
	total := 0
	for _, n := range runs {
		total += n
	}
	return InferenceResult{
		Name: fmt.Sprintf("Scheduler.Detect, %d×%d-thread workers", workers, threads), Kind: kindDetect,
		Threads: threads, Sessions: workers, Runs: total, Seconds: secs,
		FramesPerSec: float64(total) / secs, MsPerFrame: 1000 * secs * float64(workers) / float64(max(total, 1)),
		Infer: inferBetween(stats0, stats1),
	}, nil
}

// rawAgain measures the raw rate of the full path's configuration again
// (cfg.Threads × workers sessions) as a result of kind kindRawBefore or
// kindRawAfter: load elsewhere on a shared machine changes the raw rate over
// minutes, so the saturated run is compared with the rate measured on
// either side of it.
func rawAgain(ctx context.Context, cfg Config, m models.Manifest, t tensorSample, workers int, kind string) (InferenceResult, error) {
	asRun, _, err := graphs(cfg, m)
	if err != nil {
		return InferenceResult{}, err
	}
	r, err := rawInference(ctx, asRun, m, t.data, cfg.Threads, workers, inferenceSeconds(cfg.Quick))
	if err != nil {
		return InferenceResult{}, err
	}
	r.Name += map[string]string{kindRawBefore: ", just before the saturated run", kindRawAfter: ", just after it"}[kind]
	r.Kind = kind
	return r, nil
}
