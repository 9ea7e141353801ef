package crowd

import (
	"math"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/sink"
)

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// square is a crowd zone over the middle of the picture, 0.2..0.6 on both
// axes, so its grid cells are 0.1 wide.
func square(threshold, clear float64, hold time.Duration, area float64) scene.Zone {
	return scene.Zone{
		ID: "square", Kind: scene.ZoneCrowd, Threshold: threshold, Clear: clear, Hold: scene.Duration(hold), AreaM2: area,
		Polygon: scene.Polygon{{X: 0.2, Y: 0.2}, {X: 0.6, Y: 0.2}, {X: 0.6, Y: 0.6}, {X: 0.2, Y: 0.6}},
	}
}

// person returns a confirmed, detected person whose feet are at (x, y).
func person(id uint64, x, y float64) track.Track {
	return track.Track{
		ID: id, Class: "person", Confidence: 0.7, Confirmed: true, Updated: true,
		Box: [4]float32{float32(x - 0.01), float32(y - 0.05), float32(x + 0.01), float32(y)},
	}
}

// people returns n people inside the zone, spread over its top-left cell.
func people(n int) []track.Track {
	out := make([]track.Track, n)
	for i := range out {
		out[i] = person(uint64(i+1), 0.21+0.008*float64(i%10), 0.21+0.008*float64(i/10))
	}
	return out
}

