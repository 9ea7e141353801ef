package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/matthan/matthan/api/audit"
)

// Decision is what a reviewer decided about an event.
type Decision string

// The decisions.
const (
	// DecisionConfirmed: the violation happened as the event says.
	DecisionConfirmed Decision = "confirmed"
	// DecisionRejected: the violation event is wrong (a false detection).
	DecisionRejected Decision = "rejected"
	// DecisionAcknowledged: someone has taken charge of the alert.
	DecisionAcknowledged Decision = "acknowledged"
)

// Audit actions of dispositions.
const (
	// ActionEventReview is a violation confirmed or rejected.
	ActionEventReview = "event.review"
	// ActionEventAcknowledge is an alert acknowledged.
	ActionEventAcknowledge = "event.acknowledge"
)

// MaxReasonLength is the most characters a disposition's reason may have.
const MaxReasonLength = 1000

// Disposition is the decision about one event: a violation confirmed or
// rejected by a reviewer, an alert acknowledged. An event has at most
// one; deciding again replaces it (the audit log keeps every decision).
type Disposition struct {
	// EventID is the event's id (a UUID).
	EventID string `json:"event_id"`
	// CameraID is the event's camera.
	CameraID string `json:"camera_id"`
	// EventType is the event's type (violation.*, alert.*).
	EventType string `json:"event_type"`
	// Decision is what was decided.
	Decision Decision `json:"decision"`
	// Reason says why: required to confirm or reject a violation,
	// optional for an acknowledgement.
	Reason string `json:"reason"`
	// UserID and Username are who decided; SetDisposition takes them from
	// the actor.
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	// At is when; SetDisposition sets it.
	At time.Time `json:"at"`
}

// Action returns the audit action of the disposition's decision.
func (d Disposition) Action() string {
	if d.Decision == DecisionAcknowledged {
		return ActionEventAcknowledge
	}
	return ActionEventReview
}

// DecisionsFor returns the decisions an event of type typ takes: confirmed
// and rejected for violations, acknowledged for alerts, none for the rest.
func DecisionsFor(typ string) []Decision {
	switch {
	case strings.HasPrefix(typ, "violation."):
		return []Decision{DecisionConfirmed, DecisionRejected}
	case strings.HasPrefix(typ, "alert."):
		return []Decision{DecisionAcknowledged}
	}
	return nil
}

// check validates the disposition and trims its reason; errors wrap
// ErrInvalid and name the field.
func (d *Disposition) check() error {
	u, err := uuid.Parse(d.EventID)
	if err != nil || len(d.EventID) != 36 {
		return fmt.Errorf("%w: event_id %q: want a UUID", ErrInvalid, d.EventID)
	}
	d.EventID = u.String()
	allowed := DecisionsFor(d.EventType)
	switch {
	case len(allowed) == 0:
		return fmt.Errorf("%w: event type %q takes no decision: only violation.* and alert.* events do", ErrInvalid, d.EventType)
	case !isDecision(d.Decision):
		return fmt.Errorf("%w: decision %q: want confirmed, rejected or acknowledged", ErrInvalid, d.Decision)
	case !slices.Contains(allowed, d.Decision):
		return fmt.Errorf("%w: decision %q does not apply to %s events: want %s", ErrInvalid, d.Decision, d.EventType, joinDecisions(allowed))
	}
	d.Reason = strings.TrimSpace(d.Reason)
	if !utf8.ValidString(d.Reason) {
		return fmt.Errorf("%w: reason: not valid UTF-8", ErrInvalid)
	}
	if n := utf8.RuneCountInString(d.Reason); n > MaxReasonLength {
		return fmt.Errorf("%w: reason: %d characters, at most %d", ErrInvalid, n, MaxReasonLength)
	}
	if d.Reason == "" && d.Decision != DecisionAcknowledged {
		return fmt.Errorf("%w: reason is required to %s a violation", ErrInvalid, strings.TrimSuffix(string(d.Decision), "ed"))
	}
	return nil
}

func isDecision(d Decision) bool {
	return d == DecisionConfirmed || d == DecisionRejected || d == DecisionAcknowledged
}

func joinDecisions(ds []Decision) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = string(d)
	}
	return strings.Join(s, " or ")
}

const dispositionColumns = `event_id, camera_id, event_type, decision, reason, user_id, username, at_ms`

