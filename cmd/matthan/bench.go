package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/matthan/matthan/analyzer/cpusched"
	"github.com/matthan/matthan/benchmarks"
)

// benchMain runs `matthan bench [flags]`: the benchmark harness of package
// benchmarks. It prints the results table and writes results.json and
// results.png into -out.
func benchMain(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: matthan bench [flags]\n\n"+
			"Measures, in one run on the shared footage: raw ONNX Runtime and libavcodec rates, allocations per\n"+
			"frame, the full frame path for several cameras over loopback RTSP, and the Python peer baseline\n"+
			"(deploy/bench-deps.sh installs it). Prints a table; writes results.json, results.txt and results.png.\n\nflags:\n")
		fs.PrintDefaults()
	}
	var cfg benchmarks.Config
	fs.BoolVar(&cfg.Quick, "quick", false, "measure briefly, on fewer clips (seconds; indicative numbers)")
	fs.StringVar(&cfg.Out, "out", "benchmarks/results", "`folder` for results.json, .txt and .png; empty writes none")
	fs.IntVar(&cfg.Threads, "threads", 1, "ONNX Runtime intra-op `threads` per session (full path and baseline)")
	fs.IntVar(&cfg.Workers, "workers", 0, "scheduler sessions of the full path (0: cores ÷ threads)")
	fs.Float64Var(&cfg.FPS, "fps", 5, "frames sampled per second per camera")
	cameras := fs.String("cameras", "1,4,16", "camera counts of the full-path runs, comma-separated")
	fs.IntVar(&cfg.SaturatedCameras, "saturated", 0, "cameras of the saturated run, every frame sampled (0: 8)")
	fs.DurationVar(&cfg.Window, "window", 0, "measured time of each full-path run (0: 30s, or 4s with -quick)")
	inProcess := fs.Bool("camsim-in-process", false, "run the camera simulator in this process (its CPU then counts in the full path)")
	verbose := fs.Bool("v", false, "log progress")
	cpuPolicy := fs.String("cpu-policy", cpusched.Batch, "Linux scheduling `policy` of this process and its children, batch or normal (as runtime.cpu_policy of matthan run)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process over all the runs to `file` (go tool pprof; the camera simulator is another process unless -camsim-in-process)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, s := range strings.Split(*cameras, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-cameras %q: want positive counts separated by commas", *cameras)
		}
		cfg.Cameras = append(cfg.Cameras, n)
	}
	if !*inProcess {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this executable for the camera simulator: %w", err)
		}
		cfg.Camsim = []string{exe, "camsim"}
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := cpusched.Set(*cpuPolicy); err != nil {
		return fmt.Errorf("-cpu-policy: %w", err)
	}
	cfg.Table = os.Stdout

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	if _, err := benchmarks.Run(ctx, cfg); err != nil {
		return err
	}
	if cfg.Out != "" {
		fmt.Fprintf(os.Stderr, "bench: wrote %s, %s and %s in %s in %s\n", benchmarks.ResultsJSON, benchmarks.ResultsText,
			benchmarks.ResultsPNG, cfg.Out, time.Since(start).Round(time.Second))
	}
	return nil
}
