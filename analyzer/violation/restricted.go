package violation

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/matthan/matthan/sink"
)

// restrictedLane reports a vehicle of a class lane i does not allow that
// has been inside it for Config.RestrictedTime. Only the classes of
// Config.Vehicles are judged (a pedestrian on the road is not using a
// lane), and a lane without classes allows every class.
func (e *Engine) restrictedLane(ts time.Time, i int, ls *laneState, class string) (act, bool) {
	l := &e.lanes[i]
	if !ls.in || ls.restrictedDone || len(l.allowed) == 0 || slices.Contains(l.allowed, class) || !e.isVehicle(class) {
		return act{}, false
	}
	dur := ts.Sub(ls.inSince)
	if dur < e.cfg.RestrictedTime {
		return act{}, false
	}
	ls.restrictedDone = true
	return act{
		rule: sink.TypeViolationRestrictedLane, signal: -1, lane: i, zone: -1,
		detail:   fmt.Sprintf("%s in lane %s, which allows only %s, for %.1f s", class, l.id, strings.Join(l.allowed, ", "), dur.Seconds()),
		measures: map[string]float64{"duration_s": dur.Seconds()},
	}, true
}

// restrictedZone reports an object of a class restricted zone i lists (by
// default Config.Vehicles) that has been inside it for RestrictedTime.
func (e *Engine) restrictedZone(ts time.Time, i int, zs *zoneState, class string) (act, bool) {
	z := &e.zones[i]
	if !zs.in || zs.done || !slices.Contains(z.classes, class) {
		return act{}, false
	}
	dur := ts.Sub(zs.inSince)
	if dur < e.cfg.RestrictedTime {
		return act{}, false
	}
	zs.done = true
	return act{
		rule: sink.TypeViolationRestrictedLane, signal: -1, lane: -1, zone: i,
		detail:   fmt.Sprintf("%s in restricted zone %s for %.1f s", class, z.id, dur.Seconds()),
		measures: map[string]float64{"duration_s": dur.Seconds()},
	}, true
}
