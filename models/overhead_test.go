//go:build linux

package models_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/matthan/matthan/models"
)

// rawSession is an ONNX Runtime session of the YOLOX-Nano weights built as
// the models package builds its own (1 intra-op and 1 inter-op thread,
// every graph optimisation), its input and output tensors bound once: the
// limit the frame path is compared with.
type rawSession struct {
	s       *ort.AdvancedSession
	in, out *ort.Tensor[float32]
}

func newRawSession(b *testing.B, m models.Manifest, input []float32) *rawSession {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(modelsDir(b), m.File))
	if err != nil {
		b.Fatal(err)
	}
	graph, name, err := m.RunGraph(data) // the graph the Detector runs
	if err != nil {
		b.Fatal(err)
	}
	in, err := ort.NewTensor(ort.NewShape(m.Input.TensorShape()...), append([]float32(nil), input...))
	if err != nil {
		b.Fatal(err)
	}
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(1, 3549, int64(5+len(m.Classes))))
	if err != nil {
		b.Fatal(err)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		b.Fatal(err)
	}
	defer opts.Destroy()
	for _, err := range []error{opts.SetIntraOpNumThreads(1), opts.SetInterOpNumThreads(1),
		opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll)} {
		if err != nil {
			b.Fatal(err)
		}
	}
	s, err := ort.NewAdvancedSessionWithONNXData(graph, []string{name}, []string{m.Output.Name},
		[]ort.Value{in}, []ort.Value{out}, opts)
	if err != nil {
		b.Fatal(err)
	}
	r := &rawSession{s: s, in: in, out: out}
	b.Cleanup(func() { s.Destroy(); in.Destroy(); out.Destroy() })
	return r
}

// BenchmarkInferenceOverhead measures how much of the raw ONNX Runtime
// rate of YOLOX-Nano on a real frame reaches a caller (issue #4), one
// 1-thread session at a time. Each op runs one frame through each of:
//
//   - raw: AdvancedSession.Run on a pre-bound tensor;
//   - detector: Detector.Detect (run, decode, NMS, letterbox undone);
//   - scheduler: Scheduler.Detect with one worker and one caller, which
//     waits for each answer (so it also pays the hand-off to the worker
//     and back),
//
// in an order that turns with each op, so that consecutive frames of the
// three see the same load from elsewhere. It reports each path's frames/s
// from its median wall time per frame, the ratio of the medians to raw's,
// the CPU share (raw's median process CPU time per frame over the path's:
// unlike wall time, it does not depend on how much of the machine other
// work leaves free) and the allocations of one Detect call (the returned
// slice, which the caller owns, is one).
func BenchmarkInferenceOverhead(b *testing.B) {
	m := yoloxManifest(b)
	initRuntime(b)
	f := realTensors(b, m.Input)[0]
	raw := newRawSession(b, m, f.input)
	d := newYOLOX(b, models.Options{Threads: 1})
	s := newScheduler(b, m, modelsDir(b), models.SchedulerOptions{Workers: 1, Session: models.SessionOptions{IntraOpThreads: 1}})
	paths := []overheadPath{
		{"raw", 1, func(int) error { return raw.s.Run() }},
		{"detector", 1, func(int) error {
			_, err := d.Detect(f.input, f.lb, f.fw, f.fh)
			return err
		}},
		{"scheduler", 1, func(int) error {
			_, err := s.Detect(f.input, f.lb, f.fw, f.fh)
			return err
		}},
	}
	warmUp(b, paths)

	wall := make([][]float64, len(paths)) // per frame, seconds
	cpu := make([][]float64, len(paths))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for k := range paths {
			p := (i + k) % len(paths)
			cpu0, start := processCPU(b), time.Now()
			if err := paths[p].run(0); err != nil {
				b.Fatal(err)
			}
			wall[p] = append(wall[p], time.Since(start).Seconds())
			cpu[p] = append(cpu[p], (processCPU(b) - cpu0).Seconds())
		}
	}
	b.StopTimer()

	for k, p := range paths {
		b.ReportMetric(1/median(wall[k]), p.name+"-frames/s")
		if k > 0 {
			b.ReportMetric(median(wall[0])/median(wall[k]), p.name+"/raw")
			b.ReportMetric(median(cpu[0])/median(cpu[k]), p.name+"-cpu-share")
		}
	}
	reportAllocs(b, paths)
}

