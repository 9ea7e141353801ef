package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/matthan/matthan/analyzer/cpusched"
	"github.com/matthan/matthan/models"
)

// Footage lists the clips of the shared footage the harness uses, all H.264
// (shared/assets/video/MANIFEST.md). The wildfire clip is MPEG-4 Part 2 in
// the mirror; `make deps` makes the H.264 copy used here.
var Footage = []string{
	"traffic_intersection_signals_cctv_day.mp4",
	"traffic_road_overhead_both_directions_dusk.mp4",
	"traffic_residential_street_cctv_parked_cars.mp4",
	"pedestrians_plaza_elevated_day.mp4",
	"pedestrians_tram_square_elevated_day.mp4",
	"fire_smoke_model_house_garden_day.mp4",
	"wildfire_smoke_hillside_dusk.h264.mp4",
}

// quickFootage are the clips of the quick mode: those with keyframes at
// most 3 s apart, so a camera joining the stream starts analysing soon.
var quickFootage = []string{
	"wildfire_smoke_hillside_dusk.h264.mp4",
	"traffic_residential_street_cctv_parked_cars.mp4",
	"fire_smoke_model_house_garden_day.mp4",
}

// Environment variables the harness reads besides the models' ones.
const (
	// VideoDirEnv names the folder of the footage.
	VideoDirEnv = "MATTHAN_VIDEO_DIR"
	// DepsEnv names the folder `make deps` installs into.
	DepsEnv = "MATTHAN_DEPS"
	// PythonEnv names the Python interpreter of the peer baseline.
	PythonEnv = "MATTHAN_BENCH_PYTHON"
)

// Config says what Run measures and where it finds its inputs. The zero
// value runs the full benchmark with the default locations.
type Config struct {
	// Quick runs every measurement briefly, on fewer clips (seconds, not
	// minutes). Its numbers are indicative only.
	Quick bool
	// Out is the folder results.json and results.png are written to; empty
	// writes no files.
	Out string
	// Model is the zoo manifest of the detector. Defaults to yolox_nano.
	Model string
	// Threads is the intra-op threads of each inference session, in the
	// full path and in the peer baseline. Defaults to 1.
	Threads int
	// Workers is the number of scheduler sessions in the full path;
	// defaults to (0) the scheduler's own default (cores ÷ Threads).
	Workers int
	// FPS is the sampling rate per camera of the full path and of the
	// offline comparison, in frames per second of capture time. Defaults to 5.
	FPS float64
	// Cameras are the camera counts of the full-path runs at FPS. Defaults
	// to 1, 4 and 16.
	Cameras []int
	// SaturatedCameras is the camera count of the saturated run, where
	// every decoded frame is sampled. Defaults to 8.
	SaturatedCameras int
	// Window is how long each full-path run is measured after its warm-up.
	// Defaults to 30 s (4 s in quick mode).
	Window time.Duration
	// VideoDir holds the footage. Defaults to $MATTHAN_VIDEO_DIR, else
	// .deps/video next to the models folder's default.
	VideoDir string
	// ModelsDir holds the weights. Defaults to models.DefaultModelsDir().
	ModelsDir string
	// RuntimeLib is the ONNX Runtime library. Defaults to
	// models.DefaultRuntimePath().
	RuntimeLib string
	// Python runs the peer baseline. Defaults to $MATTHAN_BENCH_PYTHON, else
	// the venv deploy/bench-deps.sh makes ($MATTHAN_DEPS/bench-venv).
	Python string
	// Camsim, when set, is the command that starts the camera simulator as a
	// child process (for example {"/path/matthan", "camsim"}); the harness
	// appends -listen and the files. Nil runs the simulator in this process,
	// whose CPU time then counts in the full path's CPU per frame.
	Camsim []string
	// Logger receives progress. Nil discards it.
	Logger *slog.Logger
	// Table receives the results table. Nil discards it.
	Table io.Writer
}

