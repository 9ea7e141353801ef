package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/matthan/matthan/cmd/matthan/internal/conf"
	"github.com/matthan/matthan/sink/clickhouse"
)

// statsMain runs `matthan stats -camera ID [-line L] [-direction D]
// [-class C] [-from T -to T] [-bucket 15m|1h|1d] [-csv] [-data DIR |
// -clickhouse DSN]`: the traffic flow of a camera from the analytics store,
// as a table or CSV.
func statsMain(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return stats(ctx, args, os.Stdout, os.Stderr, time.Now())
}

// statsOptions are the parsed flags of stats.
type statsOptions struct {
	data, dsn string
	csv       bool
	q         clickhouse.Query
}

// parseStatsFlags parses and checks the flags of stats; now places the
// default range.
func parseStatsFlags(args []string, stderr io.Writer, now time.Time) (statsOptions, error) {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: matthan stats -camera ID [-line L] [-direction in|out] [-class C]\n"+
			"                     [-from TIME] [-to TIME] [-bucket 15m|1h|1d] [-csv] [-data DIR | -clickhouse DSN]\n\n"+
			"Prints the traffic flow counted on a camera's lines: per bucket (local time %s),\n"+
			"in total and in the peak hour; with -csv, one CSV line per bucket.\n"+
			"Times are RFC 3339 (2026-03-14T07:00:00+07:00) or a local date (2026-03-14) and must\n"+
			"fall on bucket boundaries. Without -from and -to: today (yesterday and the 6 days\n"+
			"before it, for -bucket 1d); with one of them, one day (7 days) from or to it.\n"+
			"The embedded store cannot be read while the engine runs on the same -data folder.\n\nflags:\n",
			clickhouse.StatsZone)
		fs.PrintDefaults()
	}
	var o statsOptions
	var from, to, bucket, direction string
	fs.StringVar(&o.data, "data", conf.Default().Data, "data `folder` of the engine (embedded store under DIR/clickhouse)")
	fs.StringVar(&o.dsn, "clickhouse", "", "ClickHouse server `DSN` (clickhouse://user:password@host:9000/db) instead of the embedded store")
	fs.StringVar(&o.q.Camera, "camera", "", "camera `ID`")
	fs.StringVar(&o.q.Line, "line", "", "counting line `ID` (default: all lines)")
	fs.StringVar(&direction, "direction", "", "in or out (default: both)")
	fs.StringVar(&o.q.Class, "class", "", "object `class` (default: all)")
	fs.StringVar(&from, "from", "", "start of the range, RFC 3339 `time` or local date")
	fs.StringVar(&to, "to", "", "end of the range (excluded), RFC 3339 `time` or local date")
	fs.StringVar(&bucket, "bucket", string(clickhouse.BucketHour), "bucket `length`: 15m, 1h or 1d")
	fs.BoolVar(&o.csv, "csv", false, "print CSV")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.q.Camera == "" {
		return o, errors.New("-camera is required")
	}
	if direction != "" && direction != "in" && direction != "out" {
		return o, fmt.Errorf("-direction %q: want in or out", direction)
	}
	o.q.Direction = direction
	o.q.Bucket = clickhouse.Bucket(bucket)
	if o.q.Bucket.Duration() == 0 {
		return o, fmt.Errorf("-bucket %q: want 15m, 1h or 1d", bucket)
	}
	var err error
	if from != "" {
		if o.q.From, err = parseStatsTime("from", from); err != nil {
			return o, err
		}
	}
	if to != "" {
		if o.q.To, err = parseStatsTime("to", to); err != nil {
			return o, err
		}
	}
	loc := clickhouse.StatsLocation()
	span := 24 * time.Hour
	if o.q.Bucket == clickhouse.BucketDay {
		span = 7 * 24 * time.Hour
	}
	switch {
	case from == "" && to == "":
		y, m, d := now.In(loc).Date()
		o.q.To = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		if o.q.Bucket == clickhouse.BucketDay {
			o.q.To = o.q.To.AddDate(0, 0, -1) // whole days: up to today
		}
		o.q.From = o.q.To.Add(-span)
	case from == "":
		o.q.From = o.q.To.Add(-span)
	case to == "":
		o.q.To = o.q.From.Add(span)
	}
	if o.dsn == "" && o.data == "" {
		return o, errors.New("-data or -clickhouse is required")
	}
	return o, nil
}

