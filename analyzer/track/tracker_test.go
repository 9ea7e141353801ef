package track

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/matthan/matthan/models"
)

const frameW, frameH = 1920, 1080

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// object is a synthetic object moving at constant velocity, in pixels.
type object struct {
	x, y, w, h float64 // top-left and size at t0
	vx, vy     float64 // pixels per second
	class      string
	score      float32
}

// at returns the object's detection at elapsed time s, with up to jitter
// pixels of noise on each edge.
func (o object) at(s float64, jitter float64, rng *rand.Rand) models.Detection {
	x, y := o.x+o.vx*s, o.y+o.vy*s
	j := func() float32 {
		if rng == nil || jitter == 0 {
			return 0
		}
		return float32((rng.Float64()*2 - 1) * jitter)
	}
	score := o.score
	if score == 0 {
		score = 0.8
	}
	return models.Detection{
		Class:      o.class,
		Confidence: score,
		Box:        [4]float32{float32(x) + j(), float32(y) + j(), float32(x+o.w) + j(), float32(y+o.h) + j()},
	}
}

func newTracker(t testing.TB, cfg Config) *Tracker {
	t.Helper()
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func update(t testing.TB, tr *Tracker, s float64, dets ...models.Detection) []Track {
	t.Helper()
	tracks, err := tr.Update(t0.Add(time.Duration(s*float64(time.Second))), dets, frameW, frameH)
	if err != nil {
		t.Fatal(err)
	}
	return tracks
}

// nearest returns the updated track whose box centre is nearest the
// detection's, or nil.
func nearest(tracks []Track, d models.Detection) *Track {
	cx, cy := (d.Box[0]+d.Box[2])/2/frameW, (d.Box[1]+d.Box[3])/2/frameH
	var best *Track
	bestD := float32(1e9)
	for i := range tracks {
		tk := &tracks[i]
		if !tk.Updated {
			continue
		}
		dx, dy := (tk.Box[0]+tk.Box[2])/2-cx, (tk.Box[1]+tk.Box[3])/2-cy
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = tk, d
		}
	}
	return best
}

func TestStraightMotionKeepsOneID(t *testing.T) {
	// A car 200 px long at 400 px/s moves a whole box length per frame at
	// 2 fps: consecutive boxes do not overlap at all.
	car := object{x: 100, y: 500, w: 200, h: 120, vx: 400, vy: 30, class: "car"}
	for _, tc := range []struct {
		name      string
		fps       float64
		confirmBy float64 // seconds
	}{
		{"2 fps", 2, 1.0},
		{"5 fps", 5, 0.4},
		{"10 fps", 10, 0.4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(t, Config{})
			rng := rand.New(rand.NewPCG(1, 2))
			ids := map[uint64]bool{}
			for i := 0; ; i++ {
				s := float64(i) / tc.fps
				if s > 4 {
					break
				}
				d := car.at(s, 4, rng)
				tracks := update(t, tr, s, d)
				if len(tracks) != 1 {
					t.Fatalf("t=%.1fs: %d tracks, want 1", s, len(tracks))
				}
				ids[tracks[0].ID] = true
				if s >= tc.confirmBy && !tracks[0].Confirmed {
					t.Fatalf("t=%.1fs: not confirmed", s)
				}
				if s > 1.5 {
					if vx := tracks[0].Velocity[0] * frameW; vx < 300 || vx > 500 {
						t.Errorf("t=%.1fs: velocity %.0f px/s, want about 400", s, vx)
					}
				}
			}
			if len(ids) != 1 {
				t.Errorf("ids %v, want one", ids)
			}
		})
	}
}

