package counting

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// level is a line across the picture drawn left to right at y = 0.5: its
// right side is below, so moving down the screen is "in". It tests the
// bottom of the boxes, which the synthetic paths give.
var level = scene.Line{ID: "level", Points: []scene.Point{{X: 0.1, Y: 0.5}, {X: 0.9, Y: 0.5}}, Anchor: scene.AnchorBottom}

// obs is one frame of a synthetic track: the bottom centre of its box
// (height 0.1, so the margin is 0.025) and its flags.
type obs struct {
	x, y      float64
	confirmed bool
	coasting  bool
}

func box(x, y float64) [4]float32 {
	return [4]float32{float32(x - 0.04), float32(y - 0.1), float32(x + 0.04), float32(y)}
}

// path makes a confirmed, detected track at x = 0.5 through the bottoms ys.
func path(ys ...float64) []obs {
	o := make([]obs, len(ys))
	for i, y := range ys {
		o[i] = obs{x: 0.5, y: y, confirmed: true}
	}
	return o
}

func run(t *testing.T, c *Counter, class string, frames []obs) []Crossing {
	t.Helper()
	var all []Crossing
	for i, f := range frames {
		tk := track.Track{ID: 7, Class: class, Confidence: 0.8, Box: box(f.x, f.y), Confirmed: f.confirmed, Updated: !f.coasting}
		got, _ := c.Update(t0.Add(time.Duration(i)*200*time.Millisecond), []track.Track{tk})
		all = append(all, got...)
	}
	return all
}

