package violation

import (
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/sink"
)

// kerb has a no-parking zone with a one-minute dwell on the right.
var kerb = scene.Scene{Zones: []scene.Zone{{
	ID: "bus-stop", Kind: scene.ZoneNoParking,
	Polygon: scene.Polygon{{X: 0.6, Y: 0.5}, {X: 0.9, Y: 0.5}, {X: 0.9, Y: 0.8}, {X: 0.6, Y: 0.8}},
	Dwell:   scene.Duration(time.Minute),
}}}

// creep is a car in a queue: it stands for every seconds (with jitter),
// then moves on by step, n times.
func creep(from scene.Point, step float64, every, n int, fps int) []scene.Point {
	var out []scene.Point
	p := from
	for i := range n {
		out = append(out, jittered(hold(p, every*fps), 0.002, uint64(i))...)
		p.X += step
	}
	return out
}

func TestIllegalParking(t *testing.T) {
	const fps = 2
	const dt = time.Second / fps
	arrive := line(pt(0.3, 0.65), pt(0.75, 0.65), 10) // 5 s
	for _, tc := range []struct {
		name  string
		class string
		pts   []scene.Point
		want  int
		after time.Duration // when the violation is due, from the first frame
	}{
		{"parks for 90 s", "car", join(arrive, jittered(hold(pt(0.75, 0.65), 90*fps), 0.003, 1)), 1, 65 * time.Second},
		{"stops for 50 s", "car", join(arrive, jittered(hold(pt(0.75, 0.65), 50*fps), 0.003, 1), line(pt(0.75, 0.65), pt(1.2, 0.65), 10)), 0, 0},
		{"stuck in traffic, advancing every 10 s", "car", join(arrive[:3], creep(pt(0.63, 0.65), 0.025, 10, 10, fps)), 0, 0},
		{"drives slowly through", "car", line(pt(0.55, 0.65), pt(0.95, 0.65), 100*fps), 0, 0},
		{"parks just outside, box jittering over the edge", "car", jittered(hold(pt(0.905, 0.65), 120*fps), 0.006, 3), 0, 0},
		{"parks on the edge, inside by less than the margin", "car", jittered(hold(pt(0.895, 0.65), 120*fps), 0.002, 5), 0, 0},
		{"a person standing", "person", join(arrive, hold(pt(0.75, 0.65), 90*fps)), 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, kerb, Config{})
			got := run(t, e, dt, frames(dt, tr{id: 2, class: tc.class, pts: tc.pts}), nil)
			if len(got) != tc.want {
				t.Fatalf("got %d violations %v, want %d", len(got), types(got), tc.want)
			}
			for _, v := range got {
				ev := v.Event
				if ev.Type != sink.TypeViolationIllegalParking || ev.Zone != "bus-stop" {
					t.Errorf("got %s in %q, want illegal parking in bus-stop", ev.Type, ev.Zone)
				}
				if at := ev.TS.Sub(t0); at < tc.after-time.Second || at > tc.after+time.Second {
					t.Errorf("flagged at %v, want about %v", at, tc.after)
				}
				if d := ev.Measures["dwell_s"]; d < 60 {
					t.Errorf("dwell_s %g, want at least 60", d)
				}
			}
		})
	}
}

// A parked car whose track is lost (a bus drives past in front) keeps its
// time under the new track and is reported once, not again after the
// switch.
func TestIllegalParkingAcrossTrackSwitch(t *testing.T) {
	const dt = 500 * time.Millisecond
	at := pt(0.75, 0.65)
	for _, tc := range []struct {
		name   string
		before int // seconds of the first track standing
		want   int
	}{
		{"switch before the dwell", 40, 1},
		{"switch after the report", 70, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, kerb, Config{})
			first := jittered(hold(at, tc.before*2), 0.003, 1)
			// 3 s hidden, then a new track for 60 s more.
			second := tr{id: 8, class: "car", start: len(first) + 6, pts: jittered(hold(at, 120), 0.003, 2)}
			got := run(t, e, dt, frames(dt, tr{id: 7, class: "car", pts: first}, second), nil)
			if len(got) != tc.want {
				t.Fatalf("got %d violations, want %d", len(got), tc.want)
			}
			if d := got[0].Event.TS.Sub(t0); d < 59*time.Second || d > 61*time.Second {
				t.Errorf("flagged %v after the car stopped, want 60 s", d)
			}
		})
	}
}