func TestCrossingObjectsKeepTheirIDs(t *testing.T) {
	a := object{x: 100, y: 500, w: 160, h: 120, vx: 300, class: "car"}
	b := object{x: 1500, y: 530, w: 160, h: 120, vx: -300, class: "car"}
	for _, fps := range []float64{2, 5, 10} {
		t.Run("", func(t *testing.T) {
			tr := newTracker(t, Config{})
			rng := rand.New(rand.NewPCG(3, 4))
			idA, idB := uint64(0), uint64(0)
			for i := 0; float64(i)/fps <= 4.5; i++ {
				s := float64(i) / fps
				da, db := a.at(s, 3, rng), b.at(s, 3, rng)
				dets := []models.Detection{da, db}
				if i%2 == 1 { // detector output order carries no meaning
					dets[0], dets[1] = db, da
				}
				tracks := update(t, tr, s, dets...)
				ta, tb := nearest(tracks, da), nearest(tracks, db)
				if ta == nil || tb == nil || ta == tb {
					t.Fatalf("%g fps t=%.1fs: no distinct tracks for the two objects", fps, s)
				}
				if idA == 0 {
					idA, idB = ta.ID, tb.ID
				}
				// Only judge away from the instant the boxes coincide.
				if gap := (da.Box[0] - db.Box[0]); gap > 40 || gap < -40 {
					if ta.ID != idA || tb.ID != idB {
						t.Fatalf("%g fps t=%.1fs: ids %d, %d, want %d, %d", fps, s, ta.ID, tb.ID, idA, idB)
					}
				}
			}
		})
	}
}

func TestMissedDetectionsWithinMaxAgeKeepID(t *testing.T) {
	car := object{x: 100, y: 400, w: 200, h: 120, vx: 250, class: "car"}
	tr := newTracker(t, Config{})
	var id uint64
	const fps = 5
	for i := 0; i <= 25; i++ {
		s := float64(i) / fps
		if s > 1.9 && s < 3.5 { // 1.4 s hidden, MaxAge is 2 s
			tracks := update(t, tr, s)
			if len(tracks) != 1 || tracks[0].Updated {
				t.Fatalf("t=%.1fs: %+v, want one coasting track", s, tracks)
			}
			continue
		}
		tracks := update(t, tr, s, car.at(s, 0, nil))
		if len(tracks) != 1 {
			t.Fatalf("t=%.1fs: %d tracks", s, len(tracks))
		}
		if id == 0 {
			id = tracks[0].ID
		}
		if tracks[0].ID != id {
			t.Fatalf("t=%.1fs: id %d, want %d", s, tracks[0].ID, id)
		}
	}
}

func TestFlickerKeepsID(t *testing.T) {
	car := object{x: 100, y: 400, w: 200, h: 120, vx: 200, class: "car"}
	for _, fps := range []float64{2, 5, 10} {
		tr := newTracker(t, Config{})
		ids := map[uint64]bool{}
		confirmed := false
		for i := 0; float64(i)/fps <= 5; i++ {
			s := float64(i) / fps
			var tracks []Track
			if i%2 == 0 {
				tracks = update(t, tr, s, car.at(s, 0, nil))
			} else {
				tracks = update(t, tr, s)
			}
			for _, tk := range tracks {
				ids[tk.ID] = true
				confirmed = confirmed || tk.Confirmed
			}
		}
		if len(ids) != 1 || !confirmed {
			t.Errorf("%g fps: ids %v, confirmed %v; want one confirmed id", fps, ids, confirmed)
		}
	}
}

// TestSeenOnceReach: a track seen once takes a detection out of its box's
// reach only soon after: one missed frame at 2 fps, not two seconds later
// when the detection is another vehicle.
func TestSeenOnceReach(t *testing.T) {
	for _, tc := range []struct {
		name string
		gap  float64 // seconds between the two detections
		dx   float64 // their distance in box widths
		same bool
	}{
		{"next frame at 2 fps, 2 widths on", 0.5, 2, true},
		{"one missed frame at 2 fps, 4 widths on", 1, 4, true},
		{"two seconds later, 4 widths on", 2, 4, false},
		{"next frame at 2 fps, beyond reach", 0.5, 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(t, Config{})
			first := object{x: 100, y: 400, w: 100, h: 80, class: "car"}
			second := first
			second.x += tc.dx * first.w
			a := update(t, tr, 0, first.at(0, 0, nil))
			b := update(t, tr, tc.gap, second.at(0, 0, nil))
			joined := len(b) == 1 && b[0].ID == a[0].ID && b[0].Hits == 2
			if joined != tc.same {
				t.Errorf("tracks %d then %d (hits %d): joined %v, want %v", len(a), len(b), b[len(b)-1].Hits, joined, tc.same)
			}
		})
	}
}

