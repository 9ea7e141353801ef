package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/camsim"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

// Limits of the full-path runs.
const (
	// everyFrameFPS is the sampling rate of the saturated run: above any
	// clip's frame rate, so the sampler keeps every decoded picture.
	everyFrameFPS = 1000
	// camsimStart bounds how long the simulator may take to serve.
	camsimStart = 20 * time.Second
)

// LiveResult is one full-path run: cameras streamed over loopback RTSP into
// ingest.Sources and analyzer.Pipelines sharing the scheduler.
type LiveResult struct {
	Name    string  `json:"name"`
	Cameras int     `json:"cameras"`
	FPS     float64 `json:"fps"` // sampling rate per camera; 0 = every decoded frame
	// Live is how many cameras had analysed a frame when the window began.
	Live    int     `json:"live"`
	Seconds float64 `json:"seconds"` // measured window
	// Decoded, Analysed and Drops count over the window, all cameras.
	Decoded      int64   `json:"decoded"`
	Analysed     int64   `json:"analysed"`
	Drops        int64   `json:"drops"`
	FramesPerSec float64 `json:"frames_per_sec"` // frames analysed per second
	DemandPerSec float64 `json:"demand_per_sec"` // frames per second the sampling asks for (saturated: all the cameras send)
	// CPUSeconds is the process's user+system CPU time over the window
	// (getrusage); CPUPerFrame divides it by Analysed.
	CPUSeconds  float64 `json:"cpu_seconds"`
	CPUPerFrame float64 `json:"cpu_seconds_per_frame"`
	// SimulatorCPUSeconds is the CPU time of the camera simulator over the
	// window when it runs as a child process (in process, it is part of
	// CPUSeconds), and IdleCPUSeconds the time the machine's cores stayed
	// idle (/proc/stat): with CPUSeconds they account for the cores.
	SimulatorCPUSeconds float64 `json:"simulator_cpu_seconds,omitempty"`
	IdleCPUSeconds      float64 `json:"idle_cpu_seconds"`
	// The scheduler's inferences over the window, when the detector is a
	// models.Scheduler: how many, and per inference its worker's busy time
	// and the CPU time of the worker's thread (see models.SchedulerStats).
	Infer infer `json:"inference,omitzero"`
	// Latency from a frame's capture time to its detections being ready.
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	Latencies int     `json:"latency_samples"`
}

// cameras is a running camera simulator.
type cameras struct {
	urls []string
	stop func() error
	pid  int // the simulator's process when it is a child; 0 in process
}

// startCameras serves files over loopback RTSP: as a child process when
// cfg.Camsim is set, else in this process.
func startCameras(ctx context.Context, cfg Config, files []string) (*cameras, error) {
	if cfg.Camsim != nil {
		return startCamsimChild(cfg.Camsim, files)
	}
	srv := &camsim.Server{Listen: "127.0.0.1:0", Files: files}
	sctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(sctx) }()
	select {
	case <-srv.Ready():
	case err := <-errc:
		cancel()
		return nil, fmt.Errorf("bench: camera simulator: %w", err)
	case <-time.After(camsimStart):
		cancel()
		<-errc
		return nil, errors.New("bench: camera simulator did not start")
	}
	return &cameras{urls: srv.URLs(), stop: func() error {
		cancel()
		return <-errc
	}}, nil
}

// startCamsimChild runs the simulator command with -listen on a free
// loopback port and reads the URLs it prints once it serves.
func startCamsimChild(command, files []string) (*cameras, error) {
	args := append(append(slices.Clone(command[1:]), "-listen", "127.0.0.1:0"), files...)
	cmd := exec.Command(command[0], args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: camera simulator: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: camera simulator %s: %w", command[0], err)
	}
	stop := func() error {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			return <-done
		}
	}
	urls := make(chan []string, 1)
	go func() {
		var got []string
		sc := bufio.NewScanner(stdout)
		for len(got) < len(files) && sc.Scan() {
			got = append(got, sc.Text())
		}
		urls <- got
		for sc.Scan() { // keep the pipe drained
		}
	}()
	select {
	case u := <-urls:
		if len(u) == len(files) {
			return &cameras{urls: u, stop: stop, pid: cmd.Process.Pid}, nil
		}
		stop()
		return nil, fmt.Errorf("bench: camera simulator printed %d URLs for %d files: %s", len(u), len(files), bytes.TrimSpace(stderr.Bytes()))
	case <-time.After(camsimStart):
		stop()
		return nil, fmt.Errorf("bench: camera simulator did not start: %s", bytes.TrimSpace(stderr.Bytes()))
	}
}

