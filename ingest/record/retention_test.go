package record

import (
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const day = 24 * time.Hour

// retentionNow is the faked present of the retention tests.
var retentionNow = base.Add(400 * day)

// storeAges are the ages of the segments of each camera in the test store:
// how long before retentionNow each one starts.
var storeAges = map[string][]time.Duration{
	"cam1": {100 * day, 60 * day, 40 * day, 31 * day, 20 * day, 5 * day},
	"cam2": {50 * day, 10 * day},
}

// buildStore records two seconds of real footage per age in storeAges,
// one recorder run each, and returns the root.
func buildStore(t *testing.T) string {
	t.Helper()
	f := loadClip(t, clipIntersection)
	root := t.TempDir()
	for cam, ages := range storeAges {
		for _, age := range ages {
			r := &Recorder{Root: root, CameraID: cam, QueueLength: 100}
			x := start(r)
			for i := range 60 {
				au := f.accessUnit(i, 0, false)
				au.Capture = retentionNow.Add(-age + f.packets[i].PTS)
				pushPaced(r, au)
			}
			if err := x.stop(t); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// copyStore copies a store so each case starts from the same recordings.
func copyStore(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "rec")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	return dst
}

// ageOf maps each indexed segment of cam to its age (rounded to days).
func ages(t *testing.T, root, cam string) []time.Duration {
	t.Helper()
	segs, err := ReadIndex(root, cam)
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Duration
	for _, s := range segs {
		out = append(out, retentionNow.Sub(s.Start).Round(day))
		if _, err := os.Stat(filepath.Join(root, cam, s.Path)); err != nil {
			t.Errorf("indexed segment %s: %v", s.Path, err)
		}
	}
	return out
}

// TestRetentionSweep applies age and size rules, with and without legal
// holds, to a store of real segments with faked ages.
func TestRetentionSweep(t *testing.T) {
	template := buildStore(t)
	segs, err := ReadIndex(template, "cam1")
	if err != nil {
		t.Fatal(err)
	}
	size := map[time.Duration]int64{} // cam1 segment size by age
	for _, s := range segs {
		size[retentionNow.Sub(s.Start).Round(day)] = s.Size
	}
	c2, err := ReadIndex(template, "cam2")
	if err != nil {
		t.Fatal(err)
	}
	young := size[20*day] + size[5*day] // what cam1 holds under 30 days

	type hold struct {
		cam      string
		from, to time.Duration // ages
	}
	tests := []struct {
		name     string
		r        *Retention
		holds    []hold
		kept     map[string][]time.Duration
		rules    map[string]int // deletions by rule
		incident string         // scope of a storage incident: "-" for none, "" for the total
	}{
		{
			name:     "30 days by default",
			kept:     map[string][]time.Duration{"cam1": {20 * day, 5 * day}, "cam2": {10 * day}},
			rules:    map[string]int{RuleAge: 5},
			incident: "-",
		},
		{
			name:     "45 days, one held",
			r:        &Retention{MaxAge: 45 * day},
			holds:    []hold{{"cam1", 61 * day, 59 * day}},
			kept:     map[string][]time.Duration{"cam1": {60 * day, 40 * day, 31 * day, 20 * day, 5 * day}, "cam2": {10 * day}},
			rules:    map[string]int{RuleAge: 2},
			incident: "-",
		},
		{
			name:     "hold on another camera protects nothing here",
			r:        &Retention{MaxAge: 45 * day},
			holds:    []hold{{"cam2", 61 * day, 59 * day}},
			kept:     map[string][]time.Duration{"cam1": {40 * day, 31 * day, 20 * day, 5 * day}, "cam2": {10 * day}},
			rules:    map[string]int{RuleAge: 3},
			incident: "-",
		},
		{
			name:     "camera cap met by deleting data over 30 days",
			r:        &Retention{MaxAge: 365 * day, CameraMaxBytes: young + size[31*day]},
			kept:     map[string][]time.Duration{"cam1": {31 * day, 20 * day, 5 * day}, "cam2": {50 * day, 10 * day}},
			rules:    map[string]int{RuleCameraSize: 3},
			incident: "-",
		},
		{
			name:     "camera cap that would need young data: incident, nothing young deleted",
			r:        &Retention{MaxAge: 365 * day, CameraMaxBytes: young - 1},
			holds:    []hold{{"cam1", 45 * day, 35 * day}},
			kept:     map[string][]time.Duration{"cam1": {40 * day, 20 * day, 5 * day}, "cam2": {10 * day}}, // every segment has the same size
			rules:    map[string]int{RuleCameraSize: 4},
			incident: "cam1",
		},
		{
			name:     "total cap: oldest first across cameras, stops at young data",
			r:        &Retention{MaxAge: 365 * day, TotalMaxBytes: young + c2[1].Size + 1},
			kept:     map[string][]time.Duration{"cam1": {20 * day, 5 * day}, "cam2": {10 * day}},
			rules:    map[string]int{RuleTotalSize: 5},
			incident: "-",
		},
		{
			name:     "total cap under the young data",
			r:        &Retention{MaxAge: 365 * day, TotalMaxBytes: 1},
			kept:     map[string][]time.Duration{"cam1": {20 * day, 5 * day}, "cam2": {10 * day}},
			rules:    map[string]int{RuleTotalSize: 5},
			incident: "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := copyStore(t, template)
			reg := prometheus.NewRegistry()
			m, err := NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			var incidents []Incident
			r := tc.r
			if r == nil {
				r = &Retention{}
			}
			r.Root, r.Metrics = root, m
			r.Now = func() time.Time { return retentionNow }
			r.OnIncident = func(in Incident) { incidents = append(incidents, in) }
			for _, h := range tc.holds {
				if _, err := r.Hold(h.cam, retentionNow.Add(-h.from), retentionNow.Add(-h.to), "case 42", "officer"); err != nil {
					t.Fatal(err)
				}
			}
			gapsBefore, _ := ReadGaps(root, "cam1", time.Time{}, time.Time{})
			dels, err := r.Sweep()
			if err != nil {
				t.Fatal(err)
			}
			for cam, want := range tc.kept {
				if got := ages(t, root, cam); !slices.Equal(got, want) {
					t.Errorf("%s keeps segments aged %v, want %v", cam, days(got), days(want))
				}
			}
			rules := map[string]int{}
			for _, d := range dels {
				rules[d.Rule]++
				if _, err := os.Stat(filepath.Join(root, d.Segment.Camera, d.Segment.Path)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("deleted %s still on disk: %v", d.Segment.Path, err)
				}
				if _, err := os.Stat(filepath.Dir(filepath.Join(root, d.Segment.Camera, d.Segment.Path))); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("day folder of %s not removed: %v", d.Segment.Path, err)
				}
				if age := retentionNow.Sub(d.Segment.End); d.Rule != RuleAge && age < MinRetention {
					t.Errorf("size rule deleted %s, %v old", d.Segment.Path, age)
				}
				if got := counterVec(t, reg, "retention_deleted_segments_total", map[string]string{"camera": d.Segment.Camera, "rule": d.Rule}); got == 0 {
					t.Errorf("no deletion counted for %s rule %s", d.Segment.Camera, d.Rule)
				}
			}
			if !maps.Equal(rules, tc.rules) {
				t.Errorf("deletions by rule %v, want %v", rules, tc.rules)
			}
			var logged int
			for cam := range storeAges {
				l, err := ReadRetentionLog(root, cam)
				if err != nil {
					t.Fatal(err)
				}
				logged += len(l)
			}
			if logged != len(dels) {
				t.Errorf("retention log has %d entries, %d deleted", logged, len(dels))
			}
			if gapsAfter, _ := ReadGaps(root, "cam1", time.Time{}, time.Time{}); len(gapsAfter) != len(gapsBefore) {
				t.Errorf("ledger went from %d to %d gaps: retention is no gap", len(gapsBefore), len(gapsAfter))
			}
			switch {
			case tc.incident == "-" && len(incidents) != 0:
				t.Errorf("incidents %+v, want none", incidents)
			case tc.incident != "-":
				if len(incidents) != 1 || incidents[0].Kind != IncidentStorage || incidents[0].Camera != tc.incident ||
					!strings.Contains(incidents[0].Message, "30 days") || !strings.Contains(incidents[0].Message, "R-11.3") {
					t.Fatalf("incidents %+v, want one storage incident for %q citing the 30-day minimum", incidents, tc.incident)
				}
				t.Logf("incident: %s", incidents[0].Message)
				// The next sweep deletes nothing and raises nothing new.
				if again, err := r.Sweep(); err != nil || len(again) != 0 || len(incidents) != 1 {
					t.Errorf("second sweep: %d deleted, %v, %d incidents; want nothing new", len(again), err, len(incidents))
				}
			}
			// The recorder starts cleanly on the swept store: nothing to recover.
			rec := &Recorder{Root: root, CameraID: "cam1"}
			x := start(rec)
			if err := x.stop(t); err != nil {
				t.Fatal(err)
			}
			if got := ages(t, root, "cam1"); !slices.Equal(got, tc.kept["cam1"]) {
				t.Errorf("after a recorder start cam1 has %v, want %v", days(got), days(tc.kept["cam1"]))
			}
		})
	}
}

// TestRetentionInterruptedDelete simulates a crash after retention logged
// and unindexed a segment but before it removed the file: the recorder's
// recovery removes the file instead of indexing it again.
func TestRetentionInterruptedDelete(t *testing.T) {
	root := buildStore(t)
	segs, err := ReadIndex(root, "cam2")
	if err != nil {
		t.Fatal(err)
	}
	old := segs[0]
	dir := filepath.Join(root, "cam2")
	if err := appendRaw(filepath.Join(dir, RetentionLogFile), []byte(`{"segment":{"camera":"cam2","path":"`+old.Path+`"},"rule":"age","at":"2026-01-01T00:00:00Z"}`+"\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := rewriteIndex(dir, func(s Segment) bool { return s.Path != old.Path }); err != nil {
		t.Fatal(err)
	}
	x := start(&Recorder{Root: root, CameraID: "cam2"})
	if err := x.stop(t); err != nil {
		t.Fatal(err)
	}
	if after, _ := ReadIndex(root, "cam2"); len(after) != 1 || after[0] != segs[1] {
		t.Errorf("index %+v, want only %+v", after, segs[1])
	}
	if _, err := os.Stat(filepath.Join(dir, old.Path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file retention was deleting: %v, want it gone", err)
	}
}

// TestRetentionRun sweeps on its timer: a segment 29 days old at the start
// goes once a sweep finds it more than 30 days old.
func TestRetentionRun(t *testing.T) {
	template := buildStore(t)
	synctest.Test(t, func(t *testing.T) {
		root := copyStore(t, template)
		t0 := time.Now()
		r := &Retention{Root: root, Interval: time.Hour, MaxAge: 31*day + 12*time.Hour,
			Now: func() time.Time { return retentionNow.Add(time.Since(t0)) }}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		synctest.Wait()
		if got := ages(t, root, "cam1"); !slices.Equal(got, []time.Duration{31 * day, 20 * day, 5 * day}) {
			t.Errorf("after the first sweep cam1 keeps %v", days(got))
		}
		time.Sleep(12*time.Hour - time.Minute)
		synctest.Wait()
		if got := ages(t, root, "cam1"); len(got) != 3 {
			t.Errorf("deleted before its time: cam1 keeps %v", days(got))
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if got := ages(t, root, "cam1"); !slices.Equal(got, []time.Duration{20 * day, 5 * day}) {
			t.Errorf("12 h later cam1 keeps %v, want the 31-day segment gone", days(got))
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestRetentionRefuses checks the config errors, the 30-day minimum first.
func TestRetentionRefuses(t *testing.T) {
	tests := []struct {
		name   string
		r      *Retention
		want   error
		naming []string
	}{
		{"under 30 days", &Retention{Root: "x", MaxAge: 7 * day}, ErrRetentionTooShort, []string{"MaxAge", "30 days", "R-11.3"}},
		{"just under", &Retention{Root: "x", MaxAge: MinRetention - time.Second}, ErrRetentionTooShort, []string{"R-11.3"}},
		{"no root", &Retention{}, ErrInvalidConfig, []string{"Root"}},
		{"negative camera cap", &Retention{Root: "x", CameraMaxBytes: -1}, ErrInvalidConfig, []string{"CameraMaxBytes"}},
		{"negative total cap", &Retention{Root: "x", TotalMaxBytes: -1}, ErrInvalidConfig, []string{"TotalMaxBytes"}},
		{"negative interval", &Retention{Root: "x", Interval: -1}, ErrInvalidConfig, []string{"Interval"}},
		{"30 days is fine", &Retention{Root: "x", MaxAge: MinRetention}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate: %v, want %v", err, tc.want)
			}
			for _, s := range tc.naming {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
			if tc.want != nil {
				if err := tc.r.Run(t.Context()); !errors.Is(err, tc.want) {
					t.Errorf("Run: %v, want %v at once", err, tc.want)
				}
				if _, err := tc.r.Sweep(); !errors.Is(err, tc.want) {
					t.Errorf("Sweep: %v, want %v", err, tc.want)
				}
			}
		})
	}
}

// TestLegalHolds places and releases holds: persisted, audited, listed,
// and bad requests refused with what was wrong.
func TestLegalHolds(t *testing.T) {
	root := t.TempDir()
	var (
		mu     sync.Mutex
		audits []string
	)
	audit := func(action string, d map[string]string) {
		mu.Lock()
		defer mu.Unlock()
		audits = append(audits, action+" "+d["id"]+" "+d["camera"]+" "+d["by"]+" "+d["reason"])
	}
	r := &Retention{Root: root, Audit: audit}
	from, to := base, base.Add(time.Hour)
	h1, err := r.Hold("cam1", from, to, "case 42", "officer a")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := r.Hold("cam2", from, to, "case 43", "officer b")
	if err != nil {
		t.Fatal(err)
	}
	if h1.ID == h2.ID || h1.Camera != "cam1" || !h1.From.Equal(from) || !h1.To.Equal(to) || h1.Created.IsZero() {
		t.Fatalf("holds %+v %+v", h1, h2)
	}
	if err := r.Release(h1.ID, "judge c", "case closed"); err != nil {
		t.Fatal(err)
	}
	// A new Retention reads the same state from holds.jsonl.
	r2 := &Retention{Root: root}
	all, err := r2.Holds("")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0] != h2 {
		t.Fatalf("active holds %+v, want only %+v", all, h2)
	}
	if c1, _ := r2.Holds("cam1"); len(c1) != 0 {
		t.Errorf("cam1 holds %+v after release", c1)
	}
	want := []string{
		AuditHold + " " + h1.ID + " cam1 officer a case 42",
		AuditHold + " " + h2.ID + " cam2 officer b case 43",
		AuditRelease + " " + h1.ID + " cam1 judge c case closed",
	}
	if !slices.Equal(audits, want) {
		t.Errorf("audited %q, want %q", audits, want)
	}

	bad := []struct {
		name   string
		call   func() error
		want   error
		naming string
	}{
		{"no camera", func() error { _, err := r.Hold("", from, to, "x", "y"); return err }, ErrInvalidHold, "camera"},
		{"camera path", func() error { _, err := r.Hold("../x", from, to, "x", "y"); return err }, ErrInvalidHold, "camera"},
		{"empty range", func() error { _, err := r.Hold("cam1", to, from, "x", "y"); return err }, ErrInvalidHold, "range"},
		{"no reason", func() error { _, err := r.Hold("cam1", from, to, " ", "y"); return err }, ErrInvalidHold, "reason"},
		{"no author", func() error { _, err := r.Hold("cam1", from, to, "x", ""); return err }, ErrInvalidHold, "by"},
		{"release twice", func() error { return r.Release(h1.ID, "judge c", "again") }, ErrUnknownHold, h1.ID},
		{"release unknown", func() error { return r.Release("hold-nope", "judge c", "x") }, ErrUnknownHold, "hold-nope"},
		{"release anonymously", func() error { return r.Release(h2.ID, "", "x") }, ErrInvalidHold, "by"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.naming) {
				t.Fatalf("%v, want %v naming %q", err, tc.want, tc.naming)
			}
		})
	}
	if len(audits) != len(want) {
		t.Errorf("refused requests were audited: %q", audits[len(want):])
	}
}

// days prints durations in days.
func days(ds []time.Duration) []int {
	var out []int
	for _, d := range ds {
		out = append(out, int(d/day))
	}
	return out
}
