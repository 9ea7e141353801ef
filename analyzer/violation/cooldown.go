package violation

import (
	"slices"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
)

// One act gives one event. Within a track, each rule reports once per stop
// line, lane or zone (the rules' done flags). Across tracks, a tracker may
// lose a vehicle and give it a new id; recent remembers each offender so
// that such a new track is not flagged again for the same act.

// recent is an offender of the last Config.Cooldown.
type recent struct {
	rule  string
	place string // stop line, lane or zone id
	track uint64
	last  scene.Point // its latest reference point, scaled
	h     float64     // its box height there
	seen  time.Time   // when it was last matched
}

// suppressed reports whether act a of track tk repeats a recent one: the
// same rule at the same place, by a track first seen after the offender's
// track was last matched (so not a second vehicle that was already in
// view), at the place where the offender was last seen (within its box
// height), while the offender's track has ended, within Cooldown.
func (e *Engine) suppressed(ts time.Time, tk *track.Track, st *trackState, a act) bool {
	place := e.place(a)
	for _, r := range e.recent {
		if r.rule == a.rule && r.place == place && r.track != tk.ID && !e.live[r.track] &&
			ts.Sub(r.seen) <= e.cfg.Cooldown && st.firstTS.After(r.seen) &&
			st.first.Sub(r.last).Len() <= max(r.h, e.cfg.MinMargin) {
			return true
		}
	}
	return false
}

// remember records the offender of a reported act.
func (e *Engine) remember(ts time.Time, tk *track.Track, st *trackState, a act) {
	e.recent = append(e.recent, recent{
		rule: a.rule, place: e.place(a), track: tk.ID,
		last: e.scale(scene.BottomCentre(tk.Box)), h: float64(tk.Box[3] - tk.Box[1]), seen: ts,
	})
}

// follow moves each recent offender still tracked to its latest position,
// and forgets those gone for longer than Cooldown.
func (e *Engine) follow(ts time.Time, tracks []track.Track) {
	for i := range e.recent {
		r := &e.recent[i]
		if !e.live[r.track] {
			continue
		}
		for k := range tracks {
			if tk := &tracks[k]; tk.ID == r.track && tk.Updated {
				r.last, r.h, r.seen = e.scale(scene.BottomCentre(tk.Box)), float64(tk.Box[3]-tk.Box[1]), ts
			}
		}
	}
	e.recent = slices.DeleteFunc(e.recent, func(r recent) bool {
		return !e.live[r.track] && ts.Sub(r.seen) > e.cfg.Cooldown
	})
}
