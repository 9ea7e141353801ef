package scene

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// idPattern is what ids may look like: they go into events, metrics-free
// but logged and shown in the console.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// maxProblems bounds the problems Validate reports at once.
const maxProblems = 20

// problems collects Validate's findings, each prefixed with the item.
type problems struct {
	list []string
}

func (p *problems) add(item, format string, args ...any) {
	if len(p.list) < maxProblems {
		msg := fmt.Sprintf(format, args...)
		if item != "" {
			msg = item + ": " + msg
		}
		p.list = append(p.list, msg)
	}
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidScene, strings.Join(p.list, "; "))
}

// item names the i-th element of a list, with its id when it has one:
// `lines[2] "north"`.
func item(list string, i int, id string) string {
	s := list + "[" + strconv.Itoa(i) + "]"
	if id != "" {
		s += " " + strconv.Quote(id)
	}
	return s
}

// Validate checks the scene and returns an error wrapping ErrInvalidScene
// that names, for every problem found (up to 20), the item and its field.
func (s *Scene) Validate() error {
	var p problems
	if s.Camera == "" {
		p.add("", "camera is empty")
	} else if !idPattern.MatchString(s.Camera) {
		p.add("", "camera %q: expected letters, digits, '-', '_' or '.' (at most 64)", s.Camera)
	}
	ids := make(map[string]string) // id → item that has it
	checkID := func(it, id string) {
		switch {
		case id == "":
			p.add(it, "id is empty")
		case !idPattern.MatchString(id):
			p.add(it, "id: expected letters, digits, '-', '_' or '.' (at most 64)")
		case ids[id] != "":
			p.add(it, "id is also used by %s (ids are unique within a scene)", ids[id])
		default:
			ids[id] = it
		}
	}
	tooMany := false
	for _, l := range []struct {
		name string
		n    int
	}{{"lines", len(s.Lines)}, {"zones", len(s.Zones)}, {"lanes", len(s.Lanes)}, {"signals", len(s.Signals)}} {
		if l.n > MaxItems {
			p.add("", "%s: %d items, at most %d", l.name, l.n, MaxItems)
			tooMany = true
		}
	}
	if tooMany {
		return p.err()
	}
	for i, l := range s.Lines {
		it := item("lines", i, l.ID)
		checkID(it, l.ID)
		checkSegment(&p, it, "points", l.Points)
		checkClasses(&p, it, l.Classes)
		if !slices.Contains([]Anchor{AnchorAuto, AnchorCenter, AnchorBottom}, l.Anchor) {
			p.add(it, "anchor %q: expected center or bottom (or none: feet of people, centre of the rest)", l.Anchor)
		}
	}
	for i, z := range s.Zones {
		it := item("zones", i, z.ID)
		checkID(it, z.ID)
		if !slices.Contains(zoneKinds, z.Kind) {
			p.add(it, "kind %q: expected one of crowd, no_parking, restricted, smoke_watch, ignore", z.Kind)
		}
		checkPolygon(&p, it, "polygon", z.Polygon)
		checkClasses(&p, it, z.Classes)
		checkZoneFields(&p, it, z)
	}
	for i, l := range s.Lanes {
		it := item("lanes", i, l.ID)
		checkID(it, l.ID)
		checkPolygon(&p, it, "polygon", l.Polygon)
		checkClasses(&p, it, l.Classes)
		switch d := l.Direction; {
		case !finite(d.X) || !finite(d.Y):
			p.add(it, "direction: expected finite numbers")
		case d.Len() < minLength:
			p.add(it, "direction: [%g, %g] has no direction (expected [dx, dy], not both 0)", d.X, d.Y)
		}
	}
	for i, sg := range s.Signals {
		it := item("signals", i, sg.ID)
		checkID(it, sg.ID)
		if len(sg.ROI) != 2 {
			p.add(it, "roi: expected 2 corners [[x1, y1], [x2, y2]], got %d", len(sg.ROI))
		} else if checkPoints(&p, it, "roi", sg.ROI) {
			lo, hi := sg.ROI[0], sg.ROI[1]
			if hi.X-lo.X < minLength || hi.Y-lo.Y < minLength {
				p.add(it, "roi: expected the top-left corner then the bottom-right one, with x1 < x2 and y1 < y2")
			}
		}
		checkSegment(&p, it, "stop_line", sg.StopLine)
	}
	if s.FireSmoke != nil {
		checkFireSmoke(&p, *s.FireSmoke)
	}
	return p.err()
}

