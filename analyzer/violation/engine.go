package violation

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/sink"
)

// Violation is one violation event with its evidence snapshot.
type Violation struct {
	// Event is the violation event; Event.Evidence holds the clip window
	// and, when Snapshot is set, its sha256.
	Event sink.Event
	// Snapshot is the evidence picture (JPEG): the frame that proved the
	// act with the offending box, its path and the rule drawn. It is nil
	// when Observe was given no frame or the snapshot failed. The caller
	// stores it (as <data>/evidence/<camera>/<YYYY-MM-DD>/<event id>.jpg).
	Snapshot []byte
}

// Engine applies the violation rules of one camera's scene to its tracks,
// frame by frame. Create it with New; it is not safe for concurrent use.
type Engine struct {
	camera  string
	cfg     Config
	signals []signal
	lanes   []lane
	zones   []zone

	tracks map[uint64]*trackState
	live   map[uint64]bool // scratch: the tracks of the current frame
	recent []recent        // offenders, for the cooldown across id switches
	parked []parked        // still vehicles whose track ended
	last   time.Time
}

// lane is a scene lane in scaled units.
type lane struct {
	id      string
	norm    scene.Polygon // as in the scene, for drawing
	poly    scene.Polygon
	normDir scene.Point // unit direction in normalised units, for drawing
	dir     scene.Point // unit direction in scaled units
	allowed []string    // empty: every class
}

// zone is a no_parking or restricted zone in scaled units.
type zone struct {
	id      string
	kind    scene.ZoneKind
	norm    scene.Polygon
	poly    scene.Polygon
	classes []string // the classes the rule flags
	dwell   time.Duration
}

// New returns the engine for camera's scene, or an error wrapping
// ErrInvalidConfig or scene.ErrInvalidScene.
func New(camera string, sc scene.Scene, cfg Config) (*Engine, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("violation: %w", err)
	}
	e := &Engine{
		camera: camera,
		cfg:    c,
		tracks: make(map[uint64]*trackState),
		live:   make(map[uint64]bool),
	}
	for _, s := range sc.Signals {
		lo, hi := s.Rect()
		stop := s.Stop()
		e.signals = append(e.signals, signal{
			id: s.ID, lo: lo, hi: hi, stop: stop,
			stopS: scene.Segment{A: e.scale(stop.A), B: e.scale(stop.B)},
			state: SignalUnknown, source: SourceCamera,
		})
	}
	for _, l := range sc.Lanes {
		e.lanes = append(e.lanes, lane{
			id: l.ID, norm: l.Polygon, poly: e.scalePolygon(l.Polygon),
			normDir: unit(l.Direction), dir: unit(e.scale(l.Direction)),
			allowed: l.Classes,
		})
	}
	for _, z := range sc.Zones {
		if z.Kind != scene.ZoneNoParking && z.Kind != scene.ZoneRestricted {
			continue
		}
		classes := z.Classes
		if len(classes) == 0 {
			classes = c.Vehicles
		}
		dwell := z.Dwell.D()
		if dwell == 0 {
			dwell = c.Dwell
		}
		e.zones = append(e.zones, zone{
			id: z.ID, kind: z.Kind, norm: z.Polygon, poly: e.scalePolygon(z.Polygon),
			classes: classes, dwell: dwell,
		})
	}
	return e, nil
}

// SetSignal sets the state of signal id from the external signal-phase
// feed as of ts (capture-time clock). It wins over the camera's colour
// reading for frames captured from ts until Config.FeedTTL later. A state
// older than the two latest the engine holds is ignored.
func (e *Engine) SetSignal(id string, state SignalState, ts time.Time) error {
	if !state.Valid() {
		return fmt.Errorf("violation: signal %q: %w: %q", id, ErrInvalidSignalState, state)
	}
	for i := range e.signals {
		s := &e.signals[i]
		if s.id != id {
			continue
		}
		f := feedState{state: state, ts: ts}
		switch {
		case !ts.Before(s.feed[0].ts):
			s.feed[1], s.feed[0] = s.feed[0], f
		case !ts.Before(s.feed[1].ts):
			s.feed[1] = f
		}
		return nil
	}
	return fmt.Errorf("violation: %w: %q", ErrUnknownSignal, id)
}