// BenchmarkInferenceOverheadParallel is BenchmarkInferenceOverhead with as
// many 1-thread sessions busy at once as the machine has cores (the
// scheduler's default), in each of:
//
//   - raw: AdvancedSession.Run loops, one per session;
//   - detector: Detector.Detect loops, one Detector per session;
//   - scheduler: Scheduler.Detect with two callers per worker, so that a
//     worker always finds the next frame queued, as in the saturated frame
//     path (many cameras, few sessions);
//   - scheduler-lockstep: one caller per worker, each sending its next frame
//     only once answered: the worker idles during every hand-off.
//
// The paths take turns in short rounds, the first of a round changing each
// time; it reports each path's median frames/s over the rounds, the median
// of its per-round ratio to raw, its CPU share (raw's process CPU time per
// frame over the path's, over all rounds) and the allocations of one Detect
// call. An op is one frame through each path.
func BenchmarkInferenceOverheadParallel(b *testing.B) {
	m := yoloxManifest(b)
	initRuntime(b)
	f := realTensors(b, m.Input)[0]
	sessions := runtime.NumCPU()
	raws := make([]*rawSession, sessions)
	dets := make([]*models.Detector, sessions)
	for i := range sessions {
		raws[i] = newRawSession(b, m, f.input)
		dets[i] = newYOLOX(b, models.Options{Threads: 1})
	}
	s := newScheduler(b, m, modelsDir(b), models.SchedulerOptions{Workers: sessions, Session: models.SessionOptions{IntraOpThreads: 1}})
	// Each caller has its own buffer, as each camera's preprocessor does.
	inputs := make([][]float32, 2*sessions)
	for i := range inputs {
		inputs[i] = append([]float32(nil), f.input...)
	}
	detect := func(i int) error {
		_, err := s.Detect(inputs[i], f.lb, f.fw, f.fh)
		return err
	}
	paths := []overheadPath{
		{"raw", sessions, func(i int) error { return raws[i].s.Run() }},
		{"detector", sessions, func(i int) error {
			_, err := dets[i].Detect(inputs[i], f.lb, f.fw, f.fh)
			return err
		}},
		{"scheduler", 2 * sessions, detect},
		{"scheduler-lockstep", sessions, detect},
	}
	warmUp(b, paths)

	// Each round runs perRound frames through each path; a round is short,
	// so the paths of one round see the same load, and the medians over
	// rounds shrug off the bursts of other work.
	perRound := 6 * sessions
	rates := make([][]float64, len(paths)) // per round, frames/s
	ratios := make([][]float64, len(paths))
	cpu := make([]time.Duration, len(paths))
	b.ResetTimer()
	for round := 0; round*perRound < b.N; round++ {
		rate := make([]float64, len(paths))
		for k := range paths {
			p := (round + k) % len(paths)
			cpu0, start := processCPU(b), time.Now()
			if err := runFrames(paths[p], perRound); err != nil {
				b.Fatal(err)
			}
			rate[p] = float64(perRound) / time.Since(start).Seconds()
			cpu[p] += processCPU(b) - cpu0
		}
		for k := range paths {
			rates[k] = append(rates[k], rate[k])
			ratios[k] = append(ratios[k], rate[k]/rate[0])
		}
	}
	b.StopTimer()

	for k, p := range paths {
		b.ReportMetric(median(rates[k]), p.name+"-frames/s")
		if k > 0 {
			b.ReportMetric(median(ratios[k]), p.name+"/raw")
			b.ReportMetric(float64(cpu[0])/float64(cpu[k]), p.name+"-cpu-share")
		}
	}
	reportAllocs(b, paths)
}

// overheadPath is one way of running frames in the overhead benchmarks.
type overheadPath struct {
	name    string
	callers int               // goroutines running frames at once
	run     func(i int) error // one frame for caller i
}

// warmUp runs each path's callers twice: the first runs of a session
// allocate and plan.
func warmUp(b *testing.B, paths []overheadPath) {
	for _, p := range paths {
		for range 2 {
			if err := runFrames(p, p.callers); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// runFrames runs frames frames through p, shared among its callers.
func runFrames(p overheadPath, frames int) error {
	errs := make([]error, p.callers)
	var wg sync.WaitGroup
	for i := range p.callers {
		n := frames / p.callers
		if i < frames%p.callers {
			n++
		}
		wg.Go(func() {
			for range n {
				if errs[i] = p.run(i); errs[i] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// reportAllocs reports the allocations of one frame of each path but raw
// (the Detect paths), on caller 0.
func reportAllocs(b *testing.B, paths []overheadPath) {
	for _, p := range paths[1:] {
		b.ReportMetric(testing.AllocsPerRun(5, func() { p.run(0) }), p.name+"-allocs/frame")
	}
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// processCPU is the CPU time all threads of the process have used
// (CLOCK_PROCESS_CPUTIME_ID: precise, where getrusage counts ticks).
func processCPU(b *testing.B) time.Duration {
	var ts syscall.Timespec
	const clockProcessCPUTimeID = 2
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		b.Fatal(errno)
	}
	return time.Duration(ts.Nano())
}

// BenchmarkDecodeYOLOX reports what a Detect call adds to a run on a real
// frame: decoding the raw YOLOX-Nano output at the manifest's threshold and
// NMS, with a reused candidate slice; and what copying the input tensor
// into the session's buffer would cost right after a run (inference has
// pushed both buffers out of the caches), which Detect avoids by reading
// the caller's buffer in place.
func BenchmarkDecodeYOLOX(b *testing.B) {
	m := yoloxManifest(b)
	initRuntime(b)
	f := realTensors(b, m.Input)[0]
	raw := newRawSession(b, m, f.input)
	if err := raw.s.Run(); err != nil {
		b.Fatal(err)
	}
	out := raw.out.GetData()
	b.Run("decode+nms", func(b *testing.B) {
		var cands []models.Detection
		b.ReportAllocs()
		for b.Loop() {
			var err error
			cands, err = models.DecodeYOLOX(cands[:0], out, m.Input.Width, m.Input.Height, len(m.Classes), m.Threshold)
			if err != nil {
				b.Fatal(err)
			}
			if len(models.NMS(cands, m.NMSIoU)) == 0 {
				b.Fatal("no detections on the intersection frame")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/frame")
	})
	b.Run("copy-input-after-run", func(b *testing.B) {
		src := append([]float32(nil), f.input...)
		var copying, running time.Duration
		for b.Loop() {
			t0 := time.Now()
			copy(raw.in.GetData(), src)
			t1 := time.Now()
			if err := raw.s.Run(); err != nil {
				b.Fatal(err)
			}
			copying += t1.Sub(t0)
			running += time.Since(t1)
		}
		b.ReportMetric(float64(copying.Microseconds())/float64(b.N), "µs/frame")
		b.ReportMetric(float64(copying)/float64(running), "copy/run")
	})
}