// measureLive starts the simulator on every clip, then runs the full path
// for each camera count at cfg.FPS and the saturated run, calling
// beforeSaturated, when not nil, just before the latter.
func measureLive(ctx context.Context, cfg Config, clips []string, det analyzer.Detector, log *slog.Logger, beforeSaturated func() error) ([]LiveResult, error) {
	cams, err := startCameras(ctx, cfg, clips)
	if err != nil {
		return nil, err
	}
	defer cams.stop()
	type scenario struct {
		cameras int
		fps     float64
	}
	var runs []scenario
	for _, n := range cfg.Cameras {
		runs = append(runs, scenario{n, cfg.FPS})
	}
	if cfg.SaturatedCameras > 0 {
		runs = append(runs, scenario{cfg.SaturatedCameras, 0})
	}
	var out []LiveResult
	for _, s := range runs {
		// The run's goroutines (sources, pipelines) carry a profiler label,
		// so that a CPU profile (matthan bench -cpuprofile) can focus on one
		// run: go tool pprof -tagfocus run=saturated.
		label := fmt.Sprintf("%dcams@%gfps", s.cameras, s.fps)
		if s.fps == 0 {
			label = "saturated"
			if beforeSaturated != nil {
				if err := beforeSaturated(); err != nil {
					return nil, err
				}
			}
		}
		var r LiveResult
		var err error
		pprof.Do(ctx, pprof.Labels("run", label), func(ctx context.Context) {
			r, err = runLive(ctx, cams, s.cameras, s.fps, cfg.Window, cfg.Quick, det)
		})
		if err != nil {
			return nil, err
		}
		log.Info("full path", "run", r.Name, "analysed_per_s", round(r.FramesPerSec, 1),
			"p99_ms", round(r.P99Ms, 1), "drops", r.Drops)
		out = append(out, r)
	}
	return out, nil
}

// latencies collects capture-to-detections latencies inside a window.
type latencies struct {
	mu       sync.Mutex
	from, to time.Time
	samples  []time.Duration
}

func (l *latencies) open(t time.Time) {
	l.mu.Lock()
	l.from = t
	l.mu.Unlock()
}

func (l *latencies) close(t time.Time) {
	l.mu.Lock()
	l.to = t
	l.mu.Unlock()
}

// add is the pipelines' OnAnalysed hook: it keeps the latency of frames
// analysed inside the window.
func (l *latencies) add(a analyzer.Analysis) {
	if a.Capture.IsZero() {
		return
	}
	l.mu.Lock()
	if !l.from.IsZero() && a.Done.After(l.from) && (l.to.IsZero() || a.Done.Before(l.to)) {
		l.samples = append(l.samples, a.Done.Sub(a.Capture))
	}
	l.mu.Unlock()
}

// runLive streams n of the simulator's cameras (the clips in turn) into n
// pipelines sampling fps frames per second (0: every frame), waits until
// every camera analyses, and measures over window.
func runLive(ctx context.Context, cams *cameras, n int, fps float64, window time.Duration, quick bool, det analyzer.Detector) (LiveResult, error) {
	name := fmt.Sprintf("%d camera(s) at %g fps", n, fps)
	sampling := fps
	if fps == 0 {
		name = fmt.Sprintf("%d camera(s), every frame (saturated)", n)
		sampling = everyFrameFPS
	}
	discard := slog.New(slog.DiscardHandler)
	lat := &latencies{}
	pipes := make([]*analyzer.Pipeline, n)
	sources := make([]*ingest.Source, n)
	for i := range n {
		id := fmt.Sprintf("cam%02d", i)
		pipes[i] = &analyzer.Pipeline{
			CameraID: id, FPS: sampling, Detector: det, Logger: discard,
			Publish:    func(sink.Event) {},
			OnAnalysed: lat.add,
		}
		sources[i] = &ingest.Source{CameraID: id, URL: cams.urls[i%len(cams.urls)], OnAccessUnit: pipes[i].Push, Logger: discard}
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			if err := pipes[i].Run(rctx); err != nil {
				errs[i] = err
				cancel()
			}
		})
		wg.Go(func() { sources[i].Run(rctx) })
	}
	stopAll := func() error {
		cancel()
		wg.Wait()
		return errors.Join(errs...)
	}

	// Warm up: every camera has joined its stream at a keyframe and analysed
	// a frame (the clips' keyframes are up to 10.5 s apart), then a little
	// more so that start-up queues have drained.
	warmLimit, settle := 25*time.Second, 2*time.Second
	if quick {
		warmLimit, settle = 10*time.Second, 500*time.Millisecond
	}
	live := func() int {
		k := 0
		for _, p := range pipes {
			if p.Stats().FramesInferred > 0 {
				k++
			}
		}
		return k
	}
	deadline := time.Now().Add(warmLimit)
	for live() < n && time.Now().Before(deadline) && rctx.Err() == nil {
		sleep(rctx, 100*time.Millisecond)
	}
	sleep(rctx, settle)
	if rctx.Err() != nil {
		if err := stopAll(); err != nil {
			return LiveResult{}, fmt.Errorf("bench: %s: %w", name, err)
		}
		return LiveResult{}, errStopped
	}

	before := snapshot(pipes)
	inf0 := schedulerStats(det)
	cpu0, idle0, sim0 := cpuTime(), idleTime(), cams.cpuTime()
	t0 := time.Now()
	lat.open(t0)
	sleep(rctx, window)
	t1 := time.Now()
	lat.close(t1)
	cpu1, idle1, sim1 := cpuTime(), idleTime(), cams.cpuTime()
	inf1 := schedulerStats(det)
	after := snapshot(pipes)
	started := live()
	if err := stopAll(); err != nil {
		return LiveResult{}, fmt.Errorf("bench: %s: %w", name, err)
	}
	if ctx.Err() != nil {
		return LiveResult{}, errStopped
	}

	secs := t1.Sub(t0).Seconds()
	r := LiveResult{
		Name: name, Cameras: n, FPS: fps, Live: started, Seconds: secs,
		Decoded:    after.FramesDecoded - before.FramesDecoded,
		Analysed:   after.FramesInferred - before.FramesInferred,
		Drops:      after.FramesDropped - before.FramesDropped,
		CPUSeconds: (cpu1 - cpu0).Seconds(),
		Infer:      inferBetween(inf0, inf1),

		SimulatorCPUSeconds: (sim1 - sim0).Seconds(),
		IdleCPUSeconds:      (idle1 - idle0).Seconds(),
	}
	r.FramesPerSec = float64(r.Analysed) / secs
	r.DemandPerSec = float64(n) * fps
	if fps == 0 { // every picture the cameras send
		r.DemandPerSec = float64(after.AccessUnits-before.AccessUnits) / secs
	}
	if r.Analysed > 0 {
		r.CPUPerFrame = r.CPUSeconds / float64(r.Analysed)
	}
	lat.mu.Lock()
	s := slices.Clone(lat.samples)
	lat.mu.Unlock()
	r.Latencies = len(s)
	r.P50Ms = percentile(s, 0.50)
	r.P99Ms = percentile(s, 0.99)
	return r, nil
}

