package analyzer_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/sink"
)

// watchRule is a track rule that records the frames it saw and whether it
// was flushed.
type watchRule struct {
	mu      sync.Mutex
	seen    map[int64]bool // capture times (unix ns) observed
	flushed bool
}

func (r *watchRule) Observe(ts time.Time, _ *decode.Frame, _ []track.Track) []sink.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[ts.UnixNano()] = true
	return nil
}

func (r *watchRule) Flush() []sink.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushed = true
	return nil
}

func (r *watchRule) saw(ts time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[ts.UnixNano()]
}

// closingAnalytic is an analytic that records whether it was closed.
type closingAnalytic struct {
	mu       sync.Mutex
	analysed int
	closed   bool
}

func (*closingAnalytic) Interval() time.Duration { return time.Second }
func (c *closingAnalytic) Analyse(time.Time, *decode.Frame) ([]sink.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.analysed++
	return nil, nil
}
func (*closingAnalytic) Flush() []sink.Event { return nil }
func (c *closingAnalytic) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}
func (c *closingAnalytic) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// TestPipelineSetScene streams the real overhead road clip into a pipeline
// without a scene, gives it one while it runs, then takes it away: each
// change is in force from the next analysed frame on, the counting line
// counts the cars, the open traffic.count interval is published when the
// line goes, and what the pipeline was given is closed once replaced.
func TestPipelineSetScene(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sim, stopSim := serveClips(ctx, t, testenv.Clip(t, overheadClip))
	defer stopSim()

	var (
		mu        sync.Mutex
		analysed  []analyzer.Analysis // without their slices
		crossings int
		events    []sink.Event
	)
	p := &analyzer.Pipeline{
		CameraID: "switch", FPS: 5, Detector: newDetector(t, 0.1),
		Publish: func(ev sink.Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		},
		OnAnalysed: func(a analyzer.Analysis) {
			mu.Lock()
			crossings += len(a.Crossings)
			a.Detections, a.Crossings, a.Zones, a.Events = nil, nil, nil, nil
			if a.Tracks != nil {
				a.Tracks = []track.Track{} // tracked, whatever it holds
			}
			analysed = append(analysed, a)
			mu.Unlock()
		},
	}
	frames := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(analysed)
	}
	since := func(n int) []analyzer.Analysis {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(analysed[n:])
	}
	src := &ingest.Source{CameraID: "switch", URL: sim.URLs()[0], OnAccessUnit: p.Push}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := p.Run(runCtx); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() { src.Run(runCtx) })
	defer func() { stop(); wg.Wait(); p.Close() }()

	waitFor(t, runCtx, time.Minute, "frames without a scene", func() bool { return frames() >= 5 })
	for _, a := range since(0) {
		if a.Tracks != nil {
			t.Fatal("tracks without a scene")
		}
	}

	// An invalid scene is refused at once and changes nothing.
	bad := &scene.Scene{Camera: "switch", Lines: []scene.Line{{ID: "x", Points: []scene.Point{{X: 0.5, Y: 0.5}}}}}
	if err := p.SetScene(bad, nil, nil); err == nil {
		t.Error("SetScene took a line of one point")
	}

	// The counting line, a rule and an analytic, while it runs.
	rule := &watchRule{seen: map[int64]bool{}}
	fs := &closingAnalytic{}
	mark := frames()
	if err := p.SetScene(parseScene(t, overheadScene), []analyzer.Rule{rule}, []analyzer.Analytic{fs}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, runCtx, time.Minute, "crossings on the new line", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return crossings >= 2 && len(analysed) >= mark+10
	})
	// The frame being analysed at the call may predate it; every later one
	// has the scene.
	for i, a := range since(mark + 1) {
		if a.Tracks == nil || !rule.saw(a.Capture) {
			t.Errorf("frame %d after SetScene (captured %v): tracked %v, rule ran %v", i+1, a.Capture, a.Tracks != nil, rule.saw(a.Capture))
		}
	}

	// Taking the scene away: back to summaries, the open interval is
	// published, the rule flushed and the analytic closed.
	mark = frames()
	if err := p.SetScene(nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, runCtx, time.Minute, "frames after the scene went", func() bool { return frames() >= mark+5 })
	for i, a := range since(mark + 1) {
		if a.Tracks != nil || rule.saw(a.Capture) {
			t.Errorf("frame %d after the scene went: still tracked or ruled", i+1)
		}
	}
	mu.Lock()
	counted := 0
	for _, ev := range events {
		if ev.Type == sink.TypeTrafficCount && ev.Line == "center_x50" {
			counted += int(ev.Measures["in"] + ev.Measures["out"])
		}
	}
	total := crossings
	mu.Unlock()
	if counted != total {
		t.Errorf("traffic.count events carry %d crossings, the frames counted %d", counted, total)
	}
	rule.mu.Lock()
	flushed := rule.flushed
	rule.mu.Unlock()
	if !flushed {
		t.Error("the replaced rule was not flushed")
	}
	fs.mu.Lock()
	ran := fs.analysed
	fs.mu.Unlock()
	if ran == 0 {
		t.Error("the analytic given with the scene never ran")
	}
	if !fs.isClosed() {
		t.Error("the replaced analytic was not closed")
	}

	// A scene given again is closed at Close if never replaced.
	fs2 := &closingAnalytic{}
	if err := p.SetScene(parseScene(t, overheadScene), nil, []analyzer.Analytic{fs2}); err != nil {
		t.Fatal(err)
	}
	stop()
	wg.Wait()
	p.Close()
	if !fs2.isClosed() {
		t.Error("Close did not close the analytic given last")
	}
}
