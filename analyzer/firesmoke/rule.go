package firesmoke

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

// Association of a detection with a region: it joins the region whose
// smoothed box it overlaps best, when the boxes' IoU reaches assocIoU or
// the smaller box lies mostly (assocOverlap) inside the larger. Flames and
// plumes change shape from one sample to the next, so the bar is lower than
// a tracker's for rigid objects.
const (
	assocIoU     = 0.3
	assocOverlap = 0.5
)

// Alert is one alert.fire or alert.smoke event with its evidence snapshot.
type Alert struct {
	// Event is the event; SystemID, Tier, Node and Model are left for the
	// caller to fill.
	Event sink.Event
	// Snapshot is the JPEG of the frame that proved the alert, with the
	// region drawn; Event.Evidence.SnapshotSHA256 is its sha256.
	Snapshot []byte
}

// Candidate is a region followed by a Rule, with its measures over the
// window, for annotation and diagnosis.
type Candidate struct {
	// ID numbers the region, unique within the Rule (Object.TrackID of its
	// events).
	ID int64
	// Class is fire or smoke (the Config's class names).
	Class string
	// Box is the smoothed box, x1, y1, x2, y2 normalised to the frame.
	Box [4]float32
	// Zone is the smoke_watch zone the region lies in, "" without such zones.
	Zone string
	// Votes is the fraction of the window's samples with a detection.
	Votes float64
	// Score is the mean score of the window's detections; Peak the best ever.
	Score, Peak float32
	// Change is the median brightness change in place between samples
	// beyond the picture's own: the whole picture's offset (exposure) is
	// taken out of every difference, and its median remaining change (the
	// still scene's noise and drift, larger the further apart the samples)
	// out of the region's. In grey levels (flicker for fire, activity for
	// smoke); NaN when unknown.
	Change float64
	// Spread is the median fraction of the region's pixels that changed
	// between samples; NaN when unknown.
	Spread float64
	// Strength is the median mean change of those pixels, in grey levels:
	// soft for translucent smoke, strong for solid things moving; NaN when
	// unknown.
	Strength float64
	// Rigid is the median change along the box's motion over the change in
	// place; small for a solid object moving; NaN when unknown.
	Rigid float64
	// Growth is the box area over its area when first seen.
	Growth float64
	// Drift is the centre's displacement since first seen, in box sizes
	// (the larger of the first and the current box); Rise its upward part.
	Drift, Rise float64
	// Persistence is the time since the region was first seen.
	Persistence time.Duration
	// Area is the smoothed box's share of the frame.
	Area float64
	// Severity is 1–3 when the region qualifies for an alert, else 0.
	Severity int
	// Why says which test the region failed, "" when it qualifies.
	Why string
}

// Rule turns one camera's fire and smoke detections into alert.fire and
// alert.smoke events, frame by frame (see the package documentation). It is
// not safe for concurrent use.
type Rule struct {
	camera string
	cfg    Config
	watch  []scene.Zone // smoke_watch zones
	ignore []scene.Zone // ignore zones

	cur, prev thumb
	hist      [baselineBins + 1]int // thumb.baseline's scratch
	hasPrev   bool
	lastTS    time.Time
	regions   map[int64]*region
	nextID    int64
	alerts    map[alertKey]*alertState
	cands     []Candidate
}

// alertKey is what one alert is about: a class in a smoke_watch zone ("" for
// the whole view).
type alertKey struct {
	class, zone string
}

// alertState is the alert raised for a key.
type alertState struct {
	severity  int
	lastValid time.Time // last sample with a qualifying region
}

// New returns a Rule for camera over the scene's zones: detections count only
// inside smoke_watch zones when there are any, never inside ignore zones
// (those listing classes drop only those classes); other kinds are ignored.
func New(camera string, zones []scene.Zone, cfg Config) (*Rule, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Rule{camera: camera, cfg: cfg, regions: make(map[int64]*region), alerts: make(map[alertKey]*alertState)}
	for _, z := range zones {
		switch z.Kind {
		case scene.ZoneSmokeWatch:
			r.watch = append(r.watch, z)
		case scene.ZoneIgnore:
			r.ignore = append(r.ignore, z)
		}
	}
	return r, nil
}

