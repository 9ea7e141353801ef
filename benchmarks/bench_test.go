package benchmarks

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// testConfig is a quick configuration on the repository's .deps, unless
// the environment says otherwise. Missing dependencies fail the test.
func testConfig(t *testing.T) Config {
	t.Helper()
	deps := filepath.Join(testenv.Root(t), ".deps")
	if d := os.Getenv(DepsEnv); d != "" {
		deps = d
	}
	python := os.Getenv(PythonEnv)
	if python == "" {
		python = filepath.Join(deps, "bench-venv", "bin", "python")
	}
	cfg, err := Config{
		Quick:      true,
		ModelsDir:  testenv.ModelsDir(t),
		RuntimeLib: testenv.ONNXRuntime(t),
		VideoDir:   testenv.VideoDir(t),
		Python:     python,
	}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if err := models.InitRuntime(cfg.RuntimeLib); err != nil {
		t.Fatalf("%v; run \"make deps\"", err)
	}
	return cfg
}

// TestQuickPieces runs each measurement of the harness briefly on real
// footage, the real model and a real RTSP loop, and checks that they
// measure something and agree with each other. It asserts no timing.
func TestQuickPieces(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	clips, err := cfg.clips()
	if err != nil {
		t.Fatalf("%v", err)
	}
	clip := clips[0] // wildfire, H.264 copy: keyframes every second
	m, err := models.Zoo(cfg.Model)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := models.NewScheduler(m, cfg.ModelsDir, models.SchedulerOptions{Session: models.SessionOptions{IntraOpThreads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer sched.Close()
	workers := sched.Stats().Workers
	rep := &Report{Started: time.Now(), Quick: true, Host: host(), Model: m.Name, Threads: 1, Workers: workers, FPS: cfg.FPS}

	tensor, err := sampleTensor(m.Input, clip)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(tensor.data), 3*m.Input.Width*m.Input.Height; got != want {
		t.Fatalf("tensor has %d values, want %d", got, want)
	}

	t.Run("inference", func(t *testing.T) {
		asRun, published, err := graphs(cfg, m)
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{kindRaw, kindRawBefore, kindRawAfter, kindRawPublished} {
			g, in := asRun, tensor.data
			if kind == kindRawPublished {
				g, in = published, tensor.plain
			}
			r, err := rawInference(ctx, g, m, in, 1, workers, 200*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if r.Runs == 0 || r.FramesPerSec <= 0 {
				t.Fatalf("raw inference measured nothing: %+v", r)
			}
			r.Kind = kind
			rep.Inference = append(rep.Inference, r)
		}
		r, err := detectRate(ctx, sched, tensor, 1, workers, 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if r.Runs == 0 {
			t.Fatalf("Detect measured nothing: %+v", r)
		}
		rep.Inference = append(rep.Inference, r)
	})

	t.Run("decode", func(t *testing.T) {
		c, err := readClip(clip)
		if err != nil {
			t.Fatal(err)
		}
		keyframes := 0
		for _, au := range c.aus {
			if au.Keyframe {
				keyframes++
			}
		}
		for _, tc := range []struct {
			mode decode.Mode
			want int
		}{{decode.EveryFrame, len(c.aus)}, {decode.KeyframesOnly, keyframes}} {
			r, err := decodeRate(c, tc.mode, 0) // one pass
			if err != nil {
				t.Fatal(err)
			}
			if r.Pictures != tc.want || r.AccessUnits != len(c.aus) {
				t.Errorf("%s: %d pictures from %d access units, want %d from %d", tc.mode, r.Pictures, r.AccessUnits, tc.want, len(c.aus))
			}
			rep.Decode = append(rep.Decode, r)
		}
	})

	t.Run("allocs", func(t *testing.T) {
		a, err := measureAllocs(m.Input, clip)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != 5 {
			t.Fatalf("got %d stages, want decode, two conversions and two preprocessings", len(a))
		}
		for _, s := range a {
			t.Logf("%s: %d allocs, %d B per frame over %d frames", s.Stage, s.AllocsPerFrame, s.BytesPerFrame, s.Frames)
		}
		rep.Allocs = a
	})

	t.Run("live", func(t *testing.T) {
		cams, err := startCameras(ctx, cfg, []string{clip}) // in process
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := cams.stop(); err != nil {
				t.Error(err)
			}
		}()
		for _, fps := range []float64{cfg.FPS, 0} {
			r, err := runLive(ctx, cams, 1, fps, time.Second, true, sched)
			if err != nil {
				t.Fatal(err)
			}
			if r.Live != 1 || r.Analysed == 0 || r.Latencies == 0 || r.CPUSeconds <= 0 {
				t.Fatalf("%s measured nothing: %+v", r.Name, r)
			}
			if cores := float64(runtime.NumCPU()) * r.Seconds; r.IdleCPUSeconds < 0 || r.IdleCPUSeconds+r.CPUSeconds > 1.1*cores {
				t.Errorf("%s: idle %.2f s and busy %.2f s over %.2f s of %d cores", r.Name, r.IdleCPUSeconds, r.CPUSeconds, r.Seconds, runtime.NumCPU())
			}
			if r.SimulatorCPUSeconds != 0 {
				t.Errorf("%s: an in-process simulator reported %.2f s of its own CPU", r.Name, r.SimulatorCPUSeconds)
			}
			rep.Live = append(rep.Live, r)
		}
	})

	t.Run("peer", func(t *testing.T) {
		const seconds = 2
		// Residential street (parked cars in every frame) and the garden fire:
		// two clips, so that the clips-as-cameras run has two cameras.
		two := clips[1:3]
		order, err := displayIndexes(two, seconds)
		if err != nil {
			t.Fatal(err)
		}
		par, ours, err := runOffline(ctx, two, order, cfg.FPS, seconds, sched, decodeInfer)
		if err != nil {
			t.Fatal(err)
		}
		seq, oursSeq, err := runOffline(ctx, two, order, cfg.FPS, seconds, sched, oneLoop)
		if err != nil {
			t.Fatal(err)
		}
		if par.Frames == 0 || par.Frames != seq.Frames || par.Detections != seq.Detections || par.Decoded != seq.Decoded {
			t.Fatalf("decode ∥ infer and one loop differ: %+v vs %+v", par, seq)
		}
		if n := differing(ours, oursSeq); n != 0 {
			t.Fatalf("decode ∥ infer and one loop found different detections on %d frames", n)
		}
		cams, oursCams, err := runOffline(ctx, two, order, cfg.FPS, seconds, sched, clipsAsCameras)
		if err != nil {
			t.Fatal(err)
		}
		if cams.Frames != par.Frames || cams.Decoded != par.Decoded || cams.Detections != par.Detections || cams.CPUSeconds <= 0 {
			t.Fatalf("clips as cameras and one clip at a time differ: %+v vs %+v", cams, par)
		}
		if n := differing(ours, oursCams); n != 0 {
			t.Fatalf("clips as cameras changed the detections of %d frames: %+v", n, agree(ours, oursCams))
		}
		if _, err := os.Stat(cfg.Python); err != nil {
			t.Skipf("peer baseline not installed (%v): run deploy/bench-deps.sh", err)
		}
		peer := &PeerResult{Clips: two, FPS: cfg.FPS, MaxSeconds: seconds, Threads: 1, Workers: workers, Rounds: 1,
			Cameras: cams, Ours: par, OursSequential: seq}
		baseFrames := make(map[string]map[frameKey]frameDets)
		for _, threads := range []int{1, 0} {
			base, err := runBaseline(ctx, cfg, m, sched.Threshold(), threads, two, ours)
			if err != nil {
				t.Fatal(err)
			}
			for _, side := range []struct {
				name  string
				found map[frameKey]frameDets
			}{{"decode ∥ infer", ours}, {"clips as cameras", oursCams}} {
				a := agree(side.found, base.frames)
				t.Logf("%s vs %s: %+v", side.name, base.result.Name, a)
				if a.Frames != par.Frames || a.OnlyOurs != 0 || a.OnlyBaseline != 0 {
					t.Errorf("%s sampled other frames than ours (%s): %+v", base.result.Name, side.name, a)
				}
				if a.BoxF1 < 0.8 {
					t.Errorf("box F1 of %s with %s %.3f < 0.8: the two paths do not detect the same objects", side.name, base.result.Name, a.BoxF1)
				}
			}
			baseFrames[base.result.Name] = base.frames
			if threads == 0 {
				peer.BaselineDefault = base.result
			} else {
				peer.Baseline, peer.Versions = base.result, base.versions
				peer.Agreement = agree(ours, base.frames)
			}
		}
		peer.BestBaseline = peer.best().Name
		peer.CamerasAgreement = agree(oursCams, baseFrames[peer.BestBaseline])
		rep.Peer = peer
	})

	t.Run("report", func(t *testing.T) {
		rep.Ratios = ratios(rep)
		var buf bytes.Buffer
		rep.WriteTable(&buf)
		want := []string{"(a) inference", "(b) decode", "(c) full path", "targets"}
		if rep.Peer != nil {
			want = append(want, "(d) ", "clips as cameras", "ORT default threads", "best Python baseline")
		}
		for _, want := range want {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, buf.String())
			}
		}
		dir := t.TempDir()
		if err := rep.WriteFiles(dir); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(dir, ResultsPNG))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := png.Decode(f); err != nil {
			t.Fatalf("chart: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, ResultsJSON)); err != nil {
			t.Fatal(err)
		}
		t.Logf("\n%s", buf.String())
	})
}

// TestSampledPicturesNamed checks that decodeSampled, which decodes only
// what the sampling needs, names each frame it gives by the display index
// the baseline uses: the same picture, pixel for pixel, as the one at that
// index of an independent decode of every picture (decode.Video). The
// clips: B-frames, so reference pictures only are decoded at 5 fps (tram
// stop); container PTS out of display order (plaza); access units before
// the first keyframe (residential street).
func TestSampledPicturesNamed(t *testing.T) {
	cfg := testConfig(t)
	m, err := models.Zoo(cfg.Model)
	if err != nil {
		t.Fatal(err)
	}
	const seconds = 4
	for _, tc := range []struct {
		clip     string
		skipping bool
	}{
		{"pedestrians_tram_square_elevated_day.mp4", true},
		{"pedestrians_plaza_elevated_day.mp4", true},
		{"traffic_residential_street_cctv_parked_cars.mp4", false},
	} {
		t.Run(tc.clip, func(t *testing.T) {
			clip := filepath.Join(cfg.VideoDir, tc.clip)
			order, err := displayIndexes([]string{clip}, seconds)
			if err != nil {
				t.Fatal(err)
			}
			free := decode.NewFramePool(3)
			defer free.Close()
			got := map[int][]byte{}
			decoded, err := decodeSampled(clip, order[clip], m.Input, 5, seconds, free, func(i int, _ float64, f *decode.Frame) error {
				got[i] = slices.Clone(f.Pix)
				free.Put(f)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			every := len(order[clip])
			t.Logf("%d pictures decoded for %d frames sampled; %d pictures in %d s", decoded, len(got), every, seconds+1)
			if len(got) < 4*seconds {
				t.Fatalf("%d frames sampled in %d s at 5 fps", len(got), seconds)
			}
			if tc.skipping && decoded > every*8/10 {
				t.Errorf("%d pictures decoded: want the non-reference ones skipped", decoded)
			}

			v, err := decode.OpenVideo(clip)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			f := &decode.Frame{}
			matched := 0
			for i := 0; matched < len(got); i++ {
				if err := v.Decode(); err != nil {
					t.Fatalf("picture %d: %v (%d of %d sampled frames matched)", i, err, matched, len(got))
				}
				want, ok := got[i]
				if !ok {
					continue
				}
				w, h := v.PictureSize()
				cw, ch := analyzer.ConvertSize(m.Input, w, h)
				if err := v.ConvertKeep(f, cw, ch); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(f.Pix, want) {
					t.Errorf("frame named %d is not picture %d of the clip", i, i)
				}
				matched++
			}
			f.Close()
		})
	}
}

// TestProcessCPU checks the /proc reading the harness uses for the camera
// simulator's CPU against getrusage, on this process after some work.
func TestProcessCPU(t *testing.T) {
	before, start := cpuTime(), time.Now()
	x := 0
	for time.Since(start) < 300*time.Millisecond {
		x++
	}
	proc, rusage := processCPU(os.Getpid()), cpuTime()
	if rusage-before < 200*time.Millisecond {
		t.Skipf("the busy loop got only %v of CPU (loaded machine)", rusage-before)
	}
	if d := proc - rusage; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("/proc/self/stat gives %v of CPU, getrusage %v (%d loops)", proc, rusage, x)
	}
	if processCPU(-1) != 0 {
		t.Error("a process that does not exist has CPU time")
	}
	if idleTime() <= 0 {
		t.Error("no idle time in /proc/stat")
	}
}