func newCounter(t *testing.T, lines ...scene.Line) *Counter {
	t.Helper()
	c, err := New("cam", lines, Config{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCrossingRules(t *testing.T) {
	tentative := func(o []obs, n int) []obs {
		for i := range n {
			o[i].confirmed = false
		}
		return o
	}
	for _, tc := range []struct {
		name    string
		frames  []obs
		in, out int
	}{
		{"jitter at the line", path(0.40, 0.49, 0.51, 0.48, 0.52, 0.49, 0.515, 0.485, 0.51, 0.49, 0.52), 0, 0},
		{"clean crossing down", path(0.30, 0.40, 0.46, 0.54, 0.60, 0.70), 1, 0},
		{"clean crossing up", path(0.70, 0.60, 0.54, 0.46, 0.40, 0.30), 0, 1},
		{"one jump at 2 fps", path(0.30, 0.70), 1, 0},
		{"U-turn", path(0.30, 0.45, 0.55, 0.65, 0.55, 0.45, 0.35), 1, 1},
		{"back and forth three times", path(0.3, 0.7, 0.3, 0.7, 0.3, 0.7, 0.3), 1, 1},
		{"stops across the line", path(0.30, 0.45, 0.50, 0.51, 0.505, 0.51, 0.50, 0.51), 0, 0},
		{"stops across the line then goes on", path(0.30, 0.45, 0.50, 0.51, 0.505, 0.51, 0.60), 1, 0},
		{"steps back before the margin", path(0.30, 0.45, 0.52, 0.45, 0.30), 0, 0},
		{"born inside the band", path(0.49, 0.51, 0.60, 0.70), 0, 0},
		{"born on the far side", path(0.70, 0.80, 0.90), 0, 0},
		{"round the end of the line", []obs{{x: 0.95, y: 0.3, confirmed: true}, {x: 0.95, y: 0.7, confirmed: true}}, 0, 0},
		{"round the end then back through it", []obs{{x: 0.95, y: 0.3, confirmed: true}, {x: 0.95, y: 0.7, confirmed: true}, {x: 0.5, y: 0.7, confirmed: true}, {x: 0.5, y: 0.3, confirmed: true}}, 0, 1},
		{"crossing while tentative, confirmed later", tentative(path(0.30, 0.45, 0.55, 0.65, 0.70, 0.75), 5), 1, 0},
		{"coasting beyond the line does not count", []obs{{x: 0.5, y: 0.3, confirmed: true}, {x: 0.5, y: 0.7, confirmed: true, coasting: true}}, 0, 0},
		{"coasting then seen beyond counts", []obs{{x: 0.5, y: 0.3, confirmed: true}, {x: 0.5, y: 0.7, confirmed: true, coasting: true}, {x: 0.5, y: 0.75, confirmed: true}}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCounter(t, level)
			var in, out int
			for _, x := range run(t, c, "car", tc.frames) {
				if x.Line != "level" || x.TrackID != 7 || x.Class != "car" {
					t.Errorf("crossing %+v", x)
				}
				if x.Direction == In {
					in++
				} else {
					out++
				}
			}
			if in != tc.in || out != tc.out {
				t.Errorf("in %d, out %d; want %d, %d", in, out, tc.in, tc.out)
			}
		})
	}
}

func TestTentativeCrossingCountsOnConfirmation(t *testing.T) {
	c := newCounter(t, level)
	frames := path(0.30, 0.60, 0.70, 0.72)
	frames[0].confirmed, frames[1].confirmed, frames[2].confirmed = false, false, false
	got := run(t, c, "car", frames)
	if len(got) != 1 || !got[0].TS.Equal(t0.Add(600*time.Millisecond)) {
		t.Fatalf("crossings %+v, want one on the confirming frame (t0+600ms)", got)
	}
}

func TestUnconfirmedTrackNeverCounts(t *testing.T) {
	c := newCounter(t, level)
	frames := path(0.30, 0.45, 0.55, 0.65, 0.75)
	for i := range frames {
		frames[i].confirmed = false
	}
	if got := run(t, c, "car", frames); len(got) != 0 {
		t.Fatalf("counted %+v", got)
	}
	// The track ends (is missing from the next call): its crossing is gone.
	if got, _ := c.Update(t0.Add(2*time.Second), nil); len(got) != 0 {
		t.Fatalf("counted %+v after the track ended", got)
	}
	if len(c.tracks) != 0 || len(c.Totals()) != 0 {
		t.Errorf("state left: %d tracks, totals %v", len(c.tracks), c.Totals())
	}
}

func TestLineClassFilter(t *testing.T) {
	cars := scene.Line{ID: "cars", Points: level.Points, Classes: []string{"car", "bus"}}
	for _, tc := range []struct {
		class string
		want  int
	}{{"car", 1}, {"bus", 1}, {"truck", 0}, {"person", 0}} {
		t.Run(tc.class, func(t *testing.T) {
			c := newCounter(t, cars)
			if got := run(t, c, tc.class, path(0.3, 0.7)); len(got) != tc.want {
				t.Errorf("%d crossings, want %d", len(got), tc.want)
			}
		})
	}
}

// TestAnchor moves boxes 0.1 high left to right across a vertical line
// that ends at y = 0.6, their bottoms at 0.55, 0.62 or 0.75 and so their
// centres (0.05 higher) at 0.5, 0.57 or 0.7.
func TestAnchor(t *testing.T) {
	short := scene.Line{ID: "short", Points: []scene.Point{{X: 0.5, Y: 0.6}, {X: 0.5, Y: 0.2}}}
	across := func(y float64) []obs {
		return []obs{{x: 0.3, y: y, confirmed: true}, {x: 0.45, y: y, confirmed: true}, {x: 0.6, y: y, confirmed: true}, {x: 0.7, y: y, confirmed: true}}
	}
	for _, tc := range []struct {
		name   string
		anchor scene.Anchor
		class  string
		bottom float64
		want   int
	}{
		{"default, car: its centre crosses", scene.AnchorAuto, "car", 0.62, 1},
		{"default, person: the feet pass below the end", scene.AnchorAuto, "person", 0.62, 0},
		{"default, person: the feet cross", scene.AnchorAuto, "person", 0.55, 1},
		{"bottom, car: below the end", scene.AnchorBottom, "car", 0.62, 0},
		{"center, person: the centre crosses", scene.AnchorCenter, "person", 0.62, 1},
		{"center, car: the centre passes below the end", scene.AnchorCenter, "car", 0.75, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := short
			l.Anchor = tc.anchor
			c := newCounter(t, l)
			got := run(t, c, tc.class, across(tc.bottom))
			if len(got) != tc.want || (tc.want == 1 && got[0].Direction != In) {
				t.Errorf("crossings %+v, want %d in", got, tc.want)
			}
		})
	}
}

// TestTrailOfANewTrack: a track the counter sees for the first time with
// an older observation in its trail (the tracker started it on a faint box
// of the frame before) crossed from there; observations from before the
// counter started (a scene applied to running tracks) are not replayed.
func TestTrailOfANewTrack(t *testing.T) {
	for _, tc := range []struct {
		name      string
		startedAt time.Duration // the counter's first frame, from t0
		want      int
	}{
		{"trail since the counter started", 0, 1},
		{"trail from before the counter", 500 * time.Millisecond, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCounter(t, level)
			c.Update(t0.Add(tc.startedAt), nil)
			before := track.Observation{TS: t0.Add(500 * time.Millisecond), Box: box(0.5, 0.3)}
			now := track.Observation{TS: t0.Add(time.Second), Box: box(0.5, 0.6)}
			if tc.startedAt > 0 {
				before.TS = t0.Add(400 * time.Millisecond)
			}
			tk := track.Track{ID: 3, Class: "car", Box: now.Box, Updated: true, Trail: []track.Observation{before, now}}
			got, _ := c.Update(now.TS, []track.Track{tk})
			if len(got) != 0 {
				t.Fatalf("counted %+v while tentative", got)
			}
			tk.Confirmed, tk.Box = true, box(0.5, 0.65)
			tk.Trail = append(tk.Trail, track.Observation{TS: t0.Add(1500 * time.Millisecond), Box: tk.Box})
			got, _ = c.Update(t0.Add(1500*time.Millisecond), []track.Track{tk})
			if len(got) != tc.want || (tc.want == 1 && got[0].Direction != In) {
				t.Errorf("crossings %+v, want %d in", got, tc.want)
			}
		})
	}
}

