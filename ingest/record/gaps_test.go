package record

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/matthan/matthan/ingest"
)

// clipWildfire has a keyframe every second, so a recording resumes within
// 1 s of the camera returning.
const clipWildfire = "wildfire_smoke_hillside_dusk.h264.mp4" // H.264 High, B-frames, 420 frames, 24 fps, keyframe every 24

// TestRecorderGapLedger feeds real footage with the outages the recorder
// must account for and checks the ledger against the index and the truth
// one gap, bounds exactly the segments' and within 1 s of when
// the camera stopped and came back, the right cause, OnGap told.
func TestRecorderGapLedger(t *testing.T) {
	w := loadClip(t, clipWildfire)
	in := loadClip(t, clipIntersection)
	const outage = 15 * time.Second
	// nextKey is the first keyframe at or after packet i.
	nextKey := func(f footage, i int) int {
		for ; !f.packets[i].Keyframe; i++ {
		}
		return i
	}
	aus := func(f footage, from, to int, offset time.Duration, mod func(*ingest.AccessUnit)) []ingest.AccessUnit {
		var out []ingest.AccessUnit
		for i := from; i < to; i++ {
			au := f.accessUnit(i, 0, false) // capture follows the RTP (presentation) time, as with RTCP
			au.Capture = au.Capture.Add(offset)
			if mod != nil {
				mod(&au)
			}
			out = append(out, au)
		}
		return out
	}
	const stop = 130 // packets before the outage
	tests := []struct {
		name      string
		f         footage
		runs      [][]ingest.AccessUnit // each is one Run of the recorder
		queue     int                   // QueueLength; 0 for ample
		cause     string                // of the one gap; "" for none
		truthFrom time.Time             // when the camera stopped; zero: not checked
		truthTo   time.Time             // when it came back
		frames    []int                 // per segment
	}{
		{
			name:  "camera pauses: capture jumps, timestamps continue",
			f:     w,
			runs:  [][]ingest.AccessUnit{append(aus(w, 0, stop, 0, nil), aus(w, stop, len(w.packets), outage, nil)...)},
			cause: GapStream, truthFrom: base.Add(w.packets[stop].PTS), truthTo: base.Add(w.packets[stop].PTS + outage),
			frames: []int{stop, len(w.packets) - nextKey(w, stop)},
		},
		{
			name: "camera reconnects: timestamps restart at a keyframe",
			f:    w,
			runs: [][]ingest.AccessUnit{append(aus(w, 0, stop, 0, nil), aus(w, nextKey(w, stop), len(w.packets), outage, func(au *ingest.AccessUnit) {
				au.PTS -= w.packets[nextKey(w, stop)].PTS
			})...)},
			cause: GapStream, truthFrom: base.Add(w.packets[stop].PTS), truthTo: base.Add(w.packets[nextKey(w, stop)].PTS + outage),
			frames: []int{stop, len(w.packets) - nextKey(w, stop)},
		},
		{
			name:  "engine restarts",
			f:     w,
			runs:  [][]ingest.AccessUnit{aus(w, 0, stop, 0, nil), aus(w, nextKey(w, stop), len(w.packets), outage, nil)},
			cause: GapRestart, truthFrom: base.Add(w.packets[stop].PTS), truthTo: base.Add(w.packets[nextKey(w, stop)].PTS + outage),
			frames: []int{stop, len(w.packets) - nextKey(w, stop)},
		},
		{
			name:   "capture jitter under the threshold is no gap",
			f:      w,
			runs:   [][]ingest.AccessUnit{aus(w, 0, len(w.packets), 0, func(au *ingest.AccessUnit) { au.Capture = au.Capture.Add(rand.N(400 * time.Millisecond)) })},
			frames: []int{len(w.packets)},
		},
		{
			name:   "queue overflow",
			f:      in,
			runs:   [][]ingest.AccessUnit{aus(in, 0, 300, 0, nil)},
			queue:  64, // the first 64+10 are pushed before Run: 10 dropped
			cause:  GapQueue,
			frames: []int{64, 300 - 128},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			reg := prometheus.NewRegistry()
			m, err := NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			var told []Gap
			for _, run := range tc.runs {
				r := &Recorder{Root: root, CameraID: "cam", QueueLength: 2000, Metrics: m,
					OnGap: func(g Gap) { told = append(told, g) }}
				if tc.queue > 0 {
					r.QueueLength = tc.queue
					for _, au := range run[:tc.queue+10] { // the writer is not running yet
						r.Push(au)
					}
					run = run[tc.queue+10:]
				}
				x := start(r)
				pushPaced(r, run...)
				if err := x.stop(t); err != nil {
					t.Fatal(err)
				}
			}
			segs, err := ReadIndex(root, "cam")
			if err != nil {
				t.Fatal(err)
			}
			if len(segs) != len(tc.frames) {
				t.Fatalf("%d segments %v, want %d", len(segs), reasons(segs), len(tc.frames))
			}
			for i, s := range segs {
				p := probe(t, filepath.Join(root, "cam", s.Path))
				if s.Frames != tc.frames[i] || p.frames != s.Frames || p.stderr != "" {
					t.Errorf("segment %d: index %d frames, ffprobe decoded %d, want %d; stderr %q", i, s.Frames, p.frames, tc.frames[i], p.stderr)
				}
			}
			gaps, err := ReadGaps(root, "cam", time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.cause == "" {
				if len(gaps) != 0 || len(told) != 0 {
					t.Fatalf("gaps %+v, told %+v; want none", gaps, told)
				}
				return
			}
			if len(gaps) != 1 || len(told) != 1 || told[0] != gaps[0] {
				t.Fatalf("ledger %+v, OnGap told %+v; want the same one gap", gaps, told)
			}
			g := gaps[0]
			t.Logf("gap %v .. %v (%v), cause %s", g.Start.Format("15:04:05.000"), g.End.Format("15:04:05.000"), g.Duration(), g.Cause)
			if g.Cause != tc.cause || g.Camera != "cam" {
				t.Errorf("gap of camera %q cause %q, want cam %q", g.Camera, g.Cause, tc.cause)
			}
			if !g.Start.Equal(segs[0].End) || !g.End.Equal(segs[1].Start) {
				t.Errorf("gap %v..%v, the index has a hole %v..%v", g.Start, g.End, segs[0].End, segs[1].Start)
			}
			if !tc.truthFrom.IsZero() {
				if d := absDur(g.Start.Sub(tc.truthFrom)); d > time.Second {
					t.Errorf("gap starts %v, camera stopped at %v: %v off", g.Start, tc.truthFrom, d)
				}
				if d := absDur(g.End.Sub(tc.truthTo)); d > time.Second {
					t.Errorf("gap ends %v, camera came back at %v: %v off", g.End, tc.truthTo, d)
				}
			}
			if got := counterVec(t, reg, "gap_seconds_total", map[string]string{"camera": "cam", "cause": tc.cause}); absDur(time.Duration(got*float64(time.Second))-g.Duration()) > time.Millisecond {
				t.Errorf("gap_seconds_total %v, ledger %v", got, g.Duration())
			}
		})
	}
}

