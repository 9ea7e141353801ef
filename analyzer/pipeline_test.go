package analyzer_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/camsim"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

const intersectionClip = "traffic_intersection_signals_cctv_day.mp4" // 30 fps, P-frames only, 4.27 s GOPs

// camera is one pipeline fed by a source or by hand, with what it saw.
type camera struct {
	p *analyzer.Pipeline

	mu       sync.Mutex
	keys     map[int64]bool // capture times (unix ns) of the keyframes pushed
	sampled  []time.Time    // capture times of the sampled frames, from the Health hook
	analysed []analyzer.Analysis
	badFrame error // the first sampled frame not at the model's size or without its full-size picture
}

// serveClips streams files with the camera simulator over loopback RTSP
// until stop is called; stop reports the simulator's error. Call stop
// (deferred) before the test's goroutine-leak check runs.
func serveClips(ctx context.Context, tb testing.TB, files ...string) (sim *camsim.Server, stop func()) {
	tb.Helper()
	sim = &camsim.Server{Listen: "127.0.0.1:0", Files: files}
	simCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sim.Run(simCtx) }()
	select {
	case <-sim.Ready():
	case err := <-done:
		cancel()
		tb.Fatal(err)
	}
	return sim, func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
	}
}

func newCamera(id string, fps float64, det analyzer.Detector) *camera {
	c := &camera{keys: map[int64]bool{}}
	c.p = &analyzer.Pipeline{
		CameraID: id, FPS: fps, Detector: det,
		Health:  c,
		Publish: func(sink.Event) {},
		OnAnalysed: func(a analyzer.Analysis) {
			a.Detections = slices.Clone(a.Detections)
			a.Tracks, a.Crossings, a.Zones, a.Events = nil, nil, nil, nil
			c.mu.Lock()
			c.analysed = append(c.analysed, a)
			c.mu.Unlock()
		},
	}
	return c
}

// push records the keyframes and hands au to the pipeline.
func (c *camera) push(au ingest.AccessUnit) {
	if au.Keyframe {
		c.mu.Lock()
		c.keys[au.Capture.UnixNano()] = true
		c.mu.Unlock()
	}
	c.p.Push(au)
}

// Observe is the pipeline's Health hook: it sees every sampled frame,
// which must be at the size analyzer.ConvertSize gives with its picture at
// full size kept.
func (c *camera) Observe(f *decode.Frame) error {
	sw, sh := f.SourceSize()
	ww, wh := analyzer.ConvertSize(c.p.Detector.Manifest().Input, sw, sh)
	full, err := f.Full()
	switch {
	case err != nil:
	case f.Width != ww || f.Height != wh:
		err = fmt.Errorf("sampled frame %dx%d, want %dx%d", f.Width, f.Height, ww, wh)
	case full.Width != sw || full.Height != sh || !full.Capture.Equal(f.Capture):
		err = fmt.Errorf("full-size frame %dx%d at %v, want %dx%d at %v", full.Width, full.Height, full.Capture, sw, sh, f.Capture)
	}
	c.mu.Lock()
	c.sampled = append(c.sampled, f.Capture)
	if c.badFrame == nil {
		c.badFrame = err
	}
	c.mu.Unlock()
	return nil
}

// since returns the sampled capture times and the analyses from the
// marks on.
func (c *camera) since(sampledMark, analysedMark int) ([]time.Time, []analyzer.Analysis) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sampled[sampledMark:]), slices.Clone(c.analysed[analysedMark:])
}

func (c *camera) marks() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sampled), len(c.analysed)
}

func (c *camera) isKey(t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys[t.UnixNano()]
}

