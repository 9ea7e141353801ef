package violation

import (
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/sink"
)

// junction has one signal whose stop line runs across the picture at
// y = 0.6, drawn left to right: entering the junction is moving down.
var junction = scene.Scene{Signals: []scene.Signal{{
	ID:       "main",
	ROI:      []scene.Point{{X: 0.05, Y: 0.05}, {X: 0.10, Y: 0.20}},
	StopLine: []scene.Point{{X: 0.1, Y: 0.6}, {X: 0.9, Y: 0.6}},
}}}

func always(s SignalState) func(int) SignalState { return func(int) SignalState { return s } }

// until gives a before frame n, then b.
func until(n int, a, b SignalState) func(int) SignalState {
	return func(i int) SignalState {
		if i < n {
			return a
		}
		return b
	}
}

func TestRedLight(t *testing.T) {
	// approach: y = 0.21, 0.26, ... so that frame 7 (0.56) is before the
	// line and frame 8 (0.61) past it; the margin (0.025) is reached on
	// frame 9 (0.66).
	approach := line(pt(0.5, 0.21), pt(0.5, 0.96), 16)
	stopAt := func(y float64) []scene.Point {
		return join(line(pt(0.5, 0.21), pt(0.5, y), 8), hold(pt(0.5, y), 10))
	}
	jitter := []scene.Point{pt(0.5, 0.59), pt(0.5, 0.61), pt(0.5, 0.595), pt(0.5, 0.62), pt(0.5, 0.6), pt(0.5, 0.585), pt(0.5, 0.615)}
	for _, tc := range []struct {
		name   string
		class  string
		pts    []scene.Point
		dt     time.Duration
		signal func(int) SignalState
		tent   int
		want   int
	}{
		{"runs the red", "car", approach, 0, always(SignalRed), 0, 1},
		{"crosses on green", "car", approach, 0, always(SignalGreen), 0, 0},
		{"crosses on unknown", "car", approach, 0, always(SignalUnknown), 0, 0},
		{"enters on amber, red once past", "car", approach, 0, until(8, SignalAmber, SignalRed), 0, 0},
		{"red on both sides of the crossing", "car", approach, 0, until(7, SignalAmber, SignalRed), 0, 1},
		{"stops short of the line", "car", stopAt(0.58), 0, always(SignalRed), 0, 0},
		{"stops with its front just over the line", "car", stopAt(0.615), 0, always(SignalRed), 0, 0},
		{"stops, goes on green", "car", join(stopAt(0.58), line(pt(0.5, 0.58), pt(0.5, 0.95), 8)), 0, until(18, SignalRed, SignalGreen), 0, 0},
		{"stops, then goes on red", "car", join(stopAt(0.58), line(pt(0.5, 0.58), pt(0.5, 0.95), 8)), 0, always(SignalRed), 0, 1},
		{"turns away before the line", "car", join(line(pt(0.5, 0.21), pt(0.5, 0.55), 8), line(pt(0.5, 0.55), pt(1.0, 0.56), 10)), 0, always(SignalRed), 0, 0},
		{"goes round the end of the line", "car", join(line(pt(0.5, 0.21), pt(0.5, 0.5), 7), line(pt(0.5, 0.5), pt(0.95, 0.5), 8), line(pt(0.95, 0.5), pt(0.95, 0.9), 8)), 0, always(SignalRed), 0, 0},
		{"jitters at the line", "car", join(line(pt(0.5, 0.3), pt(0.5, 0.58), 6), jitter, jitter), 0, always(SignalRed), 0, 0},
		{"leaves the junction upwards", "car", line(pt(0.5, 0.96), pt(0.5, 0.21), 16), 0, always(SignalRed), 0, 0},
		{"a pedestrian", "person", approach, 0, always(SignalRed), 0, 0},
		{"runs the red at 10 fps", "motorcycle", line(pt(0.5, 0.21), pt(0.5, 0.96), 76), 100 * time.Millisecond, always(SignalRed), 0, 1},
		{"crosses while still tentative", "car", approach, 0, always(SignalRed), 11, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dt := tc.dt
			if dt == 0 {
				dt = 500 * time.Millisecond
			}
			e := newEngine(t, junction, Config{})
			got := run(t, e, dt, frames(dt, tr{id: 3, class: tc.class, pts: tc.pts, tentative: tc.tent}), tc.signal)
			if len(got) != tc.want {
				t.Fatalf("got %d violations %v, want %d", len(got), types(got), tc.want)
			}
			for _, v := range got {
				ev := v.Event
				if ev.Type != sink.TypeViolationRedLight || ev.Line != "main" || ev.Object == nil || ev.Object.TrackID != 3 {
					t.Errorf("event %+v: want a red light at main by track 3", ev)
				}
				if err := ev.Validate(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// The event carries the time of the frame that proved it and the clip
// window around it, also when it is published later because the track
// confirmed after the crossing.
func TestRedLightEventFields(t *testing.T) {
	dt := 500 * time.Millisecond
	for _, tent := range []int{0, 11} {
		e := newEngine(t, junction, Config{})
		got := run(t, e, dt, frames(dt, tr{id: 9, class: "car", pts: line(pt(0.5, 0.21), pt(0.5, 0.96), 16), tentative: tent}), always(SignalRed))
		if len(got) != 1 {
			t.Fatalf("tentative %d: got %d violations, want 1", tent, len(got))
		}
		ev := got[0].Event
		at := t0.Add(9 * dt) // the frame that took it the margin past the line
		if !ev.TS.Equal(at) {
			t.Errorf("tentative %d: ts %v, want %v", tent, ev.TS, at)
		}
		if !ev.Evidence.ClipFrom.Equal(at.Add(-5*time.Second)) || !ev.Evidence.ClipTo.Equal(at.Add(5*time.Second)) {
			t.Errorf("clip %v–%v, want ±5 s around %v", ev.Evidence.ClipFrom, ev.Evidence.ClipTo, at)
		}
		if r := ev.Measures["red_for_s"]; r != 4 { // red since frame 0, crossed on frame 8
			t.Errorf("red_for_s %g, want 4", r)
		}
		if got[0].Snapshot != nil || ev.Evidence.SnapshotSHA256 != "" {
			t.Error("a snapshot without a frame")
		}
	}
}
