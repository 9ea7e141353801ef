package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/sink"
)

// The embedded tests share one chDB connection at a time (chDB allows one
// per process): they never run in parallel.

func TestStoreEmbedded(t *testing.T) {
	lib := chdbLibrary(t)
	dir := filepath.Join(t.TempDir(), "chdb")
	start := time.Now()
	db, err := OpenEmbedded(dir, lib)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("chDB opened in %v", time.Since(start).Round(time.Millisecond))

	t.Run("one connection per process", func(t *testing.T) {
		second, err := OpenEmbedded(t.TempDir(), lib)
		if !errors.Is(err, ErrEmbeddedInUse) {
			t.Errorf("second OpenEmbedded = %v, %v; want ErrEmbeddedInUse", second, err)
		}
	})

	ids := testStore(t, db)

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
	if err := db.Exec(t.Context(), "SELECT 1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Exec after Close = %v, want ErrClosed", err)
	}

	t.Run("data persists across reopen", func(t *testing.T) {
		db, err := OpenEmbedded(dir, lib)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s := &Store{Backend: db, Retention: 45 * 24 * time.Hour} // as testStore left it
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		got, err := s.EventIDs(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("after reopen: %d ids, want the %d written before", len(got), len(ids))
		}
	})
}

// TestStoreServer runs the same checks on a ClickHouse server. No server
// runs on this machine (Debian's clickhouse-server is too old for
// clickhouse-go/v2), so it needs MATTHAN_CLICKHOUSE_DSN pointing at a
// scratch database whose tables it may drop.
func TestStoreServer(t *testing.T) {
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
	testStore(t, db)
}

