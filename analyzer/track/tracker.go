package track

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/matthan/matthan/models"
)

// Noise of the motion model, in units of the box's own size so that near
// and far objects are treated alike.
const (
	// measureNoise is the standard deviation of a detected box edge
	// position, as a fraction of the box size (detector jitter).
	measureNoise = 0.05
	// accelNoise is the standard deviation of the acceleration of the box
	// centre, in box sizes per second²: braking, turning, and perspective
	// changing the apparent speed.
	accelNoise = 1.0
	// sizeNoise is the same for the width and height, which change slowly
	// (an object approaching the camera).
	sizeNoise = 0.2
	// minSize is the smallest box side, in normalised units, the noise is
	// scaled by, so that a degenerate box cannot make the filter certain.
	minSize = 1e-3
)

// Track is one followed object as of the latest Update.
type Track struct {
	// ID is unique for the tracker's lifetime; ids are never reused.
	ID uint64
	// Class is the class most of the track's detections voted for.
	Class string
	// Confidence is the score of the latest matched detection.
	Confidence float32
	// Box is the estimated box, x1, y1, x2, y2 normalised to the frame
	// (0..1, may stray slightly outside at the frame's edges); for a track
	// not matched in this frame it is the predicted box.
	Box [4]float32
	// Velocity is the estimated velocity of the box centre in normalised
	// units per second (x right, y down).
	Velocity [2]float32
	// Confirmed is set once the track has had enough matches (see Config);
	// it stays set for the track's life.
	Confirmed bool
	// Updated is whether a detection matched the track in this frame.
	Updated bool
	// Born is the capture time of the track's first detection.
	Born time.Time
	// LastSeen is the capture time of its latest matched detection.
	LastSeen time.Time
	// Age is the time from Born to the frame of this Update.
	Age time.Duration
	// Hits is the number of detections matched so far.
	Hits int
	// Trail holds the latest matched detections, oldest first (at most
	// Config.Trail).
	Trail []Observation
}

// Observation is one detection matched to a track.
type Observation struct {
	// TS is the frame's capture time.
	TS time.Time
	// Box is the detected box, normalised (x1, y1, x2, y2).
	Box [4]float32
}

// Tracker follows the objects of one camera. Create it with New; it is not
// safe for concurrent use.
type Tracker struct {
	cfg    Config
	groups map[string]int // class → index of its group in ClassGroups
	nextID uint64
	last   time.Time // capture time of the previous Update
	tracks []*state

	// Scratch space reused across Updates.
	pairs  []pair
	chosen []pair             // the matches of one association pass
	simOf  map[[2]int]float64 // the pairs' similarities by track and detection
	dets   []det

	// leftover holds the low-score detections no track took on the frame
	// captured at leftoverTS, the previous one: a track born on the next
	// frame may start from one of them (lookBack).
	leftover   []det
	leftoverTS time.Time
}

// state is a track's internal state.
type state struct {
	id           uint64
	cx, cy, w, h axis
	class        string
	votes        []vote
	confidence   float32
	confirmed    bool
	updated      bool
	born, seen   time.Time
	hits         int
	trail        []Observation // ring buffer
	trailStart   int
	matched      bool // scratch: matched in the current Update
}

type vote struct {
	class  string
	weight float32
}

// det is a detection normalised to the frame.
type det struct {
	box     [4]float64
	class   string
	score   float32
	standIn bool // models.Detection.StandIn: may only continue a confirmed track
	matched bool
}

// pair is a candidate match of a track and a detection.
type pair struct {
	sim   float64
	track int
	det   int
}

// New returns a tracker with cfg's zero fields set to their defaults, or an
// error wrapping ErrInvalidConfig naming a field out of range.
func New(cfg Config) (*Tracker, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	t := &Tracker{cfg: c, groups: make(map[string]int)}
	for i, g := range c.ClassGroups {
		for _, class := range g {
			t.groups[class] = i
		}
	}
	return t, nil
}

// Config returns the tracker's configuration with its defaults filled in.
func (t *Tracker) Config() Config { return t.cfg }

// Reset drops every track, for example after the camera's clock jumped.
// Ids keep counting up.
func (t *Tracker) Reset() {
	t.tracks = t.tracks[:0]
	t.last = time.Time{}
	t.leftover, t.leftoverTS = t.leftover[:0], time.Time{}
}