func TestVerticalLineAndAspect(t *testing.T) {
	// A vertical line at x = 0.5, drawn downwards: its right is the left of
	// the screen, so moving left is "in". The margin is in frame heights:
	// 0.025 of the height is 0.0141 of the width at 16:9.
	vert := scene.Line{ID: "v", Points: []scene.Point{{X: 0.5, Y: 0.1}, {X: 0.5, Y: 0.9}}, Anchor: scene.AnchorBottom}
	for _, tc := range []struct {
		name  string
		lastX float64
		want  int
	}{
		{"past the margin", 0.485, 1},
		{"within the margin", 0.488, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCounter(t, vert)
			got := run(t, c, "car", []obs{{x: 0.6, y: 0.5, confirmed: true}, {x: 0.51, y: 0.5, confirmed: true}, {x: tc.lastX, y: 0.5, confirmed: true}})
			if len(got) != tc.want || (tc.want == 1 && got[0].Direction != In) {
				t.Errorf("crossings %+v, want %d in", got, tc.want)
			}
		})
	}
}

func TestTrafficCountEvents(t *testing.T) {
	other := scene.Line{ID: "other", Points: []scene.Point{{X: 0.1, Y: 0.2}, {X: 0.2, Y: 0.2}}}
	c := newCounter(t, level, other)
	start := time.Date(2025, 3, 1, 8, 0, 40, 0, time.UTC)
	frame := func(s float64, tracks ...track.Track) ([]Crossing, []sink.Event) {
		return c.Update(start.Add(time.Duration(s*float64(time.Second))), tracks)
	}
	car := func(id uint64, class string, y float64) track.Track {
		return track.Track{ID: id, Class: class, Box: box(0.5, y), Confirmed: true, Updated: true}
	}
	// Minute 08:00: two cars and a truck go down, a car goes up.
	frame(0, car(1, "car", 0.3), car(2, "car", 0.3), car(3, "truck", 0.3), car(4, "car", 0.7))
	x, ev := frame(1, car(1, "car", 0.7), car(2, "car", 0.7), car(3, "truck", 0.7), car(4, "car", 0.3))
	if len(x) != 4 || len(ev) != 0 {
		t.Fatalf("%d crossings, %d events; want 4, 0", len(x), len(ev))
	}
	// Minute 08:01 opens: the events of 08:00 come out.
	x, ev = frame(25, car(5, "bus", 0.3))
	if len(x) != 0 || len(ev) != 2 {
		t.Fatalf("%d crossings, %d events; want 0, 2", len(x), len(ev))
	}
	e := ev[0]
	if e.Type != sink.TypeTrafficCount || e.Line != "level" || e.CameraID != "cam" || !e.TS.Equal(time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("event %+v", e)
	}
	if err := e.Validate(); err != nil {
		t.Error(err)
	}
	if e.Counts["car"] != 3 || e.Counts["truck"] != 1 || len(e.Counts) != 2 {
		t.Errorf("counts %v", e.Counts)
	}
	want := map[string]float64{"in": 3, "out": 1, "in.car": 2, "in.truck": 1, "out.car": 1, "interval_s": 60, "observed_s": 1}
	for k, v := range want {
		if e.Measures[k] != v {
			t.Errorf("measure %s = %g, want %g (all: %v)", k, e.Measures[k], v, e.Measures)
		}
	}
	if len(e.Measures) != len(want) {
		t.Errorf("measures %v, want %v", e.Measures, want)
	}
	if z := ev[1]; z.Line != "other" || len(z.Counts) != 0 || z.Measures["in"] != 0 || z.Measures["out"] != 0 {
		t.Errorf("the quiet line's event %+v", z)
	}
	frame(26, car(5, "bus", 0.7))
	ev = c.Flush()
	if len(ev) != 2 || ev[0].Counts["bus"] != 1 || !ev[0].TS.Equal(time.Date(2025, 3, 1, 8, 1, 0, 0, time.UTC)) {
		t.Errorf("flushed %+v", ev)
	}
	if ev := c.Flush(); len(ev) != 0 {
		t.Errorf("second flush gave %d events", len(ev))
	}
	totals := c.Totals()
	wantTotals := []Total{
		{Key{"level", In, "bus"}, 1}, {Key{"level", In, "car"}, 2}, {Key{"level", In, "truck"}, 1}, {Key{"level", Out, "car"}, 1},
	}
	if len(totals) != len(wantTotals) {
		t.Fatalf("totals %v, want %v", totals, wantTotals)
	}
	for i := range totals {
		if totals[i] != wantTotals[i] {
			t.Errorf("totals[%d] = %v, want %v", i, totals[i], wantTotals[i])
		}
	}
}

