package models_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/models"
)

// A Scheduler is what a camera pipeline needs of a model.
var _ analyzer.Detector = (*models.Scheduler)(nil)

// realTensor is a preprocessed real frame.
type realTensor struct {
	name   string
	input  []float32
	lb     models.Letterbox
	fw, fh int
}

// realTensors preprocesses real frames of the shared footage for in and
// returns a private copy of each tensor, with its letterbox and frame size.
func realTensors(t testing.TB, in models.InputSpec) []realTensor {
	t.Helper()
	pre, err := analyzer.NewPreprocessor(in)
	if err != nil {
		t.Fatal(err)
	}
	defer pre.Close()
	var out []realTensor
	for _, fr := range []struct{ clip, sec string }{
		{"traffic_intersection_signals_cctv_day.mp4", "10"},
		{"pedestrians_tram_square_elevated_day.mp4", "5"},
		{"pedestrians_plaza_elevated_day.mp4", "5"},
		{"traffic_residential_street_cctv_parked_cars.mp4", "5"},
	} {
		f := loadFrame(t, extractFrame(t, fr.clip, fr.sec))
		input, lb, err := pre.Tensor(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, realTensor{fr.clip + "@" + fr.sec, append([]float32(nil), input...), lb, f.Width, f.Height})
	}
	return out
}