// Update advances the tracks to the frame captured at ts whose detections
// (boxes in pixels of a frameW × frameH frame) are dets, and returns every
// live track, tentative and confirmed, ordered by id. A track missing from
// the result has ended. The result is the caller's.
func (t *Tracker) Update(ts time.Time, dets []models.Detection, frameW, frameH int) ([]Track, error) {
	if frameW <= 0 || frameH <= 0 {
		return nil, fmt.Errorf("track: %dx%d: %w", frameW, frameH, ErrFrameSize)
	}
	if !t.last.IsZero() && ts.Before(t.last) {
		return nil, fmt.Errorf("track: %s after %s: %w", ts.Format(time.RFC3339Nano), t.last.Format(time.RFC3339Nano), ErrTimeBackwards)
	}
	var dt float64
	if !t.last.IsZero() {
		dt = ts.Sub(t.last).Seconds()
	}
	t.last = ts

	t.normalise(dets, frameW, frameH)
	for _, s := range t.tracks {
		s.predict(dt)
		s.matched, s.updated = false, false
	}

	// First pass: high-score detections against every track.
	t.associate(ts, true)
	// Second pass: low-score detections against confirmed tracks left over.
	t.associate(ts, false)

	// Unmatched high-score detections start tentative tracks.
	for i := range t.dets {
		d := &t.dets[i]
		if d.matched || d.score < t.cfg.HighScore || d.standIn {
			continue
		}
		t.nextID++
		t.tracks = append(t.tracks, t.start(t.nextID, ts, d))
	}
	t.keepLeftovers(ts)

	// Drop the tracks that ended.
	t.tracks = slices.DeleteFunc(t.tracks, func(s *state) bool {
		switch {
		case ts.Sub(s.seen) > t.cfg.MaxAge:
			return true
		case !s.confirmed && ts.Sub(s.born) > t.cfg.ConfirmWindow:
			return true
		}
		b := s.box()
		return b[2] < 0 || b[0] > 1 || b[3] < 0 || b[1] > 1 // predicted out of view
	})
	return t.snapshot(ts), nil
}

// normalise fills t.dets with the usable detections in frame units.
func (t *Tracker) normalise(dets []models.Detection, frameW, frameH int) {
	t.dets = t.dets[:0]
	fw, fh := float64(frameW), float64(frameH)
	for _, d := range dets {
		b := [4]float64{float64(d.Box[0]) / fw, float64(d.Box[1]) / fh, float64(d.Box[2]) / fw, float64(d.Box[3]) / fh}
		ok := d.Confidence >= t.cfg.LowScore && b[2] > b[0] && b[3] > b[1]
		for _, v := range b {
			ok = ok && !math.IsNaN(v) && !math.IsInf(v, 0)
		}
		if ok {
			t.dets = append(t.dets, det{box: b, class: d.Class, score: d.Confidence, standIn: d.StandIn})
		}
	}
	t.merge()
}

// merge drops each detection overlapping a stronger one of its class group
// by at least MergeIoU: the same object scored as two classes. A stand-in
// ranks below every labelled box and also gives way to one of its own
// class: it only fills in for a vehicle the detector did not name.
func (t *Tracker) merge() {
	slices.SortStableFunc(t.dets, func(a, b det) int {
		if a.standIn != b.standIn {
			if a.standIn {
				return 1
			}
			return -1
		}
		return cmp.Compare(b.score, a.score)
	})
	kept := t.dets[:0]
	for _, d := range t.dets {
		if !slices.ContainsFunc(kept, func(k det) bool {
			return (k.class != d.class || d.standIn) && t.compatible(k.class, d.class) && iou(k.box, d.box) >= t.cfg.MergeIoU
		}) {
			kept = append(kept, d)
		}
	}
	t.dets = kept
}

