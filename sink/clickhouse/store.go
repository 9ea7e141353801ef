package clickhouse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/matthan/matthan/sink"
)

const (
	// MinRetention is the shortest retention regulation allows:
	// data is kept at least 30 days.
	MinRetention = 30 * 24 * time.Hour
	// DefaultRetention is the retention when none is configured.
	DefaultRetention = MinRetention
	// MaxRecent bounds how many events one Recent call returns.
	MaxRecent = 10000
)

// tsLayout is how DateTime64(3) values are written in JSONEachRow.
const tsLayout = "2006-01-02 15:04:05.000"

// Store keeps events in a ClickHouse Backend: every event in the events
// table, and what planners query in the derived tables (see Write). It
// implements sink.Writer; Stats answers the planners' statistics. Store does
// not own Backend: close it yourself.
type Store struct {
	// Backend runs the SQL; required.
	Backend Backend
	// Retention is how long events are kept (the table's TTL). Defaults to
	// DefaultRetention; shorter than MinRetention is an error.
	Retention time.Duration

	// newest is, per camera, the newest event time (to the millisecond,
	// as stored) in the events table and the ids stored at that time. An
	// event newer than it, or at that time with another id, cannot have
	// been stored yet, so Write looks up only the others. It is read from
	// the table at a camera's first write and kept up to date by Write: the
	// Store must be the only writer of its cameras' events (the engine
	// is), else a redelivered event another writer stored could be stored
	// twice. Deleting rows behind its back only costs look-ups.
	mu     sync.Mutex
	newest map[string]*newestEvents
}

// newestEvents is a camera's newest stored event time and the ids stored
// at that time.
type newestEvents struct {
	ts  time.Time
	ids map[string]bool
}

// mayHold reports whether the events table may hold an event of the camera
// at stored time ts with id.
func (n *newestEvents) mayHold(ts time.Time, id string) bool {
	return ts.Before(n.ts) || (ts.Equal(n.ts) && n.ids[id])
}

// add records an event stored at ts with id.
func (n *newestEvents) add(ts time.Time, id string) {
	switch {
	case ts.After(n.ts):
		n.ts, n.ids = ts, map[string]bool{id: true}
	case ts.Equal(n.ts):
		n.ids[id] = true
	}
}

var _ sink.Writer = (*Store)(nil)

// retentionDays validates Retention and returns it in whole days, rounded up.
func (s *Store) retentionDays() (int, error) {
	r := s.Retention
	if r == 0 {
		r = DefaultRetention
	}
	if r < MinRetention {
		return 0, fmt.Errorf("%w: retention %v is below the minimum of 30 days set by regulation R-11.3", ErrRetentionTooShort, r)
	}
	return int((r + 24*time.Hour - 1) / (24 * time.Hour)), nil
}

// Name is the sink name in logs and metrics.
func (s *Store) Name() string { return "clickhouse" }

// Write inserts events in one batch: each event into events, and what it
// carries into the derived tables (traffic_counts and its rollups,
// camera_health, recording_gaps; see derive), with one INSERT per table.
// Events should be valid (sink.Fanout only passes valid ones); an invalid
// event fails the whole batch.
//
// Delivery to the store is at-least-once, and a SummingMergeTree would add a
// redelivered traffic.count twice, so Write skips the events whose id is
// already stored, and repeats within the batch. Only events not newer than
// their camera's newest stored event are looked up (see Store.newest): in a
// live stream that is almost none, in a redelivery all of them. It inserts events last: a
// batch that failed part-way is written again whole, and only a failure
// between the derived tables and events can still count an event twice.
func (s *Store) Write(ctx context.Context, events []sink.Event) error {
	if len(events) == 0 {
		return nil
	}
	for _, e := range events {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
	}
	maybe, err := s.maybeStored(ctx, events)
	if err != nil {
		return fmt.Errorf("write %d events: %w", len(events), err)
	}
	stored := map[string]bool{}
	if len(maybe) > 0 {
		if stored, err = s.storedIDs(ctx, maybe); err != nil {
			return fmt.Errorf("write %d events: %w", len(events), err)
		}
	}
	var t tables
	for _, e := range events {
		id := canonicalID(e.ID)
		if stored[id] {
			continue
		}
		stored[id] = true
		if err := t.add(e); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
	}
	// events last: it marks the batch as written (above).
	for _, ins := range []struct {
		table string
		rows  [][]byte
	}{
		{"traffic_counts", t.traffic},
		{"camera_health", t.health},
		{"recording_gaps", t.gaps},
		{"events", t.events},
	} {
		if err := s.Backend.InsertJSON(ctx, ins.table, ins.rows); err != nil {
			return fmt.Errorf("write %d events: %w", len(events), err)
		}
	}
	s.raiseNewest(events)
	return nil
}

// storedTime is an event time as the events table keeps it: DateTime64(3),
// written by tsLayout, which truncates to the millisecond.
func storedTime(ts time.Time) time.Time { return ts.UTC().Truncate(time.Millisecond) }

