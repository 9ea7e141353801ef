package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/matthan/matthan/sink"
)

// MaxFilterTypes bounds the types (and prefixes) of one EventFilter.
const MaxFilterTypes = 32

// eventTypePattern is an exact event type ("violation.red_light") or a
// prefix ending in a dot ("violation.").
var eventTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*\.([a-z][a-z0-9_]*)?$`)

// EventFilter selects stored events for Events. Zero fields select all.
type EventFilter struct {
	// Cameras keeps the events of these cameras; nil or empty keeps every
	// camera's.
	Cameras []string
	// Types keeps the events whose type is one of these, where an entry
	// ending in '.' is a prefix ("violation." keeps every violation).
	Types []string
	// Before keeps events strictly older than it (paging: pass the ts of
	// the last event of the page before).
	Before time.Time
	// Since keeps events at or after it.
	Since time.Time
	// Limit is how many to return at most, in [1, MaxRecent].
	Limit int
}

// CheckEventType reports whether t is an event type or a type prefix
// ending in '.', as EventFilter.Types takes them; the error, wrapping
// ErrBadArgument, says what is wrong.
func CheckEventType(t string) error {
	if len(t) > 64 || !eventTypePattern.MatchString(t) {
		return fmt.Errorf("%w: event type %q: want a type such as violation.red_light or a prefix such as violation.", ErrBadArgument, t)
	}
	return nil
}

// MatchesType reports whether an event of type t passes the filter's
// Types (the live stream applies the list's filter with it).
func (f EventFilter) MatchesType(t string) bool {
	if len(f.Types) == 0 {
		return true
	}
	for _, want := range f.Types {
		if t == want || (strings.HasSuffix(want, ".") && strings.HasPrefix(t, want)) {
			return true
		}
	}
	return false
}

// where returns the filter's conditions as a WHERE clause ("" for none).
func (f EventFilter) where() (string, error) {
	var conds []string
	if len(f.Cameras) > 0 {
		q := make([]string, len(f.Cameras))
		for i, c := range f.Cameras {
			q[i] = quote(c)
		}
		conds = append(conds, "camera_id IN ("+strings.Join(q, ", ")+")")
	}
	if len(f.Types) > MaxFilterTypes {
		return "", fmt.Errorf("%w: %d event types, at most %d", ErrBadArgument, len(f.Types), MaxFilterTypes)
	}
	if len(f.Types) > 0 {
		var exact, prefixes []string
		for _, t := range f.Types {
			if err := CheckEventType(t); err != nil {
				return "", err
			}
			if strings.HasSuffix(t, ".") {
				prefixes = append(prefixes, "startsWith(type, "+quote(t)+")")
			} else {
				exact = append(exact, quote(t))
			}
		}
		alts := prefixes
		if len(exact) > 0 {
			alts = append(alts, "type IN ("+strings.Join(exact, ", ")+")")
		}
		conds = append(conds, "("+strings.Join(alts, " OR ")+")")
	}
	if !f.Before.IsZero() {
		conds = append(conds, "ts < "+ts64(ceilMS(f.Before)))
	}
	if !f.Since.IsZero() {
		conds = append(conds, "ts >= "+ts64(ceilMS(f.Since)))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), nil
}

// ceilMS rounds t up to the millisecond, the precision of the stored ts:
// an event stored at .123 is older than a bound at .1235, and stays so
// against .124.
func ceilMS(t time.Time) time.Time {
	r := t.Truncate(time.Millisecond)
	if r.Before(t) {
		r = r.Add(time.Millisecond)
	}
	return r
}

// ts64 returns t as a DateTime64(3, 'UTC') literal.
func ts64(t time.Time) string {
	return "toDateTime64(" + quote(t.UTC().Format(tsLayout)) + ", 3, 'UTC')"
}

// Events returns up to f.Limit events matching f, newest first (by ts,
// then id). The filter runs in the store, so a page of a rare type is full
// however many events of other types surround it.
func (s *Store) Events(ctx context.Context, f EventFilter) ([]sink.Event, error) {
	if f.Limit < 1 || f.Limit > MaxRecent {
		return nil, fmt.Errorf("events: %w: limit %d not in [1, %d]", ErrBadArgument, f.Limit, MaxRecent)
	}
	where, err := f.where()
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	q := fmt.Sprintf("SELECT payload FROM events %s ORDER BY ts DESC, id DESC LIMIT %d", where, f.Limit)
	events, err := s.payloads(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return events, nil
}

// eventSkew is how far an event's ts may lie after the time in its id:
// the id is made when the event is, after the frame that proves it was
// captured, so only clocks out of step put ts later.
const eventSkew = 24 * time.Hour

// eventLookback is how far before the time in its id the ts of almost
// every event lies (the capture of the proving frame, seconds before).
// Older ts are events about the past, such as a recording gap reported
// when it ends; Event looks for them in a second query.
const eventLookback = 24 * time.Hour

// Event returns the stored event with id, or an error wrapping ErrNotFound.
// The events table is ordered by camera and ts, not by id; the time in a
// UUIDv7 id bounds the ts, which prunes the search to the partitions of
// that day and its neighbours, and to the older ones only when the event
// is not there.
func (s *Store) Event(ctx context.Context, id string) (sink.Event, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return sink.Event{}, fmt.Errorf("event %q: %w: not a UUID", id, ErrBadArgument)
	}
	cond := "id = toUUID(" + quote(u.String()) + ")"
	windows := []string{cond}
	if u.Version() == 7 {
		sec, nsec := u.Time().UnixTime()
		made := time.Unix(sec, nsec).UTC()
		from := made.Add(-eventLookback)
		windows = []string{
			cond + " AND ts >= " + ts64(from) + " AND ts <= " + ts64(made.Add(eventSkew)),
			cond + " AND ts < " + ts64(from),
		}
	}
	for _, w := range windows {
		got, err := s.payloads(ctx, "SELECT payload FROM events WHERE "+w+" LIMIT 1")
		if err != nil {
			return sink.Event{}, fmt.Errorf("event %s: %w", u, err)
		}
		if len(got) > 0 {
			return got[0], nil
		}
	}
	return sink.Event{}, fmt.Errorf("event %s: %w", u, ErrNotFound)
}

// payloads runs q, which selects the payload column of events, and
// decodes each row's event.
func (s *Store) payloads(ctx context.Context, q string) ([]sink.Event, error) {
	out, err := s.Backend.QueryJSON(ctx, q)
	if err != nil {
		return nil, err
	}
	var events []sink.Event
	err = eachRow(out, func(line []byte) error {
		var r struct{ Payload string }
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		var e sink.Event
		if err := json.Unmarshal([]byte(r.Payload), &e); err != nil {
			return err
		}
		events = append(events, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return events, nil
}