// associate matches, greedily by similarity, the unmatched tracks with the
// unmatched detections of one pass: high-score detections with every
// track, or low-score ones with confirmed tracks.
func (t *Tracker) associate(ts time.Time, high bool) {
	t.pairs = t.pairs[:0]
	for ti, s := range t.tracks {
		if s.matched || (!high && !s.confirmed) {
			continue
		}
		pb := s.box64()
		for di := range t.dets {
			d := &t.dets[di]
			if d.matched || (d.score >= t.cfg.HighScore && !d.standIn) != high || !t.compatible(s.class, d.class) {
				continue
			}
			sim := iou(pb, d.box)
			minIoU := t.cfg.MinIoU
			if !high {
				minIoU = t.cfg.LowMinIoU
			}
			if sim < minIoU {
				sim = 0
				if high && s.hits == 1 {
					sim = t.jumpSimilarity(s, d, ts)
				}
				if sim <= 0 {
					continue
				}
			}
			t.pairs = append(t.pairs, pair{sim: sim, track: ti, det: di})
		}
	}
	slices.SortFunc(t.pairs, func(a, b pair) int {
		if c := cmp.Compare(b.sim, a.sim); c != 0 {
			return c
		}
		if c := cmp.Compare(a.track, b.track); c != 0 { // older track first
			return c
		}
		return cmp.Compare(a.det, b.det)
	})
	t.chosen = t.chosen[:0]
	for _, p := range t.pairs {
		s, d := t.tracks[p.track], &t.dets[p.det]
		if s.matched || d.matched {
			continue
		}
		s.matched, d.matched = true, true
		t.chosen = append(t.chosen, p)
	}
	t.exchange()
	for _, p := range t.chosen {
		t.tracks[p.track].observe(ts, &t.dets[p.det], t.cfg)
	}
}

// exchange improves the greedy matching by swaps: two matched pairs, one
// of them a track seen once, exchange their detections when these are
// together more similar to the tracks — or, both tracks seen once, when
// they move them less (the sum of the squared displacements in box
// sizes). Best pairs first is optimal when the tracks carry a velocity;
// two tracks seen once, side by side, are predicted where they were, and
// the rear one's box may overlap the front one's new box best (two cars
// entering in adjacent lanes together would swap ids).
func (t *Tracker) exchange() {
	if len(t.chosen) < 2 || !slices.ContainsFunc(t.chosen, func(p pair) bool { return t.tracks[p.track].hits == 1 }) {
		return // every track has a velocity
	}
	if t.simOf == nil {
		t.simOf = make(map[[2]int]float64)
	}
	clear(t.simOf)
	for _, p := range t.pairs {
		t.simOf[[2]int{p.track, p.det}] = p.sim
	}
	sim := func(track, det int) float64 {
		if v, ok := t.simOf[[2]int{track, det}]; ok {
			return v
		}
		return -1 // not a candidate pair: gated out
	}
	for improved, rounds := true, 0; improved && rounds < len(t.chosen); rounds++ {
		improved = false
		for i := range t.chosen {
			for j := i + 1; j < len(t.chosen); j++ {
				a, b := &t.chosen[i], &t.chosen[j]
				sa, sb := t.tracks[a.track], t.tracks[b.track]
				if sa.hits > 1 && sb.hits > 1 {
					continue
				}
				ab, ba := sim(a.track, b.det), sim(b.track, a.det)
				if ab < 0 || ba < 0 {
					continue
				}
				better := ab+ba > a.sim+b.sim+1e-9
				if sa.hits == 1 && sb.hits == 1 {
					// Neither has a velocity: the least motion wins.
					better = t.motion(sa, b.det)+t.motion(sb, a.det) < t.motion(sa, a.det)+t.motion(sb, b.det)-1e-9
				}
				if better {
					a.det, b.det, a.sim, b.sim = b.det, a.det, ab, ba
					improved = true
				}
			}
		}
	}
}

// motion is how far detection di lies from track s's box: the squared
// displacement of the centre in units of the box's size.
func (t *Tracker) motion(s *state, di int) float64 {
	b, d := s.box64(), t.dets[di].box
	w, h := math.Max(b[2]-b[0], minSize), math.Max(b[3]-b[1], minSize)
	dx := ((d[0]+d[2])/2 - (b[0]+b[2])/2) / w
	dy := ((d[1]+d[3])/2 - (b[1]+b[3])/2) / h
	return dx*dx + dy*dy
}

// maxJumpGap is the longest gap over which within joins an object to a box
// it does not overlap: one missed frame at 2 fps. After longer the reach
// would span much of the picture and join two objects.
const maxJumpGap = time.Second

// jumpSimilarity scores a detection for a track seen once, which has no
// velocity yet: a detection within reach of its box scores between 0 and
// MinIoU, closer scoring higher, so it ranks below every overlapping pair.
func (t *Tracker) jumpSimilarity(s *state, d *det, ts time.Time) float64 {
	return t.cfg.MinIoU * t.within(s.box64(), d.box, ts.Sub(s.seen)) * 0.999
}

