package violation

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/sink"
)

// road has two lanes side by side: southbound (down the screen) on the
// left, northbound on the right.
var road = scene.Scene{Lanes: []scene.Lane{
	{ID: "south", Polygon: scene.Polygon{{X: 0.2, Y: 0}, {X: 0.4, Y: 0}, {X: 0.4, Y: 1}, {X: 0.2, Y: 1}}, Direction: scene.Point{X: 0, Y: 1}},
	{ID: "north", Polygon: scene.Polygon{{X: 0.4, Y: 0}, {X: 0.6, Y: 0}, {X: 0.6, Y: 1}, {X: 0.4, Y: 1}}, Direction: scene.Point{X: 0, Y: -1}},
}}

// jittered adds uniform noise of ±a to each point, reproducibly.
func jittered(ps []scene.Point, a float64, seed uint64) []scene.Point {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]scene.Point, len(ps))
	for i, p := range ps {
		out[i] = pt(p.X+a*(2*r.Float64()-1), p.Y+a*(2*r.Float64()-1))
	}
	return out
}

func TestWrongWay(t *testing.T) {
	const dt = 500 * time.Millisecond
	for _, tc := range []struct {
		name string
		pts  []scene.Point
		want []string // lanes flagged
	}{
		{"with the lane", line(pt(0.3, 0.1), pt(0.3, 0.9), 16), nil},
		{"against the lane", line(pt(0.3, 0.9), pt(0.3, 0.1), 16), []string{"south"}},
		{"against, with box jitter", jittered(line(pt(0.3, 0.9), pt(0.3, 0.1), 16), 0.005, 1), []string{"south"}},
		{"against, pauses, against again", join(line(pt(0.3, 0.8), pt(0.3, 0.74), 4), jittered(hold(pt(0.3, 0.74), 8), 0.004, 3), line(pt(0.3, 0.74), pt(0.3, 0.68), 4)), []string{"south"}},
		{"backs up a little", join(line(pt(0.3, 0.2), pt(0.3, 0.5), 6), line(pt(0.3, 0.5), pt(0.3, 0.45), 4), hold(pt(0.3, 0.45), 6)), nil},
		{"reverses far but quickly out of the lane", join(line(pt(0.3, 0.5), pt(0.3, 0.42), 3), line(pt(0.3, 0.42), pt(0.5, 0.4), 3), line(pt(0.5, 0.4), pt(0.5, 0.1), 8)), nil},
		{"U-turn, then against the lane", join(line(pt(0.25, 0.2), pt(0.25, 0.6), 8), line(pt(0.25, 0.6), pt(0.35, 0.6), 3), line(pt(0.35, 0.6), pt(0.35, 0.1), 10)), []string{"south"}},
		{"U-turn into the opposite lane", join(line(pt(0.3, 0.2), pt(0.3, 0.6), 8), line(pt(0.3, 0.6), pt(0.5, 0.6), 4), line(pt(0.5, 0.6), pt(0.5, 0.1), 10)), nil},
		{"changes lanes across", join(line(pt(0.25, 0.2), pt(0.25, 0.4), 4), line(pt(0.25, 0.4), pt(0.55, 0.45), 6)), nil},
		{"stands still with jitter", jittered(hold(pt(0.3, 0.5), 60), 0.006, 2), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, road, Config{})
			got := run(t, e, dt, frames(dt, tr{id: 5, class: "car", pts: tc.pts}), nil)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d violations %v, want %v", len(got), types(got), tc.want)
			}
			for i, v := range got {
				if v.Event.Type != sink.TypeViolationWrongWay || v.Event.Zone != tc.want[i] {
					t.Errorf("got %s in %q, want wrong way in %q", v.Event.Type, v.Event.Zone, tc.want[i])
				}
				if d := v.Event.Measures["duration_s"]; d < 2 {
					t.Errorf("flagged after %g s, want at least the 2 s minimum", d)
				}
				if d := v.Event.Measures["distance"]; d < 0.08 {
					t.Errorf("flagged after %g, want at least the 0.08 minimum", d)
				}
			}
		})
	}
}

// The minimum time and distance are in seconds and frame heights: the
// same drive is flagged at 2 and 10 fps, and a drive too short is flagged
// at neither.
func TestWrongWayRateIndependent(t *testing.T) {
	for _, fps := range []int{2, 5, 10} {
		dt := time.Second / time.Duration(fps)
		for _, tc := range []struct {
			secs int
			want int
		}{{4, 1}, {1, 0}} {
			// 0.05 frame heights a second against the lane.
			n := tc.secs*fps + 1
			pts := line(pt(0.3, 0.8), pt(0.3, 0.8-0.05*float64(tc.secs)), n)
			e := newEngine(t, road, Config{})
			got := run(t, e, dt, frames(dt, tr{id: 1, class: "car", pts: pts}), nil)
			if len(got) != tc.want {
				t.Errorf("%d fps, %d s against: got %d violations, want %d", fps, tc.secs, len(got), tc.want)
			}
		}
	}
}
