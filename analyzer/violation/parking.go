package violation

import (
	"fmt"
	"slices"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/sink"
)

// zoneState follows one track in one zone.
type zoneState struct {
	in      bool // inside the zone (with hysteresis at its edge)
	inSince time.Time

	anchored   bool        // standing still since stillSince...
	anchor     scene.Point // ...within the still radius of here
	stillSince time.Time
	h          float64 // box height when anchored

	done bool // reported
}

// parked is a vehicle standing still in a no-parking zone whose track
// ended, remembered for Config.ParkedMemory so that a new track of the same
// vehicle (after an occlusion or a missed detection) keeps its time.
type parked struct {
	zone   int
	anchor scene.Point
	h      float64
	since  time.Time // standing still in the zone since
	done   bool
	ended  time.Time
}

// parking advances a track in no-parking zone i and reports an
// illegal-parking act.
//
// Standing still means that every observation stays within the still
// radius (StillRadius box heights) of the first one of the run; any
// observation farther away starts a new run from there. A vehicle parked
// for the zone's dwell time inside the zone is flagged. A vehicle in
// traffic moves: a queue advances by half a car length or more every so
// often, which restarts the run, and slow driving never stays within the
// radius; so a car stuck in traffic is flagged only if it stands fully
// still for the whole dwell, which is why the dwell must be longer than
// the longest standstill of traffic there (a red phase).
func (e *Engine) parking(ts time.Time, i int, zs *zoneState, p scene.Point, h float64, class string) (act, bool) {
	z := &e.zones[i]
	if !zs.in {
		zs.anchored = false
		return act{}, false
	}
	r := max(e.cfg.StillRadius*h, e.cfg.MinMargin)
	switch {
	case !zs.anchored:
		zs.anchored, zs.anchor, zs.stillSince, zs.h = true, p, ts, h
		e.inherit(i, zs, r)
	case p.Sub(zs.anchor).Len() > r:
		zs.anchor, zs.stillSince, zs.h = p, ts, h
	}
	if zs.done || !slices.Contains(z.classes, class) {
		return act{}, false
	}
	since := zs.stillSince
	if zs.inSince.After(since) {
		since = zs.inSince
	}
	dur := ts.Sub(since)
	if dur < z.dwell {
		return act{}, false
	}
	zs.done = true
	return act{
		rule: sink.TypeViolationIllegalParking, signal: -1, lane: -1, zone: i,
		detail: fmt.Sprintf("%s stood still in no-parking zone %s for %s (dwell %s)",
			class, z.id, dur.Round(time.Second), z.dwell),
		measures: map[string]float64{"dwell_s": dur.Seconds()},
	}, true
}

// inherit gives a newly anchored track the stillness of a remembered
// vehicle of about the same size standing at the same place.
func (e *Engine) inherit(i int, zs *zoneState, r float64) {
	for k, m := range e.parked {
		if m.zone != i || m.anchor.Sub(zs.anchor).Len() > r || zs.h < 0.7*m.h || zs.h > m.h/0.7 {
			continue
		}
		zs.stillSince, zs.done = m.since, m.done
		if m.since.Before(zs.inSince) {
			zs.inSince = m.since
		}
		e.parked = slices.Delete(e.parked, k, k+1)
		return
	}
}

// park remembers the still vehicles of a track that ended.
func (e *Engine) park(ts time.Time, st *trackState) {
	for i, zs := range st.zones {
		if e.zones[i].kind != scene.ZoneNoParking || !zs.in || !zs.anchored {
			continue
		}
		since := zs.stillSince
		if zs.inSince.After(since) {
			since = zs.inSince
		}
		e.parked = append(e.parked, parked{zone: i, anchor: zs.anchor, h: zs.h, since: since, done: zs.done, ended: ts})
	}
}