// TestStartsFromAFaintBox: at 2 fps a car scored below HighScore on one
// frame and above it on the next starts its track on the faint box, which
// gives it its first position but not a confirming match; a faint box out
// of reach, or two frames old, is not taken.
func TestStartsFromAFaintBox(t *testing.T) {
	car := object{x: 100, y: 400, w: 200, h: 120, vx: 600, class: "car"} // 1.5 widths per frame at 2 fps
	for _, tc := range []struct {
		name    string
		faint   models.Detection
		at      float64 // when the faint box is seen
		fromTwo bool    // the track's trail starts with it
	}{
		{"the frame before", car.at(0, 0, nil), 0, true},
		{"the frame before, as a truck", func() models.Detection { d := car.at(0, 0, nil); d.Class = "truck"; return d }(), 0, true},
		{"out of reach", object{x: 1500, y: 400, w: 200, h: 120, class: "car"}.at(0, 0, nil), 0, false},
		{"two frames before", car.at(-0.5, 0, nil), -0.5, false},
		{"another size", object{x: 100, y: 400, w: 60, h: 40, class: "car"}.at(0, 0, nil), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(t, Config{})
			tc.faint.Confidence = 0.2
			update(t, tr, tc.at, tc.faint)
			if tc.at < 0 {
				update(t, tr, 0)
			}
			tracks := update(t, tr, 0.5, car.at(0.5, 0, nil))
			if len(tracks) != 1 {
				t.Fatalf("%d tracks, want 1", len(tracks))
			}
			tk := tracks[0]
			if got := len(tk.Trail) == 2; got != tc.fromTwo {
				t.Fatalf("trail of %d observations; want it to start on the faint box: %v", len(tk.Trail), tc.fromTwo)
			}
			if tk.Confirmed {
				t.Error("confirmed on its first high-score detection")
			}
			if tc.fromTwo && (tk.Velocity[0] < 0.2 || tk.Born != t0) {
				t.Errorf("velocity %v, born %v: want moving right (0.31/s) since t0", tk.Velocity, tk.Born)
			}
			if tracks = update(t, tr, 1, car.at(1, 0, nil)); len(tracks) != 1 || !tracks[0].Confirmed {
				t.Errorf("tracks %d, confirmed %v after a second high-score match; want 1 confirmed", len(tracks), len(tracks) == 1 && tracks[0].Confirmed)
			}
		})
	}
}

func TestFalsePositivesNeverConfirm(t *testing.T) {
	ghost := object{x: 800, y: 300, w: 100, h: 100, class: "person"}
	for _, tc := range []struct {
		name   string
		fps    float64
		frames int // consecutive frames the ghost is detected
	}{
		{"one frame at 2 fps", 2, 1},
		{"two frames at 5 fps (0.2 s)", 5, 2},
		{"one frame at 10 fps", 10, 1},
		{"three frames at 10 fps (0.2 s)", 10, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(t, Config{})
			seen := false
			for i := 0; float64(i)/tc.fps <= 5; i++ {
				s := float64(i) / tc.fps
				var dets []models.Detection
				if i < tc.frames {
					dets = append(dets, ghost.at(s, 0, nil))
				}
				for _, tk := range update(t, tr, s, dets...) {
					seen = true
					if tk.Confirmed {
						t.Fatalf("t=%.1fs: ghost confirmed", s)
					}
				}
				if s > 3 && len(tr.tracks) > 0 {
					t.Fatalf("t=%.1fs: ghost still tracked", s)
				}
			}
			if !seen {
				t.Error("the ghost never made a tentative track")
			}
		})
	}
}

func TestIDsNeverReused(t *testing.T) {
	car := object{x: 500, y: 400, w: 200, h: 120, class: "car"}
	tr := newTracker(t, Config{})
	var ids []uint64
	s := 0.0
	for round := range 3 {
		var id uint64
		for range 5 {
			tracks := update(t, tr, s, car.at(0, 0, nil))
			id = tracks[0].ID
			s += 0.5
		}
		ids = append(ids, id)
		s += 3 // longer than MaxAge: the track ends
		if tracks := update(t, tr, s); len(tracks) != 0 {
			t.Fatalf("round %d: track survived a 3 s gap", round)
		}
		if round == 1 {
			tr.Reset()
		}
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Errorf("ids %v: not increasing", ids)
		}
	}
}