// maybeStored returns the events that may already be in the events table:
// those not newer than their camera's newest stored event. Cameras seen
// for the first time are asked for their newest event first.
func (s *Store) maybeStored(ctx context.Context, events []sink.Event) ([]sink.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.newest == nil {
		s.newest = map[string]*newestEvents{}
	}
	var unknown []string
	for _, e := range events {
		if _, ok := s.newest[e.CameraID]; !ok && !slices.Contains(unknown, e.CameraID) {
			unknown = append(unknown, e.CameraID)
		}
	}
	if len(unknown) > 0 {
		if err := s.loadNewest(ctx, unknown); err != nil {
			return nil, err
		}
	}
	var maybe []sink.Event
	for _, e := range events {
		if s.newest[e.CameraID].mayHold(storedTime(e.TS), canonicalID(e.ID)) {
			maybe = append(maybe, e)
		}
	}
	return maybe, nil
}

// loadNewest reads the newest stored event time of each camera and the
// ids stored at that time; a camera without events gets the zero time.
// s.mu is held.
func (s *Store) loadNewest(ctx context.Context, cameras []string) error {
	quoted := make([]string, len(cameras))
	loaded := make(map[string]*newestEvents, len(cameras))
	for i, c := range cameras {
		quoted[i] = quote(c)
		loaded[c] = &newestEvents{ids: map[string]bool{}}
	}
	in := strings.Join(quoted, ",")
	out, err := s.Backend.QueryJSON(ctx, "SELECT camera_id, formatDateTime(ts, '%Y-%m-%d %H:%i:%S.%f', 'UTC') AS ts, toString(id) AS id "+
		"FROM events WHERE camera_id IN ("+in+") AND (camera_id, ts) IN "+
		"(SELECT camera_id, max(ts) FROM events WHERE camera_id IN ("+in+") GROUP BY camera_id)")
	if err != nil {
		return fmt.Errorf("look up newest events: %w", err)
	}
	err = eachRow(out, func(line []byte) error {
		var r struct {
			CameraID string `json:"camera_id"`
			TS       string `json:"ts"`
			ID       string `json:"id"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		ts, err := time.Parse("2006-01-02 15:04:05.000000", r.TS)
		if err != nil {
			return err
		}
		n, ok := loaded[r.CameraID]
		if !ok {
			return fmt.Errorf("row of camera %q, not asked for", r.CameraID)
		}
		n.add(ts, r.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("look up newest events: decode: %w", err)
	}
	maps.Copy(s.newest, loaded)
	return nil
}

// raiseNewest records that events are stored.
func (s *Store) raiseNewest(events []sink.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		s.newest[e.CameraID].add(storedTime(e.TS), canonicalID(e.ID))
	}
}

// storedIDs returns which of the events' ids the events table holds. It
// asks for the ids stored for the batch's cameras within its time span —
// the primary key (camera, ts) skips all but a few granules — and matches
// them here: a query naming every id of a large batch costs more to parse
// than the look-up itself.
func (s *Store) storedIDs(ctx context.Context, events []sink.Event) (map[string]bool, error) {
	cameras := map[string]bool{}
	want := make(map[string]bool, len(events))
	from, to := events[0].TS, events[0].TS
	for _, e := range events {
		want[canonicalID(e.ID)] = true // Validate checked it is a UUID
		cameras[e.CameraID] = true
		from, to = minTime(from, e.TS), maxTime(to, e.TS)
	}
	var q strings.Builder
	q.WriteString("SELECT toString(id) AS id FROM events WHERE camera_id IN (")
	i := 0
	for c := range cameras {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(quote(c))
		i++
	}
	fmt.Fprintf(&q, ") AND ts >= toDateTime64(%s, 3, 'UTC') AND ts <= toDateTime64(%s, 3, 'UTC')",
		quote(from.UTC().Format(tsLayout)), quote(to.UTC().Format(tsLayout)))
	out, err := s.Backend.QueryJSON(ctx, q.String())
	if err != nil {
		return nil, fmt.Errorf("look up stored ids: %w", err)
	}
	stored := make(map[string]bool)
	err = eachRow(out, func(line []byte) error {
		var r struct{ ID string }
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if want[r.ID] {
			stored[r.ID] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up stored ids: decode: %w", err)
	}
	return stored, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Recent returns up to limit events, newest first, of camera ("" for all
// cameras). limit must be in [1, MaxRecent].
func (s *Store) Recent(ctx context.Context, camera string, limit int) ([]sink.Event, error) {
	f := EventFilter{Limit: limit}
	if camera != "" {
		f.Cameras = []string{camera}
	}
	events, err := s.Events(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("recent %w", err)
	}
	return events, nil
}

// EventIDs returns the ids of all stored events in ascending order (UUIDv7
// ids sort by creation time). It is meant for tests and checks on small
// stores.
func (s *Store) EventIDs(ctx context.Context) ([]string, error) {
	out, err := s.Backend.QueryJSON(ctx, "SELECT toString(id) AS id FROM events ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("event ids: %w", err)
	}
	var ids []string
	err = eachRow(out, func(line []byte) error {
		var r struct{ ID string }
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		ids = append(ids, r.ID)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("event ids: decode: %w", err)
	}
	return ids, nil
}

// eachRow calls fn with each non-empty line of JSONEachRow output.
func eachRow(out []byte, fn func(line []byte) error) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}