func newScheduler(t testing.TB, m models.Manifest, dir string, opt models.SchedulerOptions) *models.Scheduler {
	t.Helper()
	initRuntime(t)
	s, err := models.NewScheduler(m, dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSchedulerMatchesDetector has many goroutines share a scheduler on
// real frames, each reusing one input buffer as the preprocessor does and
// overwriting it as soon as Detect returns: every answer must be the one a
// lone Detector gives for that frame.
func TestSchedulerMatchesDetector(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	m := yoloxManifest(t)
	d := newYOLOX(t, models.Options{})
	frames := realTensors(t, d.Input())
	want := make([]string, len(frames))
	for i, f := range frames {
		dets, err := d.Detect(f.input, f.lb, f.fw, f.fh)
		if err != nil {
			t.Fatal(err)
		}
		if len(dets) == 0 {
			t.Fatalf("%s: no detections", f.name)
		}
		want[i] = fmt.Sprint(dets)
	}

	s := newScheduler(t, m, modelsDir(t), models.SchedulerOptions{Workers: 2})
	const callers, rounds = 6, 1
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for c := range callers {
		wg.Go(func() {
			buf := make([]float32, len(frames[0].input))
			for r := range rounds * len(frames) {
				i := (c + r) % len(frames)
				f := frames[i]
				copy(buf, f.input)
				got, err := s.Detect(buf, f.lb, f.fw, f.fh)
				clear(buf) // the caller reuses its buffer at once
				if err != nil {
					errs <- err
					return
				}
				if fmt.Sprint(got) != want[i] {
					errs <- fmt.Errorf("caller %d, %s: got %v, want %v", c, f.name, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := s.Stats()
	if st.Requests != callers*rounds*int64(len(frames)) || st.Runs != st.Requests || st.Errors != 0 || st.Workers != 2 || st.MaxBatch != 1 {
		t.Errorf("stats %+v, want %d requests, as many runs, no errors, 2 workers, batch 1", st, callers*rounds*len(frames))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSchedulerFairness has 4 callers hammer one worker with real frames:
// served in arrival order, each gets its share (within ±25% of the mean).
func TestSchedulerFairness(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	m := yoloxManifest(t)
	frames := realTensors(t, m.Input)[:1]
	s := newScheduler(t, m, modelsDir(t), models.SchedulerOptions{Workers: 1})
	const callers, total = 4, 120
	var (
		served [callers]atomic.Int64
		sum    atomic.Int64
		wg     sync.WaitGroup
	)
	f := frames[0]
	for c := range callers {
		wg.Go(func() {
			// Give the later callers a head start disadvantage: caller c
			// joins after c short pauses, as cameras do.
			time.Sleep(time.Duration(c) * 5 * time.Millisecond)
			for sum.Load() < total {
				if _, err := s.Detect(f.input, f.lb, f.fw, f.fh); err != nil {
					t.Error(err)
					return
				}
				served[c].Add(1)
				sum.Add(1)
			}
		})
	}
	wg.Wait()
	mean := float64(sum.Load()) / callers
	var counts []int64
	for c := range callers {
		n := served[c].Load()
		counts = append(counts, n)
		if float64(n) < 0.75*mean || float64(n) > 1.25*mean {
			t.Errorf("caller %d served %d times, mean %.1f: outside ±25%%", c, n, mean)
		}
	}
	st := s.Stats()
	t.Logf("served per caller %v (mean %.1f); %d runs, busy %v (%.1f ms/inference), worker CPU %v",
		counts, mean, st.Runs, st.Busy, float64(st.Busy.Microseconds())/1000/float64(st.Runs), st.CPU)
	// The worker's thread clock: real work was done, and one thread cannot
	// use more CPU than the time it was busy.
	if st.CPU <= 0 || st.CPURuns < st.Runs*9/10 || st.CPU > st.Busy+time.Millisecond*time.Duration(st.Runs)/10 {
		t.Errorf("worker CPU %v over %d of %d runs for %v busy: want some, of nearly every run, and no more than busy",
			st.CPU, st.CPURuns, st.Runs, st.Busy)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// batchProbe writes the batch probe (see writeBatchProbe) into a temporary
// folder and returns its manifest: a 32×32 "YOLOX" with one class and a
// dynamic batch axis whose output is the first 126 input values of each item.
func batchProbe(t testing.TB) (models.Manifest, string) {
	t.Helper()
	dir := t.TempDir()
	writeBatchProbe(t, dir)
	m := models.Manifest{
		Name: "batch_probe", File: "batch_probe.onnx", SHA256: []string{fileSHA(t, filepath.Join(dir, "batch_probe.onnx"))},
		Input: models.InputSpec{Name: "images", Width: 32, Height: 32, Layout: models.LayoutNCHW, Color: models.BGR,
			Scale: 1, Std: models.Channels{1, 1, 1}, Letterbox: models.LetterboxSpec{Pad: 114, Align: models.AlignTopLeft}},
		Output:  models.OutputSpec{Name: "output", Format: models.FormatYOLOX},
		Classes: []string{"car"}, Threshold: 0.3, NMSIoU: 0.45,
	}
	return m, dir
}

// probeInput is the input under which the batch probe reports one 8×8 box
// in stride-8 cell i%16 with confidence 0.4 + 0.01·i, so that every caller
// i < 50 can recognise its own answer.
func probeInput(i int) []float32 {
	in := make([]float32, 3*32*32)
	row := in[(i%16)*6 : (i%16+1)*6]
	row[0], row[1] = 0.5, 0.5 // centre of the cell; log w = log h = 0: 8×8 px
	row[4], row[5] = 1, 0.4+0.01*float32(i)
	return in
}

// checkProbe checks that dets is caller i's answer.
func checkProbe(i int, dets []models.Detection) error {
	gx, gy := float32(i%16%4*8), float32(i%16/4*8)
	want := [4]float32{gx, gy, gx + 8, gy + 8}
	if len(dets) != 1 || dets[0].Box != want || abs32(dets[0].Confidence-(0.4+0.01*float32(i))) > 1e-6 || dets[0].Class != "car" {
		return fmt.Errorf("caller %d got %+v, want one car %.2f at %v", i, dets, 0.4+0.01*float32(i), want)
	}
	return nil
}

// TestSchedulerBatches runs the dynamic-batch probe model in a synctest
// bubble, so that MaxWait passes on a fake clock: 8 callers arrive
// together, one worker takes batches of up to MaxBatch 4 and must run them
// as 2 inferences, every caller getting its own item's answer.
func TestSchedulerBatches(t *testing.T) {
	m, dir := batchProbe(t)
	initRuntime(t)
	synctest.Test(t, func(t *testing.T) {
		s, err := models.NewScheduler(m, dir, models.SchedulerOptions{Workers: 1, MaxBatch: 4, MaxWait: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		const callers = 8
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				dets, err := s.Detect(probeInput(i), models.Letterbox{Scale: 1}, 32, 32)
				if err == nil {
					err = checkProbe(i, dets)
				}
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		st := s.Stats()
		if st.Requests != callers || st.Runs != 2 || st.MaxBatch != 4 {
			t.Errorf("stats %+v: want %d requests in 2 runs of batch 4", st, callers)
		}
		// One lone caller waits MaxWait for company, then runs alone.
		start := time.Now()
		if dets, err := s.Detect(probeInput(3), models.Letterbox{Scale: 1}, 32, 32); err != nil || checkProbe(3, dets) != nil {
			t.Errorf("lone caller: %v %v", dets, err)
		}
		if waited := time.Since(start); waited != 10*time.Millisecond {
			t.Errorf("lone caller waited %v, want MaxWait 10ms", waited)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSchedulerBatchesUnderLoad runs the probe without MaxWait on the real
// clock: many callers, two workers; batches form from whatever queued while
// the workers were busy, and no answer may go to the wrong caller.
func TestSchedulerBatchesUnderLoad(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	m, dir := batchProbe(t)
	s := newScheduler(t, m, dir, models.SchedulerOptions{Workers: 2, MaxBatch: 3})
	const callers, rounds = 16, 50
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			in := probeInput(i)
			for range rounds {
				dets, err := s.Detect(in, models.Letterbox{Scale: 1}, 32, 32)
				if err == nil {
					err = checkProbe(i, dets)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	t.Logf("stats %+v: mean batch %.2f", st, float64(st.Requests)/float64(st.Runs))
	if st.Requests != callers*rounds || st.Runs > st.Requests || st.Runs*3 < st.Requests || st.Errors != 0 {
		t.Errorf("stats %+v: want %d requests in runs of 1–3", st, callers*rounds)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSchedulerClose closes a scheduler under load: every caller returns
// (an answer, or ErrClosed), nothing hangs, no goroutine is left, and
// Detect afterwards fails with ErrClosed.
func TestSchedulerClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	m, dir := batchProbe(t)
	initRuntime(t)
	for _, opt := range []models.SchedulerOptions{
		{Workers: 1, MaxBatch: 1},
		{Workers: 2, MaxBatch: 4, MaxWait: time.Millisecond},
	} {
		t.Run(fmt.Sprintf("%+v", opt), func(t *testing.T) {
			s, err := models.NewScheduler(m, dir, opt)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var ok, closed atomic.Int64
			for i := range 12 {
				wg.Go(func() {
					in := probeInput(i)
					for {
						dets, err := s.Detect(in, models.Letterbox{Scale: 1}, 32, 32)
						if errors.Is(err, models.ErrClosed) {
							closed.Add(1)
							return
						}
						if err == nil {
							err = checkProbe(i, dets)
						}
						if err != nil {
							t.Error(err)
							return
						}
						ok.Add(1)
					}
				})
			}
			for s.Stats().Requests < 200 {
				runtime.Gosched()
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if closed.Load() != 12 {
				t.Errorf("%d callers saw ErrClosed, want 12", closed.Load())
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if _, err := s.Detect(probeInput(0), models.Letterbox{Scale: 1}, 32, 32); !errors.Is(err, models.ErrClosed) ||
				!strings.Contains(err.Error(), "batch_probe") {
				t.Errorf("Detect after Close: %v, want ErrClosed naming the model", err)
			}
			t.Logf("%d answers before Close", ok.Load())
		})
	}
}

func TestSchedulerOptions(t *testing.T) {
	m, dir := batchProbe(t)
	initRuntime(t)
	bad := []struct {
		opt  models.SchedulerOptions
		want string
	}{
		{models.SchedulerOptions{Workers: -1}, "Workers -1"},
		{models.SchedulerOptions{MaxBatch: -2}, "MaxBatch -2"},
		{models.SchedulerOptions{MaxWait: -time.Second}, "MaxWait -1s"},
		{models.SchedulerOptions{Session: models.SessionOptions{IntraOpThreads: -1}}, "IntraOpThreads -1"},
		{models.SchedulerOptions{Threshold: 2}, "threshold must be in (0, 1)"},
	}
	for _, tt := range bad {
		s, err := models.NewScheduler(m, dir, tt.opt)
		if err == nil {
			s.Close()
			t.Errorf("%+v accepted", tt.opt)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %q does not mention %q", tt.opt, err, tt.want)
		}
	}

	cpus := runtime.NumCPU()
	defaults := []struct {
		opt                 models.SchedulerOptions
		workers, maxBatch   int
		manifest, modelsDir string
	}{
		{models.SchedulerOptions{}, cpus, 8, "probe", dir},
		{models.SchedulerOptions{Session: models.SessionOptions{IntraOpThreads: cpus}}, 1, 8, "probe", dir},
		{models.SchedulerOptions{Session: models.SessionOptions{IntraOpThreads: 2 * cpus}}, 1, 8, "probe", dir},
		{models.SchedulerOptions{Workers: 3, MaxBatch: 2}, 3, 2, "probe", dir},
		{models.SchedulerOptions{MaxBatch: 8}, cpus, 1, "yolox", modelsDir(t)}, // fixed batch 1
	}
	for _, tt := range defaults {
		mm := m
		if tt.manifest == "yolox" {
			mm = yoloxManifest(t)
		}
		s := newScheduler(t, mm, tt.modelsDir, tt.opt)
		st := s.Stats()
		if st.Workers != tt.workers || st.MaxBatch != tt.maxBatch {
			t.Errorf("%s %+v: %d workers, batch %d; want %d, %d", tt.manifest, tt.opt, st.Workers, st.MaxBatch, tt.workers, tt.maxBatch)
		}
		if s.Threshold() != mm.Threshold || s.Manifest().Name != mm.Name || s.Input() != mm.Input {
			t.Errorf("%s: accessors disagree with the manifest", tt.manifest)
		}
		if _, err := s.Detect(make([]float32, 5), models.Letterbox{}, 1, 1); !errors.Is(err, models.ErrInputSize) {
			t.Errorf("%s: short input: %v, want ErrInputSize", tt.manifest, err)
		}
		s.Close()
	}

	// The checks of NewDetector apply: a wrong hash is refused.
	mm := m
	mm.SHA256 = []string{strings.Repeat("0", 64)}
	if _, err := models.NewScheduler(mm, dir, models.SchedulerOptions{}); !errors.Is(err, models.ErrChecksum) {
		t.Errorf("wrong sha256: %v, want ErrChecksum", err)
	}
}

// BenchmarkScheduler reports the throughput of the scheduler's default
// worker pool on a real frame with 4 callers, against which the benchmark
// harness can compare one Detector.
func BenchmarkScheduler(b *testing.B) {
	m := yoloxManifest(b)
	frames := realTensors(b, m.Input)
	s := newScheduler(b, m, modelsDir(b), models.SchedulerOptions{})
	f := frames[0]
	b.SetParallelism(2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Detect(f.input, f.lb, f.fw, f.fh); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