func TestLowScoreBoxesOnlyExtendConfirmedTracks(t *testing.T) {
	car := object{x: 100, y: 400, w: 200, h: 120, vx: 150, class: "car"}
	tr := newTracker(t, Config{})
	var id uint64
	for i := 0; i <= 20; i++ {
		s := float64(i) / 5
		d := car.at(s, 0, nil)
		if s >= 1.5 {
			d.Confidence = 0.2 // partly hidden from 1.5 s on
		}
		tracks := update(t, tr, s, d)
		if len(tracks) != 1 {
			t.Fatalf("t=%.1fs: %d tracks", s, len(tracks))
		}
		if id == 0 {
			id = tracks[0].ID
		}
		if tracks[0].ID != id || !tracks[0].Updated {
			t.Fatalf("t=%.1fs: %+v, want id %d matched", s, tracks[0], id)
		}
	}
	// Low-score boxes alone never start a track, and very low ones are ignored.
	tr = newTracker(t, Config{})
	for i := range 10 {
		low := car.at(float64(i)/5, 0, nil)
		low.Confidence = 0.3
		noise := object{x: 1000, y: 100, w: 50, h: 50, class: "car", score: 0.05}.at(0, 0, nil)
		if tracks := update(t, tr, float64(i)/5, low, noise); len(tracks) != 0 {
			t.Fatalf("frame %d: %d tracks from low-score boxes", i, len(tracks))
		}
	}
}

func TestClassVoteAndCompatibility(t *testing.T) {
	car := object{x: 100, y: 400, w: 220, h: 140, vx: 200, class: "car"}
	tr := newTracker(t, Config{})
	var tracks []Track
	for i := 0; i <= 10; i++ {
		s := float64(i) / 5
		d := car.at(s, 0, nil)
		if i%3 == 1 {
			d.Class = "truck" // the detector hesitates
		}
		tracks = update(t, tr, s, d)
		if len(tracks) != 1 {
			t.Fatalf("t=%.1fs: %d tracks, want the truck/car as one", s, len(tracks))
		}
	}
	if tracks[0].Class != "car" {
		t.Errorf("class %q, want car (the majority)", tracks[0].Class)
	}
	// A person box on top of the car starts its own track.
	s := 11.0 / 5
	p := object{x: 100 + 200*s, y: 400, w: 220, h: 140, class: "person"}.at(0, 0, nil)
	tracks = update(t, tr, s, car.at(s, 0, nil), p)
	if len(tracks) != 2 || tracks[0].Class != "car" || tracks[1].Class != "person" {
		t.Errorf("tracks %+v, want the car and a new person", tracks)
	}
}

// TestSideBySideBirth: two cars enter together in adjacent lanes, their
// boxes overlapping (IoU 0.33), at 400 px/s. On the second frame neither
// track has a velocity: best pair first would give the front car the rear
// car's new box (at 5 fps IoU 0.62 against 0.58 for each car's own; at 2
// fps, 200 px on, 0.71 against 0.2) and the rear car the front one's. Two
// tracks seen once exchange their matches when that moves them less, so
// each keeps its id at every rate.
func TestSideBySideBirth(t *testing.T) {
	front := object{x: 250, y: 400, w: 300, h: 150, vx: 400, class: "car"}
	rear := object{x: 100, y: 400, w: 300, h: 150, vx: 400, class: "car"}
	for _, fps := range []float64{2, 5, 10} {
		tr := newTracker(t, Config{})
		ids := map[string]uint64{}
		for i := 0; float64(i)/fps <= 2; i++ {
			s := float64(i) / fps
			df, dr := front.at(s, 0, nil), rear.at(s, 0, nil)
			tracks := update(t, tr, s, dr, df)
			for name, d := range map[string]models.Detection{"front": df, "rear": dr} {
				tk := nearest(tracks, d)
				if tk == nil {
					t.Fatalf("%g fps, t=%.1fs: the %s car has no track", fps, s, name)
				}
				if ids[name] == 0 {
					ids[name] = tk.ID
				} else if tk.ID != ids[name] {
					t.Fatalf("%g fps, t=%.1fs: the %s car is on track %d, was %d", fps, s, name, tk.ID, ids[name])
				}
			}
		}
	}
}