// TestWithTracker runs detections through the real tracker: a car crossing
// counts once at 2 and 10 fps, a parked car with a jittering box on the
// line never.
func TestWithTracker(t *testing.T) {
	const w, h = 1920, 1080
	for _, tc := range []struct {
		name   string
		vy     float64 // pixels per second, down the screen
		y0     float64 // bottom of the box at t0, pixels
		fps    float64
		jitter float64 // pixels on each edge
		want   int
	}{
		{"crossing at 2 fps", 250, 300, 2, 4, 1},
		{"crossing at 10 fps", 250, 300, 10, 4, 1},
		{"parked on the line", 0, 540, 5, 6, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := track.New(track.Config{})
			if err != nil {
				t.Fatal(err)
			}
			c := newCounter(t, level)
			rng := rand.New(rand.NewPCG(9, 9))
			j := func() float32 { return float32((rng.Float64()*2 - 1) * tc.jitter) }
			var got []Crossing
			for i := 0; float64(i)/tc.fps <= 3; i++ {
				ts := t0.Add(time.Duration(float64(i) / tc.fps * float64(time.Second)))
				bottom := tc.y0 + tc.vy*float64(i)/tc.fps
				d := models.Detection{Class: "car", Confidence: 0.8,
					Box: [4]float32{900 + j(), float32(bottom-120) + j(), 1100 + j(), float32(bottom) + j()}}
				tracks, err := tr.Update(ts, []models.Detection{d}, w, h)
				if err != nil {
					t.Fatal(err)
				}
				x, _ := c.Update(ts, tracks)
				got = append(got, x...)
			}
			if len(got) != tc.want || (tc.want > 0 && got[0].Direction != In) {
				t.Errorf("crossings %+v, want %d in", got, tc.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{Margin: -1}, {Aspect: 100}, {Interval: time.Millisecond}, {MinMargin: 1}} {
		if _, err := New("cam", nil, cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// BenchmarkUpdate50 counts 50 moving tracks against 8 lines per frame and
// reports the cost per frame.
func BenchmarkUpdate50(b *testing.B) {
	var lines []scene.Line
	for i := range 8 {
		y := 0.1 + 0.1*float64(i)
		lines = append(lines, scene.Line{ID: string(rune('a' + i)), Points: []scene.Point{{X: 0.05, Y: y}, {X: 0.95, Y: y}}})
	}
	c, err := New("cam", lines, Config{})
	if err != nil {
		b.Fatal(err)
	}
	tracks := make([]track.Track, 50)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for j := range tracks {
			y := math.Mod(0.002*float64(i)+0.02*float64(j), 1)
			x := 0.1 + 0.016*float64(j)
			tracks[j] = track.Track{ID: uint64(j + 1), Class: "car", Box: [4]float32{float32(x), float32(y - 0.05), float32(x + 0.03), float32(y)}, Confirmed: true, Updated: true}
		}
		c.Update(t0.Add(time.Duration(i)*100*time.Millisecond), tracks)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}