// checkFireSmoke checks the fire and smoke sampling settings (which a
// scene without smoke_watch zones keeps for when it has one).
func checkFireSmoke(p *problems, fs FireSmoke) {
	const it = "firesmoke"
	lo, hi := MinVideoInterval, MaxVideoInterval
	switch fs.Mode {
	case "", FireSmokeVideo:
	case FireSmokeStills:
		lo, hi = MinStillsInterval, MaxStillsInterval
	default:
		p.add(it, "mode %q: expected video or stills", fs.Mode)
		return
	}
	if iv := fs.Interval.D(); iv != 0 && (iv < lo || iv > hi) {
		p.add(it, "interval: %s: expected %s to %s in %s mode (or none for the default)", iv, lo, hi, cmp.Or(fs.Mode, FireSmokeVideo))
	}
}

// checkZoneFields checks the fields that only some kinds of zone use.
func checkZoneFields(p *problems, it string, z Zone) {
	for _, f := range []struct {
		name string
		v    float64
	}{{"area_m2", z.AreaM2}, {"threshold", z.Threshold}, {"clear", z.Clear}} {
		if !finite(f.v) || f.v < 0 {
			p.add(it, "%s: %g: expected a number ≥ 0", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    Duration
	}{{"hold", z.Hold}, {"dwell", z.Dwell}} {
		if f.v < 0 || f.v.D() > MaxDuration {
			p.add(it, "%s: %s: expected 0 to %s", f.name, f.v.D(), MaxDuration)
		}
	}
	if z.Kind != ZoneCrowd {
		for _, f := range []struct {
			name string
			set  bool
		}{{"area_m2", z.AreaM2 != 0}, {"threshold", z.Threshold != 0}, {"clear", z.Clear != 0}, {"hold", z.Hold != 0}} {
			if f.set {
				p.add(it, "%s applies to crowd zones only, not %s", f.name, z.Kind)
			}
		}
	} else if z.Clear != 0 && z.Clear >= z.Threshold {
		p.add(it, "clear: %g: expected below threshold %g (the alert clears at a lower level than it rises)", z.Clear, z.Threshold)
	}
	if z.Kind != ZoneNoParking && z.Dwell != 0 {
		p.add(it, "dwell applies to no_parking zones only, not %s", z.Kind)
	}
	if z.Kind == ZoneSmokeWatch && len(z.Classes) > 0 {
		p.add(it, "classes: a smoke_watch zone takes the smoke and fire classes, not a list")
	}
}

// checkPoints checks that every point lies in the frame; it reports whether
// all did.
func checkPoints(p *problems, it, field string, pts []Point) bool {
	ok := true
	for j, pt := range pts {
		for _, c := range []struct {
			axis string
			v    float64
		}{{"x", pt.X}, {"y", pt.Y}} {
			if !(c.v >= 0 && c.v <= 1) { // also catches NaN
				p.add(it, "%s[%d]: %s %g is outside 0..1", field, j, c.axis, c.v)
				ok = false
			}
		}
	}
	return ok
}

func checkSegment(p *problems, it, field string, pts []Point) {
	if len(pts) != 2 {
		p.add(it, "%s: expected 2 points [[x1, y1], [x2, y2]], got %d", field, len(pts))
		return
	}
	if checkPoints(p, it, field, pts) && pts[1].Sub(pts[0]).Len() < minLength {
		p.add(it, "%s: the two points are the same", field)
	}
}

func checkPolygon(p *problems, it, field string, pg Polygon) {
	switch {
	case len(pg) < 3:
		p.add(it, "%s: expected at least 3 points, got %d", field, len(pg))
		return
	case len(pg) > MaxVertices:
		p.add(it, "%s: %d points, at most %d", field, len(pg), MaxVertices)
		return
	}
	if !checkPoints(p, it, field, pg) {
		return
	}
	i, j, bad := pg.selfIntersects()
	switch {
	case bad && (j == i+1 || j == len(pg)-1 && i == 0):
		p.add(it, "%s: edges %d and %d fold back onto each other", field, i, j)
	case bad:
		p.add(it, "%s: edges %d and %d cross (expected the outline in order, without crossing itself)", field, i, j)
	case pg.Area() < minLength*minLength:
		p.add(it, "%s: encloses no area", field)
	}
}

func checkClasses(p *problems, it string, classes []string) {
	if len(classes) > MaxClasses {
		p.add(it, "classes: %d, at most %d", len(classes), MaxClasses)
		return
	}
	for j, c := range classes {
		switch {
		case strings.TrimSpace(c) == "":
			p.add(it, "classes[%d] is empty", j)
		case slices.Contains(classes[:j], c):
			p.add(it, "classes[%d]: %q is listed twice", j, c)
		}
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
