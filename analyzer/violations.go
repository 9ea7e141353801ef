package analyzer

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/analyzer/violation"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/sink"
)

// EvidenceDir stores evidence snapshots as
// <Root>/<camera>/<YYYY-MM-DD>/<event id>.jpg (UTC date of the event).
type EvidenceDir struct {
	Root string
}

// Path is where the snapshot of ev is stored.
func (d EvidenceDir) Path(ev sink.Event) string {
	return filepath.Join(d.Root, ev.CameraID, ev.TS.UTC().Format(time.DateOnly), ev.ID+".jpg")
}

// Save writes the snapshot of ev: to a temporary file first, synced, then
// renamed, so a crash never leaves a half-written picture under the event's
// name.
func (d EvidenceDir) Save(ev sink.Event, jpeg []byte) error {
	path := d.Path(ev)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".snapshot-*")
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	_, err = tmp.Write(jpeg)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("evidence %s: %w", ev.ID, err)
	}
	return nil
}

// ViolationRule runs the violation rules (red light, wrong way, illegal
// parking, restricted lane) as a Rule and keeps each violation's snapshot
// in Evidence.
type ViolationRule struct {
	engine   *violation.Engine
	sized    bool // engine built for the camera's real picture shape
	scene    scene.Scene
	camera   string
	evidence *EvidenceDir
	errs     *errorSummary

	feedMu sync.Mutex
	feed   []signalUpdate // given by SetSignal, handed to the engine at the next frame
}

// signalUpdate is one state of an external signal-phase feed.
type signalUpdate struct {
	id    string
	state violation.SignalState
	at    time.Time
}

// maxPendingSignals bounds the feed states waiting for the next frame (a
// camera that stalls must not let a feed grow without end); the oldest
// go first.
const maxPendingSignals = 256

// SetSignal takes the state of the scene's signal id from an external
// signal-phase feed, as of at (the cameras' capture clock), for the
// analysis goroutine to hand to the rules at its next frame. It fails at
// once, wrapping violation.ErrUnknownSignal or ErrInvalidSignalState, for
// a signal the scene lacks or another state. Safe for concurrent use.
func (r *ViolationRule) SetSignal(id string, state violation.SignalState, at time.Time) error {
	if !state.Valid() {
		return fmt.Errorf("signal %q: %w: %q (want red, amber, green or unknown)", id, violation.ErrInvalidSignalState, state)
	}
	if !slices.ContainsFunc(r.scene.Signals, func(s scene.Signal) bool { return s.ID == id }) {
		return fmt.Errorf("camera %s: %w: %q", r.camera, violation.ErrUnknownSignal, id)
	}
	r.feedMu.Lock()
	defer r.feedMu.Unlock()
	if len(r.feed) == maxPendingSignals {
		r.feed = slices.Delete(r.feed, 0, 1)
	}
	r.feed = append(r.feed, signalUpdate{id: id, state: state, at: at})
	return nil
}

// NewViolationRule builds the violation rules of a camera's scene, checking
// the scene at once. Evidence nil keeps no snapshots (the events still carry
// their sha256). The rules are rebuilt for the picture's real shape on the
// first frame.
func NewViolationRule(camera string, sc scene.Scene, evidence *EvidenceDir, log *slog.Logger) (*ViolationRule, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	eng, err := violation.New(camera, sc, violation.Config{})
	if err != nil {
		return nil, err
	}
	return &ViolationRule{engine: eng, scene: sc, camera: camera, evidence: evidence,
		errs: newErrorSummary(log, "violation rules", time.Minute)}, nil
}

// Observe implements Rule.
func (r *ViolationRule) Observe(ts time.Time, frame *decode.Frame, tracks []track.Track) []sink.Event {
	if w, h := sourceSize(frame); !r.sized && w > 0 && h > 0 {
		eng, err := violation.New(r.camera, r.scene, violation.Config{Aspect: float64(w) / float64(h)})
		if err != nil {
			r.errs.add(err)
		} else {
			r.engine = eng
		}
		r.sized = true
	}
	r.feedMu.Lock()
	feed := r.feed
	r.feed = nil
	r.feedMu.Unlock()
	for _, u := range feed {
		if err := r.engine.SetSignal(u.id, u.state, u.at); err != nil {
			r.errs.add(err)
		}
	}
	vs, err := r.engine.Observe(ts, frame, tracks)
	if err != nil {
		r.errs.add(err)
	}
	events := make([]sink.Event, 0, len(vs))
	for _, v := range vs {
		if v.Event.CameraID == "" {
			v.Event.CameraID = r.camera
		}
		if r.evidence != nil && len(v.Snapshot) > 0 {
			if err := r.evidence.Save(v.Event, v.Snapshot); err != nil {
				r.errs.add(err)
			}
		}
		events = append(events, v.Event)
	}
	return events
}

// sourceSize is the size of frame's source picture, 0×0 for no frame.
func sourceSize(frame *decode.Frame) (int, int) {
	if frame == nil {
		return 0, 0
	}
	return frame.SourceSize()
}

// Flush implements Rule: every violation is decided on the frame that proves
// it, so nothing is held back.
func (r *ViolationRule) Flush() []sink.Event { return nil }

// Annotations implements Annotator: the signal heads' states.
func (r *ViolationRule) Annotations() []Annotation {
	var out []Annotation
	for _, s := range r.engine.Signals() {
		out = append(out, Annotation{Text: fmt.Sprintf("signal %s: %s", s.ID, s.State), Alert: s.State == violation.SignalRed})
	}
	return out
}