// withDefaults fills the zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	if c.Model == "" {
		c.Model = "yolox_nano"
	}
	if c.Threads == 0 {
		c.Threads = 1
	}
	if c.FPS == 0 {
		c.FPS = 5
	}
	if len(c.Cameras) == 0 {
		c.Cameras = []int{1, 4, 16}
	}
	if c.SaturatedCameras == 0 {
		// The clips in turn: about 200 frames/s, above what the detector
		// takes on 2 cores (about 145 frames/s raw).
		c.SaturatedCameras = 8
	}
	if c.Window == 0 {
		c.Window = 30 * time.Second
		if c.Quick {
			c.Window = 4 * time.Second
		}
	}
	switch {
	case c.Threads < 1:
		return c, fmt.Errorf("bench: threads %d: want ≥ 1", c.Threads)
	case c.Workers < 0:
		return c, fmt.Errorf("bench: workers %d: want ≥ 1, or 0 for the scheduler's default", c.Workers)
	case !(c.FPS > 0):
		return c, fmt.Errorf("bench: fps %g: want > 0", c.FPS)
	case c.SaturatedCameras < 0:
		return c, fmt.Errorf("bench: saturated cameras %d: want ≥ 1", c.SaturatedCameras)
	case c.Window < time.Second:
		return c, fmt.Errorf("bench: window %v: want ≥ 1s", c.Window)
	}
	for _, n := range c.Cameras {
		if n < 1 {
			return c, fmt.Errorf("bench: cameras %d: want ≥ 1", n)
		}
	}
	if c.ModelsDir == "" {
		c.ModelsDir = models.DefaultModelsDir()
	}
	if c.RuntimeLib == "" {
		c.RuntimeLib = models.DefaultRuntimePath()
	}
	if c.VideoDir == "" {
		c.VideoDir = os.Getenv(VideoDirEnv)
	}
	if c.VideoDir == "" {
		c.VideoDir = filepath.Join(depsDir(c.ModelsDir), "video")
	}
	if c.Python == "" {
		c.Python = os.Getenv(PythonEnv)
	}
	if c.Python == "" {
		c.Python = filepath.Join(depsDir(c.ModelsDir), "bench-venv", "bin", "python")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Table == nil {
		c.Table = io.Discard
	}
	return c, nil
}

// depsDir returns $MATTHAN_DEPS, else the parent of the models folder
// (.deps/models → .deps).
func depsDir(modelsDir string) string {
	if d := os.Getenv(DepsEnv); d != "" {
		return d
	}
	return filepath.Dir(filepath.Clean(modelsDir))
}

// clips returns the paths of the footage the run uses, checking they exist.
func (c Config) clips() ([]string, error) {
	names := Footage
	if c.Quick {
		names = quickFootage
	}
	paths := make([]string, len(names))
	for i, n := range names {
		p := filepath.Join(c.VideoDir, n)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("bench: footage %s missing (set %s or run \"make deps\"): %w", n, VideoDirEnv, err)
		}
		paths[i] = p
	}
	return paths, nil
}

// Report is everything one run measured. It is what results.json holds.
type Report struct {
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Quick    bool          `json:"quick"`
	Host     Host          `json:"host"`
	Model    string        `json:"model"`
	Threads  int           `json:"threads"`
	Workers  int           `json:"workers"`
	FPS      float64       `json:"fps"`
	Camsim   string        `json:"camsim"` // "child process" or "in process"

	Inference []InferenceResult `json:"inference"`
	Decode    []DecodeResult    `json:"decode"`
	Allocs    []AllocResult     `json:"allocs"`
	Live      []LiveResult      `json:"live"`
	Peer      *PeerResult       `json:"peer,omitempty"`
	Ratios    []Ratio           `json:"ratios"`
}

