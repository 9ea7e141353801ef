package violation

import (
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
)

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// boxH is the height of the synthetic boxes: the margin is then 0.025
// frame heights and the still radius 0.015.
const boxH = 0.1

// box returns a box of height h whose bottom centre is (x, y).
func box(x, y, h float64) [4]float32 {
	return [4]float32{float32(x - 0.4*h), float32(y - h), float32(x + 0.4*h), float32(y)}
}

// tr is a synthetic track: one bottom-centre point per frame from frame
// start on.
type tr struct {
	id        uint64
	class     string
	start     int
	pts       []scene.Point
	h         float64 // box height; boxH when zero
	tentative int     // the first frames are not yet confirmed
}

// line returns n points evenly from a to b (both included).
func line(a, b scene.Point, n int) []scene.Point {
	out := make([]scene.Point, n)
	for i := range n {
		f := float64(i) / float64(max(1, n-1))
		out[i] = scene.Point{X: a.X + f*(b.X-a.X), Y: a.Y + f*(b.Y-a.Y)}
	}
	return out
}

// hold returns n copies of p.
func hold(p scene.Point, n int) []scene.Point {
	out := make([]scene.Point, n)
	for i := range out {
		out[i] = p
	}
	return out
}

// join concatenates paths.
func join(ps ...[]scene.Point) []scene.Point {
	var out []scene.Point
	for _, p := range ps {
		out = append(out, p...)
	}
	return out
}

// frames lays the tracks out frame by frame, dt apart.
func frames(dt time.Duration, trs ...tr) [][]track.Track {
	n := 0
	for _, t := range trs {
		n = max(n, t.start+len(t.pts))
	}
	out := make([][]track.Track, n)
	for _, t := range trs {
		h := t.h
		if h == 0 {
			h = boxH
		}
		var trail []track.Observation
		for k, p := range t.pts {
			i := t.start + k
			ts := t0.Add(time.Duration(i) * dt)
			b := box(p.X, p.Y, h)
			trail = append(trail, track.Observation{TS: ts, Box: b})
			if len(trail) > 16 {
				trail = trail[1:]
			}
			out[i] = append(out[i], track.Track{
				ID: t.id, Class: t.class, Confidence: 0.8, Box: b,
				Confirmed: k >= t.tentative, Updated: true,
				Born: t0.Add(time.Duration(t.start) * dt), LastSeen: ts,
				Age: time.Duration(k) * dt, Hits: k + 1,
				Trail: append([]track.Observation(nil), trail...),
			})
		}
	}
	return out
}

// run feeds the frames to e without pictures; signal, when set, gives the
// feed's state of signal "main" on each frame.
func run(t *testing.T, e *Engine, dt time.Duration, fr [][]track.Track, signal func(i int) SignalState) []Violation {
	t.Helper()
	var all []Violation
	for i, tracks := range fr {
		ts := t0.Add(time.Duration(i) * dt)
		if signal != nil {
			if err := e.SetSignal("main", signal(i), ts); err != nil {
				t.Fatal(err)
			}
		}
		v, err := e.Observe(ts, nil, tracks)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		all = append(all, v...)
	}
	return all
}

func newEngine(t *testing.T, sc scene.Scene, cfg Config) *Engine {
	t.Helper()
	if sc.Camera == "" {
		sc.Camera = "cam-1"
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	e, err := New(sc.Camera, sc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func types(vs []Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Event.Type
	}
	return out
}

func pt(x, y float64) scene.Point { return scene.Point{X: x, Y: y} }
