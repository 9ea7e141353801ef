package violation

import (
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/sink"
)

// busLane is a lane for buses down the left of the picture, next to a
// general lane, and a zone closed to trucks.
var busLane = scene.Scene{
	Lanes: []scene.Lane{
		{ID: "bus", Polygon: scene.Polygon{{X: 0.1, Y: 0}, {X: 0.3, Y: 0}, {X: 0.3, Y: 1}, {X: 0.1, Y: 1}}, Direction: scene.Point{X: 0, Y: 1}, Classes: []string{"bus"}},
		{ID: "general", Polygon: scene.Polygon{{X: 0.3, Y: 0}, {X: 0.5, Y: 0}, {X: 0.5, Y: 1}, {X: 0.3, Y: 1}}, Direction: scene.Point{X: 0, Y: 1}},
	},
	Zones: []scene.Zone{{
		ID: "old-town", Kind: scene.ZoneRestricted, Classes: []string{"truck"},
		Polygon: scene.Polygon{{X: 0.6, Y: 0.1}, {X: 0.95, Y: 0.1}, {X: 0.95, Y: 0.9}, {X: 0.6, Y: 0.9}},
	}},
}

func TestRestrictedLane(t *testing.T) {
	const dt = 500 * time.Millisecond
	down := line(pt(0.2, 0.1), pt(0.2, 0.9), 16)       // 8 s in the bus lane
	across := line(pt(0.4, 0.3), pt(0.05, 0.5), 6)     // a lane change across it
	inZone := line(pt(0.75, 0.15), pt(0.75, 0.85), 16) // 8 s in the zone
	for _, tc := range []struct {
		name  string
		class string
		pts   []scene.Point
		want  string // zone or lane flagged, "" for none
	}{
		{"car in the bus lane", "car", down, "bus"},
		{"truck in the bus lane", "truck", down, "bus"},
		{"bus in the bus lane", "bus", down, ""},
		{"car in the general lane", "car", line(pt(0.4, 0.1), pt(0.4, 0.9), 16), ""},
		{"car crossing the bus lane", "car", across, ""},
		{"pedestrian walking in the bus lane", "person", down, ""},
		{"car riding the edge of the bus lane", "car", jittered(line(pt(0.3, 0.1), pt(0.3, 0.9), 16), 0.01, 4), ""},
		{"car on the edge, inside by less than the margin", "car", jittered(line(pt(0.295, 0.1), pt(0.295, 0.9), 16), 0.002, 6), ""},
		{"truck in the zone closed to trucks", "truck", inZone, "old-town"},
		{"car in the zone closed to trucks", "car", inZone, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, busLane, Config{})
			got := run(t, e, dt, frames(dt, tr{id: 4, class: tc.class, pts: tc.pts}), nil)
			want := 0
			if tc.want != "" {
				want = 1
			}
			if len(got) != want {
				t.Fatalf("got %d violations %v, want %d", len(got), types(got), want)
			}
			for _, v := range got {
				if v.Event.Type != sink.TypeViolationRestrictedLane || v.Event.Zone != tc.want {
					t.Errorf("got %s in %q, want restricted lane in %q", v.Event.Type, v.Event.Zone, tc.want)
				}
				if d := v.Event.Measures["duration_s"]; d < 3 {
					t.Errorf("flagged after %g s, want at least 3", d)
				}
			}
		})
	}
}

// One act gives one event: a long act by one vehicle, or its act split
// over two track ids, is one event; two vehicles are two events.
func TestCooldown(t *testing.T) {
	const dt = 500 * time.Millisecond
	long := line(pt(0.2, 0.05), pt(0.2, 0.95), 60) // 30 s in the bus lane
	for _, tc := range []struct {
		name string
		trs  []tr
		want int
	}{
		{"one car for 30 s", []tr{{id: 1, class: "car", pts: long}}, 1},
		{"one car, track lost and found again", []tr{
			{id: 1, class: "car", pts: long[:20]},
			{id: 2, class: "car", start: 22, pts: long[22:]},
		}, 1},
		{"two cars side by side", []tr{
			{id: 1, class: "car", pts: long},
			{id: 2, class: "car", pts: line(pt(0.15, 0.15), pt(0.15, 0.95), 50)},
		}, 2},
		{"a second car following where the first left", []tr{
			{id: 1, class: "car", pts: long[:30]},
			{id: 2, class: "car", start: 10, pts: long[:40]},
		}, 2},
		{"the same car back after the cooldown", []tr{
			{id: 1, class: "car", pts: long[:20]},
			{id: 2, class: "car", start: 20 + 24, pts: long[20:]},
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, busLane, Config{})
			got := run(t, e, dt, frames(dt, tc.trs...), nil)
			if len(got) != tc.want {
				t.Fatalf("got %d violations, want %d", len(got), tc.want)
			}
		})
	}
}
