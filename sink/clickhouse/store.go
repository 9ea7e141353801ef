package clickhouse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
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

// Store keeps events in the events table of a ClickHouse Backend. It
// implements sink.Writer. Store does not own Backend: close it yourself.
type Store struct {
	// Backend runs the SQL; required.
	Backend Backend
	// Retention is how long events are kept (the table's TTL). Defaults to
	// DefaultRetention; shorter than MinRetention is an error.
	Retention time.Duration
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

// Migrate creates the events table, or updates its TTL when Retention changed.
func (s *Store) Migrate(ctx context.Context) error {
	days, err := s.retentionDays()
	if err != nil {
		return err
	}
	ttl := fmt.Sprintf("ts + INTERVAL %d DAY", days)
	create := `CREATE TABLE IF NOT EXISTS events (
	id UUID,
	schema LowCardinality(String),
	type LowCardinality(String),
	camera_id String,
	system_id LowCardinality(String),
	ts DateTime64(3, 'UTC'),
	node LowCardinality(String),
	model_name LowCardinality(String),
	model_version LowCardinality(String),
	counts Map(String, UInt32),
	payload String CODEC(ZSTD(3))
) ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (camera_id, ts)
TTL ` + ttl
	if err := s.Backend.Exec(ctx, create); err != nil {
		return fmt.Errorf("migrate events: %w", err)
	}

	out, err := s.Backend.QueryJSON(ctx, "SELECT create_table_query AS q FROM system.tables WHERE database = currentDatabase() AND name = 'events'")
	if err != nil {
		return fmt.Errorf("migrate events: read table definition: %w", err)
	}
	var def struct{ Q string }
	if err := json.Unmarshal(out, &def); err != nil {
		return fmt.Errorf("migrate events: read table definition: %w", err)
	}
	if strings.Contains(def.Q, fmt.Sprintf("toIntervalDay(%d)", days)) {
		return nil
	}
	if err := s.Backend.Exec(ctx, "ALTER TABLE events MODIFY TTL "+ttl); err != nil {
		return fmt.Errorf("migrate events: set retention to %d days: %w", days, err)
	}
	return nil
}

// Name is the sink name in logs and metrics.
func (s *Store) Name() string { return "clickhouse" }

// row is one events row as JSONEachRow.
type row struct {
	ID           string         `json:"id"`
	Schema       string         `json:"schema"`
	Type         string         `json:"type"`
	CameraID     string         `json:"camera_id"`
	SystemID     string         `json:"system_id"`
	TS           string         `json:"ts"`
	Node         string         `json:"node"`
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version"`
	Counts       map[string]int `json:"counts,omitempty"`
	Payload      string         `json:"payload"`
}

// Write inserts events in one batch. Events should be valid (sink.Fanout
// only passes valid ones); an invalid event fails the whole batch.
func (s *Store) Write(ctx context.Context, events []sink.Event) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([][]byte, 0, len(events))
	for _, e := range events {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
		payload, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("write events: encode %s: %w", e.ID, err)
		}
		r := row{
			ID: e.ID, Schema: e.Schema, Type: e.Type, CameraID: e.CameraID, SystemID: e.SystemID,
			TS: e.TS.UTC().Format(tsLayout), Node: e.Node, Counts: e.Counts, Payload: string(payload),
		}
		if e.Model != nil {
			r.ModelName, r.ModelVersion = e.Model.Name, e.Model.Version
		}
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("write events: encode %s: %w", e.ID, err)
		}
		rows = append(rows, b)
	}
	if err := s.Backend.InsertJSON(ctx, "events", rows); err != nil {
		return fmt.Errorf("write %d events: %w", len(events), err)
	}
	return nil
}

// Recent returns up to limit events, newest first, of camera ("" for all
// cameras). limit must be in [1, MaxRecent].
func (s *Store) Recent(ctx context.Context, camera string, limit int) ([]sink.Event, error) {
	if limit < 1 || limit > MaxRecent {
		return nil, fmt.Errorf("recent events: %w: limit %d not in [1, %d]", ErrBadArgument, limit, MaxRecent)
	}
	where := ""
	if camera != "" {
		where = "WHERE camera_id = " + quote(camera)
	}
	q := fmt.Sprintf("SELECT payload FROM events %s ORDER BY ts DESC, id DESC LIMIT %d", where, limit)
	out, err := s.Backend.QueryJSON(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("recent events: %w", err)
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
		return nil, fmt.Errorf("recent events: decode: %w", err)
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
