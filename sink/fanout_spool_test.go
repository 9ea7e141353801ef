package sink

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/matthan/matthan/sink/spool"
)

// switchable is a Writer that fails while down is set and records what it
// wrote otherwise.
type switchable struct {
	recorder
	down atomic.Bool
}

func (s *switchable) Write(ctx context.Context, events []Event) error {
	if s.down.Load() {
		s.mu.Lock()
		s.calls++
		s.mu.Unlock()
		return errSinkDown
	}
	return s.recorder.Write(ctx, events)
}

func camRange(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, cameras([]Event{numbered(i)})...)
	}
	return out
}

func TestFanoutSpoolBatchesBySizeAndTime(t *testing.T) {
	tests := []struct {
		name      string
		batchSize int
		publish   int
		now       []int // batch sizes written right away
		later     []int // after FlushInterval
	}{
		{"full batches then a timed one", 10, 25, []int{10, 10}, []int{10, 10, 5}},
		{"one partial batch", 10, 3, nil, []int{3}},
		{"exact batches", 5, 10, []int{5, 5}, []int{5, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			synctest.Test(t, func(t *testing.T) {
				r := &recorder{name: "rec"}
				f := &Fanout{Sinks: []Writer{r}, BatchSize: tt.batchSize, FlushInterval: 200 * time.Millisecond, SpoolDir: dir}
				stop := startFanout(t, f)
				for i := range tt.publish {
					if err := f.Publish(numbered(i)); err != nil {
						t.Fatal(err)
					}
				}
				time.Sleep(199 * time.Millisecond)
				synctest.Wait()
				if got := r.sizes(); !slices.Equal(got, tt.now) {
					t.Errorf("before the interval: batches %v, want %v", got, tt.now)
				}
				time.Sleep(2 * time.Millisecond)
				synctest.Wait()
				if got := r.sizes(); !slices.Equal(got, tt.later) {
					t.Errorf("after the interval: batches %v, want %v", got, tt.later)
				}
				stop()
				if got := r.written(); !slices.Equal(got, camRange(0, tt.publish)) {
					t.Errorf("written %v, want %d in order", got, tt.publish)
				}
			})
		})
	}
}

// TestFanoutSpoolOutage: a sink down for a while, in one run or across a
// restart of the fan-out, gets every event once it is back, in order.
func TestFanoutSpoolOutage(t *testing.T) {
	tests := []struct {
		name    string
		restart bool // stop the fan-out during the outage and start a new one on the spool
	}{
		{"sink back in the same run", false},
		{"fan-out restarted during the outage", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			synctest.Test(t, func(t *testing.T) {
				m, _ := NewMetrics(nil)
				sm, _ := spool.NewMetrics(nil)
				w := &switchable{recorder: recorder{name: "kafka"}}
				w.down.Store(true)
				newFanout := func() *Fanout {
					return &Fanout{Sinks: []Writer{w}, BatchSize: 20, RetryMin: time.Second, RetryMax: 4 * time.Second,
						SpoolDir: dir, Metrics: m, SpoolMetrics: sm}
				}
				f := newFanout()
				stop := startFanout(t, f)
				for i := range 100 { // 100 events over 30 s of outage
					if err := f.Publish(numbered(i)); err != nil {
						t.Fatal(err)
					}
					time.Sleep(300 * time.Millisecond)
				}
				if tt.restart {
					stop()
					if recs, _ := spoolPending(t, filepath.Join(dir, "kafka")); recs != 100 {
						t.Fatalf("after the stop the spool holds %d events, want 100", recs)
					}
					f = newFanout()
					stop = startFanout(t, f)
				}
				for i := 100; i < 110; i++ {
					f.Publish(numbered(i))
				}
				w.down.Store(false)
				time.Sleep(5 * time.Second) // the longest backoff, and a flush interval
				synctest.Wait()
				if got := w.written(); !slices.Equal(got, camRange(0, 110)) {
					t.Errorf("written %d events %v…, want the 110 in order", len(got), got[:min(3, len(got))])
				}
				stop()
				if got := testutil.ToFloat64(m.dropped.WithLabelValues("kafka")); got != 0 {
					t.Errorf("dropped = %v, want 0", got)
				}
				if recs, _ := spoolPending(t, filepath.Join(dir, "kafka")); recs != 0 {
					t.Errorf("the spool holds %d events after the catch-up, want 0", recs)
				}
			})
		})
	}
}