// within tells how close box b is to where an object in box a may be gap
// later: 1 on a's centre falling to 0 at MaxSpeed box lengths per second
// (no further than maxJumpGap), and 0 for a box of another size (more than
// twice or less than half as wide or as high).
func (t *Tracker) within(a, b [4]float64, gap time.Duration) float64 {
	w, h := math.Max(a[2]-a[0], minSize), math.Max(a[3]-a[1], minSize)
	bw, bh := b[2]-b[0], b[3]-b[1]
	if bw < w/2 || bw > 2*w || bh < h/2 || bh > 2*h || gap <= 0 || gap > maxJumpGap {
		return 0
	}
	dx := ((b[0]+b[2])/2 - (a[0]+a[2])/2) / w
	dy := ((b[1]+b[3])/2 - (a[1]+a[3])/2) / h
	reach := t.cfg.MaxSpeed * gap.Seconds()
	return math.Max(0, 1-math.Hypot(dx, dy)/reach)
}

// start returns a new tentative track for the unmatched high-score
// detection d. When a low-score box of the frame before, which no track
// took, lies within reach (lookBack), the track starts there: the object
// was already in view, too faint to start a track, and where it came from
// matters to a counting line it has just crossed. That box places the
// track but does not count towards its confirmation.
func (t *Tracker) start(id uint64, ts time.Time, d *det) *state {
	prev := t.lookBack(ts, d)
	if prev == nil {
		return t.newState(id, ts, d)
	}
	s := t.newState(id, t.leftoverTS, prev)
	s.hits = 0
	s.predict(ts.Sub(t.leftoverTS).Seconds())
	s.observe(ts, d, t.cfg)
	return s
}

// lookBack takes out of the previous frame's leftovers and returns the one
// of a class compatible with d nearest to it within reach, or nil.
func (t *Tracker) lookBack(ts time.Time, d *det) *det {
	best, score := -1, 0.0
	for i := range t.leftover {
		l := &t.leftover[i]
		if l.matched || !t.compatible(l.class, d.class) {
			continue
		}
		if v := t.within(l.box, d.box, ts.Sub(t.leftoverTS)); v > score {
			best, score = i, v
		}
	}
	if best < 0 {
		return nil
	}
	t.leftover[best].matched = true
	return &t.leftover[best]
}

// keepLeftovers remembers the frame's low-score detections no track took
// (stand-ins aside: they never begin a track).
func (t *Tracker) keepLeftovers(ts time.Time) {
	t.leftover = t.leftover[:0]
	for _, d := range t.dets {
		if !d.matched && d.score < t.cfg.HighScore && !d.standIn {
			t.leftover = append(t.leftover, d)
		}
	}
	t.leftoverTS = ts
}

// compatible reports whether a detection of class b may match a track of
// class a.
func (t *Tracker) compatible(a, b string) bool {
	if a == b {
		return true
	}
	ga, oka := t.groups[a]
	gb, okb := t.groups[b]
	return oka && okb && ga == gb
}

func (t *Tracker) newState(id uint64, ts time.Time, d *det) *state {
	w, h := math.Max(d.box[2]-d.box[0], minSize), math.Max(d.box[3]-d.box[1], minSize)
	vw, vh := t.cfg.MaxSpeed*w, t.cfg.MaxSpeed*h
	s := &state{
		id:         id,
		cx:         newAxis((d.box[0]+d.box[2])/2, sq(measureNoise*w), vw*vw),
		cy:         newAxis((d.box[1]+d.box[3])/2, sq(measureNoise*h), vh*vh),
		w:          newAxis(w, sq(measureNoise*w), sq(sizeNoise*w)),
		h:          newAxis(h, sq(measureNoise*h), sq(sizeNoise*h)),
		class:      d.class,
		confidence: d.score,
		born:       ts,
		seen:       ts,
		hits:       1,
		updated:    true,
		matched:    true,
		trail:      make([]Observation, 0, t.cfg.Trail),
	}
	s.vote(d.class, d.score)
	s.remember(ts, d.box, t.cfg.Trail)
	s.confirm(t.cfg)
	return s
}