// TestReadGapsAndUptime checks the ledger queries on a hand-made store:
// ranges, a torn last line, and uptime per day in a zone that is not UTC.
func TestReadGapsAndUptime(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cam")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	hcm := time.FixedZone("ICT", 7*3600)
	day := time.Date(2025, 3, 14, 0, 0, 0, 0, hcm) // 2025-03-13T17:00Z .. 2025-03-14T17:00Z
	at := func(h, m int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute).UTC()
	}
	segs := []Segment{
		{Camera: "cam", Path: "a.mp4", Start: at(-1, 0), End: at(6, 0), EndReason: EndGap},   // 6 h in the day
		{Camera: "cam", Path: "b.mp4", Start: at(6, 30), End: at(20, 0), EndReason: EndGap},  // 13.5 h
		{Camera: "cam", Path: "c.mp4", Start: at(22, 0), End: at(26, 0), EndReason: EndStop}, // 2 h
		{Camera: "cam", Path: "d.mp4", Start: at(30, 0), End: at(31, 0), EndReason: EndStop}, // the next day
	}
	gaps := []Gap{
		{Camera: "cam", Start: at(6, 0), End: at(6, 30), Cause: GapStream},
		{Camera: "cam", Start: at(20, 0), End: at(22, 0), Cause: GapDisk},
		{Camera: "cam", Start: at(26, 0), End: at(30, 0), Cause: GapRestart},
	}
	for _, s := range segs {
		if err := appendIndex(dir, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range gaps {
		if err := appendLine(filepath.Join(dir, GapsFile), g); err != nil {
			t.Fatal(err)
		}
	}
	// A torn append (a crash while writing the ledger) is ignored.
	f, err := os.OpenFile(filepath.Join(dir, GapsFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"camera":"cam","start":"2025-03`)
	f.Close()

	tests := []struct {
		name     string
		from, to time.Time
		want     []Gap
	}{
		{"all", time.Time{}, time.Time{}, gaps},
		{"overlapping the evening", at(21, 0), at(27, 0), gaps[1:]},
		{"inside a gap", at(6, 10), at(6, 20), gaps[:1]},
		{"touching is not overlapping", at(6, 30), at(20, 0), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadGaps(root, "cam", tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("gap %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}

	rec, gp, err := Uptime(root, "cam", day.Add(12*time.Hour), hcm)
	if err != nil {
		t.Fatal(err)
	}
	if want := 21*time.Hour + 30*time.Minute; rec != want {
		t.Errorf("recorded %v, want %v", rec, want)
	}
	if want := 2*time.Hour + 30*time.Minute; gp != want {
		t.Errorf("gaps %v, want %v", gp, want)
	}
	if rec+gp != 24*time.Hour {
		t.Errorf("recorded %v + gaps %v do not account for the day", rec, gp)
	}
	// The same instants as a UTC day: 2025-03-14T00:00Z .. 24:00Z.
	rec, gp, err = Uptime(root, "cam", day.Add(12*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec != 18*time.Hour || gp != 6*time.Hour {
		t.Errorf("UTC day: recorded %v, gaps %v", rec, gp)
	}

	if _, err := ReadGaps(root, "../x", time.Time{}, time.Time{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("ReadGaps of a path: %v, want ErrInvalidConfig", err)
	}
	if g, err := ReadGaps(root, "other", time.Time{}, time.Time{}); err != nil || g != nil {
		t.Errorf("ReadGaps of a camera without a ledger: %v, %v; want none", g, err)
	}
}

// counterVec returns the value of a record counter with the given labels.
func counterVec(tb testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "matthan_record_"+name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
