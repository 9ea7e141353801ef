package clickhouse

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// StatsZone is the time zone of the planners' statistics: buckets start at
// its quarter hours, hours and midnights, and the daily rollup is by its
// dates. It has been UTC+7 without daylight saving time since 1975.
const StatsZone = "Asia/Ho_Chi_Minh"

// statsLocation is StatsZone as a fixed offset, so that Go needs no time
// zone database for it.
var statsLocation = time.FixedZone(StatsZone, 7*60*60)

// StatsLocation returns StatsZone as a time.Location.
func StatsLocation() *time.Location { return statsLocation }

// Statistics limits.
const (
	// MaxBuckets bounds the buckets of one Stats query: a leap year of
	// 15-minute buckets.
	MaxBuckets = 366 * 24 * 4
	// MaxNameLength bounds a camera, line or class name in a Query.
	MaxNameLength = 128
)

// Bucket is the length of the statistics' time buckets.
type Bucket string

// Bucket lengths.
const (
	Bucket15Min Bucket = "15m"
	BucketHour  Bucket = "1h"
	BucketDay   Bucket = "1d"
)

// Duration returns the bucket's length, 0 for an unknown bucket.
func (b Bucket) Duration() time.Duration {
	switch b {
	case Bucket15Min:
		return 15 * time.Minute
	case BucketHour:
		return time.Hour
	case BucketDay:
		return 24 * time.Hour // StatsZone has no daylight saving time
	}
	return 0
}

// Query selects traffic flow: the crossings of one camera's lines counted
// by traffic.count events, summed per bucket.
type Query struct {
	// Camera is the camera's id; required.
	Camera string
	// Line is a counting line's id; "" sums all lines of the camera.
	Line string
	// Direction is "in" or "out"; "" counts both.
	Direction string
	// Class is an object class (car, motorcycle, ...); "" counts all.
	Class string
	// From and To bound the range [From, To). Both must be on a bucket
	// boundary in StatsZone (a quarter hour, an hour, a midnight).
	From, To time.Time
	// Bucket is the bucket length. Defaults to BucketHour.
	Bucket Bucket
}

// Row is the flow of one time span.
type Row struct {
	// Start and End bound the span [Start, End), in StatsZone.
	Start, End time.Time
	// In and Out are the crossings per direction.
	In, Out int64
	// ByClass holds the crossings per class, both directions (as selected
	// by the query), in the order of Result.Classes.
	ByClass []int64
}

// Total returns the crossings in both directions.
func (r Row) Total() int64 { return r.In + r.Out }

// Result is the answer to a Query.
type Result struct {
	// Query is the query answered, with its defaults, times in StatsZone.
	Query Query
	// Classes are the classes counted in the range, sorted.
	Classes []string
	// Rows has one row per bucket of the range, in order; a bucket without
	// counts has zeros (camera_health and recording_gaps tell whether the
	// camera was watching).
	Rows []Row
	// Total is the flow over the whole range.
	Total Row
	// Peak is the busiest whole clock hour in the range: the one with the
	// highest Total, the earliest of equals. Peak.Start is zero when the
	// range holds no whole hour with a count.
	Peak Row
}

