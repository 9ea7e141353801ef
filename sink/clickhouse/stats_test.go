package clickhouse

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/sink"
)

// local is a time in StatsZone on day 1 (five days ago: within the
// retention) or day 2, and so on.
func local(day, hour, minute int) time.Time {
	y, m, d := time.Now().In(StatsLocation()).AddDate(0, 0, -5).Date()
	return time.Date(y, m, d+day-1, hour, minute, 0, 0, StatsLocation())
}

// statsStream is a known stream of counts of camera cam-s, local time:
//
//   - line L1, every minute from day 1 22:00 to day 2 01:58: in.car 1 and
//     out.motorcycle 1, except in.car 4 from 23:30 to 23:44; at 01:59 a
//     minute that counted nothing;
//   - line L2: out.car 2 at 22:59, in.truck 5 at 00:07;
//
// and of camera cam-t (never in cam-s's answers): in.car 100 each minute
// from 23:00 to 23:59.
func statsStream() []sink.Event {
	count := func(camera, line string, at time.Time, measures map[string]float64) sink.Event {
		e := sink.NewEvent(sink.TypeTrafficCount, camera, at)
		e.Line, e.Counts = line, map[string]int{}
		e.Measures = map[string]float64{"in": 0, "out": 0, "interval_s": 60, "observed_s": 60}
		for k, v := range measures {
			dir, class, _ := strings.Cut(k, ".")
			e.Measures[k] = v
			e.Measures[dir] += v
			e.Counts[class] += int(v)
		}
		return e
	}
	var events []sink.Event
	for at := local(1, 22, 0); at.Before(local(2, 2, 0)); at = at.Add(time.Minute) {
		switch {
		case at.Equal(local(2, 1, 59)):
			events = append(events, count("cam-s", "L1", at, nil))
		case !at.Before(local(1, 23, 30)) && at.Before(local(1, 23, 45)):
			events = append(events, count("cam-s", "L1", at, map[string]float64{"in.car": 4, "out.motorcycle": 1}))
		default:
			events = append(events, count("cam-s", "L1", at, map[string]float64{"in.car": 1, "out.motorcycle": 1}))
		}
		if at.Hour() == 23 {
			events = append(events, count("cam-t", "L1", at, map[string]float64{"in.car": 100}))
		}
	}
	events = append(events,
		count("cam-s", "L2", local(1, 22, 59), map[string]float64{"out.car": 2}),
		count("cam-s", "L2", local(2, 0, 7), map[string]float64{"in.truck": 5}))
	return events
}

// row is a want Row: start (local, day 1 or 2), in, out and the counts
// of the classes listed in the case.
type wantRow struct {
	day, hour, minute int
	in, out           int64
	byClass           []int64
}