func newMonitor(t *testing.T, zones ...scene.Zone) *Monitor {
	t.Helper()
	m, err := New("cam", zones, Config{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCountsWhoIsInside(t *testing.T) {
	ts := t0.Add(10 * time.Second)
	for _, tc := range []struct {
		name string
		tk   track.Track
		want int
	}{
		{"feet inside", person(1, 0.4, 0.4), 1},
		{"feet outside", person(1, 0.7, 0.4), 0},
		{"head inside, feet below", person(1, 0.4, 0.62), 0},
		{"tentative", func() track.Track { p := person(1, 0.4, 0.4); p.Confirmed = false; return p }(), 0},
		{"a car", func() track.Track { p := person(1, 0.4, 0.4); p.Class = "car"; return p }(), 0},
		{"missed for 0.5 s", func() track.Track {
			p := person(1, 0.4, 0.4)
			p.Updated, p.LastSeen = false, ts.Add(-500*time.Millisecond)
			return p
		}(), 1},
		{"missed for 1.5 s", func() track.Track {
			p := person(1, 0.4, 0.4)
			p.Updated, p.LastSeen = false, ts.Add(-1500*time.Millisecond)
			return p
		}(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMonitor(t, square(0, 0, 0, 0))
			zc, _ := m.Update(ts, []track.Track{tc.tk})
			if len(zc) != 1 || zc[0].Count != tc.want {
				t.Errorf("counts %+v, want %d", zc, tc.want)
			}
		})
	}
}

func TestOnlyCrowdZones(t *testing.T) {
	other := square(0, 0, 0, 0)
	other.ID, other.Kind = "np", scene.ZoneNoParking
	m := newMonitor(t, other, square(0, 0, 0, 0))
	zc, _ := m.Update(t0, people(3))
	if len(zc) != 1 || zc[0].Zone != "square" || zc[0].Count != 3 {
		t.Errorf("zones %+v", zc)
	}
}

func TestDensityAndGrid(t *testing.T) {
	m := newMonitor(t, square(0, 0, 0, 400))
	tracks := append(people(6), person(100, 0.55, 0.55), person(101, 0.35, 0.45))
	zc, _ := m.Update(t0, tracks)
	z := zc[0]
	if z.Count != 8 || math.Abs(z.Density-0.02) > 1e-12 {
		t.Fatalf("count %d, density %g; want 8, 0.02", z.Count, z.Density)
	}
	want := make([]int, 16)
	want[0] = 6     // top-left cell
	want[15] = 1    // bottom-right cell
	want[2*4+1] = 1 // row 2 (y 0.4..0.5), column 1 (x 0.3..0.4)
	for i := range want {
		if z.Grid[i] != want[i] {
			t.Fatalf("grid %v, want %v", z.Grid, want)
		}
	}
}

// run feeds the monitor one frame every 0.5 s with the number of people
// counts(s) at elapsed seconds s, up to end, and returns the times of the
// alerts and whether the zone was in alert at the end.
func run(t *testing.T, m *Monitor, end float64, counts func(s float64) int) (alerts []float64, active bool) {
	t.Helper()
	for s := 0.0; s <= end; s += 0.5 {
		zc, ev := m.Update(t0.Add(time.Duration(s*float64(time.Second))), people(counts(s)))
		for _, e := range ev {
			if e.Type != sink.TypeAlertCrowd || e.Zone != "square" || e.CameraID != "cam" {
				t.Errorf("event %+v", e)
			}
			if err := e.Validate(); err != nil {
				t.Error(err)
			}
			alerts = append(alerts, s)
		}
		active = zc[0].Alert
	}
	return alerts, active
}

func TestAlert(t *testing.T) {
	const hold = 5 * time.Second
	// lag is the latest an alert may come for a step from 2 to 12 people
	// at from: the smoothed level takes Smoothing × ln((12−2)/(12−10)) to
	// reach the threshold of 10, then the hold, plus one frame (0.5 s).
	lag := func(from float64) float64 {
		return from + 2*math.Log(10.0/2) + hold.Seconds() + 0.5
	}
	step := func(from, to float64) func(float64) int {
		return func(s float64) int {
			if s >= from && s < to {
				return 12
			}
			return 2
		}
	}
	for _, tc := range []struct {
		name     string
		counts   func(float64) int
		end      float64
		alerts   int
		earliest float64 // first alert no earlier than this
		latest   float64 // and no later
		active   bool
	}{
		{"crowd for 20 s", step(10, 30), 30, 1, 15, lag(10), true},
		{"crowd for 3 s (shorter than hold)", step(10, 13), 40, 0, 0, 0, false},
		{"crowd, then cleared", step(10, 30), 60, 1, 15, lag(10), false},
		{"two crowds with a quiet spell between", func(s float64) int {
			if (s >= 5 && s < 25) || (s >= 45 && s < 70) {
				return 12
			}
			return 2
		}, 70, 2, 10, lag(5), true},
		{"hovering between clear and threshold keeps one alert", func(s float64) int {
			switch {
			case s < 5:
				return 2
			case s < 20:
				return 12
			}
			return 9 // threshold 10, clear 8: stays in alert, never re-raised
		}, 60, 1, 10, lag(5), true},
		{"one frame miscounted in a crowd does not restart the hold", func(s float64) int {
			if s == 15 {
				return 9 // three people hidden for longer than Coast
			}
			return step(10, 40)(s)
		}, 40, 1, 15, lag(10), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMonitor(t, square(10, 8, hold, 0))
			alerts, active := run(t, m, tc.end, tc.counts)
			if len(alerts) != tc.alerts {
				t.Fatalf("alerts at %v, want %d", alerts, tc.alerts)
			}
			if tc.alerts > 0 && (alerts[0] < tc.earliest || alerts[0] > tc.latest) {
				t.Errorf("first alert at %gs, want within %g..%gs", alerts[0], tc.earliest, tc.latest)
			}
			if active != tc.active {
				t.Errorf("active %v at the end, want %v", active, tc.active)
			}
		})
	}
}

func TestDensityAlert(t *testing.T) {
	// 400 m², threshold 0.025 people/m² = 10 people.
	m := newMonitor(t, square(0.025, 0, 2*time.Second, 400))
	var got []sink.Event
	for s := 0.0; s <= 20; s += 0.5 {
		n := 8
		if s >= 5 {
			n = 14
		}
		_, ev := m.Update(t0.Add(time.Duration(s*float64(time.Second))), people(n))
		got = append(got, ev...)
	}
	if len(got) != 1 {
		t.Fatalf("%d alerts, want 1", len(got))
	}
	e := got[0]
	if e.Measures["density"] != 14.0/400 || e.Measures["area_m2"] != 400 || e.Measures["count"] != 14 ||
		e.Measures["threshold"] != 0.025 || e.Counts["person"] != 14 || e.Measures["held_s"] < 2 {
		t.Errorf("event %+v", e)
	}
}

func TestSummary(t *testing.T) {
	m := newMonitor(t, square(0, 0, 0, 200))
	for i, n := range []int{2, 6, 4} {
		m.Update(t0.Add(time.Duration(i)*time.Second), people(n))
	}
	s := m.Summary()
	if len(s) != 1 {
		t.Fatalf("summary %+v", s)
	}
	z := s[0]
	if z.Frames != 3 || z.Peak != 6 || !z.PeakAt.Equal(t0.Add(time.Second)) || z.Mean != 4 ||
		z.PeakDensity != 0.03 || z.MeanDensity != 0.02 || z.GridSize != 4 || z.Grid[0] != 4 || z.Alerts != 0 {
		t.Errorf("summary %+v", z)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{Grid: 100}, {Hold: -time.Second}, {Smoothing: -1}, {Coast: -1}} {
		if _, err := New("cam", nil, cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// BenchmarkUpdate50 counts 50 people in 4 zones of 12 vertices per frame
// and reports the cost per frame.
func BenchmarkUpdate50(b *testing.B) {
	var zones []scene.Zone
	for i := range 4 {
		var pg scene.Polygon
		cx, cy := 0.25+0.5*float64(i%2), 0.25+0.5*float64(i/2)
		for k := range 12 {
			a := 2 * math.Pi * float64(k) / 12
			pg = append(pg, scene.Point{X: cx + 0.2*math.Cos(a), Y: cy + 0.2*math.Sin(a)})
		}
		zones = append(zones, scene.Zone{ID: string(rune('a' + i)), Kind: scene.ZoneCrowd, Polygon: pg, Threshold: 20})
	}
	m, err := New("cam", zones, Config{})
	if err != nil {
		b.Fatal(err)
	}
	tracks := make([]track.Track, 50)
	for j := range tracks {
		tracks[j] = person(uint64(j+1), 0.02*float64(j), 0.3+0.01*float64(j))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Update(t0.Add(time.Duration(i)*100*time.Millisecond), tracks)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}
