package sink

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// recorder is a hand-written Writer that records what it was given. It
// fails the first failFirst calls, and while hold is non-nil each Write
// waits on it.
type recorder struct {
	name      string
	failFirst int
	failAll   bool
	hold      chan struct{}

	mu       sync.Mutex
	calls    int
	attempts []time.Time
	batches  [][]Event
}

var errSinkDown = errors.New("sink down")

func (r *recorder) Name() string { return r.name }

func (r *recorder) Write(ctx context.Context, events []Event) error {
	if r.hold != nil {
		select {
		case <-r.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.attempts = append(r.attempts, time.Now())
	if r.failAll || r.calls <= r.failFirst {
		return errSinkDown
	}
	r.batches = append(r.batches, slices.Clone(events))
	return nil
}

func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, b := range r.batches {
		out = append(out, len(b))
	}
	return out
}

func (r *recorder) written() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.batches {
		out = append(out, cameras(b)...)
	}
	return out
}

// startFanout runs f in the bubble and returns a stop function that cancels
// it and waits for Run to return.
func startFanout(t *testing.T, f *Fanout) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
	}
}

func TestFanoutBatchesBySizeAndTime(t *testing.T) {
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
			synctest.Test(t, func(t *testing.T) {
				r := &recorder{name: "rec"}
				f := &Fanout{Sinks: []Writer{r}, BatchSize: tt.batchSize, FlushInterval: 200 * time.Millisecond}
				stop := startFanout(t, f)
				for i := range tt.publish {
					f.Publish(numbered(i))
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
				if got := r.written(); len(got) != tt.publish || (tt.publish > 0 && got[0] != "cam-0") {
					t.Errorf("written %d events starting %v, want %d in order", len(got), got[:min(1, len(got))], tt.publish)
				}
			})
		})
	}
}

func TestFanoutRetriesWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := NewMetrics(nil)
		r := &recorder{name: "flaky", failFirst: 3}
		f := &Fanout{Sinks: []Writer{r}, BatchSize: 4, RetryMin: 100 * time.Millisecond, RetryMax: 250 * time.Millisecond, Metrics: m}
		stop := startFanout(t, f)
		start := time.Now()
		for i := range 4 {
			f.Publish(numbered(i))
		}
		time.Sleep(time.Second)
		stop()

		var gaps []time.Duration
		for _, at := range r.attempts {
			gaps = append(gaps, at.Sub(start))
		}
		// attempts at 0, then after 100, 200, 250 (capped) ms
		want := []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, 550 * time.Millisecond}
		if !slices.Equal(gaps, want) {
			t.Errorf("attempts at %v, want %v", gaps, want)
		}
		if got := r.written(); !slices.Equal(got, []string{"cam-0", "cam-1", "cam-2", "cam-3"}) {
			t.Errorf("written %v, want the batch once", got)
		}
		for _, c := range []struct {
			name string
			vec  *prometheus.CounterVec
			want float64
		}{
			{"published", m.published, 4}, {"written", m.written, 4}, {"failed", m.failed, 12}, {"dropped", m.dropped, 0},
		} {
			if got := testutil.ToFloat64(c.vec.WithLabelValues("flaky")); got != c.want {
				t.Errorf("%s = %v, want %v", c.name, got, c.want)
			}
		}
	})
}

func TestFanoutSlowSinkDropsOnlyItsOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := NewMetrics(nil)
		healthy := &recorder{name: "healthy"}
		stuck := &recorder{name: "stuck", hold: make(chan struct{})}
		f := &Fanout{Sinks: []Writer{healthy, stuck}, QueueSize: 5, BatchSize: 1, Metrics: m}
		stop := startFanout(t, f)

		f.Publish(numbered(0))
		synctest.Wait() // stuck's goroutine now waits inside Write with event 0
		for i := 1; i < 20; i++ {
			f.Publish(numbered(i)) // never blocks
			synctest.Wait()
		}
		if got := testutil.ToFloat64(m.dropped.WithLabelValues("stuck")); got != 14 {
			t.Errorf("stuck dropped = %v, want 14 (queue of 5 full)", got)
		}
		if got := testutil.ToFloat64(m.dropped.WithLabelValues("healthy")); got != 0 {
			t.Errorf("healthy dropped = %v, want 0", got)
		}
		if got := len(healthy.written()); got != 20 {
			t.Errorf("healthy wrote %d events, want 20", got)
		}
		close(stuck.hold)
		stop()
		if got := stuck.written(); !slices.Equal(got, []string{"cam-0", "cam-1", "cam-2", "cam-3", "cam-4", "cam-5"}) {
			t.Errorf("stuck wrote %v, want cam-0..cam-5", got)
		}
	})
}

func TestFanoutShutdown(t *testing.T) {
	tests := []struct {
		name        string
		sink        *recorder
		wantWritten int
		wantDropped float64
	}{
		{"flushes what is queued", &recorder{name: "ok"}, 7, 0},
		{"counts what the final flush loses", &recorder{name: "down", failAll: true}, 0, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m, _ := NewMetrics(nil)
				f := &Fanout{Sinks: []Writer{tt.sink}, FlushInterval: time.Hour, RetryMin: time.Hour, Metrics: m}
				stop := startFanout(t, f)
				for i := range 7 {
					f.Publish(numbered(i))
				}
				synctest.Wait()
				stop()
				if got := len(tt.sink.written()); got != tt.wantWritten {
					t.Errorf("written %d, want %d", got, tt.wantWritten)
				}
				if got := testutil.ToFloat64(m.dropped.WithLabelValues(tt.sink.name)); got != tt.wantDropped {
					t.Errorf("dropped %v, want %v", got, tt.wantDropped)
				}
			})
		})
	}
}

func TestFanoutRefusesInvalidAndSecondRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := NewMetrics(nil)
		r := &recorder{name: "rec"}
		f := &Fanout{Sinks: []Writer{r}, Metrics: m}
		stop := startFanout(t, f)
		synctest.Wait()
		if err := f.Run(t.Context()); !errors.Is(err, ErrAlreadyRunning) {
			t.Errorf("second Run() = %v, want ErrAlreadyRunning", err)
		}
		f.Publish(Event{Type: TypeAlertFire, CameraID: "cam-1"}) // no id, no ts
		f.Publish(numbered(1))
		stop()
		if got := testutil.ToFloat64(m.invalid); got != 1 {
			t.Errorf("invalid = %v, want 1", got)
		}
		if got := r.written(); !slices.Equal(got, []string{"cam-1"}) {
			t.Errorf("written %v, want only the valid event", got)
		}
	})
}