func scanDisposition(row scanner) (Disposition, error) {
	var d Disposition
	var at int64
	if err := row.Scan(&d.EventID, &d.CameraID, &d.EventType, &d.Decision, &d.Reason, &d.UserID, &d.Username, &at); err != nil {
		return Disposition{}, err
	}
	d.At = msTime(at)
	return d, nil
}

// SetDisposition records the decision about an event, replacing any
// earlier one, and audits it (ActionEventReview or ActionEventAcknowledge,
// object "event:<id>", the earlier decision as before). The decider is
// by; At is now. The decision must fit the event's type (DecisionsFor),
// and a violation's needs a reason (trimmed, at most MaxReasonLength
// characters). Whether by may decide is the caller's check.
func (s *Store) SetDisposition(ctx context.Context, by audit.Actor, d Disposition) (Disposition, error) {
	if err := d.check(); err != nil {
		return Disposition{}, fmt.Errorf("set disposition: %w", err)
	}
	d.UserID, d.Username, d.At = by.UserID, by.Username, truncMS(s.now())
	err := s.change(ctx, "set disposition", by, d.Action(), "event:"+d.EventID, func(tx *sql.Tx) (any, any, error) {
		ok, err := exists(ctx, tx, "cameras", d.CameraID)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, fmt.Errorf("%w: camera_id %q: no such camera", ErrInvalid, d.CameraID)
		}
		var before any
		old, err := scanDisposition(tx.QueryRowContext(ctx, "SELECT "+dispositionColumns+" FROM event_dispositions WHERE event_id = $1", d.EventID))
		switch {
		case err == nil:
			if old.CameraID != d.CameraID || old.EventType != d.EventType {
				return nil, nil, fmt.Errorf("%w: event %s is a %s of camera %q, not a %s of camera %q",
					ErrInvalid, d.EventID, old.EventType, old.CameraID, d.EventType, d.CameraID)
			}
			before = old
			_, err = tx.ExecContext(ctx, `UPDATE event_dispositions SET decision = $1, reason = $2, user_id = $3, username = $4, at_ms = $5
				WHERE event_id = $6`, string(d.Decision), d.Reason, d.UserID, d.Username, msOf(d.At), d.EventID)
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO event_dispositions (`+dispositionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				d.EventID, d.CameraID, d.EventType, string(d.Decision), d.Reason, d.UserID, d.Username, msOf(d.At))
		}
		return before, d, err
	})
	if err != nil {
		return Disposition{}, err
	}
	return d, nil
}

// Disposition returns the decision about an event, or an error wrapping
// ErrNotFound when there is none.
func (s *Store) Disposition(ctx context.Context, eventID string) (Disposition, error) {
	d, err := scanDisposition(s.db.QueryRowContext(ctx, "SELECT "+dispositionColumns+" FROM event_dispositions WHERE event_id = $1",
		canonicalUUID(eventID)))
	if errors.Is(err, sql.ErrNoRows) {
		return Disposition{}, fmt.Errorf("disposition of event %q: %w", eventID, ErrNotFound)
	}
	if err != nil {
		return Disposition{}, fmt.Errorf("disposition of event %q: %w", eventID, err)
	}
	return d, nil
}

// dispositionBatch is how many ids one query of Dispositions asks for,
// well under the bound parameters SQLite and PostgreSQL take.
const dispositionBatch = 500

// Dispositions returns the decisions about the events with these ids, by
// event id; events without one are absent.
func (s *Store) Dispositions(ctx context.Context, eventIDs []string) (map[string]Disposition, error) {
	out := make(map[string]Disposition)
	for start := 0; start < len(eventIDs); start += dispositionBatch {
		batch := eventIDs[start:min(start+dispositionBatch, len(eventIDs))]
		marks := make([]string, len(batch))
		args := make([]any, len(batch))
		for i, id := range batch {
			marks[i] = fmt.Sprintf("$%d", i+1)
			args[i] = canonicalUUID(id)
		}
		ds, err := list(ctx, s.db, scanDisposition, "SELECT "+dispositionColumns+" FROM event_dispositions WHERE event_id IN ("+
			strings.Join(marks, ", ")+")", args...)
		if err != nil {
			return nil, fmt.Errorf("dispositions of %d events: %w", len(eventIDs), err)
		}
		for _, d := range ds {
			out[d.EventID] = d
		}
	}
	return out, nil
}

// canonicalUUID returns id as a lower-case UUID, or unchanged when it is
// not one (it then matches nothing).
func canonicalUUID(id string) string {
	if u, err := uuid.Parse(id); err == nil && len(id) == 36 {
		return u.String()
	}
	return id
}
