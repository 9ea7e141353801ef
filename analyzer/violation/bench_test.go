package violation

import (
	"fmt"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
)

// BenchmarkObserve measures the rules' cost per analysed frame with 50
// moving vehicles on a scene of 4 lanes, 2 signals and 3 zones, without
// violations (no snapshot): the steady-state cost the per-frame budget of
// issue #5 (below 5 % of inference) is about.
func BenchmarkObserve(b *testing.B) {
	sc := scene.Scene{Camera: "bench"}
	for i := range 4 {
		x := 0.1 + 0.2*float64(i)
		sc.Lanes = append(sc.Lanes, scene.Lane{ID: fmt.Sprintf("lane-%d", i), Direction: scene.Point{Y: 1},
			Polygon: scene.Polygon{{X: x, Y: 0}, {X: x + 0.2, Y: 0}, {X: x + 0.2, Y: 1}, {X: x, Y: 1}}})
	}
	for i := range 2 {
		sc.Signals = append(sc.Signals, scene.Signal{ID: fmt.Sprintf("sig-%d", i),
			ROI:      []scene.Point{{X: 0.02 + 0.1*float64(i), Y: 0.02}, {X: 0.05 + 0.1*float64(i), Y: 0.1}},
			StopLine: []scene.Point{{X: 0.1, Y: 0.5 + 0.1*float64(i)}, {X: 0.9, Y: 0.5 + 0.1*float64(i)}}})
	}
	for i := range 3 {
		y := 0.1 + 0.3*float64(i)
		sc.Zones = append(sc.Zones, scene.Zone{ID: fmt.Sprintf("zone-%d", i), Kind: scene.ZoneNoParking,
			Polygon: scene.Polygon{{X: 0.85, Y: y}, {X: 0.99, Y: y}, {X: 0.99, Y: y + 0.2}, {X: 0.85, Y: y + 0.2}}})
	}
	e, err := New("bench", sc, Config{})
	if err != nil {
		b.Fatal(err)
	}
	const n = 50
	tracks := make([]track.Track, n)
	dt := 200 * time.Millisecond
	ts := t0
	b.ResetTimer()
	for b.Loop() {
		ts = ts.Add(dt)
		for i := range tracks {
			// Each vehicle drives down its lane and wraps round.
			x := 0.12 + 0.016*float64(i)
			y := 0.05 + float64((ts.Sub(t0)/dt+time.Duration(i*7))%100)*0.009
			tracks[i] = track.Track{ID: uint64(i + 1), Class: "car", Confidence: 0.8, Box: box(x, y, 0.08),
				Confirmed: true, Updated: true}
		}
		if _, err := e.Observe(ts, nil, tracks); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/frame")
}