// Signals returns the state of every signal head as of the latest Observe,
// in scene order, for drawing and for the summary of an analysis.
func (e *Engine) Signals() []SignalReading {
	out := make([]SignalReading, len(e.signals))
	for i, s := range e.signals {
		out[i] = SignalReading{ID: s.id, State: s.state, Since: s.since, Source: s.source}
	}
	return out
}

// Observe takes the frame captured at ts and every live track the tracker
// returned for it (a track missing from a call has ended), and returns the
// violations proved on this frame. frame may be scaled (to a detector's
// input): the signal colours and the snapshots are taken from its picture
// at full size (frame.Full), converted only when one is needed. frame may
// be nil (then the signals are read from the feed only and no snapshot is
// made). Times must not go backwards (ErrTimeBackwards). When a snapshot
// fails the violations are still returned, without it, with an error
// wrapping ErrSnapshot.
func (e *Engine) Observe(ts time.Time, frame *decode.Frame, tracks []track.Track) ([]Violation, error) {
	if !e.last.IsZero() && ts.Before(e.last) {
		return nil, fmt.Errorf("violation: %s after %s: %w",
			ts.Format(time.RFC3339Nano), e.last.Format(time.RFC3339Nano), ErrTimeBackwards)
	}
	e.last = ts
	var errs []error
	for i := range e.signals {
		if err := e.signals[i].update(ts, frame, e.cfg.FeedTTL); err != nil {
			errs = append(errs, err)
		}
	}
	clear(e.live)
	for i := range tracks {
		e.live[tracks[i].ID] = true
	}
	e.forget(ts)

	var (
		out  []Violation
		acts []act
	)
	for i := range tracks {
		tk := &tracks[i]
		st := e.trackState(ts, tk)
		if tk.Updated {
			acts = e.step(ts, tk, st, acts[:0])
		} else {
			acts = acts[:0]
		}
		for _, a := range acts {
			if e.suppressed(ts, tk, st, a) {
				continue
			}
			v, err := e.violation(ts, frame, tk, a)
			if err != nil {
				errs = append(errs, err)
			}
			if !tk.Confirmed {
				st.pending = append(st.pending, pendingAct{act: a, v: v})
				continue
			}
			e.remember(ts, tk, st, a)
			out = append(out, v)
		}
		if tk.Confirmed && len(st.pending) > 0 {
			for _, p := range st.pending {
				if !e.suppressed(ts, tk, st, p.act) {
					e.remember(ts, tk, st, p.act)
					out = append(out, p.v)
				}
			}
			st.pending = nil
		}
	}
	e.follow(ts, tracks)
	return out, errors.Join(errs...)
}

// Reset forgets every track, pending act, remembered offender and feed
// state, as at the start of a new stream.
func (e *Engine) Reset() {
	clear(e.tracks)
	e.recent, e.parked, e.last = nil, nil, time.Time{}
	for i := range e.signals {
		s := &e.signals[i]
		s.state, s.since, s.source, s.feed = SignalUnknown, time.Time{}, SourceCamera, [2]feedState{}
	}
}

// forget drops the state of the tracks that ended, keeping what the
// parking rule needs to recognise the vehicle under a new track id.
func (e *Engine) forget(ts time.Time) {
	for id, st := range e.tracks {
		if !e.live[id] {
			e.park(ts, st)
		}
	}
	maps.DeleteFunc(e.tracks, func(id uint64, _ *trackState) bool { return !e.live[id] })
	e.parked = slices.DeleteFunc(e.parked, func(p parked) bool { return ts.Sub(p.ended) > e.cfg.ParkedMemory })
}

// isVehicle reports whether class is one of Config.Vehicles.
func (e *Engine) isVehicle(class string) bool { return slices.Contains(e.cfg.Vehicles, class) }
