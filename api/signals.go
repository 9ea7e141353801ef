package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/violation"
	"github.com/matthan/matthan/api/audit"
)

// ActionSignalSet is the audit action of a change of a signal's state given
// through the API (an external signal-phase feed), recorded before it is
// applied: a red-light violation may rest on it. A repeat of the state last
// given for the signal is not a change.
const ActionSignalSet = "signal.set"

// maxSignalSkew is how far from the server's clock a feed's time may be: a
// state older than this no longer holds (the rules keep one 10 s), and one
// from the future is a controller with a wrong clock.
const maxSignalSkew = time.Minute

// ErrCameraNotRunning is returned by a SignalFeed for a camera the engine
// does not analyse.
var ErrCameraNotRunning = errors.New("camera not running")

// SignalFeed takes the states of the cameras' signal heads from an
// external signal-phase feed (a traffic signal controller). It must be
// safe for concurrent use.
type SignalFeed interface {
	// SetSignal hands the state of the camera's scene's signal, as of at,
	// to the camera's red-light rule, where it wins over the colour read
	// from the picture while fresh. Errors wrap ErrCameraNotRunning,
	// violation.ErrUnknownSignal or violation.ErrInvalidSignalState.
	SetSignal(camera, signal string, state violation.SignalState, at time.Time) error
}

// signalStates remembers the last state given for each camera's signal, so
// that a controller repeating the state a signal is in (it must, at least
// every 10 s, for the state to hold) is not audited as a change each time.
type signalStates struct {
	mu   sync.Mutex
	last map[[2]string]violation.SignalState // by camera and signal
}

// changes reports whether state differs from the last one remembered for
// the camera's signal.
func (ss *signalStates) changes(camera, signal string, state violation.SignalState) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	last, ok := ss.last[[2]string{camera, signal}]
	return !ok || last != state
}

// remember records the state handed on for the camera's signal.
func (ss *signalStates) remember(camera, signal string, state violation.SignalState) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.last == nil {
		ss.last = make(map[[2]string]violation.SignalState)
	}
	ss.last[[2]string{camera, signal}] = state
}

// signalBody is the body of PUT /cameras/{id}/signals/{signal}.
type signalBody struct {
	State string    `json:"state"`
	At    time.Time `json:"at"`
}

// putSignal takes one state of a camera's signal head from a signal-phase
// feed; the caller must administer the camera's system, as for its scene.
func (s *Server) putSignal(w http.ResponseWriter, r *http.Request, p *principal) {
	id, signal := r.PathValue("id"), r.PathValue("signal")
	if !s.requireManagedCamera(w, r, p, id) {
		return
	}
	if s.Signals == nil {
		writeError(w, http.StatusServiceUnavailable, "signal feeds are not available")
		return
	}
	body, ok := readBody(w, r, 4<<10)
	if !ok {
		return
	}
	var in signalBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, `body: want {"state": "red", "at": "2025-03-14T09:30:00Z"} (at optional): `+err.Error())
		return
	}
	state := violation.SignalState(in.State)
	if !state.Valid() {
		writeError(w, http.StatusBadRequest, "state: "+quote(in.State)+": want red, amber, green or unknown")
		return
	}
	now := s.now()
	if in.At.IsZero() {
		in.At = now
	}
	if skew := in.At.Sub(now).Abs(); skew > maxSignalSkew {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("at: %s is %s from the server's clock, more than %s",
			in.At.UTC().Format(time.RFC3339Nano), skew.Round(time.Second), maxSignalSkew))
		return
	}
	// A signal the camera's scene lacks is refused before anything is
	// audited; the engine checks again against the scene it runs.
	if s.Scenes != nil {
		sc, _, err := s.Scenes.Scene(id)
		if err != nil {
			s.fail(w, "set signal", err)
			return
		}
		if sc == nil || !slices.ContainsFunc(sc.Signals, func(g scene.Signal) bool { return g.ID == signal }) {
			notFound(w, "signal")
			return
		}
	}
	if s.signals.changes(id, signal, state) {
		after, _ := audit.JSON(map[string]any{"signal": signal, "state": state, "at": in.At.UTC()})
		if _, err := s.Store.Audit().Record(r.Context(), audit.Entry{Actor: p.actor(), Action: ActionSignalSet,
			Object: "camera:" + id, After: after}); err != nil {
			s.fail(w, "set signal", fmt.Errorf("audit: %w", err))
			return
		}
	}
	switch err := s.Signals.SetSignal(id, signal, state, in.At); {
	case errors.Is(err, violation.ErrUnknownSignal):
		notFound(w, "signal")
	case errors.Is(err, ErrCameraNotRunning):
		writeError(w, http.StatusConflict, "camera "+quote(id)+" is not analysed by this engine")
	case errors.Is(err, violation.ErrInvalidSignalState):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		s.fail(w, "set signal", err)
	default:
		s.signals.remember(id, signal, state)
		writeJSON(w, http.StatusOK, map[string]any{"camera": id, "signal": signal, "state": state, "at": in.At.UTC()})
	}
}
