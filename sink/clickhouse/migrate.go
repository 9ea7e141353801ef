package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migration is one numbered step of the store's schema. Its statements run
// in order, once; each must be safe to run again (IF NOT EXISTS), because a
// failure between two of them leaves the migration unrecorded and the next
// Migrate runs it again. {days} stands for the retention in whole days.
type migration struct {
	version int
	name    string
	sql     []string
}

// migrations is the store's schema, oldest first. Never edit a released
// migration: append a new one. Version 1 is the events table stores created
// before migrations were numbered, so their data directories simply record
// it as applied.
var migrations = []migration{
	{1, "events", []string{`CREATE TABLE IF NOT EXISTS events (
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
TTL ts + INTERVAL {days} DAY`}},

	{2, "traffic_counts with hourly and daily rollups", []string{
		`CREATE TABLE IF NOT EXISTS traffic_counts (
	camera_id String,
	ts DateTime('UTC'),
	line String,
	direction LowCardinality(String),
	class LowCardinality(String),
	count UInt64
) ENGINE = SummingMergeTree(count)
PARTITION BY toYYYYMM(ts)
ORDER BY (camera_id, ts, line, direction, class)
TTL ts + INTERVAL {days} DAY`,
		`CREATE TABLE IF NOT EXISTS traffic_counts_hourly (
	camera_id String,
	hour DateTime('UTC'),
	line String,
	direction LowCardinality(String),
	class LowCardinality(String),
	count UInt64
) ENGINE = SummingMergeTree(count)
PARTITION BY toYYYYMM(hour)
ORDER BY (camera_id, hour, line, direction, class)
TTL hour + INTERVAL {days} DAY`,
		`CREATE TABLE IF NOT EXISTS traffic_counts_daily (
	camera_id String,
	day Date,
	line String,
	direction LowCardinality(String),
	class LowCardinality(String),
	count UInt64
) ENGINE = SummingMergeTree(count)
PARTITION BY toYear(day)
ORDER BY (camera_id, day, line, direction, class)
TTL day + INTERVAL {days} DAY`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_counts_hourly_mv TO traffic_counts_hourly AS
SELECT camera_id, toStartOfHour(ts) AS hour, line, direction, class, sum(traffic_counts.count) AS count
FROM traffic_counts
GROUP BY camera_id, hour, line, direction, class`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_counts_daily_mv TO traffic_counts_daily AS
SELECT camera_id, toDate(ts, '` + StatsZone + `') AS day, line, direction, class, sum(traffic_counts.count) AS count
FROM traffic_counts
GROUP BY camera_id, day, line, direction, class`,
	}},

	{3, "camera_health and recording_gaps", []string{
		`CREATE TABLE IF NOT EXISTS camera_health (
	camera_id String,
	ts DateTime64(3, 'UTC'),
	type LowCardinality(String),
	detail String,
	node LowCardinality(String),
	id UUID
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (camera_id, ts)
TTL ts + INTERVAL {days} DAY`,
		`CREATE TABLE IF NOT EXISTS recording_gaps (
	camera_id String,
	start_ts DateTime64(3, 'UTC'),
	end_ts DateTime64(3, 'UTC'),
	cause LowCardinality(String),
	node LowCardinality(String),
	id UUID
) ENGINE = MergeTree
PARTITION BY toYYYYMM(start_ts)
ORDER BY (camera_id, start_ts)
TTL end_ts + INTERVAL {days} DAY`,
	}},
}

// retained lists the tables with a TTL and its time expression: Migrate
// keeps every one at Retention.
var retained = []struct{ table, column string }{
	{"events", "ts"},
	{"traffic_counts", "ts"},
	{"traffic_counts_hourly", "hour"},
	{"traffic_counts_daily", "day"},
	{"camera_health", "ts"},
	{"recording_gaps", "end_ts"},
}

// LatestSchema is the schema version this package migrates stores to.
var LatestSchema = migrations[len(migrations)-1].version

