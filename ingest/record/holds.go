package record

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// HoldsFile is the legal hold log, in <Root>: one JSON line per hold and
// per release, never rewritten.
const HoldsFile = "holds.jsonl"

// Audit actions passed to Retention.Audit.
const (
	AuditHold    = "recording.hold"
	AuditRelease = "recording.release"
)

// Hold is a legal hold: the recordings of a camera in [From, To] are kept
// whatever the retention rules say until the hold is released.
type Hold struct {
	ID      string    // assigned by Retention.Hold
	Camera  string    // the camera id
	From    time.Time // start of the held range
	To      time.Time // end of the held range
	Reason  string    // why, e.g. the case or warrant reference
	By      string    // who placed it
	Created time.Time // when it was placed
}

// covers reports whether h holds any of [start, end] of camera.
func (h Hold) covers(camera string, start, end time.Time) bool {
	return h.Camera == camera && !start.After(h.To) && !end.Before(h.From)
}

// holdLine is a line of HoldsFile.
type holdLine struct {
	Action string `json:"action"` // "hold" or "release"
	ID     string `json:"id"`
	Camera string `json:"camera,omitempty"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	Reason string `json:"reason"`
	By     string `json:"by"`
	At     string `json:"at"`
}

// Hold places a legal hold on the recordings of camera in [from, to]: no
// retention rule deletes them until Release. reason and by are required.
// The hold is persisted before Hold returns, then audited (AuditHold).
func (r *Retention) Hold(camera string, from, to time.Time, reason, by string) (Hold, error) {
	switch {
	case checkCameraID(camera) != nil:
		return Hold{}, fmt.Errorf("hold: %w: camera %q, want a camera id", ErrInvalidHold, camera)
	case from.IsZero() || to.IsZero() || !from.Before(to):
		return Hold{}, fmt.Errorf("hold: %w: range %v to %v, want from before to", ErrInvalidHold, from, to)
	case strings.TrimSpace(reason) == "":
		return Hold{}, fmt.Errorf("hold: %w: reason is empty, want the case or warrant it is for", ErrInvalidHold)
	case strings.TrimSpace(by) == "":
		return Hold{}, fmt.Errorf("hold: %w: by is empty, want who places it", ErrInvalidHold)
	}
	var id [8]byte
	rand.Read(id[:])
	h := Hold{ID: "hold-" + hex.EncodeToString(id[:]), Camera: camera, From: from.UTC(), To: to.UTC(),
		Reason: reason, By: by, Created: r.now().UTC()}
	r.mu.Lock()
	err := r.appendHold(holdLine{Action: "hold", ID: h.ID, Camera: camera,
		From: h.From.Format(time.RFC3339Nano), To: h.To.Format(time.RFC3339Nano),
		Reason: reason, By: by, At: h.Created.Format(time.RFC3339Nano)})
	r.mu.Unlock()
	if err != nil {
		return Hold{}, fmt.Errorf("hold: %w", err)
	}
	r.audit(AuditHold, map[string]string{"id": h.ID, "camera": camera,
		"from": h.From.Format(time.RFC3339), "to": h.To.Format(time.RFC3339), "reason": reason, "by": by})
	r.logger().Info("legal hold placed", "id", h.ID, "camera", camera, "from", h.From, "to", h.To, "by", by)
	return h, nil
}

// Release ends the legal hold id; retention applies to its range again.
// reason and by are required. The release is persisted, then audited
// (AuditRelease). An id that is not an active hold is ErrUnknownHold.
func (r *Retention) Release(id, by, reason string) error {
	switch {
	case strings.TrimSpace(by) == "":
		return fmt.Errorf("release hold %s: %w: by is empty, want who releases it", id, ErrInvalidHold)
	case strings.TrimSpace(reason) == "":
		return fmt.Errorf("release hold %s: %w: reason is empty", id, ErrInvalidHold)
	}
	r.mu.Lock()
	holds, err := r.readHolds()
	var h Hold
	if err == nil {
		i := slices.IndexFunc(holds, func(h Hold) bool { return h.ID == id })
		if i < 0 {
			err = fmt.Errorf("%w: %q", ErrUnknownHold, id)
		} else {
			h = holds[i]
			err = r.appendHold(holdLine{Action: "release", ID: id, Reason: reason, By: by,
				At: r.now().UTC().Format(time.RFC3339Nano)})
		}
	}
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("release hold: %w", err)
	}
	r.audit(AuditRelease, map[string]string{"id": id, "camera": h.Camera,
		"from": h.From.Format(time.RFC3339), "to": h.To.Format(time.RFC3339), "reason": reason, "by": by})
	r.logger().Info("legal hold released", "id", id, "camera", h.Camera, "by", by)
	return nil
}

// Holds returns the active legal holds of camera, or of every camera when
// camera is empty, in the order they were placed.
func (r *Retention) Holds(camera string) ([]Hold, error) {
	r.mu.Lock()
	holds, err := r.readHolds()
	r.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("holds: %w", err)
	}
	if camera != "" {
		holds = slices.DeleteFunc(holds, func(h Hold) bool { return h.Camera != camera })
	}
	return holds, nil
}

// readHolds replays HoldsFile into the active holds. r.mu is held.
func (r *Retention) readHolds() ([]Hold, error) {
	var holds []Hold
	err := readLines(filepath.Join(r.Root, HoldsFile), func(line []byte) error {
		var l holdLine
		if err := json.Unmarshal(line, &l); err != nil {
			return err
		}
		switch l.Action {
		case "hold":
			from, err1 := time.Parse(time.RFC3339Nano, l.From)
			to, err2 := time.Parse(time.RFC3339Nano, l.To)
			at, err3 := time.Parse(time.RFC3339Nano, l.At)
			if err := errors.Join(err1, err2, err3); err != nil {
				return err
			}
			holds = append(holds, Hold{ID: l.ID, Camera: l.Camera, From: from.UTC(), To: to.UTC(),
				Reason: l.Reason, By: l.By, Created: at.UTC()})
		case "release":
			holds = slices.DeleteFunc(holds, func(h Hold) bool { return h.ID == l.ID })
		default:
			return fmt.Errorf("action %q, want hold or release", l.Action)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return holds, err
}

// appendHold adds a line to HoldsFile. r.mu is held.
func (r *Retention) appendHold(l holdLine) error {
	return appendLine(filepath.Join(r.Root, HoldsFile), l)
}

// audit calls the Audit hook.
func (r *Retention) audit(action string, details map[string]string) {
	if r.Audit != nil {
		r.Audit(action, details)
	}
}