// Observe takes one analysed frame captured at ts and the fire/smoke
// detector's detections on it (in frame pixels, down to Config.MinScore or
// lower), and returns the alerts it raises: a region's first qualifying
// sample, or a rise of its class and zone's severity. Frames must come in
// capture order; the frame is read during the call only.
func (r *Rule) Observe(ts time.Time, frame *decode.Frame, dets []models.Detection) ([]Alert, error) {
	if err := checkFrame(frame); err != nil {
		return nil, fmt.Errorf("fire/smoke rule of %s: %w", r.camera, err)
	}
	if r.hasPrev && (!ts.After(r.lastTS) || ts.Sub(r.lastTS) > r.cfg.Window) {
		r.reset() // time went back or a gap longer than the window: start over
	}
	r.prev, r.cur = r.cur, r.prev
	r.cur.build(frame)
	havePrev := r.hasPrev && r.cur.sameGeometry(&r.prev)
	r.hasPrev, r.lastTS = true, ts
	var offset, floor float32 // how the whole picture changed since the last sample
	if havePrev {
		offset, floor = r.cur.baseline(&r.prev, &r.hist)
	}
	fw, fh := float32(frame.Width), float32(frame.Height)
	frameArea := float64(frame.Width) * float64(frame.Height)

	hits := make(map[int64]*sample)
	order := slices.Clone(dets)
	slices.SortStableFunc(order, func(a, b models.Detection) int {
		switch {
		case a.Confidence > b.Confidence:
			return -1
		case a.Confidence < b.Confidence:
			return 1
		}
		return 0
	})
	for _, d := range order {
		if (d.Class != r.cfg.FireClass && d.Class != r.cfg.SmokeClass) || d.Confidence < r.cfg.MinScore {
			continue
		}
		if !r.considered(d, fw, fh) {
			continue
		}
		id, ok := r.associate(d)
		if !ok {
			id = r.nextID
			r.nextID++
			r.regions[id] = newRegion(d.Class, ts, d.Box)
		}
		if h, ok := hits[id]; ok {
			h.box = union(h.box, d.Box)
			h.score = max(h.score, d.Confidence)
		} else {
			hits[id] = &sample{ts: ts, hit: true, score: d.Confidence, box: d.Box}
		}
	}

	var out []Alert
	r.cands = r.cands[:0]
	valid := make(map[alertKey]int) // the best qualifying candidate per key
	for _, id := range slices.Sorted(maps.Keys(r.regions)) {
		rg := r.regions[id]
		sm := sample{ts: ts, change: math.NaN(), spread: math.NaN(), strength: math.NaN(), rigid: math.NaN()}
		if h, ok := hits[id]; ok {
			sm = *h
			sm.change, sm.spread, sm.strength, sm.rigid = math.NaN(), math.NaN(), math.NaN(), math.NaN()
			var prevBox [4]float32
			prevHit := len(rg.samples) > 0 && rg.samples[len(rg.samples)-1].hit
			if prevHit {
				prevBox = rg.samples[len(rg.samples)-1].box
			}
			rg.hit(h.box, h.score, ts)
			if havePrev && prevHit && centre(prevBox) != centre(h.box) {
				if c, _, _ := r.cur.diff(&r.prev, h.box, offset); c > 0 {
					sm.rigid = r.cur.shiftedDiff(&r.prev, h.box, prevBox, offset) / c
				}
			}
		}
		if havePrev {
			sm.change, sm.spread, sm.strength = r.cur.diff(&r.prev, rg.box, offset)
			sm.change = max(0, sm.change-float64(floor))
		}
		rg.samples = append(rg.samples, sm)
		rg.prune(ts, r.cfg.Window)
		if ts.Sub(rg.lastHit) > r.cfg.Window {
			delete(r.regions, id)
			continue
		}
		c := r.judge(id, rg, ts, frameArea, fw, fh)
		r.cands = append(r.cands, c)
		if c.Severity == 0 {
			continue
		}
		k := alertKey{c.Class, c.Zone}
		if i, ok := valid[k]; !ok || c.Severity > r.cands[i].Severity ||
			(c.Severity == r.cands[i].Severity && c.Score > r.cands[i].Score) {
			valid[k] = len(r.cands) - 1
		}
	}

	for _, k := range slices.SortedFunc(maps.Keys(valid), func(a, b alertKey) int {
		return cmp.Or(strings.Compare(a.class, b.class), strings.Compare(a.zone, b.zone))
	}) {
		c := r.cands[valid[k]]
		st, ok := r.alerts[k]
		if !ok {
			st = &alertState{}
			r.alerts[k] = st
		}
		st.lastValid = ts
		if c.Severity <= st.severity {
			continue
		}
		st.severity = c.Severity
		a, err := r.alert(ts, frame, c, r.regions[c.ID])
		if err != nil {
			return out, fmt.Errorf("fire/smoke rule of %s: %w", r.camera, err)
		}
		out = append(out, a)
	}
	for k, st := range r.alerts {
		if ts.Sub(st.lastValid) > r.cfg.Quiet {
			delete(r.alerts, k)
		}
	}
	return out, nil
}