// snapshot sums the counters of all pipelines.
func snapshot(pipes []*analyzer.Pipeline) analyzer.Stats {
	var s analyzer.Stats
	for _, p := range pipes {
		st := p.Stats()
		s.AccessUnits += st.AccessUnits
		s.FramesDecoded += st.FramesDecoded
		s.FramesInferred += st.FramesInferred
		s.FramesDropped += st.FramesDropped
	}
	return s
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuTime is the simulator's CPU time so far; 0 in process.
func (c *cameras) cpuTime() time.Duration {
	if c.pid == 0 {
		return 0
	}
	return processCPU(c.pid)
}

// userHz is the unit of the times in /proc (USER_HZ, 100 on Linux).
const userHz = 100

// processCPU is the user+system CPU time of process pid so far, read from
// /proc/PID/stat; 0 when it cannot be read.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * time.Second / userHz
}

// idleTime is the time all the machine's cores have spent idle (idle and
// iowait of /proc/stat) so far; 0 when it cannot be read.
func idleTime() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line)) // cpu user nice system idle iowait ...
	if len(f) < 6 || f[0] != "cpu" {
		return 0
	}
	var idle int64
	for _, v := range f[4:6] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0
		}
		idle += n
	}
	return time.Duration(idle) * time.Second / userHz
}

// percentile returns the q-quantile of s in milliseconds (nearest rank);
// 0 when s is empty. It sorts s.
func percentile(s []time.Duration, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	i := min(max(int(q*float64(len(s))+0.5)-1, 0), len(s)-1)
	return float64(s[i]) / float64(time.Millisecond)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// scheduler is the only detector the harness uses; the assertion keeps the
// full path honest about what it runs.
var _ analyzer.Detector = (*models.Scheduler)(nil)

// infer is what a scheduler's workers did between two moments; the CPU
// of the few runs whose thread could not be measured is taken at the mean.
type infer struct {
	Runs       int64   `json:"runs"`
	BusyMs     float64 `json:"busy_ms_per_run"`
	CPUMs      float64 `json:"cpu_ms_per_run"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

// schedulerStats returns det's counters when it is a models.Scheduler.
func schedulerStats(det analyzer.Detector) models.SchedulerStats {
	if s, ok := det.(*models.Scheduler); ok {
		return s.Stats()
	}
	return models.SchedulerStats{}
}

func inferBetween(a, b models.SchedulerStats) infer {
	n, measured := b.Runs-a.Runs, b.CPURuns-a.CPURuns
	if n <= 0 || measured <= 0 {
		return infer{}
	}
	cpu := float64(b.CPU-a.CPU) / float64(measured) // per run
	return infer{
		Runs:       n,
		BusyMs:     float64(b.Busy-a.Busy) / float64(time.Millisecond) / float64(n),
		CPUMs:      cpu / float64(time.Millisecond),
		CPUSeconds: cpu * float64(n) / float64(time.Second),
	}
}
