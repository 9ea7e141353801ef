package violation

import (
	"math"

	"github.com/matthan/matthan/analyzer/scene"
)

// Geometry in scaled units: normalised coordinates with x multiplied by the
// frame's aspect ratio, so that every distance is in frame heights whatever
// its direction.

// scale maps a normalised point to scaled units.
func (e *Engine) scale(p scene.Point) scene.Point {
	return scene.Point{X: p.X * e.cfg.Aspect, Y: p.Y}
}

func (e *Engine) scalePolygon(pg scene.Polygon) scene.Polygon {
	out := make(scene.Polygon, len(pg))
	for i, p := range pg {
		out[i] = e.scale(p)
	}
	return out
}

// margin is the hysteresis for a box of height h.
func (e *Engine) margin(h float64) float64 {
	return max(e.cfg.Margin*h, e.cfg.MinMargin)
}

func dot(p, q scene.Point) float64 { return p.X*q.X + p.Y*q.Y }

func unit(p scene.Point) scene.Point {
	l := p.Len()
	return scene.Point{X: p.X / l, Y: p.Y / l}
}

// edgeDistance returns the distance from p to the nearest edge of pg.
func edgeDistance(pg scene.Polygon, p scene.Point) float64 {
	d := math.Inf(1)
	for i, j := 0, len(pg)-1; i < len(pg); j, i = i, i+1 {
		d = min(d, segmentDistance(pg[j], pg[i], p))
	}
	return d
}

// segmentDistance returns the distance from p to the segment a–b.
func segmentDistance(a, b, p scene.Point) float64 {
	ab := b.Sub(a)
	l2 := dot(ab, ab)
	if l2 == 0 {
		return p.Sub(a).Len()
	}
	t := math.Max(0, math.Min(1, dot(p.Sub(a), ab)/l2))
	return p.Sub(scene.Point{X: a.X + t*ab.X, Y: a.Y + t*ab.Y}).Len()
}

// inside decides whether p is in pg with hysteresis: the answer changes
// from was only when p is at least margin past the edge.
func inside(was bool, pg scene.Polygon, p scene.Point, margin float64) bool {
	in := pg.Contains(p)
	if in == was || edgeDistance(pg, p) < margin {
		return was
	}
	return in
}