// validate checks q, applies its defaults and returns it with its times
// in StatsZone. Errors wrap ErrBadArgument and name the field.
func (q Query) validate() (Query, error) {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("stats: %w: %s: %s", ErrBadArgument, field, fmt.Sprintf(format, args...))
	}
	for _, f := range []struct {
		field, value string
		required     bool
	}{{"camera", q.Camera, true}, {"line", q.Line, false}, {"class", q.Class, false}} {
		switch {
		case f.value == "" && f.required:
			return q, bad(f.field, "required")
		case len(f.value) > MaxNameLength:
			return q, bad(f.field, "longer than %d bytes", MaxNameLength)
		case !utf8.ValidString(f.value):
			return q, bad(f.field, "not UTF-8")
		case strings.ContainsFunc(f.value, unicode.IsControl):
			return q, bad(f.field, "%q holds a control character", f.value)
		}
	}
	if q.Direction != "" && q.Direction != "in" && q.Direction != "out" {
		return q, bad("direction", "%q: want in, out or empty for both", q.Direction)
	}
	if q.Bucket == "" {
		q.Bucket = BucketHour
	}
	d := q.Bucket.Duration()
	if d == 0 {
		return q, bad("bucket", "%q: want 15m, 1h or 1d", q.Bucket)
	}
	for _, f := range []struct {
		field string
		t     *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if f.t.IsZero() {
			return q, bad(f.field, "required")
		}
		*f.t = f.t.In(statsLocation)
		if !onBoundary(*f.t, q.Bucket) {
			return q, bad(f.field, "%s is not on a %s boundary in %s", f.t.Format(time.RFC3339Nano), q.Bucket, StatsZone)
		}
	}
	if !q.To.After(q.From) {
		return q, bad("to", "%s is not after from %s", q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
	}
	if n := q.To.Sub(q.From) / d; n > MaxBuckets {
		return q, bad("to", "the range holds %d buckets of %s, more than %d", n, q.Bucket, MaxBuckets)
	}
	return q, nil
}

// onBoundary reports whether t (in StatsZone) starts a bucket.
func onBoundary(t time.Time, b Bucket) bool {
	if t.Nanosecond() != 0 || t.Second() != 0 {
		return false
	}
	switch b {
	case Bucket15Min:
		return t.Minute()%15 == 0
	case BucketHour:
		return t.Minute() == 0
	}
	return t.Minute() == 0 && t.Hour() == 0
}