func TestStatsEmbedded(t *testing.T) {
	db, err := OpenEmbedded(filepath.Join(t.TempDir(), "chdb"), chdbLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := &Store{Backend: db}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	testStats(t, s)
}

// testStats writes statsStream (twice, as at-least-once delivery may) and
// checks the answers to queries about it.
func testStats(t *testing.T, s *Store) {
	ctx := t.Context()
	events := statsStream()
	for range 2 {
		for batch := range slices.Chunk(events, 100) {
			if err := s.Write(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
	}

	tests := []struct {
		name    string
		q       Query
		classes []string
		rows    []wantRow
		peak    *wantRow // nil: no peak
	}{
		{
			name:    "hours, all lines",
			q:       Query{Camera: "cam-s", From: local(1, 22, 0), To: local(2, 2, 0), Bucket: BucketHour},
			classes: []string{"car", "motorcycle", "truck"},
			rows: []wantRow{
				{1, 22, 0, 60, 62, []int64{62, 60, 0}},
				{1, 23, 0, 105, 60, []int64{105, 60, 0}},
				{2, 0, 0, 65, 60, []int64{60, 60, 5}},
				{2, 1, 0, 59, 59, []int64{59, 59, 0}},
			},
			peak: &wantRow{1, 23, 0, 105, 60, []int64{105, 60, 0}},
		},
		{
			name:    "default bucket is the hour; a wider range has zero hours",
			q:       Query{Camera: "cam-s", From: local(1, 21, 0), To: local(2, 3, 0).UTC()},
			classes: []string{"car", "motorcycle", "truck"},
			rows: []wantRow{
				{1, 21, 0, 0, 0, []int64{0, 0, 0}},
				{1, 22, 0, 60, 62, []int64{62, 60, 0}},
				{1, 23, 0, 105, 60, []int64{105, 60, 0}},
				{2, 0, 0, 65, 60, []int64{60, 60, 5}},
				{2, 1, 0, 59, 59, []int64{59, 59, 0}},
				{2, 2, 0, 0, 0, []int64{0, 0, 0}},
			},
			peak: &wantRow{1, 23, 0, 105, 60, []int64{105, 60, 0}},
		},
		{
			name:    "quarter hours across local midnight",
			q:       Query{Camera: "cam-s", From: local(1, 23, 30), To: local(2, 0, 30), Bucket: Bucket15Min},
			classes: []string{"car", "motorcycle", "truck"},
			rows: []wantRow{
				{1, 23, 30, 60, 15, []int64{60, 15, 0}},
				{1, 23, 45, 15, 15, []int64{15, 15, 0}},
				{2, 0, 0, 20, 15, []int64{15, 15, 5}},
				{2, 0, 15, 15, 15, []int64{15, 15, 0}},
			},
			peak: nil, // no whole clock hour in the range
		},
		{
			name:    "quarter hours, peak from whole hours only",
			q:       Query{Camera: "cam-s", From: local(1, 22, 45), To: local(2, 0, 15), Bucket: Bucket15Min},
			classes: []string{"car", "motorcycle", "truck"},
			rows: []wantRow{
				{1, 22, 45, 15, 17, []int64{17, 15, 0}},
				{1, 23, 0, 15, 15, []int64{15, 15, 0}},
				{1, 23, 15, 15, 15, []int64{15, 15, 0}},
				{1, 23, 30, 60, 15, []int64{60, 15, 0}},
				{1, 23, 45, 15, 15, []int64{15, 15, 0}},
				{2, 0, 0, 20, 15, []int64{15, 15, 5}},
			},
			peak: &wantRow{1, 23, 0, 105, 60, []int64{105, 60, 0}},
		},
		{
			name:    "local days, though all of it is one UTC day",
			q:       Query{Camera: "cam-s", From: local(1, 0, 0), To: local(3, 0, 0), Bucket: BucketDay},
			classes: []string{"car", "motorcycle", "truck"},
			rows: []wantRow{
				{1, 0, 0, 165, 122, []int64{167, 120, 0}},
				{2, 0, 0, 124, 119, []int64{119, 119, 5}},
			},
			peak: &wantRow{1, 23, 0, 105, 60, []int64{105, 60, 0}},
		},
		{
			name:    "one line",
			q:       Query{Camera: "cam-s", Line: "L2", From: local(1, 22, 0), To: local(2, 1, 0)},
			classes: []string{"car", "truck"},
			rows: []wantRow{
				{1, 22, 0, 0, 2, []int64{2, 0}},
				{1, 23, 0, 0, 0, []int64{0, 0}},
				{2, 0, 0, 5, 0, []int64{0, 5}},
			},
			peak: &wantRow{2, 0, 0, 5, 0, []int64{0, 5}},
		},
		{
			name:    "one direction and class",
			q:       Query{Camera: "cam-s", Direction: "in", Class: "car", From: local(1, 23, 0), To: local(2, 1, 0)},
			classes: []string{"car"},
			rows: []wantRow{
				{1, 23, 0, 105, 0, []int64{105}},
				{2, 0, 0, 60, 0, []int64{60}},
			},
			peak: &wantRow{1, 23, 0, 105, 0, []int64{105}},
		},
		{
			name: "unknown camera",
			q:    Query{Camera: "cam-x", From: local(1, 23, 0), To: local(2, 0, 0)},
			rows: []wantRow{{1, 23, 0, 0, 0, []int64{}}},
		},
		{
			name: "quote injection",
			q:    Query{Camera: "cam-s' OR '1'='1", From: local(1, 23, 0), To: local(2, 0, 0)},
			rows: []wantRow{{1, 23, 0, 0, 0, []int64{}}},
		},
		{
			name: "backslash injection",
			q:    Query{Camera: "cam-s", Line: `L1\' OR 1=1 --`, From: local(1, 23, 0), To: local(2, 0, 0)},
			rows: []wantRow{{1, 23, 0, 0, 0, []int64{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Stats(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Classes, tt.classes) {
				t.Errorf("classes %q, want %q", res.Classes, tt.classes)
			}
			if len(res.Rows) != len(tt.rows) {
				t.Fatalf("%d rows, want %d: %+v", len(res.Rows), len(tt.rows), res.Rows)
			}
			d := res.Query.Bucket.Duration()
			var total Row
			total.ByClass = make([]int64, len(tt.classes))
			for i, w := range tt.rows {
				checkRow(t, "row", res.Rows[i], w, d)
				total.In += w.in
				total.Out += w.out
				for c, n := range w.byClass {
					total.ByClass[c] += n
				}
			}
			if res.Total.In != total.In || res.Total.Out != total.Out || !slices.Equal(res.Total.ByClass, total.ByClass) ||
				!res.Total.Start.Equal(tt.q.From) || !res.Total.End.Equal(tt.q.To) {
				t.Errorf("total %+v, want in %d out %d by class %v over the range", res.Total, total.In, total.Out, total.ByClass)
			}
			if tt.peak == nil {
				if !res.Peak.Start.IsZero() {
					t.Errorf("peak %+v, want none", res.Peak)
				}
			} else {
				checkRow(t, "peak", res.Peak, *tt.peak, time.Hour)
			}
		})
	}

	t.Run("CSV", func(t *testing.T) {
		res, err := s.Stats(ctx, Query{Camera: "cam-s", From: local(1, 22, 0), To: local(2, 2, 0), Bucket: BucketHour})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := res.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		d1, d2 := local(1, 0, 0).Format(time.DateOnly), local(2, 0, 0).Format(time.DateOnly)
		want := strings.NewReplacer("D1", d1, "D2", d2).Replace(`start,end,in,out,total,car,motorcycle,truck
D1T22:00:00+07:00,D1T23:00:00+07:00,60,62,122,62,60,0
D1T23:00:00+07:00,D2T00:00:00+07:00,105,60,165,105,60,0
D2T00:00:00+07:00,D2T01:00:00+07:00,65,60,125,60,60,5
D2T01:00:00+07:00,D2T02:00:00+07:00,59,59,118,59,59,0
`)
		if b.String() != want {
			t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
		}
	})

	t.Run("bad queries name the field", func(t *testing.T) {
		ok := Query{Camera: "cam-s", From: local(1, 22, 0), To: local(2, 2, 0)}
		tests := []struct {
			name  string
			edit  func(*Query)
			field string
		}{
			{"no camera", func(q *Query) { q.Camera = "" }, "camera"},
			{"long camera", func(q *Query) { q.Camera = strings.Repeat("c", MaxNameLength+1) }, "camera"},
			{"control character", func(q *Query) { q.Line = "L1\n" }, "line"},
			{"not UTF-8", func(q *Query) { q.Class = "car\xff" }, "class"},
			{"direction", func(q *Query) { q.Direction = "both" }, "direction"},
			{"bucket", func(q *Query) { q.Bucket = "5m" }, "bucket"},
			{"no from", func(q *Query) { q.From = time.Time{} }, "from"},
			{"no to", func(q *Query) { q.To = time.Time{} }, "to"},
			{"from off the hour", func(q *Query) { q.From = q.From.Add(15 * time.Minute) }, "from"},
			{"to off the quarter", func(q *Query) { q.Bucket, q.To = Bucket15Min, q.To.Add(time.Minute) }, "to"},
			{"from with seconds", func(q *Query) { q.Bucket, q.From = Bucket15Min, q.From.Add(time.Second) }, "from"},
			{"UTC midnight is not a day", func(q *Query) {
				q.Bucket, q.From, q.To = BucketDay, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
			}, "from"},
			{"to before from", func(q *Query) { q.From, q.To = q.To, q.From }, "to"},
			{"empty range", func(q *Query) { q.To = q.From }, "to"},
			{"too many buckets", func(q *Query) { q.Bucket, q.To = Bucket15Min, q.From.Add(MaxBuckets*15*time.Minute+15*time.Minute) }, "to"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				q := ok
				tt.edit(&q)
				_, err := s.Stats(ctx, q)
				if !errors.Is(err, ErrBadArgument) || !strings.Contains(err.Error(), ": "+tt.field+": ") {
					t.Errorf("Stats = %v; want ErrBadArgument naming %s", err, tt.field)
				}
			})
		}
		q := ok
		q.Bucket, q.To = Bucket15Min, q.From.Add(MaxBuckets*15*time.Minute)
		if res, err := s.Stats(ctx, q); err != nil || len(res.Rows) != MaxBuckets {
			t.Errorf("Stats of MaxBuckets buckets = %d rows, %v; want %d rows", len(res.Rows), err, MaxBuckets)
		}
	})
}

func checkRow(t *testing.T, what string, got Row, w wantRow, d time.Duration) {
	t.Helper()
	start := local(w.day, w.hour, w.minute)
	if !got.Start.Equal(start) || !got.End.Equal(start.Add(d)) || got.Start.Location() != StatsLocation() ||
		got.In != w.in || got.Out != w.out || got.Total() != w.in+w.out || !slices.Equal(got.ByClass, w.byClass) {
		t.Errorf("%s %+v,\nwant start %s, end +%v, in %d, out %d, by class %v", what, got, start, d, w.in, w.out, w.byClass)
	}
}