// waitFor polls cond until it holds; it fails the test after limit.
func waitFor(t *testing.T, ctx context.Context, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("no %s within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gaps returns the times between consecutive captures.
func gaps(ts []time.Time) []time.Duration {
	var g []time.Duration
	for i := 1; i < len(ts); i++ {
		g = append(g, ts[i].Sub(ts[i-1]))
	}
	return g
}

func mean(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	var s time.Duration
	for _, x := range d {
		s += x
	}
	return s / time.Duration(len(d))
}

func count(as []analyzer.Analysis, class string) (frames, boxes int) {
	for _, a := range as {
		n := 0
		for _, d := range a.Detections {
			if d.Class == class {
				n++
			}
		}
		boxes += n
		if n > 0 {
			frames++
		}
	}
	return frames, boxes
}

// TestPipelineDecodeModes streams the real clips over loopback RTSP and
// checks that each pipeline decodes only what its sampling needs, as the
// stream reveals its structure: keyframes only at 0.2 fps on the
// intersection (4.27 s GOPs), reference pictures only at 5 fps on the
// B-frame road clip, every picture at 30 fps; and that the cars are still
// found.
func TestPipelineDecodeModes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	det := newDetector(t, 0.3)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sim, stopSim := serveClips(ctx, t, testenv.Clip(t, intersectionClip), testenv.Clip(t, overheadClip))
	defer stopSim()
	urls := sim.URLs()
	intersection, road := urls[0], urls[1]

	// run streams url into the pipelines of cams (one source feeding them
	// all) until settled holds, then measures until each has sampled n
	// more frames.
	run := func(t *testing.T, url string, cams []*camera, settled func() bool, n int) []window {
		src := &ingest.Source{CameraID: t.Name(), URL: url, OnAccessUnit: func(au ingest.AccessUnit) {
			for _, c := range cams {
				c.push(au)
			}
		}}
		rctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, c := range cams {
			wg.Go(func() {
				if err := c.p.Run(rctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Go(func() { src.Run(rctx) })
		defer func() { stop(); wg.Wait() }()

		waitFor(t, rctx, time.Minute, "settled pipeline", settled)
		ws := make([]window, len(cams))
		for i, c := range cams {
			ws[i].s0 = c.p.Stats()
			ws[i].ms, ws[i].ma = c.marks()
		}
		waitFor(t, rctx, time.Minute, "measurement window", func() bool {
			for i, c := range cams {
				if m, _ := c.marks(); m < ws[i].ms+n {
					return false
				}
			}
			return true
		})
		for i, c := range cams {
			ws[i].s1 = c.p.Stats()
			ws[i].sampled, ws[i].analysed = c.since(ws[i].ms, ws[i].ma)
			c.mu.Lock()
			if c.badFrame != nil {
				t.Error(c.badFrame)
			}
			c.mu.Unlock()
		}
		return ws
	}

	// The group returns when its parallel subtests are done.
	t.Run("modes", func(t *testing.T) {
		t.Run("keyframes-only at 0.2 fps", func(t *testing.T) {
			t.Parallel()
			c := newCamera("intersection-0.2", 0.2, det)
			w := run(t, intersection, []*camera{c}, func() bool { return c.p.Stats().DecodeMode == decode.KeyframesOnly }, 3)[0]
			if w.s1.DecodeMode != decode.KeyframesOnly {
				t.Errorf("mode %v at the end, want %v", w.s1.DecodeMode, decode.KeyframesOnly)
			}
			for _, ts := range w.sampled {
				if !c.isKey(ts) {
					t.Errorf("sampled frame captured at %v is not a keyframe", ts)
				}
			}
			aus, keys, pics := w.s1.AccessUnits-w.s0.AccessUnits, w.s1.Keyframes-w.s0.Keyframes, w.s1.FramesDecoded-w.s0.FramesDecoded
			t.Logf("window: %d access units, %d keyframes, %d pictures decoded, %d sampled, gaps %v", aus, keys, pics, len(w.sampled), gaps(w.sampled))
			if pics < keys-1 || pics > keys+1 {
				t.Errorf("%d pictures decoded for %d keyframes received", pics, keys)
			}
			if aus < 50*pics {
				t.Errorf("%d access units received for %d pictures decoded: want keyframes only", aus, pics)
			}
		})

		t.Run("skip-non-reference at 5 fps", func(t *testing.T) {
			t.Parallel()
			// Two pipelines on the same stream: one chooses, one is made to
			// decode every frame.
			skip, every := newCamera("road-5", 5, det), newCamera("road-5-every", 5, det)
			every.p.DecodeEveryFrame = true
			ws := run(t, road, []*camera{skip, every}, func() bool { return skip.p.Stats().DecodeMode == decode.SkipNonReference }, 30)
			w, we := ws[0], ws[1]
			if w.s1.DecodeMode != decode.SkipNonReference {
				t.Errorf("mode %v at the end, want %v", w.s1.DecodeMode, decode.SkipNonReference)
			}
			// The clip's keyframes are 10.4 s apart: the choice comes from
			// the first GOP, a second or so into it.
			if w.s0.Keyframes != 1 {
				t.Errorf("skipping began after %d keyframes, want within the first GOP", w.s0.Keyframes)
			}
			if we.s1.DecodeMode != decode.EveryFrame {
				t.Errorf("mode %v with DecodeEveryFrame, want %v", we.s1.DecodeMode, decode.EveryFrame)
			}
			aus, pics := w.s1.AccessUnits-w.s0.AccessUnits, w.s1.FramesDecoded-w.s0.FramesDecoded
			g := gaps(w.sampled)
			t.Logf("skipping: %d access units, %d pictures decoded, %d sampled, mean gap %v, gaps %v", aus, pics, len(w.sampled), mean(g), g)
			// Half the road clip's pictures are non-reference ones.
			if pics > aus*6/10 || pics < aus*4/10 {
				t.Errorf("%d pictures decoded of %d access units received, want about half", pics, aus)
			}
			if m := mean(g); m < 180*time.Millisecond || m > 220*time.Millisecond {
				t.Errorf("sampled frames %v apart on average, want 200ms", m)
			}
			eaus, epics := we.s1.AccessUnits-we.s0.AccessUnits, we.s1.FramesDecoded-we.s0.FramesDecoded
			t.Logf("every frame: %d access units, %d pictures decoded, %d sampled, mean gap %v", eaus, epics, len(we.sampled), mean(gaps(we.sampled)))
			if epics < eaus-3 || epics > eaus+3 { // the decoder holds up to 2 pictures for reordering
				t.Errorf("%d pictures decoded of %d access units received, want all", epics, eaus)
			}

			// Over the same stretch of the stream, the cars are found as
			// often.
			sf, sb := count(w.analysed, "car")
			cf, cb := count(we.analysed, "car")
			t.Logf("cars: skipping: %d boxes on %d of %d frames; every frame: %d boxes on %d of %d frames", sb, sf, len(w.analysed), cb, cf, len(we.analysed))
			if sf == 0 || cf == 0 {
				t.Fatal("no car found")
			}
			rs, rc := float64(sb)/float64(len(w.analysed)), float64(cb)/float64(len(we.analysed))
			if rs < rc*3/4 || rs > rc*4/3 {
				t.Errorf("%.2f cars per frame skipping, %.2f decoding every frame", rs, rc)
			}
		})

		t.Run("detector behind: non-reference pictures not decoded", func(t *testing.T) {
			t.Parallel()
			// 30 fps asked of the 24 fps B-frame road clip keeps every
			// picture wanted, but the model takes 200 ms a frame: while a
			// sampled frame waits, the non-reference pictures would only
			// replace it.
			c := newCamera("road-30-slow", 30, slowDetector{det, 200 * time.Millisecond})
			w := run(t, road, []*camera{c}, func() bool { return c.p.Stats().FramesDecoded >= 50 }, 10)[0]
			if w.s1.DecodeMode != decode.EveryFrame {
				t.Errorf("mode %v, want %v", w.s1.DecodeMode, decode.EveryFrame)
			}
			id := c.p.CameraID
			skipped := testutil.ToFloat64(c.p.Metrics.FramesDropped.WithLabelValues(id, "not_decoded"))
			errs := testutil.ToFloat64(c.p.Metrics.DecodeErrors.WithLabelValues(id))
			aus, pics := w.s1.AccessUnits-w.s0.AccessUnits, w.s1.FramesDecoded-w.s0.FramesDecoded
			t.Logf("window: %d access units, %d pictures decoded, %d analysed; since the start %.0f not decoded, %.0f decode errors",
				aus, pics, len(w.analysed), skipped, errs)
			// Half the clip's pictures are non-reference ones, and a frame
			// nearly always waits.
			if pics > aus*7/10 || pics < aus*4/10 {
				t.Errorf("%d pictures decoded of %d access units received, want about half", pics, aus)
			}
			if skipped == 0 || errs != 0 {
				t.Errorf("%.0f pictures not decoded, %.0f decode errors: want some skipped and no error", skipped, errs)
			}
			if f, _ := count(w.analysed, "car"); f == 0 {
				t.Error("no car found")
			}
		})

		t.Run("every-frame at 30 fps", func(t *testing.T) {
			t.Parallel()
			// After two GOPs the choice is made; at 30 fps it stays.
			c := newCamera("intersection-30", 30, det)
			w := run(t, intersection, []*camera{c}, func() bool { return c.p.Stats().Keyframes >= 3 }, 60)[0]
			if w.s1.DecodeMode != decode.EveryFrame {
				t.Errorf("mode %v, want %v", w.s1.DecodeMode, decode.EveryFrame)
			}
			aus, pics := w.s1.AccessUnits-w.s0.AccessUnits, w.s1.FramesDecoded-w.s0.FramesDecoded
			g := gaps(w.sampled)
			t.Logf("window: %d access units, %d pictures decoded, %d sampled, mean gap %v", aus, pics, len(w.sampled), mean(g))
			if pics < aus-1 || pics > aus+1 {
				t.Errorf("%d pictures decoded of %d access units received, want all", pics, aus)
			}
			if m := mean(g); m < 30*time.Millisecond || m > 37*time.Millisecond {
				t.Errorf("sampled frames %v apart on average, want 33ms", m)
			}
		})
	})
}

// slowDetector is a model that takes delay longer per frame.
type slowDetector struct {
	analyzer.Detector
	delay time.Duration
}

func (d slowDetector) Detect(input []float32, lb models.Letterbox, frameW, frameH int) ([]models.Detection, error) {
	time.Sleep(d.delay)
	return d.Detector.Detect(input, lb, frameW, frameH)
}

// window is what a pipeline did between two moments.
type window struct {
	s0, s1   analyzer.Stats
	ms, ma   int // marks of the sampled and analysed frames
	sampled  []time.Time
	analysed []analyzer.Analysis
}
