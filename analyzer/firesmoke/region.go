package firesmoke

import (
	"math"
	"slices"
	"time"
)

// sample is one analysed frame as seen by one region.
type sample struct {
	ts    time.Time
	hit   bool       // a detection of the region's class was associated
	score float32    // the best associated score (hit only)
	box   [4]float32 // union of the associated boxes, frame pixels (hit only)
	// change is the mean absolute luma difference in the region's box
	// between this frame and the previous one; NaN when unknown.
	change float64
	// spread is the fraction of the box's pixels whose change exceeds
	// spreadLevel; NaN when unknown.
	spread float64
	// strength is the mean change of the pixels counted in spread, 0 when
	// none; NaN when unknown.
	strength float64
	// rigid is the change of the region's content followed along the motion
	// of its box divided by change; NaN unless this and the previous sample
	// are hits with boxes that moved.
	rigid float64
}

// region is a candidate fire or smoke area followed across samples.
type region struct {
	class   string
	first   time.Time  // first detection
	lastHit time.Time  // latest detection
	box     [4]float32 // smoothed box, frame pixels
	area0   float64    // mean box area of the first detections, pixels²
	n0      int        // detections averaged into area0
	c0      [2]float64 // centre of the first detection
	samples []sample   // within the window, oldest first
	peak    float32    // best score ever
}

// firstAreaSamples is how many of the first detections fix a region's
// starting area, the reference of its growth: one box is too noisy.
const firstAreaSamples = 3

func newRegion(class string, ts time.Time, box [4]float32) *region {
	return &region{class: class, first: ts, lastHit: ts, box: box,
		c0: centre(box)}
}

// hit records an associated detection.
func (r *region) hit(box [4]float32, score float32, ts time.Time) {
	if r.n0 < firstAreaSamples {
		r.area0 = (r.area0*float64(r.n0) + area(box)) / float64(r.n0+1)
		r.n0++
	}
	if ts.After(r.first) {
		for i := range r.box {
			r.box[i] = 0.5*r.box[i] + 0.5*box[i]
		}
	}
	r.lastHit = ts
	r.peak = max(r.peak, score)
}

// prune drops the samples older than the window.
func (r *region) prune(ts time.Time, window time.Duration) {
	i := 0
	for i < len(r.samples) && ts.Sub(r.samples[i].ts) > window {
		i++
	}
	r.samples = slices.Delete(r.samples, 0, i)
}

// stats are a region's measures over the window.
type stats struct {
	votes       float64 // fraction of samples with a detection
	hits        int
	meanScore   float32
	change      float64 // median change in place, grey levels (NaN when unknown)
	spread      float64 // median fraction of changed pixels (NaN when unknown)
	strength    float64 // median mean change of the changed pixels (NaN when unknown)
	rigid       float64 // median rigidity ratio (NaN when unknown)
	growth      float64 // area now / area when first seen
	drift       float64 // centre displacement since first seen, in box sizes
	rise        float64 // upward part of drift
	persistence time.Duration
	areaFrac    float64 // smoothed box area over the frame's area
}

func (r *region) stats(ts time.Time, frameArea float64) stats {
	var s stats
	var sum float32
	var changes, spreads, strengths, rigids []float64
	for _, sm := range r.samples {
		if sm.hit {
			s.hits++
			sum += sm.score
		}
		if !math.IsNaN(sm.change) {
			changes = append(changes, sm.change)
			spreads = append(spreads, sm.spread)
			if sm.strength > 0 {
				strengths = append(strengths, sm.strength)
			}
		}
		if !math.IsNaN(sm.rigid) {
			rigids = append(rigids, sm.rigid)
		}
	}
	if len(r.samples) > 0 {
		s.votes = float64(s.hits) / float64(len(r.samples))
	}
	if s.hits > 0 {
		s.meanScore = sum / float32(s.hits)
	}
	s.change, s.spread, s.strength, s.rigid = median(changes), median(spreads), median(strengths), median(rigids)
	a := area(r.box)
	if r.area0 > 0 {
		s.growth = a / r.area0
	}
	c := centre(r.box)
	// In units of the larger of the first and the current box's size: a
	// fire spreading grows its box as its centre moves.
	h0 := math.Sqrt(max(r.area0, a, 1))
	s.drift = math.Hypot(c[0]-r.c0[0], c[1]-r.c0[1]) / h0
	s.rise = (r.c0[1] - c[1]) / h0
	s.persistence = ts.Sub(r.first)
	s.areaFrac = a / frameArea
	return s
}

// median returns the median of v (reordering it), NaN when empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}

func area(b [4]float32) float64 {
	return float64(max(b[2]-b[0], 0)) * float64(max(b[3]-b[1], 0))
}

func centre(b [4]float32) [2]float64 {
	return [2]float64{float64(b[0]+b[2]) / 2, float64(b[1]+b[3]) / 2}
}

func union(a, b [4]float32) [4]float32 {
	return [4]float32{min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])}
}

// overlap returns the intersection of a and b over the smaller of their
// areas: 1 when one holds the other.
func overlap(a, b [4]float32) float64 {
	iw := float64(min(a[2], b[2]) - max(a[0], b[0]))
	ih := float64(min(a[3], b[3]) - max(a[1], b[1]))
	if iw <= 0 || ih <= 0 {
		return 0
	}
	m := min(area(a), area(b))
	if m <= 0 {
		return 0
	}
	return iw * ih / m
}
