package clickhouse

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/sink"
)

// dropAll drops every table and view the migrations create, for the server
// test's scratch database.
func dropAll(t *testing.T, b Backend) {
	t.Helper()
	for _, name := range []string{
		"traffic_counts_hourly_mv", "traffic_counts_daily_mv", "traffic_counts_hourly", "traffic_counts_daily",
		"traffic_counts", "camera_health", "recording_gaps", "events", "schema_migrations",
	} {
		if err := b.Exec(t.Context(), "DROP TABLE IF EXISTS "+name+" SYNC"); err != nil {
			t.Fatal(err)
		}
	}
}

// legacyEvents is the events table as stores created it before migrations
// were numbered.
const legacyEvents = `CREATE TABLE events (
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
TTL ts + INTERVAL 30 DAY`

// countKey names one traffic_counts row, minus the time.
type countKey struct{ Camera, Line, Direction, Class string }

// trafficStream returns a day and a half of traffic.count events of three
// cameras with two lines each, one per line per minute as the counter
// makes them, with random counts per direction and class (some minutes
// count nothing), and the sums the store must find: per key, per key and
// UTC hour, per key and local day.
func trafficStream(start time.Time, minutes int) (events []sink.Event, total map[countKey]int64, hourly, daily map[string]int64) {
	r := rand.New(rand.NewPCG(6, 6))
	classes := []string{"car", "motorcycle", "truck", "bus", "person"}
	total = map[countKey]int64{}
	hourly, daily = map[string]int64{}, map[string]int64{}
	for m := range minutes {
		ts := start.Add(time.Duration(m) * time.Minute)
		for c := range 3 {
			for _, line := range []string{"north", "south"} {
				camera := fmt.Sprintf("cam-%d", c)
				e := sink.NewEvent(sink.TypeTrafficCount, camera, ts)
				e.Line, e.Node = line, "node-a"
				e.Counts = map[string]int{}
				e.Measures = map[string]float64{"in": 0, "out": 0, "interval_s": 60, "observed_s": 59.5}
				if r.IntN(10) > 0 { // one minute in ten counts nothing
					for _, dir := range []string{"in", "out"} {
						for _, class := range classes {
							n := r.IntN(4)
							if n == 0 {
								continue
							}
							e.Counts[class] += n
							e.Measures[dir] += float64(n)
							e.Measures[dir+"."+class] = float64(n)
							k := countKey{camera, line, dir, class}
							total[k] += int64(n)
							hourly[fmt.Sprint(k)+" "+ts.UTC().Truncate(time.Hour).Format(time.DateTime)] += int64(n)
							daily[fmt.Sprint(k)+" "+ts.In(StatsLocation()).Format(time.DateOnly)] += int64(n)
						}
					}
				}
				events = append(events, e)
			}
		}
	}
	return events, total, hourly, daily
}