// TestStandIns: a confirmed car whose detector names it a boat (a stand-in
// for a bus, high-scoring) for a few frames keeps its track, id and class
// through them; a stand-in never starts a track, not even at a high score;
// and one lying on a labelled box of its class group gives way to it.
func TestStandIns(t *testing.T) {
	car := object{x: 100, y: 400, w: 300, h: 150, vx: 400, class: "car", score: 0.6}
	boat := func(s float64) models.Detection {
		d := car.at(s, 0, nil)
		d.Class, d.Confidence, d.StandIn = "bus", 0.7, true
		return d
	}
	for _, fps := range []float64{2, 5} {
		tr := newTracker(t, Config{})
		var id uint64
		for i := 0; float64(i)/fps <= 3; i++ {
			s := float64(i) / fps
			d := car.at(s, 0, nil)
			if s >= 1 && s < 2.5 { // the vehicle in glare: named a boat only
				d = boat(s)
			}
			tracks := update(t, tr, s, d)
			if len(tracks) != 1 || !tracks[0].Updated {
				t.Fatalf("%g fps, t=%.1fs: tracks %+v, want the car's, matched", fps, s, tracks)
			}
			if id == 0 {
				id = tracks[0].ID
			}
			if tracks[0].ID != id || tracks[0].Class != "car" {
				t.Fatalf("%g fps, t=%.1fs: track %d %s, want %d car", fps, s, tracks[0].ID, tracks[0].Class, id)
			}
		}
	}

	tr := newTracker(t, Config{})
	for i := range 10 {
		if tracks := update(t, tr, float64(i)/5, boat(float64(i)/5)); len(tracks) != 0 {
			t.Fatalf("frame %d: %d tracks from stand-ins alone", i, len(tracks))
		}
	}

	// A track seen once, then named a boat only, stays tentative and ends.
	tr = newTracker(t, Config{})
	update(t, tr, 0, car.at(0, 0, nil))
	for i := 1; i <= 15; i++ {
		s := float64(i) / 5
		for _, tk := range update(t, tr, s, boat(s)) {
			if tk.Confirmed || tk.Updated {
				t.Fatalf("t=%.1fs: %+v: a stand-in matched a tentative track", s, tk)
			}
		}
	}

	// On a labelled box of its group (car) or of its own class (bus), the
	// stand-in gives way: the track takes the labelled box, and the stand-in
	// is not left over for a neighbour missed on that frame.
	neighbour := object{x: 250, y: 400, w: 300, h: 150, vx: 400, class: "car", score: 0.6} // IoU with car ≈ 0.33
	for _, class := range []string{"car", "bus"} {
		tr = newTracker(t, Config{})
		for i := range 10 {
			s := float64(i) / 5
			update(t, tr, s, car.at(s, 0, nil), neighbour.at(s, 0, nil))
		}
		s := 2.0
		labelled := car.at(s, 0, nil)
		labelled.Class = class
		tracks := update(t, tr, s, boat(s), labelled) // the neighbour is missed
		var matched []float32
		for _, tk := range tracks {
			if tk.Updated {
				matched = append(matched, tk.Confidence)
			}
		}
		if len(tracks) != 2 || len(matched) != 1 || matched[0] != 0.6 {
			t.Fatalf("labelled %s: %d tracks, matched with scores %v; want two, one matched to the labelled box (0.6), the missed neighbour not to the stand-in",
				class, len(tracks), matched)
		}
	}
}

