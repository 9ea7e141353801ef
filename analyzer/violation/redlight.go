package violation

import (
	"fmt"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/sink"
)

// stopState follows one track against one signal's stop line. Sides are
// of the stop line A→B: left (negative) is before it, right (positive)
// past it, as the scene defines entering the junction.
type stopState struct {
	side      int8 // established side: -1 before, +1 past, 0 not yet known
	hasLast   bool
	last      scene.Point // previous observation
	lastD     float64     // its signed distance from the line
	lastState SignalState // the signal's state on its frame
	redCross  bool        // since leaving the near side, the path crossed the segment on red
	redFor    time.Duration
	done      bool // reported
}

// redLight advances a track (reference point p, box height h) against
// signal i and reports a red-light act.
//
// The act is a vehicle that was established before the line (at least the
// margin short of it), whose path between two consecutive observations
// passes through the stop-line segment itself while the signal is red on
// both of those frames, and that then gets at least the margin past the
// line. So a vehicle that stops at the line, or with its front just over
// it, is not flagged; one that turns away before the line or goes round
// its end never crosses the segment; and a crossing that began on amber or
// on an unknown state gets the benefit of the doubt.
func (e *Engine) redLight(ts time.Time, i int, ss *stopState, p scene.Point, h float64, vehicle bool) (act, bool) {
	s := &e.signals[i]
	d := s.stopS.Distance(p)
	m := e.margin(h)
	var a act
	ok := false
	switch ss.side {
	case 0:
		if d <= -m {
			ss.side = -1
		} else if d >= m {
			ss.side = 1
		}
	case -1:
		if d < 0 {
			ss.redCross = false
		} else if ss.hasLast && ss.lastD < 0 && s.stopS.Intersects(scene.Segment{A: ss.last, B: p}) {
			ss.redCross = ss.lastState == SignalRed && s.state == SignalRed
			ss.redFor = ts.Sub(s.since)
		}
		if d >= m {
			if ss.redCross && vehicle && !ss.done {
				ss.done, ok = true, true
				a = act{
					rule: sink.TypeViolationRedLight, signal: i, lane: -1, zone: -1,
					detail: fmt.Sprintf("crossed the stop line of signal %s on red (%s, red for %.1f s)",
						s.id, s.source, ss.redFor.Seconds()),
					measures: map[string]float64{"red_for_s": ss.redFor.Seconds()},
				}
			}
			ss.side, ss.redCross = 1, false
		}
	case 1:
		if d <= -m {
			ss.side, ss.redCross = -1, false
		}
	}
	ss.last, ss.lastD, ss.lastState, ss.hasLast = p, d, s.state, true
	return a, ok
}