// predict moves the track dt seconds ahead.
func (s *state) predict(dt float64) {
	w, h := math.Max(s.w.x, minSize), math.Max(s.h.x, minSize)
	s.cx.predict(dt, sq(accelNoise*w))
	s.cy.predict(dt, sq(accelNoise*h))
	s.w.predict(dt, sq(sizeNoise*w))
	s.h.predict(dt, sq(sizeNoise*h))
	if s.w.x < minSize {
		s.w.x = minSize
	}
	if s.h.x < minSize {
		s.h.x = minSize
	}
}

// observe corrects the track with a matched detection.
func (s *state) observe(ts time.Time, d *det, cfg Config) {
	w, h := math.Max(d.box[2]-d.box[0], minSize), math.Max(d.box[3]-d.box[1], minSize)
	s.cx.update((d.box[0]+d.box[2])/2, sq(measureNoise*w))
	s.cy.update((d.box[1]+d.box[3])/2, sq(measureNoise*h))
	s.w.update(w, sq(measureNoise*w))
	s.h.update(h, sq(measureNoise*h))
	s.confidence = d.score
	s.seen = ts
	s.hits++
	s.updated = true
	if !d.standIn { // its class is the model's guess, not a reading
		s.vote(d.class, d.score)
	}
	s.remember(ts, d.box, cfg.Trail)
	s.confirm(cfg)
}

// confirm promotes a tentative track that has had enough matches.
func (s *state) confirm(cfg Config) {
	if !s.confirmed && s.hits >= cfg.ConfirmHits && s.seen.Sub(s.born) >= cfg.ConfirmAge &&
		s.seen.Sub(s.born) <= cfg.ConfirmWindow {
		s.confirmed = true
	}
}

// vote adds a detection's class vote; the track takes the heaviest class
// and keeps its current one on a tie.
func (s *state) vote(class string, score float32) {
	i := slices.IndexFunc(s.votes, func(v vote) bool { return v.class == class })
	if i < 0 {
		s.votes = append(s.votes, vote{class: class})
		i = len(s.votes) - 1
	}
	s.votes[i].weight += score
	var best float32 = -1
	for _, v := range s.votes {
		if v.class == s.class {
			best = v.weight
		}
	}
	for _, v := range s.votes {
		if v.weight > best {
			best, s.class = v.weight, v.class
		}
	}
}

func (s *state) remember(ts time.Time, b [4]float64, n int) {
	o := Observation{TS: ts, Box: f32(b)}
	if len(s.trail) < n {
		s.trail = append(s.trail, o)
		return
	}
	s.trail[s.trailStart] = o
	s.trailStart = (s.trailStart + 1) % n
}

func (s *state) box64() [4]float64 {
	return [4]float64{s.cx.x - s.w.x/2, s.cy.x - s.h.x/2, s.cx.x + s.w.x/2, s.cy.x + s.h.x/2}
}

func (s *state) box() [4]float32 { return f32(s.box64()) }

// snapshot copies the live tracks out, trails sharing one allocation.
func (t *Tracker) snapshot(ts time.Time) []Track {
	out := make([]Track, len(t.tracks))
	n := 0
	for _, s := range t.tracks {
		n += len(s.trail)
	}
	trails := make([]Observation, 0, n)
	for i, s := range t.tracks {
		start := len(trails)
		trails = append(trails, s.trail[s.trailStart:]...)
		trails = append(trails, s.trail[:s.trailStart]...)
		out[i] = Track{
			ID:         s.id,
			Class:      s.class,
			Confidence: s.confidence,
			Box:        s.box(),
			Velocity:   [2]float32{float32(s.cx.v), float32(s.cy.v)},
			Confirmed:  s.confirmed,
			Updated:    s.updated,
			Born:       s.born,
			LastSeen:   s.seen,
			Age:        ts.Sub(s.born),
			Hits:       s.hits,
			Trail:      trails[start:len(trails):len(trails)],
		}
	}
	return out // t.tracks is in creation order, so by id
}

// iou is the intersection over union of two boxes.
func iou(a, b [4]float64) float64 {
	iw := math.Min(a[2], b[2]) - math.Max(a[0], b[0])
	ih := math.Min(a[3], b[3]) - math.Max(a[1], b[1])
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	return inter / ((a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - inter)
}

func sq(v float64) float64 { return v * v }

func f32(b [4]float64) [4]float32 {
	return [4]float32{float32(b[0]), float32(b[1]), float32(b[2]), float32(b[3])}
}