// TestOneObjectScoredTwoClasses gives, on every frame, one vehicle's box
// twice, as car and as a weaker truck (both high-score): one track, not
// two; a truck beside it, overlapping less than MergeIoU, keeps its own.
func TestOneObjectScoredTwoClasses(t *testing.T) {
	car := object{x: 100, y: 400, w: 220, h: 140, vx: 200, class: "car", score: 0.7}
	twin := car
	twin.class, twin.score, twin.y = "truck", 0.6, 405
	beside := object{x: 260, y: 420, w: 220, h: 140, vx: 200, class: "truck", score: 0.6} // IoU with the car ≈ 0.35
	tr := newTracker(t, Config{})
	var tracks []Track
	for i := 0; i <= 10; i++ {
		s := float64(i) / 5
		tracks = update(t, tr, s, twin.at(s, 0, nil), car.at(s, 0, nil), beside.at(s, 0, nil))
	}
	if len(tracks) != 2 || !tracks[0].Confirmed || !tracks[1].Confirmed {
		t.Fatalf("%d tracks, want two confirmed: the car (also scored truck) and the truck beside it", len(tracks))
	}
	if tracks[0].Class != "car" || tracks[1].Class != "truck" {
		t.Errorf("classes %q, %q; want car, truck", tracks[0].Class, tracks[1].Class)
	}
}

func TestTrail(t *testing.T) {
	tr := newTracker(t, Config{Trail: 4})
	car := object{x: 100, y: 400, w: 200, h: 120, vx: 100, class: "car"}
	var tracks []Track
	for i := range 7 {
		tracks = update(t, tr, float64(i)/5, car.at(float64(i)/5, 0, nil))
	}
	trail := tracks[0].Trail
	if len(trail) != 4 || cap(trail) != 4 {
		t.Fatalf("trail of %d (cap %d), want 4", len(trail), cap(trail))
	}
	for i := 1; i < len(trail); i++ {
		if !trail[i].TS.After(trail[i-1].TS) {
			t.Errorf("trail not oldest first: %v", trail)
		}
	}
	if want := t0.Add(1200 * time.Millisecond); !trail[3].TS.Equal(want) {
		t.Errorf("last observation at %v, want %v", trail[3].TS, want)
	}
}

func TestUpdateErrors(t *testing.T) {
	tr := newTracker(t, Config{})
	if _, err := tr.Update(t0, nil, 0, 1080); !errors.Is(err, ErrFrameSize) {
		t.Errorf("zero width: %v", err)
	}
	update(t, tr, 1)
	if _, err := tr.Update(t0, nil, frameW, frameH); !errors.Is(err, ErrTimeBackwards) {
		t.Errorf("time backwards: %v", err)
	}
	// Non-finite and empty boxes are ignored, not tracked.
	bad := []models.Detection{
		{Class: "car", Confidence: 0.9, Box: [4]float32{10, 10, 10, 50}},
		{Class: "car", Confidence: 0.9, Box: [4]float32{float32(nan()), 10, 30, 50}},
	}
	if tracks := update(t, tr, 2, bad...); len(tracks) != 0 {
		t.Errorf("%d tracks from unusable boxes", len(tracks))
	}
}

func nan() float64 { var z float64; return z / z }

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"negative max age", Config{MaxAge: -time.Second}},
		{"scores reversed", Config{LowScore: 0.6, HighScore: 0.5}},
		{"window shorter than age", Config{ConfirmAge: 3 * time.Second, ConfirmWindow: time.Second}},
		{"iou above 1", Config{MinIoU: 1.5}},
		{"negative hits", Config{ConfirmHits: -1}},
		{"merge overlap above 1", Config{MergeIoU: 1.2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("got %v", err)
			}
		})
	}
}

// BenchmarkUpdate50 tracks 50 moving objects at 10 fps and reports the
// cost per frame.
func BenchmarkUpdate50(b *testing.B) {
	const n = 50
	objs := make([]object, n)
	for i := range objs {
		objs[i] = object{
			x: float64(20 + (i%10)*180), y: float64(40 + (i/10)*200),
			w: 120, h: 90, vx: float64(10 + i%7*5), vy: float64(i % 5 * 4), class: "car",
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	tr := newTracker(b, Config{})
	dets := make([]models.Detection, n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s := float64(i%600) / 10 // the objects wrap around every minute
		if i%600 == 0 && i > 0 {
			tr.Reset()
		}
		for j, o := range objs {
			dets[j] = o.at(s, 2, rng)
		}
		if _, err := tr.Update(t0.Add(time.Duration(i)*100*time.Millisecond), dets, frameW, frameH); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
	b.ReportMetric(n, "objects/frame")
}