// Stats returns the traffic flow q selects: per bucket, in total and in the
// peak hour. It reads the minute rows for 15-minute buckets and the hourly
// and daily rollups otherwise, so a year of days costs a year of rows.
func (s *Store) Stats(ctx context.Context, q Query) (Result, error) {
	q, err := q.validate()
	if err != nil {
		return Result{}, err
	}
	filter := []string{"camera_id = " + quote(q.Camera)}
	if q.Line != "" {
		filter = append(filter, "line = "+quote(q.Line))
	}
	if q.Direction != "" {
		filter = append(filter, "direction = "+quote(q.Direction))
	}
	if q.Class != "" {
		filter = append(filter, "class = "+quote(q.Class))
	}
	where := strings.Join(filter, " AND ")

	var sql string
	switch q.Bucket {
	case Bucket15Min:
		sql = fmt.Sprintf("SELECT toUnixTimestamp(toStartOfFifteenMinutes(ts)) AS t, direction, class, sum(count) AS n "+
			"FROM traffic_counts WHERE %s AND ts >= toDateTime(%d, 'UTC') AND ts < toDateTime(%d, 'UTC') "+
			"GROUP BY t, direction, class", where, q.From.Unix(), q.To.Unix())
	case BucketHour:
		sql = fmt.Sprintf("SELECT toUnixTimestamp(hour) AS t, direction, class, sum(count) AS n "+
			"FROM traffic_counts_hourly WHERE %s AND hour >= toDateTime(%d, 'UTC') AND hour < toDateTime(%d, 'UTC') "+
			"GROUP BY t, direction, class", where, q.From.Unix(), q.To.Unix())
	case BucketDay:
		sql = fmt.Sprintf("SELECT toUnixTimestamp(toDateTime(day, '%s')) AS t, direction, class, sum(count) AS n "+
			"FROM traffic_counts_daily WHERE %s AND day >= toDate('%s') AND day < toDate('%s') "+
			"GROUP BY t, direction, class", StatsZone, where, q.From.Format(time.DateOnly), q.To.Format(time.DateOnly))
	}
	flows, err := s.flows(ctx, sql)
	if err != nil {
		return Result{}, err
	}

	// The peak hour: the busiest whole hour in [From, To), with its flow.
	var peak []flow
	firstHour := q.From.Truncate(time.Hour)
	if firstHour.Before(q.From) {
		firstHour = firstHour.Add(time.Hour)
	}
	if endHour := q.To.Truncate(time.Hour); firstHour.Before(endHour) {
		sql := fmt.Sprintf("SELECT toUnixTimestamp(hour) AS t, direction, class, sum(count) AS n "+
			"FROM traffic_counts_hourly WHERE %[1]s AND hour IN ("+
			"SELECT hour FROM traffic_counts_hourly WHERE %[1]s AND hour >= toDateTime(%[2]d, 'UTC') AND hour < toDateTime(%[3]d, 'UTC') "+
			"GROUP BY hour HAVING sum(count) > 0 ORDER BY sum(count) DESC, hour ASC LIMIT 1) "+
			"GROUP BY t, direction, class", where, firstHour.Unix(), endHour.Unix())
		if peak, err = s.flows(ctx, sql); err != nil {
			return Result{}, err
		}
	}

	res := Result{Query: q}
	seen := map[string]bool{}
	for _, f := range slices.Concat(flows, peak) {
		if !seen[f.Class] {
			seen[f.Class] = true
			res.Classes = append(res.Classes, f.Class)
		}
	}
	slices.Sort(res.Classes)
	d := q.Bucket.Duration()
	n := int(q.To.Sub(q.From) / d)
	res.Rows = make([]Row, n)
	for i := range res.Rows {
		start := q.From.Add(time.Duration(i) * d)
		res.Rows[i] = Row{Start: start, End: start.Add(d), ByClass: make([]int64, len(res.Classes))}
	}
	res.Total = Row{Start: q.From, End: q.To, ByClass: make([]int64, len(res.Classes))}
	for _, f := range flows {
		i := int(f.Start.Sub(q.From) / d)
		if i < 0 || i >= n {
			return Result{}, fmt.Errorf("stats: bucket %s outside the range", f.Start)
		}
		c, _ := slices.BinarySearch(res.Classes, f.Class)
		res.Rows[i].add(f, c)
		res.Total.add(f, c)
	}
	if len(peak) > 0 {
		res.Peak = Row{Start: peak[0].Start, End: peak[0].Start.Add(time.Hour), ByClass: make([]int64, len(res.Classes))}
		for _, f := range peak {
			c, _ := slices.BinarySearch(res.Classes, f.Class)
			res.Peak.add(f, c)
		}
	}
	return res, nil
}

// flow is one result row of the statistics' SQL.
type flow struct {
	Start     time.Time
	Direction string
	Class     string
	N         int64
}

func (r *Row) add(f flow, class int) {
	switch f.Direction {
	case "in":
		r.In += f.N
	case "out":
		r.Out += f.N
	}
	r.ByClass[class] += f.N
}

// flows runs a statistics query: columns t (Unix seconds), direction,
// class and n.
func (s *Store) flows(ctx context.Context, sql string) ([]flow, error) {
	out, err := s.Backend.QueryJSON(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	var flows []flow
	err = eachRow(out, func(line []byte) error {
		var r struct {
			T         jsonInt
			Direction string
			Class     string
			N         jsonInt
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		flows = append(flows, flow{time.Unix(int64(r.T), 0).In(statsLocation), r.Direction, r.Class, int64(r.N)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stats: decode: %w", err)
	}
	return flows, nil
}

// WriteCSV writes the rows as CSV: a header, then one line per bucket with
// its start and end (RFC 3339 in StatsZone), in, out, total and one column
// per class.
func (r Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := append([]string{"start", "end", "in", "out", "total"}, r.Classes...)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	rec := make([]string, len(header))
	for _, row := range r.Rows {
		rec = append(rec[:0],
			row.Start.Format(time.RFC3339), row.End.Format(time.RFC3339),
			strconv.FormatInt(row.In, 10), strconv.FormatInt(row.Out, 10), strconv.FormatInt(row.Total(), 10))
		for _, n := range row.ByClass {
			rec = append(rec, strconv.FormatInt(n, 10))
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}
