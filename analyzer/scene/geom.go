package scene

import (
	"fmt"
	"math"

	"gopkg.in/yaml.v3"
)

// Point is a position in normalised frame coordinates (x right, y down,
// 0..1), or a direction vector in the same axes. In YAML it is [x, y].
type Point struct {
	X, Y float64
}

// UnmarshalYAML reads [x, y].
func (p *Point) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
		return fmt.Errorf("line %d: a point is [x, y]", n.Line)
	}
	var v [2]float64
	for i, c := range n.Content {
		if c.Kind != yaml.ScalarNode || (c.ShortTag() != "!!int" && c.ShortTag() != "!!float") {
			return fmt.Errorf("line %d: a point is [x, y] with numbers", c.Line)
		}
		if err := c.Decode(&v[i]); err != nil {
			return fmt.Errorf("line %d: %w", c.Line, err)
		}
	}
	p.X, p.Y = v[0], v[1]
	return nil
}

// MarshalYAML writes [x, y].
func (p Point) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, v := range [2]float64{p.X, p.Y} {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: fmt.Sprint(v)})
	}
	return n, nil
}

// Sub returns p − q.
func (p Point) Sub(q Point) Point { return Point{p.X - q.X, p.Y - q.Y} }

// Len returns the length of p taken as a vector.
func (p Point) Len() float64 { return math.Hypot(p.X, p.Y) }

// cross returns the z component of the cross product p × q.
func cross(p, q Point) float64 { return p.X*q.Y - p.Y*q.X }

// BottomCentre returns the middle of a box's bottom edge (where a vehicle or
// a person touches the ground): the reference point the rules place in
// zones and test against lines. box is x1, y1, x2, y2.
func BottomCentre(box [4]float32) Point {
	return Point{X: float64(box[0]+box[2]) / 2, Y: float64(box[3])}
}

// Centre returns the centre of a box (x1, y1, x2, y2).
func Centre(box [4]float32) Point {
	return Point{X: float64(box[0]+box[2]) / 2, Y: float64(box[1]+box[3]) / 2}
}

// Segment is the straight segment from A to B.
type Segment struct {
	A, B Point
}

// Side tells on which side of the line through A and B the point p lies,
// looking from A to B with y down as on the screen: positive on the right,
// negative on the left, zero on the line. Its magnitude is the distance
// from the line times the segment's length.
func (s Segment) Side(p Point) float64 {
	return cross(s.B.Sub(s.A), p.Sub(s.A))
}

// Distance returns the signed distance from p to the line through A and B
// (positive on the right, as Side). It is 0 for a degenerate segment.
func (s Segment) Distance(p Point) float64 {
	l := s.B.Sub(s.A).Len()
	if l == 0 {
		return 0
	}
	return s.Side(p) / l
}

// Intersects reports whether s and t share at least one point (touching
// counts).
func (s Segment) Intersects(t Segment) bool {
	d1 := sign(s.Side(t.A))
	d2 := sign(s.Side(t.B))
	d3 := sign(t.Side(s.A))
	d4 := sign(t.Side(s.B))
	if d1*d2 < 0 && d3*d4 < 0 {
		return true
	}
	// Collinear or touching cases: an end point lying on the other segment.
	return (d1 == 0 && onSegment(s, t.A)) || (d2 == 0 && onSegment(s, t.B)) ||
		(d3 == 0 && onSegment(t, s.A)) || (d4 == 0 && onSegment(t, s.B))
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// onSegment reports whether p, known to be collinear with s, lies within
// the bounding box of s.
func onSegment(s Segment, p Point) bool {
	return math.Min(s.A.X, s.B.X) <= p.X && p.X <= math.Max(s.A.X, s.B.X) &&
		math.Min(s.A.Y, s.B.Y) <= p.Y && p.Y <= math.Max(s.A.Y, s.B.Y)
}

// Polygon is a closed polygon given by its vertices in order (the last
// vertex joins the first).
type Polygon []Point

// Contains reports whether p is inside the polygon (even-odd rule; points
// exactly on an edge may fall either way).
func (pg Polygon) Contains(p Point) bool {
	in := false
	for i, j := 0, len(pg)-1; i < len(pg); j, i = i, i+1 {
		a, b := pg[i], pg[j]
		if (a.Y > p.Y) != (b.Y > p.Y) && p.X < (b.X-a.X)*(p.Y-a.Y)/(b.Y-a.Y)+a.X {
			in = !in
		}
	}
	return in
}

// Area returns the polygon's area in normalised units (the fraction of the
// frame it covers when it does not cross itself).
func (pg Polygon) Area() float64 {
	var s float64
	for i, j := 0, len(pg)-1; i < len(pg); j, i = i, i+1 {
		s += cross(pg[j], pg[i])
	}
	return math.Abs(s) / 2
}

// Bounds returns the corners of the smallest axis-aligned rectangle holding
// the polygon.
func (pg Polygon) Bounds() (lo, hi Point) {
	if len(pg) == 0 {
		return
	}
	lo, hi = pg[0], pg[0]
	for _, p := range pg[1:] {
		lo.X, lo.Y = math.Min(lo.X, p.X), math.Min(lo.Y, p.Y)
		hi.X, hi.Y = math.Max(hi.X, p.X), math.Max(hi.Y, p.Y)
	}
	return lo, hi
}

// selfIntersects reports whether two non-adjacent edges of the polygon
// meet, or two adjacent ones overlap (O(n²); polygons are small).
func (pg Polygon) selfIntersects() (i, j int, ok bool) {
	n := len(pg)
	edge := func(k int) Segment { return Segment{pg[k], pg[(k+1)%n]} }
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			adjacent := j == i+1 || (i == 0 && j == n-1)
			if adjacent {
				// Adjacent edges share a vertex; they are bad only when they
				// fold back onto each other.
				ei, ej := edge(i), edge(j)
				if cross(ei.B.Sub(ei.A), ej.B.Sub(ej.A)) == 0 &&
					dot(ei.B.Sub(ei.A), ej.B.Sub(ej.A)) < 0 && n > 2 {
					return i, j, true
				}
				continue
			}
			if edge(i).Intersects(edge(j)) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

func dot(p, q Point) float64 { return p.X*q.X + p.Y*q.Y }
