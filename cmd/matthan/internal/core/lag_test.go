package core

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer"
)

// records keeps the log records a handler receives.
type records struct{ got []slog.Record }

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.got = append(r.got, rec)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// TestLagWatch feeds one camera's counters minute by minute (5 frames/s
// asked, 300 a minute) and checks when the operator is told.
func TestLagWatch(t *testing.T) {
	type minute struct {
		analysed, dropped int64
		want              slog.Level // -1: nothing logged
	}
	const none = slog.Level(-1)
	tests := []struct {
		name    string
		period  time.Duration
		minutes []minute
	}{
		{"saturated, then keeps up", 200 * time.Millisecond, []minute{
			{150, 500, slog.LevelWarn},
			{150, 500, none}, // told once
			{250, 40, none},  // between the two shares: still behind
			{290, 10, slog.LevelInfo},
			{300, 0, none},
		}},
		{"dropped nothing: the camera sends less than asked", 200 * time.Millisecond, []minute{
			{100, 0, none}, {0, 0, none},
		}},
		{"a few drops at the asked rate", 200 * time.Millisecond, []minute{
			{298, 3, none},
		}},
		{"every frame asked, 25 sent, 14 analysed", 0, []minute{
			{840, 660, none}, // no period in force yet: not judged
		}},
		{"1 fps asked", time.Second, []minute{
			{30, 100, slog.LevelWarn}, {58, 2, slog.LevelInfo},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &records{}
			w := lagWatch{log: slog.New(rec)}
			var st analyzer.Stats
			st.Period = tt.period
			w.observe("cam", st, 0) // the baseline
			for i, m := range tt.minutes {
				st.FramesInferred += m.analysed
				st.FramesDropped += m.dropped
				n := len(rec.got)
				w.observe("cam", st, time.Minute)
				switch {
				case m.want == none && len(rec.got) != n:
					t.Errorf("minute %d: logged %q, want nothing", i+1, rec.got[n].Message)
				case m.want != none && len(rec.got) != n+1:
					t.Errorf("minute %d: %d records, want one at %v", i+1, len(rec.got)-n, m.want)
				case m.want != none && rec.got[n].Level != m.want:
					t.Errorf("minute %d: %v %q, want level %v", i+1, rec.got[n].Level, rec.got[n].Message, m.want)
				}
			}
		})
	}
}