// query runs sql and decodes each row into a T.
func query[T any](t *testing.T, b Backend, sql string) []T {
	t.Helper()
	out, err := b.QueryJSON(t.Context(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var rows []T
	if err := eachRow(out, func(line []byte) error {
		var r T
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("%s: %w", line, err)
		}
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// sums runs sql, whose rows are a key k (string) and a sum n, as a map.
func sums(t *testing.T, b Backend, sql string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, r := range query[struct {
		K string
		N jsonInt
	}](t, b, sql) {
		m[r.K] = int64(r.N)
	}
	return m
}

// keyExpr starts a SQL expression that writes a traffic row's key as
// fmt.Sprint(countKey) does, a space, then the time expression that follows.
const keyExpr = "concat('{', camera_id, ' ', line, ' ', direction, ' ', class, '} ', "

func TestTablesEmbedded(t *testing.T) {
	lib := chdbLibrary(t)
	dir := filepath.Join(t.TempDir(), "chdb")
	db, err := OpenEmbedded(dir, lib)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	ctx := t.Context()

	// A data directory from before numbered migrations: an events table
	// with an event in it, no schema_migrations.
	if err := db.Exec(ctx, legacyEvents); err != nil {
		t.Fatal(err)
	}
	old := sink.NewEvent(sink.TypeCameraOnline, "cam-0", time.Now().Add(-time.Hour))
	var legacy tables
	if err := legacy.add(old); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertJSON(ctx, "events", legacy.events); err != nil {
		t.Fatal(err)
	}
	s := &Store{Backend: db}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("SchemaVersion before Migrate = %d, %v; want 0", v, err)
	}
	if err := s.CheckSchema(ctx); !errors.Is(err, ErrSchemaOutdated) {
		t.Errorf("CheckSchema before Migrate = %v, want ErrSchemaOutdated", err)
	}

	t.Run("migrations apply once, keep old data", func(t *testing.T) {
		for range 3 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got := query[struct {
			Version int
			N       jsonInt
		}](t, db, "SELECT version, count() AS n FROM schema_migrations GROUP BY version ORDER BY version")
		if len(got) != LatestSchema {
			t.Fatalf("schema_migrations: %v, want versions 1..%d once each", got, LatestSchema)
		}
		for i, r := range got {
			if r.Version != i+1 || r.N != 1 {
				t.Errorf("schema_migrations row %d: version %d recorded %d times, want version %d once", i, r.Version, r.N, i+1)
			}
		}
		if err := s.CheckSchema(ctx); err != nil {
			t.Errorf("CheckSchema after Migrate = %v", err)
		}
		ev, err := s.Recent(ctx, "cam-0", 10)
		if err != nil || len(ev) != 1 || ev[0].ID != old.ID {
			t.Errorf("event written before the migrations: Recent = %v, %v; want it", ev, err)
		}
		engines := sums(t, db, "SELECT concat(name, ' ', engine) AS k, 1 AS n FROM system.tables WHERE database = currentDatabase()")
		for _, want := range []string{
			"traffic_counts SummingMergeTree", "traffic_counts_hourly SummingMergeTree", "traffic_counts_daily SummingMergeTree",
			"traffic_counts_hourly_mv MaterializedView", "traffic_counts_daily_mv MaterializedView",
			"camera_health MergeTree", "recording_gaps MergeTree", "events MergeTree", "schema_migrations MergeTree",
		} {
			if engines[want] != 1 {
				t.Errorf("no table %q in %v", want, slices.Sorted(maps.Keys(engines)))
			}
		}
	})

	// 36 hours from 20:00 local five days ago: two local midnights.
	start := local(1, 20, 0)
	events, total, hourly, daily := trafficStream(start, 36*60)

	t.Run("traffic_counts sum the events", func(t *testing.T) {
		began := time.Now()
		for batch := range slices.Chunk(events, sink.DefaultBatchSize) {
			if err := s.Write(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote %d traffic.count events in %v", len(events), time.Since(began).Round(time.Millisecond))
		// At-least-once delivery: batches come again, cut differently.
		for batch := range slices.Chunk(events[1000:3000], 333) {
			if err := s.Write(ctx, append(batch, batch[0])); err != nil {
				t.Fatal(err)
			}
		}
		checkTraffic(t, db, total, hourly, daily, len(events))
	})

	t.Run("rollups equal the minute rows", func(t *testing.T) {
		checkRollups(t, db)
		for _, table := range []string{"traffic_counts", "traffic_counts_hourly", "traffic_counts_daily"} {
			if err := db.Exec(ctx, "OPTIMIZE TABLE "+table+" FINAL"); err != nil {
				t.Fatal(err)
			}
		}
		checkRollups(t, db) // merged: summed rows, same totals
		checkTraffic(t, db, total, hourly, daily, len(events))
		rows := query[struct{ N jsonInt }](t, db, "SELECT count() AS n FROM traffic_counts_hourly")
		if want := len(hourly); int(rows[0].N) != want {
			t.Errorf("traffic_counts_hourly after merging: %d rows, want one per key and hour: %d", rows[0].N, want)
		}
	})

	t.Run("health and gaps", func(t *testing.T) {
		at := local(2, 3, 4).Add(5678 * time.Millisecond).UTC()
		var evs []sink.Event
		for i, typ := range []string{sink.TypeCameraOffline, sink.TypeCameraOnline, sink.TypeCameraFrozen, sink.TypeCameraTampered} {
			e := sink.NewEvent(typ, "cam-h", at.Add(time.Duration(i)*time.Second))
			e.Detail, e.Node = "detail "+typ, "node-a"
			evs = append(evs, e)
		}
		// As the engine's gapEvent makes it: ts = start, detail with both bounds.
		gs, ge := at.Add(123456789*time.Nanosecond), at.Add(2*time.Minute+987654321*time.Nanosecond)
		gap := sink.NewEvent(sink.TypeRecordingGap, "cam-h", gs)
		gap.Measures = map[string]float64{"duration_s": ge.Sub(gs).Seconds()}
		gap.Detail = fmt.Sprintf("no recording from %s to %s (cause: stream)", gs.Format(time.RFC3339Nano), ge.Format(time.RFC3339Nano))
		// With the bounds in measures and a detail in other words.
		gap2 := sink.NewEvent(sink.TypeRecordingGap, "cam-h", at.Add(time.Hour))
		gap2.Measures = map[string]float64{"duration_s": 30, MeasureGapStart: float64(at.Add(time.Hour).UnixMilli()), MeasureGapEnd: float64(at.Add(time.Hour + 30*time.Second).UnixMilli())}
		gap2.Detail = "disk full"
		// Only ts and duration_s.
		gap3 := sink.NewEvent(sink.TypeRecordingGap, "cam-h", at.Add(2*time.Hour))
		gap3.Measures = map[string]float64{"duration_s": 1.5}
		evs = append(evs, gap, gap2, gap3)
		if err := s.Write(ctx, evs); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, evs[2:]); err != nil { // again: no duplicates
			t.Fatal(err)
		}
		var want []string
		for _, e := range evs[:4] {
			want = append(want, fmt.Sprintf("%s %s %s %s", e.TS.Format(tsLayout), e.Type, e.Detail, e.ID))
		}
		got := query[struct{ R string }](t, db, "SELECT concat(toString(ts), ' ', type, ' ', detail, ' ', toString(id)) AS r FROM camera_health WHERE camera_id = 'cam-h' ORDER BY ts")
		if len(got) != len(want) {
			t.Fatalf("camera_health: %v, want %v", got, want)
		}
		for i := range want {
			if got[i].R != want[i] {
				t.Errorf("camera_health row %d = %q, want %q", i, got[i].R, want[i])
			}
		}
		want = []string{
			fmt.Sprintf("%s %s stream", gs.Format(tsLayout), ge.Format(tsLayout)), // ms: the column's precision
			fmt.Sprintf("%s %s ", at.Add(time.Hour).Format(tsLayout), at.Add(time.Hour+30*time.Second).Format(tsLayout)),
			fmt.Sprintf("%s %s ", at.Add(2*time.Hour).Format(tsLayout), at.Add(2*time.Hour+1500*time.Millisecond).Format(tsLayout)),
		}
		gotGaps := query[struct{ R string }](t, db, "SELECT concat(toString(start_ts), ' ', toString(end_ts), ' ', cause) AS r FROM recording_gaps WHERE camera_id = 'cam-h' ORDER BY start_ts")
		if len(gotGaps) != len(want) {
			t.Fatalf("recording_gaps: %v, want %v", gotGaps, want)
		}
		for i := range want {
			if gotGaps[i].R != want[i] {
				t.Errorf("recording_gaps row %d = %q, want %q", i, gotGaps[i].R, want[i])
			}
		}
	})

	t.Run("retention", func(t *testing.T) {
		checkTTL(t, db, 30)
		for _, r := range []time.Duration{29 * 24 * time.Hour, 30*24*time.Hour - time.Minute, time.Hour} {
			if err := (&Store{Backend: db, Retention: r}).Migrate(ctx); !errors.Is(err, ErrRetentionTooShort) {
				t.Errorf("Migrate with retention %v = %v, want ErrRetentionTooShort", r, err)
			}
		}
		checkTTL(t, db, 30) // untouched by the refusals
		if err := (&Store{Backend: db, Retention: 90 * 24 * time.Hour}).Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		checkTTL(t, db, 90)
	})

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("data survives a reopen", func(t *testing.T) {
		var err error
		if db, err = OpenEmbedded(dir, lib); err != nil {
			t.Fatal(err)
		}
		s := &Store{Backend: db, Retention: 90 * 24 * time.Hour}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		checkTraffic(t, db, total, hourly, daily, len(events))
		checkRollups(t, db)
		checkTTL(t, db, 90)
		if got := query[struct{ N jsonInt }](t, db, "SELECT count() AS n FROM schema_migrations"); int(got[0].N) != LatestSchema {
			t.Errorf("schema_migrations after reopen and Migrate: %d rows, want %d", got[0].N, LatestSchema)
		}
	})

	t.Run("newer schema refused", func(t *testing.T) {
		if err := db.InsertJSON(ctx, "schema_migrations", [][]byte{[]byte(`{"version":99,"name":"future","applied_at":"2030-01-01 00:00:00.000"}`)}); err != nil {
			t.Fatal(err)
		}
		s := &Store{Backend: db}
		if err := s.Migrate(ctx); !errors.Is(err, ErrSchemaNewer) {
			t.Errorf("Migrate = %v, want ErrSchemaNewer", err)
		}
		if err := s.CheckSchema(ctx); !errors.Is(err, ErrSchemaNewer) {
			t.Errorf("CheckSchema = %v, want ErrSchemaNewer", err)
		}
	})
}

// checkTraffic compares traffic_counts and its rollups with the sums of the
// stream, and the events table with the stream.
func checkTraffic(t *testing.T, b Backend, total map[countKey]int64, hourly, daily map[string]int64, events int) {
	t.Helper()
	want := map[string]int64{}
	var all int64
	for k, n := range total {
		want[fmt.Sprint(k)] = n
		all += n
	}
	got := sums(t, b, "SELECT concat('{', camera_id, ' ', line, ' ', direction, ' ', class, '}') AS k, sum(count) AS n FROM traffic_counts GROUP BY k")
	if !maps.Equal(got, want) {
		t.Errorf("traffic_counts sums per camera, line, direction and class differ from the events':\n got %v\nwant %v", got, want)
	}
	// The events table's own counts (both directions) sum to the same.
	ev := query[struct{ E, N jsonInt }](t, b, "SELECT count() AS e, sum(arraySum(mapValues(counts))) AS n FROM events WHERE type = 'traffic.count'")
	if int(ev[0].E) != events || int64(ev[0].N) != all {
		t.Errorf("events: %d traffic.count events counting %d, want %d events (each once) counting %d", ev[0].E, ev[0].N, events, all)
	}
	if got := sums(t, b, keyExpr+"toString(hour)) AS k, sum(count) AS n FROM traffic_counts_hourly GROUP BY k"); !maps.Equal(got, hourly) {
		t.Errorf("traffic_counts_hourly: %d keys, want %d; differ", len(got), len(hourly))
	}
	if got := sums(t, b, keyExpr+"toString(day)) AS k, sum(count) AS n FROM traffic_counts_daily GROUP BY k"); !maps.Equal(got, daily) {
		t.Errorf("traffic_counts_daily: %d keys, want %d; differ", len(got), len(daily))
	}
}

// checkRollups compares the rollups with the minute rows summed in SQL.
func checkRollups(t *testing.T, b Backend) {
	t.Helper()
	for _, c := range []struct{ rollup, minutes string }{
		{keyExpr + "toString(hour)) AS k, sum(count) AS n FROM traffic_counts_hourly GROUP BY k",
			keyExpr + "toString(toStartOfHour(ts))) AS k, sum(count) AS n FROM traffic_counts GROUP BY k"},
		{keyExpr + "toString(day)) AS k, sum(count) AS n FROM traffic_counts_daily GROUP BY k",
			keyExpr + "toString(toDate(ts, 'Asia/Ho_Chi_Minh'))) AS k, sum(count) AS n FROM traffic_counts GROUP BY k"},
	} {
		got, want := sums(t, b, c.rollup), sums(t, b, c.minutes)
		if len(want) == 0 || !maps.Equal(got, want) {
			t.Errorf("%s\n%d keys; the minute rows summed give %d; they differ", c.rollup, len(got), len(want))
		}
	}
}

// checkTTL checks every retained table keeps rows days days.
func checkTTL(t *testing.T, b Backend, days int) {
	t.Helper()
	defs := map[string]string{}
	for _, r := range query[struct{ Name, Q string }](t, b, "SELECT name, create_table_query AS q FROM system.tables WHERE database = currentDatabase()") {
		defs[r.Name] = r.Q
	}
	for _, r := range retained {
		want := fmt.Sprintf("TTL %s + toIntervalDay(%d)", r.column, days)
		if !strings.Contains(defs[r.table], want) {
			t.Errorf("table %s: no %q in %s", r.table, want, defs[r.table])
		}
	}
}

// TestTablesServer runs the migration and traffic checks on a ClickHouse
// server; it needs MATTHAN_CLICKHOUSE_DSN (see TestStoreServer).
func TestTablesServer(t *testing.T) {
	dsn := os.Getenv("MATTHAN_CLICKHOUSE_DSN")
	if dsn == "" {
		t.Skip("MATTHAN_CLICKHOUSE_DSN not set: set it to clickhouse://user:pass@host:9000/scratch_db to test the server backend")
	}
	db, err := OpenServer(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dropAll(t, db)
	s := &Store{Backend: db}
	for range 2 {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	events, total, hourly, daily := trafficStream(local(1, 20, 0), 6*60)
	for batch := range slices.Chunk(events, sink.DefaultBatchSize) {
		if err := s.Write(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	checkTraffic(t, db, total, hourly, daily, len(events))
	checkRollups(t, db)
	checkTTL(t, db, 30)
	testStats(t, s)
}
