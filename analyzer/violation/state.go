package violation

import (
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
)

// trackState is what the rules remember about one track. Only matched
// observations (Track.Updated) change it: a track coasting on its
// prediction neither moves nor proves anything.
type trackState struct {
	first   scene.Point // reference point of the first frame seen, scaled
	firstTS time.Time   // capture time of that frame
	hist    []sample    // recent observations, oldest first
	stops   []stopState // per signal
	lanes   []laneState // per lane
	zones   []zoneState // per zone
	// pending holds the acts proved while the track was still tentative,
	// with their evidence, until it confirms (or ends and they are lost).
	pending []pendingAct
}

// sample is one observation's time and reference point.
type sample struct {
	ts time.Time
	p  scene.Point
}

// act is a violation a rule found, before the cooldown and the evidence.
type act struct {
	rule     string // sink.TypeViolation*
	signal   int    // index into Engine.signals, or -1
	lane     int    // index into Engine.lanes, or -1
	zone     int    // index into Engine.zones, or -1
	detail   string
	measures map[string]float64
}

// place names the stop line, lane or zone of an act.
func (e *Engine) place(a act) string {
	switch {
	case a.signal >= 0:
		return e.signals[a.signal].id
	case a.lane >= 0:
		return e.lanes[a.lane].id
	case a.zone >= 0:
		return e.zones[a.zone].id
	}
	return ""
}

type pendingAct struct {
	act act
	v   Violation
}

// trackState returns the state of tk, creating it on the track's first
// frame.
func (e *Engine) trackState(ts time.Time, tk *track.Track) *trackState {
	if st := e.tracks[tk.ID]; st != nil {
		return st
	}
	st := &trackState{
		first:   e.scale(scene.BottomCentre(tk.Box)),
		firstTS: ts,
		stops:   make([]stopState, len(e.signals)),
		lanes:   make([]laneState, len(e.lanes)),
		zones:   make([]zoneState, len(e.zones)),
	}
	e.tracks[tk.ID] = st
	return st
}

// step runs every rule on one matched observation of tk and appends the
// acts it proves.
func (e *Engine) step(ts time.Time, tk *track.Track, st *trackState, acts []act) []act {
	p := e.scale(scene.BottomCentre(tk.Box))
	h := float64(tk.Box[3] - tk.Box[1])
	st.record(ts, p, e.cfg.WrongWayWindow)
	vehicle := e.isVehicle(tk.Class)
	for i := range e.signals {
		if a, ok := e.redLight(ts, i, &st.stops[i], p, h, vehicle); ok {
			acts = append(acts, a)
		}
	}
	for i := range e.lanes {
		ls := &st.lanes[i]
		l := &e.lanes[i]
		was := ls.in
		ls.in = inside(ls.in, l.poly, p, e.margin(h))
		if ls.in && !was {
			ls.inSince, ls.inFrom = ts, p
		}
		if !ls.in {
			ls.against = false
		}
		if a, ok := e.wrongWay(ts, i, ls, st, p, h, vehicle); ok {
			acts = append(acts, a)
		}
		if a, ok := e.restrictedLane(ts, i, ls, tk.Class); ok {
			acts = append(acts, a)
		}
	}
	for i := range e.zones {
		zs := &st.zones[i]
		z := &e.zones[i]
		was := zs.in
		zs.in = inside(zs.in, z.poly, p, e.margin(h))
		if zs.in && !was {
			zs.inSince = ts
		}
		var a act
		var ok bool
		switch z.kind {
		case scene.ZoneNoParking:
			a, ok = e.parking(ts, i, zs, p, h, tk.Class)
		default:
			a, ok = e.restrictedZone(ts, i, zs, tk.Class)
		}
		if ok {
			acts = append(acts, a)
		}
	}
	return acts
}

// record adds an observation to the history, keeping the newest one at
// least window old (the start of the displacement window) and the newer
// ones.
func (st *trackState) record(ts time.Time, p scene.Point, window time.Duration) {
	st.hist = append(st.hist, sample{ts: ts, p: p})
	keep := 0
	for i, s := range st.hist {
		if ts.Sub(s.ts) >= window {
			keep = i
		}
	}
	if keep > 0 {
		st.hist = append(st.hist[:0], st.hist[keep:]...)
	}
}

// windowStart returns the newest observation at least window before ts.
func (st *trackState) windowStart(ts time.Time, window time.Duration) (sample, bool) {
	if len(st.hist) == 0 || ts.Sub(st.hist[0].ts) < window {
		return sample{}, false
	}
	return st.hist[0], true
}