const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version UInt32,
	name String,
	applied_at DateTime64(3, 'UTC')
) ENGINE = MergeTree
ORDER BY version`

// Migrate brings the schema up to LatestSchema, applying each migration not
// yet recorded in schema_migrations once and in order, then sets every
// table's TTL to Retention. It is idempotent, and refuses a Retention below
// 30 days (ErrRetentionTooShort) and a store migrated by a newer version
// (ErrSchemaNewer) before touching anything.
func (s *Store) Migrate(ctx context.Context) error {
	days, err := s.retentionDays()
	if err != nil {
		return err
	}
	if err := s.Backend.Exec(ctx, migrationsTable); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied, err := s.appliedVersions(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if n := len(applied); n > 0 && applied[n-1] > LatestSchema {
		return fmt.Errorf("migrate: %w: store at version %d, this binary knows up to %d", ErrSchemaNewer, applied[n-1], LatestSchema)
	}
	for _, m := range migrations {
		if _, done := slices.BinarySearch(applied, m.version); done {
			continue
		}
		for _, stmt := range m.sql {
			if err := s.Backend.Exec(ctx, strings.ReplaceAll(stmt, "{days}", strconv.Itoa(days))); err != nil {
				return fmt.Errorf("migrate to version %d (%s): %w", m.version, m.name, err)
			}
		}
		rec, err := json.Marshal(struct {
			Version   int    `json:"version"`
			Name      string `json:"name"`
			AppliedAt string `json:"applied_at"`
		}{m.version, m.name, time.Now().UTC().Format(tsLayout)})
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", m.version, err)
		}
		if err := s.Backend.InsertJSON(ctx, "schema_migrations", [][]byte{rec}); err != nil {
			return fmt.Errorf("migrate to version %d (%s): record it: %w", m.version, m.name, err)
		}
	}
	return s.setRetention(ctx, days)
}

// appliedVersions returns the recorded migrations, ascending, without
// repeats (two nodes migrating one server at once may record one twice).
func (s *Store) appliedVersions(ctx context.Context) ([]int, error) {
	out, err := s.Backend.QueryJSON(ctx, "SELECT DISTINCT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	var versions []int
	err = eachRow(out, func(line []byte) error {
		var r struct{ Version int }
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		versions = append(versions, r.Version)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	return versions, nil
}

// SchemaVersion returns the highest migration applied to the store; 0 when
// it was never migrated.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	out, err := s.Backend.QueryJSON(ctx, "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migrations'")
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	var n struct{ N jsonInt }
	if len(out) > 0 {
		if err := json.Unmarshal(out, &n); err != nil {
			return 0, fmt.Errorf("schema version: %s: %w", out, err)
		}
	}
	if n.N == 0 {
		return 0, nil
	}
	applied, err := s.appliedVersions(ctx)
	if err != nil || len(applied) == 0 {
		return 0, err
	}
	return applied[len(applied)-1], nil
}

// setRetention sets the TTL of every retained table that does not have
// days yet.
func (s *Store) setRetention(ctx context.Context, days int) error {
	out, err := s.Backend.QueryJSON(ctx, "SELECT name, create_table_query AS q FROM system.tables WHERE database = currentDatabase()")
	if err != nil {
		return fmt.Errorf("migrate: read table definitions: %w", err)
	}
	defs := map[string]string{}
	err = eachRow(out, func(line []byte) error {
		var r struct{ Name, Q string }
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		defs[r.Name] = r.Q
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: read table definitions: %w", err)
	}
	want := fmt.Sprintf("toIntervalDay(%d)", days)
	for _, t := range retained {
		def, ok := defs[t.table]
		if !ok {
			return fmt.Errorf("migrate: table %s is missing after the migrations", t.table)
		}
		if strings.Contains(def, want) {
			continue
		}
		if err := s.Backend.Exec(ctx, fmt.Sprintf("ALTER TABLE %s MODIFY TTL %s + INTERVAL %d DAY", t.table, t.column, days)); err != nil {
			return fmt.Errorf("migrate: set retention of %s to %d days: %w", t.table, days, err)
		}
	}
	return nil
}

// jsonInt decodes a JSON integer, quoted or not: ClickHouse quotes 64-bit
// integers in JSON output by default.
type jsonInt int64

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(strings.Trim(string(b), `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	*n = jsonInt(v)
	return nil
}

// CheckSchema reports whether the store is at LatestSchema: it returns
// ErrSchemaOutdated when it was not migrated yet (or not fully), and
// ErrSchemaNewer when a newer version migrated it. It changes nothing, for
// readers that must not migrate (matthan stats).
func (s *Store) CheckSchema(ctx context.Context) error {
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case v < LatestSchema:
		return fmt.Errorf("%w: version %d, want %d", ErrSchemaOutdated, v, LatestSchema)
	case v > LatestSchema:
		return fmt.Errorf("%w: version %d, this binary knows up to %d", ErrSchemaNewer, v, LatestSchema)
	}
	return nil
}
