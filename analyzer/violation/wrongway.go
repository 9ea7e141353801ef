package violation

import (
	"fmt"
	"math"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/sink"
)

// laneState follows one track in one lane.
type laneState struct {
	in      bool // inside the lane (with hysteresis at its edge)
	inSince time.Time
	inFrom  scene.Point // where it entered

	against  bool // driving against the lane's direction
	actStart time.Time
	actFrom  scene.Point

	wrongDone      bool // wrong way reported
	restrictedDone bool // restricted lane reported
}

// wrongWay advances a track in lane i and reports a wrong-way act.
//
// The direction of travel is the displacement of the reference point over
// the last Config.WrongWayWindow. When it is longer than the margin (the
// vehicle moves) and within WrongWayAngle of the reverse of the lane's
// direction, the vehicle drives against the lane; when it moves any other
// way the act ends; while it stands still the act neither grows nor ends.
// The act starts at the window's start (or where the vehicle entered the
// lane, if later) and is flagged once it has lasted WrongWayTime and
// covered WrongWayDistance against the lane's direction, all inside the
// lane.
//
// A lane has one direction, and the scene does not say whether U-turns are
// allowed, so the turn itself is never flagged: a vehicle that U-turns and
// then drives against the lane for the time and distance above is, one
// that U-turns into the opposite lane (whose direction it follows) is not.
func (e *Engine) wrongWay(ts time.Time, i int, ls *laneState, st *trackState, p scene.Point, h float64, vehicle bool) (act, bool) {
	l := &e.lanes[i]
	if !ls.in || ls.wrongDone || !vehicle {
		return act{}, false
	}
	w, ok := st.windowStart(ts, e.cfg.WrongWayWindow)
	if !ok {
		return act{}, false
	}
	disp := p.Sub(w.p)
	switch n := disp.Len(); {
	case n < e.margin(h):
		// standing or creeping: no direction to judge
	case dot(disp, l.dir) < -math.Cos(e.cfg.WrongWayAngle*math.Pi/180)*n:
		if !ls.against {
			ls.against = true
			ls.actStart, ls.actFrom = w.ts, w.p
			if w.ts.Before(ls.inSince) {
				ls.actStart, ls.actFrom = ls.inSince, ls.inFrom
			}
		}
	default:
		ls.against = false
	}
	if !ls.against {
		return act{}, false
	}
	dur := ts.Sub(ls.actStart)
	dist := -dot(p.Sub(ls.actFrom), l.dir)
	if dur < e.cfg.WrongWayTime || dist < e.cfg.WrongWayDistance {
		return act{}, false
	}
	ls.wrongDone = true
	return act{
		rule: sink.TypeViolationWrongWay, signal: -1, lane: i, zone: -1,
		detail: fmt.Sprintf("drove against the direction of lane %s for %.1f s over %.2f frame heights",
			l.id, dur.Seconds(), dist),
		measures: map[string]float64{"duration_s": dur.Seconds(), "distance": dist},
	}, true
}
