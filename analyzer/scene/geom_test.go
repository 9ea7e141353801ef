package scene

import "testing"

func TestSide(t *testing.T) {
	// A → B points right across the screen; with y down its right is below.
	s := Segment{Point{0.1, 0.5}, Point{0.9, 0.5}}
	for _, tc := range []struct {
		name string
		p    Point
		want int
	}{
		{"below is right", Point{0.5, 0.7}, 1},
		{"above is left", Point{0.5, 0.3}, -1},
		{"on the line", Point{0.5, 0.5}, 0},
		{"beyond the end, below", Point{0.95, 0.6}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sign(s.Side(tc.p)); got != tc.want {
				t.Errorf("side %d, want %d", got, tc.want)
			}
		})
	}
	// A line drawn upwards: its right is the right of the screen.
	up := Segment{Point{0.5, 0.9}, Point{0.5, 0.1}}
	if up.Side(Point{0.8, 0.5}) <= 0 {
		t.Error("a point right of an upward line is not on its right")
	}
	if d := s.Distance(Point{0.3, 0.75}); d < 0.2499 || d > 0.2501 {
		t.Errorf("distance %g, want 0.25", d)
	}
	if d := (Segment{}).Distance(Point{1, 1}); d != 0 {
		t.Errorf("degenerate distance %g", d)
	}
}

func TestIntersects(t *testing.T) {
	for _, tc := range []struct {
		name string
		s, u Segment
		want bool
	}{
		{"cross", Segment{Point{0, 0}, Point{1, 1}}, Segment{Point{0, 1}, Point{1, 0}}, true},
		{"parallel", Segment{Point{0, 0}, Point{1, 0}}, Segment{Point{0, 1}, Point{1, 1}}, false},
		{"short of it", Segment{Point{0, 0}, Point{1, 0}}, Segment{Point{0.5, 0.5}, Point{0.5, 0.1}}, false},
		{"beyond the end", Segment{Point{0, 0.5}, Point{0.5, 0.5}}, Segment{Point{0.7, 0}, Point{0.7, 1}}, false},
		{"touching end", Segment{Point{0, 0}, Point{1, 0}}, Segment{Point{0.5, 0}, Point{0.5, 1}}, true},
		{"collinear overlap", Segment{Point{0, 0}, Point{1, 0}}, Segment{Point{0.5, 0}, Point{2, 0}}, true},
		{"collinear apart", Segment{Point{0, 0}, Point{1, 0}}, Segment{Point{1.5, 0}, Point{2, 0}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Intersects(tc.u); got != tc.want {
				t.Errorf("s∩u = %v, want %v", got, tc.want)
			}
			if got := tc.u.Intersects(tc.s); got != tc.want {
				t.Errorf("u∩s = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPolygon(t *testing.T) {
	// An L shape: the notch at the top right is outside.
	l := Polygon{{0, 0}, {0.5, 0}, {0.5, 0.5}, {1, 0.5}, {1, 1}, {0, 1}}
	for _, tc := range []struct {
		name string
		p    Point
		want bool
	}{
		{"inside the stem", Point{0.25, 0.25}, true},
		{"inside the foot", Point{0.75, 0.75}, true},
		{"in the notch", Point{0.75, 0.25}, false},
		{"left of it", Point{-0.1, 0.5}, false},
		{"below it", Point{0.5, 1.1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := l.Contains(tc.p); got != tc.want {
				t.Errorf("contains %v = %v", tc.p, got)
			}
		})
	}
	if a := l.Area(); a < 0.7499 || a > 0.7501 {
		t.Errorf("area %g, want 0.75", a)
	}
	lo, hi := l.Bounds()
	if lo != (Point{0, 0}) || hi != (Point{1, 1}) {
		t.Errorf("bounds %v %v", lo, hi)
	}
	if _, _, bad := l.selfIntersects(); bad {
		t.Error("the L crosses itself")
	}
	fold := Polygon{{0, 0}, {1, 0}, {0.5, 0}, {0.5, 1}}
	if _, _, bad := fold.selfIntersects(); !bad {
		t.Error("a polygon folding back on an edge passes")
	}
}

func TestBottomCentre(t *testing.T) {
	if p := BottomCentre([4]float32{0.2, 0.1, 0.4, 0.5}); p.X < 0.2999 || p.X > 0.3001 || p.Y < 0.4999 || p.Y > 0.5001 {
		t.Errorf("bottom centre %v", p)
	}
}