// spoolPending opens the spool in dir and returns what it holds.
func spoolPending(t *testing.T, dir string) (int, int64) {
	t.Helper()
	sp, err := spool.Open(dir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	return sp.Pending()
}

func TestFanoutSpoolFull(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		rec, _ := json.Marshal(numbered(10))
		m, _ := NewMetrics(nil)
		sm, _ := spool.NewMetrics(nil)
		healthy := &recorder{name: "healthy"}
		stuck := &switchable{recorder: recorder{name: "stuck"}}
		stuck.down.Store(true)
		var mu sync.Mutex
		var alarms []string
		f := &Fanout{Sinks: []Writer{healthy, stuck}, BatchSize: 100, RetryMin: time.Second, RetryMax: time.Second,
			SpoolDir: dir, SpoolMaxBytes: 20 * int64(8+len(rec)), Metrics: m, SpoolMetrics: sm,
			OnSpoolFull: func(sink string, full bool) {
				mu.Lock()
				defer mu.Unlock()
				alarms = append(alarms, sink+":"+map[bool]string{true: "full", false: "room"}[full])
			}}
		if err := f.Open(); err != nil {
			t.Fatal(err)
		}
		stop := startFanout(t, f)
		for i := 10; i < 50; i++ { // same-length events: 20 fit
			time.Sleep(300 * time.Millisecond) // the healthy sink keeps up
			err := f.Publish(numbered(i))
			switch {
			case i < 30 && err != nil:
				t.Fatalf("event %d: %v", i, err)
			case i >= 30 && !errors.Is(err, spool.ErrFull):
				t.Fatalf("event %d: Publish() = %v, want spool.ErrFull", i, err)
			case i >= 30 && !strings.Contains(err.Error(), "stuck"):
				t.Errorf("Publish() = %q, want it to name the sink", err)
			}
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := len(healthy.written()); got != 40 {
			t.Errorf("healthy sink wrote %d events, want 40", got)
		}
		if got := testutil.ToFloat64(m.dropped.WithLabelValues("stuck")); got != 20 {
			t.Errorf("stuck dropped = %v, want 20", got)
		}
		if got := testutil.ToFloat64(m.dropped.WithLabelValues("healthy")); got != 0 {
			t.Errorf("healthy dropped = %v, want 0", got)
		}
		stuck.down.Store(false)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if err := f.Publish(numbered(50)); err != nil {
			t.Errorf("Publish after the catch-up: %v", err)
		}
		stop()
		if got := stuck.written(); !slices.Equal(got, append(camRange(10, 30), "cam-50")) {
			t.Errorf("stuck sink wrote %v, want cam-10..cam-29 and cam-50", got)
		}
		mu.Lock()
		if !slices.Equal(alarms, []string{"stuck:full", "stuck:room"}) {
			t.Errorf("alarms %v", alarms)
		}
		mu.Unlock()
	})
}

func TestFanoutSpoolBadConfigAndInput(t *testing.T) {
	tests := []struct {
		name    string
		sinks   []Writer
		prepare func(t *testing.T, dir string) (cleanup func())
		wantErr error
		wantMsg string
	}{
		{name: "two sinks of one name", sinks: []Writer{&recorder{name: "a"}, &recorder{name: "a"}}, wantMsg: `sink name "a"`},
		{name: "a name that is a path", sinks: []Writer{&recorder{name: "../a"}}, wantMsg: `sink name "../a"`},
		{name: "spool in use", sinks: []Writer{&recorder{name: "a"}, &recorder{name: "b"}}, prepare: func(t *testing.T, dir string) func() {
			sp, err := spool.Open(filepath.Join(dir, "b"), spool.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return func() { sp.Close() }
		}, wantErr: spool.ErrLocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.prepare != nil {
				defer tt.prepare(t, dir)()
			}
			m, _ := NewMetrics(nil)
			f := &Fanout{Sinks: tt.sinks, SpoolDir: dir, Metrics: m}
			err := f.Open()
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Open() = %v, want %v %q", err, tt.wantErr, tt.wantMsg)
			}
			if perr := f.Publish(numbered(1)); perr == nil {
				t.Error("Publish after a failed Open = nil")
			}
			if rerr := f.Run(t.Context()); !errors.Is(rerr, err) {
				t.Errorf("Run() = %v, want the Open error", rerr)
			}
		})
	}

	t.Run("an event JSON cannot carry", func(t *testing.T) {
		m, _ := NewMetrics(nil)
		f := &Fanout{Sinks: []Writer{&recorder{name: "a"}}, SpoolDir: t.TempDir(), Metrics: m}
		defer f.Close()
		e := numbered(1)
		e.Measures = map[string]float64{"speed": math.NaN()}
		if err := f.Publish(e); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("Publish(NaN measure) = %v, want ErrInvalidEvent", err)
		}
		if got := testutil.ToFloat64(m.invalid); got != 1 {
			t.Errorf("invalid = %v, want 1", got)
		}
	})
}