// parseStatsTime parses the value of flag name: RFC 3339, or a date meaning
// its midnight in the statistics' time zone.
func parseStatsTime(name, value string) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, value, clickhouse.StatsLocation()); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		return time.Time{}, fmt.Errorf("-%s %q: want an RFC 3339 time such as 2026-03-14T07:00:00+07:00, or a date such as 2026-03-14", name, value)
	}
	return t, nil
}

// stats is statsMain with its context, output streams and clock.
func stats(ctx context.Context, args []string, stdout, stderr io.Writer, now time.Time) error {
	o, err := parseStatsFlags(args, stderr, now)
	if err != nil {
		return err
	}
	var backend clickhouse.Backend
	if o.dsn != "" {
		if backend, err = clickhouse.OpenServer(o.dsn); err != nil {
			return err
		}
	} else {
		dir := filepath.Join(o.data, "clickhouse")
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("no embedded store in -data %s: %w", o.data, err)
		}
		if backend, err = clickhouse.OpenEmbedded(dir, chdbPath()); err != nil {
			return err
		}
	}
	defer backend.Close()
	store := &clickhouse.Store{Backend: backend}
	// Read only: migrating is the engine's job, with its retention.
	if err := store.CheckSchema(ctx); errors.Is(err, clickhouse.ErrSchemaOutdated) {
		return fmt.Errorf("%w: start the engine (matthan run) once to migrate the store", err)
	} else if err != nil {
		return err
	}
	res, err := store.Stats(ctx, o.q)
	if err != nil {
		return err
	}
	if o.csv {
		return res.WriteCSV(stdout)
	}
	return writeStatsTable(stdout, res)
}

// chdbPath returns $MATTHAN_CHDB_LIB, else libchdb.so in the .deps/lib
// folder beside the binary's folder or in the working folder.
func chdbPath() string {
	if p := os.Getenv(clickhouse.EnvLibrary); p != "" {
		return p
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", ".deps", "lib", "libchdb.so"))
	}
	candidates = append(candidates, filepath.Join(".deps", "lib", "libchdb.so"))
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return candidates[len(candidates)-1]
}

// writeStatsTable prints res as an aligned table with the total and the
// peak hour.
func writeStatsTable(w io.Writer, res clickhouse.Result) error {
	q := res.Query
	orAll := func(s, all string) string {
		if s == "" {
			return all
		}
		return s
	}
	fmt.Fprintf(w, "camera %s, line %s, direction %s, class %s, %s buckets, %s\n\n",
		q.Camera, orAll(q.Line, "all"), orAll(q.Direction, "both"), orAll(q.Class, "all"), q.Bucket, clickhouse.StatsZone)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "start\tin\tout\ttotal\t%s\t\n", strings.Join(res.Classes, "\t"))
	layout := "2006-01-02 15:04"
	if q.Bucket == clickhouse.BucketDay {
		layout = time.DateOnly
	}
	line := func(label string, r clickhouse.Row) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t", label, r.In, r.Out, r.Total())
		for _, n := range r.ByClass {
			fmt.Fprintf(tw, "%d\t", n)
		}
		fmt.Fprintln(tw)
	}
	for _, r := range res.Rows {
		line(r.Start.Format(layout), r)
	}
	line("total", res.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.Peak.Start.IsZero() {
		_, err := fmt.Fprintln(w, "\npeak hour: none (no whole hour with counts in the range)")
		return err
	}
	_, err := fmt.Fprintf(w, "\npeak hour: %s to %s, %d (in %d, out %d)\n",
		res.Peak.Start.Format("2006-01-02 15:04"), res.Peak.End.Format("15:04"), res.Peak.Total(), res.Peak.In, res.Peak.Out)
	return err
}