// considered reports whether a detection lies where the rule looks: inside a
// smoke_watch zone when there are any, in no ignore zone for its class. The
// reference point is the bottom centre of the box, as for every zone rule:
// the base of a plume or a fire.
func (r *Rule) considered(d models.Detection, fw, fh float32) bool {
	p := scene.BottomCentre(normBox(d.Box, fw, fh))
	for _, z := range r.ignore {
		if (len(z.Classes) == 0 || slices.Contains(z.Classes, d.Class)) && z.Polygon.Contains(p) {
			return false
		}
	}
	if len(r.watch) == 0 {
		return true
	}
	return r.watchZone(p) != ""
}

// watchZone returns the id of the first smoke_watch zone holding p.
func (r *Rule) watchZone(p scene.Point) string {
	for _, z := range r.watch {
		if z.Polygon.Contains(p) {
			return z.ID
		}
	}
	return ""
}

// associate returns the region of d's class d belongs to, if any.
func (r *Rule) associate(d models.Detection) (int64, bool) {
	var best int64
	bestM := 0.0
	for id, rg := range r.regions {
		if rg.class != d.Class {
			continue
		}
		iou := float64(models.IoU(d.Box, rg.box))
		ov := overlap(d.Box, rg.box)
		if iou < assocIoU && ov < assocOverlap {
			continue
		}
		if m := iou + ov; m > bestM || (m == bestM && id < best) {
			best, bestM = id, m
		}
	}
	return best, bestM > 0
}

// judge measures a region and decides whether it qualifies for an alert.
func (r *Rule) judge(id int64, rg *region, ts time.Time, frameArea float64, fw, fh float32) Candidate {
	s := rg.stats(ts, frameArea)
	nb := normBox(rg.box, fw, fh)
	c := Candidate{
		ID: id, Class: rg.class, Box: nb, Votes: s.votes, Score: s.meanScore, Peak: rg.peak,
		Change: s.change, Spread: s.spread, Strength: s.strength, Rigid: s.rigid, Growth: s.growth, Drift: s.drift, Rise: s.rise,
		Persistence: s.persistence, Area: s.areaFrac,
	}
	if len(r.watch) > 0 {
		c.Zone = r.watchZone(scene.BottomCentre(nb))
	}
	cfg := r.cfg
	minChange := cfg.SmokeActivity
	if rg.class == cfg.FireClass {
		minChange = cfg.FireFlicker
	}
	switch {
	case s.persistence < cfg.MinPersistence:
		c.Why = "young"
	case s.votes < cfg.MinVotes:
		c.Why = "few votes"
	case s.meanScore < cfg.AlertScore:
		c.Why = "low score"
	case s.areaFrac < cfg.MinArea:
		c.Why = "small"
	case s.drift > cfg.MaxDrift:
		c.Why = "travels"
	case math.IsNaN(s.change) || s.change < minChange:
		c.Why = "static"
	case rg.class == cfg.SmokeClass && s.spread < cfg.SmokeSpread:
		c.Why = "local change"
	case rg.class == cfg.SmokeClass && !(s.strength <= cfg.SmokeMaxStrength):
		c.Why = "opaque change"
	case !math.IsNaN(s.rigid) && s.rigid < cfg.MaxRigid:
		c.Why = "rigid motion"
	default:
		c.Severity = 1
		for i := range 2 {
			if s.persistence >= cfg.SeverityPersistence[i] || s.growth >= cfg.SeverityGrowth[i] {
				c.Severity = i + 2
			}
		}
	}
	return c
}

// Candidates returns the regions followed after the last Observe with their
// measures. The slice is reused by the next Observe.
func (r *Rule) Candidates() []Candidate { return r.cands }

// Flush forgets every region and raised alert: call it when the stream
// ends or breaks, so that the next frame starts afresh. A gap longer than
// Config.Window, or time going back, flushes by itself.
func (r *Rule) Flush() { r.reset() }

func (r *Rule) reset() {
	clear(r.regions)
	clear(r.alerts)
	r.cands = r.cands[:0]
	r.hasPrev = false
}

// normBox returns b normalised to a fw×fh frame.
func normBox(b [4]float32, fw, fh float32) [4]float32 {
	return [4]float32{b[0] / fw, b[1] / fh, b[2] / fw, b[3] / fh}
}