func TestOpenEmbeddedMissingLibrary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere", "libchdb.so")
	tests := []struct {
		name string
		env  string
		path string
		want []string
	}{
		{"path given", "", missing, []string{"chDB library not found at " + missing, "set MATTHAN_CHDB_LIB or run make deps"}},
		{"path from env", missing, "", []string{"chDB library not found at " + missing}},
		{"no path at all", "", "", []string{"chDB library not found", "set MATTHAN_CHDB_LIB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvLibrary, tt.env)
			db, err := OpenEmbedded(t.TempDir(), tt.path)
			if !errors.Is(err, ErrLibraryNotFound) {
				t.Fatalf("OpenEmbedded = %v, %v; want ErrLibraryNotFound", db, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestRetention(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		retention time.Duration
		days      int // 0 = refused
	}{
		{0, 30},
		{30 * day, 30},
		{30*day + time.Hour, 31},
		{365 * day, 365},
		{29 * day, 0},
		{30*day - time.Second, 0},
		{7 * day, 0},
		{-day, 0},
	}
	for _, tt := range tests {
		t.Run(tt.retention.String(), func(t *testing.T) {
			s := &Store{Retention: tt.retention} // no Backend: a refused Migrate must not touch it
			days, err := s.retentionDays()
			if tt.days == 0 {
				if !errors.Is(err, ErrRetentionTooShort) || !strings.Contains(err.Error(), "R-11.3") {
					t.Errorf("retentionDays() = %d, %v; want ErrRetentionTooShort citing R-11.3", days, err)
				}
				if err := s.Migrate(t.Context()); !errors.Is(err, ErrRetentionTooShort) {
					t.Errorf("Migrate() = %v, want ErrRetentionTooShort", err)
				}
				return
			}
			if err != nil || days != tt.days {
				t.Errorf("retentionDays() = %d, %v; want %d", days, err, tt.days)
			}
		})
	}
}

// testStore runs the store checks on b, which must hold no events table
// yet, and returns the ids it leaves stored.
func testStore(t *testing.T, b Backend) []string {
	ctx := t.Context()
	s := &Store{Backend: b}
	for range 2 { // idempotent
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}

	const n, cameras = 1000, 5
	now := time.Now().UTC().Truncate(time.Millisecond)
	events := make([]sink.Event, n)
	for i := range events {
		e := sink.NewEvent(sink.TypeDetectionSummary, fmt.Sprintf("cam-%d", i%cameras), now.Add(-time.Duration(i)*time.Second))
		e.Counts = map[string]int{"car": i % 7, "person": 1}
		e.Model = &sink.ModelRef{Name: "yolox_nano", Version: "0.1.1"}
		e.Node = "node-a"
		if i%10 == 0 {
			e.Type = sink.TypeViolationRedLight
			e.Object = &sink.Object{TrackID: int64(i), Class: "car", Confidence: 0.5, Box: [4]float32{0.1, 0.1, 0.2, 0.2}}
		}
		events[i] = e
	}
	var ids []string
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)

	t.Run("write 1000", func(t *testing.T) {
		start := time.Now()
		for batch := range slices.Chunk(events, 250) {
			if err := s.Write(ctx, batch); err != nil {
				t.Fatalf("Write: %v", err)
			}
		}
		took := time.Since(start)
		t.Logf("wrote %d events in 4 batches in %v (%.0f events/s)", n, took.Round(time.Millisecond), n/took.Seconds())
		got, err := s.EventIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("EventIDs: %d ids, want the %d written", len(got), n)
		}
		var sum struct{ Cars, Rows float64 }
		out, err := b.QueryJSON(ctx, "SELECT toFloat64(sum(counts['car'])) AS cars, toFloat64(count()) AS rows FROM events WHERE model_name = 'yolox_nano' AND node = 'node-a'")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &sum); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		want := 0
		for _, e := range events {
			want += e.Counts["car"]
		}
		if sum.Cars != float64(want) || sum.Rows != n {
			t.Errorf("columns: cars %v over %v rows, want %d over %d", sum.Cars, sum.Rows, want, n)
		}
	})

	t.Run("recent", func(t *testing.T) {
		tests := []struct {
			name   string
			camera string
			limit  int
			want   []sink.Event
		}{
			{"one camera", "cam-2", 10, pick(events, func(e sink.Event) bool { return e.CameraID == "cam-2" }, 10)},
			{"all cameras", "", 7, events[:7]},
			{"more than stored", "cam-4", 500, pick(events, func(e sink.Event) bool { return e.CameraID == "cam-4" }, 500)},
			{"unknown camera", "cam-99", 10, nil},
			{"quote injection", "cam-1' OR '1'='1", 10, nil},
			{"backslash injection", `cam-1\' OR 1=1 --`, 10, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Recent(ctx, tt.camera, tt.limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("Recent(%q, %d): %d events, want %d", tt.camera, tt.limit, len(got), len(tt.want))
				}
				for i := range got {
					g, _ := json.Marshal(got[i])
					w, _ := json.Marshal(tt.want[i])
					if string(g) != string(w) {
						t.Fatalf("event %d:\n got %s\nwant %s", i, g, w)
					}
				}
			})
		}
		for _, limit := range []int{0, -1, MaxRecent + 1} {
			if _, err := s.Recent(ctx, "", limit); !errors.Is(err, ErrBadArgument) {
				t.Errorf("Recent limit %d = %v, want ErrBadArgument", limit, err)
			}
		}
	})

	t.Run("retention drops old events", func(t *testing.T) {
		s := &Store{Backend: b, Retention: 45 * 24 * time.Hour}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		out, err := b.QueryJSON(ctx, "SELECT create_table_query AS q FROM system.tables WHERE database = currentDatabase() AND name = 'events'")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "toIntervalDay(45)") {
			t.Errorf("TTL not updated to 45 days: %s", out)
		}
		old := sink.NewEvent(sink.TypeAlertSmoke, "cam-0", now.Add(-46*24*time.Hour))
		kept := sink.NewEvent(sink.TypeAlertSmoke, "cam-0", now.Add(-44*24*time.Hour))
		if err := s.Write(ctx, []sink.Event{old, kept}); err != nil {
			t.Fatal(err)
		}
		if err := b.Exec(ctx, "OPTIMIZE TABLE events FINAL"); err != nil {
			t.Fatal(err)
		}
		got, err := s.EventIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(got, old.ID) || !slices.Contains(got, kept.ID) {
			t.Errorf("after TTL merge: old present %v (want false), kept present %v (want true)", slices.Contains(got, old.ID), slices.Contains(got, kept.ID))
		}
		ids = append(ids, kept.ID)
		slices.Sort(ids)
	})

	t.Run("fan-out into the store", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		f := &sink.Fanout{Sinks: []sink.Writer{s}, BatchSize: 64}
		done := make(chan error, 1)
		go func() { done <- f.Run(ctx) }()
		var more []string
		for i := range 200 {
			e := sink.NewEvent(sink.TypeTrafficCount, "cam-f", now.Add(time.Duration(i)*time.Millisecond))
			f.Publish(e)
			more = append(more, e.ID)
		}
		cancel() // the final flush writes what is queued
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		got, err := s.Recent(t.Context(), "cam-f", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(more) || got[0].ID != more[len(more)-1] {
			t.Errorf("fan-out stored %d events, want %d with the last published first", len(got), len(more))
		}
		ids = append(ids, more...)
		slices.Sort(ids)
	})

	t.Run("redelivery to a restarted store", func(t *testing.T) {
		// A new Store knows nothing of what the first wrote: it must find
		// the stored events by asking the table, including an event whose
		// time has more than millisecond precision (the table truncates).
		base := now.Add(time.Hour).Add(400 * time.Microsecond)
		ev := func(d time.Duration) sink.Event {
			e := sink.NewEvent(sink.TypeAlertSmoke, "cam-redelivered", base.Add(d))
			e.Node = "node-a"
			return e
		}
		first := []sink.Event{ev(0), ev(time.Second)}
		if err := s.Write(ctx, first); err != nil {
			t.Fatal(err)
		}
		late := ev(-time.Second)     // older than the newest stored, never written
		twin := ev(time.Second)      // at the newest stored time, never written
		newer := ev(2 * time.Second) // newer than anything stored
		restarted := &Store{Backend: b}
		for _, batch := range [][]sink.Event{append(slices.Clone(first), late, twin, newer), first, {newer, twin}} {
			if err := restarted.Write(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		var got struct{ Rows, IDs float64 }
		out, err := b.QueryJSON(ctx, "SELECT toFloat64(count()) AS rows, toFloat64(uniqExact(id)) AS ids FROM events WHERE camera_id = 'cam-redelivered'")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if got.Rows != 5 || got.IDs != 5 {
			t.Errorf("events of cam-redelivered: %v rows of %v ids, want 5 of 5 (no duplicate, nothing lost)", got.Rows, got.IDs)
		}
		for _, e := range []sink.Event{first[0], first[1], late, twin, newer} {
			ids = append(ids, e.ID)
		}
		slices.Sort(ids)
	})

	t.Run("bad rows are refused", func(t *testing.T) {
		bad := sink.NewEvent(sink.TypeAlertFire, "", now) // no camera
		if err := s.Write(ctx, []sink.Event{bad}); !errors.Is(err, sink.ErrInvalidEvent) {
			t.Errorf("Write(invalid) = %v, want ErrInvalidEvent", err)
		}
		if err := b.InsertJSON(ctx, "events; DROP TABLE events", [][]byte{[]byte(`{}`)}); !errors.Is(err, ErrBadArgument) {
			t.Errorf("InsertJSON(bad table) = %v, want ErrBadArgument", err)
		}
		if err := b.InsertJSON(ctx, "events", [][]byte{[]byte(`{"id":`)}); err == nil {
			t.Error("InsertJSON(malformed JSON) = nil, want the engine's error")
		}
	})
	return ids
}

func pick(events []sink.Event, keep func(sink.Event) bool, limit int) []sink.Event {
	var out []sink.Event
	for _, e := range events {
		if keep(e) && len(out) < limit {
			out = append(out, e)
		}
	}
	return out
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cam-1", `'cam-1'`},
		{"it's", `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{`\'`, `'\\\''`},
		{"nul\x00", `'nul\0'`},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