// Host describes the machine the run measured.
type Host struct {
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	// CPUPolicy is the Linux scheduling policy the run's threads had
	// (analyzer/cpusched; matthan bench sets it, by default batch, as
	// matthan run does); the camera simulator and the Python baseline, its
	// child processes, inherit it.
	CPUPolicy string `json:"cpu_policy"`
	GoVersion string `json:"go"`
	Load1     string `json:"load1_at_start"` // other work on a shared machine skews the numbers
}

// Ratio is one target the project sets, with the value measured.
type Ratio struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target"`
	Met    bool    `json:"met"`
	Note   string  `json:"note,omitempty"`
}

// Run measures everything Config asks for, prints the table, writes the
// files and returns the report. It stops early when ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	clips, err := cfg.clips()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(cfg.Python); err != nil {
		return nil, fmt.Errorf("bench: Python of the peer baseline %s: %w (run deploy/bench-deps.sh, or set %s)", cfg.Python, err, PythonEnv)
	}
	if err := models.InitRuntime(cfg.RuntimeLib); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	m, err := models.Zoo(cfg.Model)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	log := cfg.Logger.With("component", "bench")
	rep := &Report{
		Started: time.Now().UTC(), Quick: cfg.Quick, Host: host(), Model: m.Name,
		Threads: cfg.Threads, FPS: cfg.FPS, Camsim: "in process",
	}
	if cfg.Camsim != nil {
		rep.Camsim = "child process"
	}

	sched, err := models.NewScheduler(m, cfg.ModelsDir, models.SchedulerOptions{
		Workers: cfg.Workers,
		Session: models.SessionOptions{IntraOpThreads: cfg.Threads},
	})
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer sched.Close()
	rep.Workers = sched.Stats().Workers
	if err := sched.FoldError(); err != nil {
		log.Warn("the scheduler runs the graph as published", "error", err)
	}
	m.Input = sched.Input() // the raw sessions run the graph the scheduler runs

	tensor, err := sampleTensor(m.Input, clips[0])
	if err != nil {
		return nil, err
	}

	log.Info("raw inference", "model", m.Name)
	if rep.Inference, err = measureInference(ctx, cfg, m, tensor, rep.Workers, sched); err != nil {
		return nil, err
	}
	log.Info("raw decode", "clips", len(clips))
	if rep.Decode, err = measureDecode(ctx, clips, cfg.Quick); err != nil {
		return nil, err
	}
	log.Info("allocations per frame")
	if rep.Allocs, err = measureAllocs(m.Input, clips[0]); err != nil {
		return nil, err
	}
	log.Info("full path over RTSP", "cameras", cfg.Cameras, "saturated", cfg.SaturatedCameras)
	// The raw rate is measured again on either side of the saturated run,
	// the one it is compared with (rawAgain).
	raw := func(kind string) error {
		r, err := rawAgain(ctx, cfg, m, tensor, rep.Workers, kind)
		if err == nil {
			rep.Inference = append(rep.Inference, r)
		}
		return err
	}
	if rep.Live, err = measureLive(ctx, cfg, clips, sched, log, func() error { return raw(kindRawBefore) }); err != nil {
		return nil, err
	}
	if err := raw(kindRawAfter); err != nil {
		return nil, err
	}
	log.Info("offline: ours and the Python peer baseline")
	if rep.Peer, err = measurePeer(ctx, cfg, m, clips, sched); err != nil {
		return nil, err
	}
	rep.Ratios = ratios(rep)
	rep.Duration = time.Since(rep.Started)

	rep.WriteTable(cfg.Table)
	if cfg.Out != "" {
		if err := rep.WriteFiles(cfg.Out); err != nil {
			return rep, err
		}
	}
	return rep, ctx.Err()
}

// host describes this machine.
func host() Host {
	h := Host{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if p, err := cpusched.Of(0); err == nil {
		h.CPUPolicy = p
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			h.Load1 = f[0]
		}
	}
	return h
}

// errStopped is returned by a measurement interrupted by its context.
var errStopped = errors.New("bench: interrupted")
