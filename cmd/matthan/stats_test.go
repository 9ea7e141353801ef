package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/sink"
	"github.com/matthan/matthan/sink/clickhouse"
)

func TestStatsFlags(t *testing.T) {
	loc := clickhouse.StatsLocation()
	now := time.Date(2026, 3, 14, 9, 30, 0, 0, loc)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, loc) }
	tests := []struct {
		name     string
		args     []string
		from, to time.Time
		bucket   clickhouse.Bucket
		err      string
	}{
		{"defaults: today by hour", []string{"-camera", "c"}, day(14), day(15), clickhouse.BucketHour, ""},
		{"days: the last 7 whole days", []string{"-camera", "c", "-bucket", "1d"}, day(7), day(14), clickhouse.BucketDay, ""},
		{"from only", []string{"-camera", "c", "-from", "2026-03-10", "-bucket", "15m"}, day(10), day(11), clickhouse.Bucket15Min, ""},
		{"to only", []string{"-camera", "c", "-to", "2026-03-10T07:00:00+07:00"}, day(9).Add(7 * time.Hour), day(10).Add(7 * time.Hour), clickhouse.BucketHour, ""},
		{"both, UTC", []string{"-camera", "c", "-from", "2026-03-09T17:00:00Z", "-to", "2026-03-10"}, day(10), day(10), clickhouse.BucketHour, ""},
		{"no camera", nil, time.Time{}, time.Time{}, "", "-camera is required"},
		{"bad bucket", []string{"-camera", "c", "-bucket", "5m"}, time.Time{}, time.Time{}, "", `-bucket "5m"`},
		{"bad direction", []string{"-camera", "c", "-direction", "up"}, time.Time{}, time.Time{}, "", `-direction "up"`},
		{"bad time", []string{"-camera", "c", "-from", "yesterday"}, time.Time{}, time.Time{}, "", `-from "yesterday"`},
		{"extra argument", []string{"-camera", "c", "x"}, time.Time{}, time.Time{}, "", "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseStatsFlags(tt.args, io.Discard, now)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !o.q.From.Equal(tt.from) || !o.q.To.Equal(tt.to) || o.q.Bucket != tt.bucket {
				t.Errorf("range %s to %s by %s, want %s to %s by %s", o.q.From, o.q.To, o.q.Bucket, tt.from, tt.to, tt.bucket)
			}
		})
	}
}

func TestStatsCommand(t *testing.T) {
	t.Setenv(clickhouse.EnvLibrary, testenv.CHDB(t))
	data := t.TempDir()
	loc := clickhouse.StatsLocation()
	y, m, d := time.Now().In(loc).AddDate(0, 0, -3).Date() // within the retention
	at := func(h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	date := at(0, 0).Format(time.DateOnly)
	next := at(24, 0).Format(time.DateOnly)

	// A store as the engine leaves it: migrated, with counts of two lines.
	db, err := clickhouse.OpenEmbedded(filepath.Join(data, "clickhouse"), "")
	if err != nil {
		t.Fatal(err)
	}
	store := &clickhouse.Store{Backend: db}
	if err := store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	var events []sink.Event
	for _, c := range []struct {
		min      time.Time
		line     string
		measures map[string]float64
	}{
		{at(23, 10), "L1", map[string]float64{"in.car": 3, "out.car": 1, "in.motorcycle": 7}},
		{at(23, 11), "L1", map[string]float64{"in.car": 2}},
		{at(23, 50), "L2", map[string]float64{"out.truck": 4}},
		{at(24, 5), "L1", map[string]float64{"in.car": 1}},
	} {
		e := sink.NewEvent(sink.TypeTrafficCount, "gate-1", c.min)
		e.Line, e.Measures, e.Counts = c.line, c.measures, map[string]int{}
		events = append(events, e)
	}
	if err := store.Write(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// A store never migrated.
	bare := t.TempDir()
	if db, err = clickhouse.OpenEmbedded(filepath.Join(bare, "clickhouse"), ""); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	r := strings.NewReplacer("D1", date, "D2", next)
	tests := []struct {
		name string
		args []string
		want string // output, or the error's text
		err  bool
	}{
		{
			name: "table",
			args: []string{"-data", data, "-camera", "gate-1", "-from", date + "T22:00:00+07:00", "-to", next + "T01:00:00+07:00"},
			want: r.Replace(`camera gate-1, line all, direction both, class all, 1h buckets, Asia/Ho_Chi_Minh

             start  in  out  total  car  motorcycle  truck
  D1 22:00   0    0      0    0           0      0
  D1 23:00  12    5     17    6           7      4
  D2 00:00   1    0      1    1           0      0
             total  13    5     18    7           7      4

peak hour: D1 23:00 to 00:00, 17 (in 12, out 5)
`),
		},
		{
			name: "CSV of one line in quarter hours",
			args: []string{"-data", data, "-camera", "gate-1", "-line", "L1", "-bucket", "15m", "-from", date + "T23:00:00+07:00", "-to", next + "T00:15:00+07:00", "-csv"},
			want: r.Replace(`start,end,in,out,total,car,motorcycle
D1T23:00:00+07:00,D1T23:15:00+07:00,12,1,13,6,7
D1T23:15:00+07:00,D1T23:30:00+07:00,0,0,0,0,0
D1T23:30:00+07:00,D1T23:45:00+07:00,0,0,0,0,0
D1T23:45:00+07:00,D2T00:00:00+07:00,0,0,0,0,0
D2T00:00:00+07:00,D2T00:15:00+07:00,1,0,1,1,0
`),
		},
		{
			name: "days",
			args: []string{"-data", data, "-camera", "gate-1", "-direction", "in", "-bucket", "1d", "-from", date, "-to", next, "-csv"},
			want: r.Replace("start,end,in,out,total,car,motorcycle\nD1T00:00:00+07:00,D2T00:00:00+07:00,12,0,12,5,7\n"),
		},
		{
			name: "no whole hour",
			args: []string{"-data", data, "-camera", "gate-1", "-bucket", "15m", "-from", date + "T23:45:00+07:00", "-to", next + "T00:15:00+07:00"},
			want: "peak hour: none",
		},
		{"range off the buckets", []string{"-data", data, "-camera", "gate-1", "-from", date + "T23:30:00+07:00"}, "from: ", true},
		{"store not migrated", []string{"-data", bare, "-camera", "gate-1"}, "matthan run", true},
		{"no store", []string{"-data", t.TempDir(), "-camera", "gate-1"}, "no embedded store", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := stats(t.Context(), tt.args, &out, io.Discard, time.Now())
			if tt.err {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one saying %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) || (strings.HasPrefix(tt.want, "start") || strings.HasPrefix(tt.want, "camera")) && out.String() != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", out.String(), tt.want)
			}
		})
	}
}
