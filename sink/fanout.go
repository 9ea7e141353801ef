package sink

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Fan-out defaults.
const (
	// DefaultQueueSize bounds the events waiting for one sink: about a
	// minute of events from a few hundred cameras.
	DefaultQueueSize = 10000
	// DefaultBatchSize is the most events handed to one Write.
	DefaultBatchSize = 500
	// DefaultFlushInterval is the longest an event waits for its batch to fill.
	DefaultFlushInterval = 200 * time.Millisecond
	// DefaultFlushTimeout bounds the final flush after the context ends.
	DefaultFlushTimeout = 5 * time.Second
	// DefaultRetryMin and DefaultRetryMax bound the backoff between attempts
	// to write a failed batch; it doubles from min to max.
	DefaultRetryMin = 100 * time.Millisecond
	DefaultRetryMax = 10 * time.Second
)

// Writer is a durable destination of events (Kafka, ClickHouse).
type Writer interface {
	// Write stores events, in order, or returns an error; a failed batch is
	// retried whole, so a Writer must tolerate duplicates (events carry IDs).
	// Write is called from one goroutine per Writer.
	Write(ctx context.Context, events []Event) error
	// Name is a short, stable name for logs and metric labels.
	Name() string
}

// Fanout hands every published event to each of its Sinks. Each sink has its
// own bounded queue and goroutine, so a slow or failing sink delays nobody
// else: when its queue is full, its events are dropped and counted.
// Configure it before the first Publish or Run; Publish is safe for
// concurrent use.
type Fanout struct {
	// Sinks receive every valid published event.
	Sinks []Writer
	// QueueSize bounds the events waiting for each sink. Defaults to DefaultQueueSize.
	QueueSize int
	// BatchSize is the most events per Write. Defaults to DefaultBatchSize.
	BatchSize int
	// FlushInterval is how long a partial batch waits before it is written.
	// Defaults to DefaultFlushInterval.
	FlushInterval time.Duration
	// FlushTimeout bounds writing what is queued once Run's context ends.
	// Defaults to DefaultFlushTimeout.
	FlushTimeout time.Duration
	// RetryMin and RetryMax bound the backoff between attempts to write a
	// failed batch. Default to DefaultRetryMin and DefaultRetryMax.
	RetryMin, RetryMax time.Duration
	// Logger receives write failures. Defaults to discarding.
	Logger *slog.Logger
	// Metrics receives the per-sink counters. Defaults to unregistered metrics.
	Metrics *Metrics

	once    sync.Once
	lanes   []lane
	running atomic.Bool
}

// lane is one sink's queue and counters.
type lane struct {
	w                                   Writer
	q                                   chan Event
	published, written, failed, dropped prometheus.Counter
	log                                 *slog.Logger
}

func (f *Fanout) init() {
	f.once.Do(func() {
		if f.QueueSize <= 0 {
			f.QueueSize = DefaultQueueSize
		}
		if f.BatchSize <= 0 {
			f.BatchSize = DefaultBatchSize
		}
		if f.FlushInterval <= 0 {
			f.FlushInterval = DefaultFlushInterval
		}
		if f.FlushTimeout <= 0 {
			f.FlushTimeout = DefaultFlushTimeout
		}
		if f.RetryMin <= 0 {
			f.RetryMin = DefaultRetryMin
		}
		if f.RetryMax < f.RetryMin {
			f.RetryMax = max(DefaultRetryMax, f.RetryMin)
		}
		if f.Logger == nil {
			f.Logger = slog.New(slog.DiscardHandler)
		}
		f.Logger = f.Logger.With("component", "sink")
		if f.Metrics == nil {
			f.Metrics = discardMetrics()
		}
		f.lanes = make([]lane, len(f.Sinks))
		for i, w := range f.Sinks {
			name := w.Name()
			f.lanes[i] = lane{
				w:         w,
				q:         make(chan Event, f.QueueSize),
				published: f.Metrics.published.WithLabelValues(name),
				written:   f.Metrics.written.WithLabelValues(name),
				failed:    f.Metrics.failed.WithLabelValues(name),
				dropped:   f.Metrics.dropped.WithLabelValues(name),
				log:       f.Logger.With("sink", name),
			}
		}
	})
}

// Publish queues e for every sink without blocking. An invalid event is
// refused and counted; a sink whose queue is full loses e, counted.
func (f *Fanout) Publish(e Event) {
	f.init()
	if e.Validate() != nil {
		f.Metrics.invalid.Inc()
		return
	}
	for i := range f.lanes {
		l := &f.lanes[i]
		select {
		case l.q <- e:
			l.published.Inc()
		default:
			l.dropped.Inc()
		}
	}
}

// Run writes queued events to the sinks, one goroutine per sink, until ctx
// ends; then it writes what is still queued, within FlushTimeout, and
// returns once every sink goroutine has ended. It returns nil after a
// shutdown, ErrAlreadyRunning if called twice.
func (f *Fanout) Run(ctx context.Context) error {
	f.init()
	if !f.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	var wg sync.WaitGroup
	for i := range f.lanes {
		wg.Go(func() { f.drain(ctx, &f.lanes[i]) })
	}
	wg.Wait()
	return nil
}

// drain is the goroutine of one sink: it batches by size or FlushInterval
// and retries a failed batch until it is written or ctx ends.
func (f *Fanout) drain(ctx context.Context, l *lane) {
	batch := make([]Event, 0, f.BatchSize)
	tick := time.NewTicker(f.FlushInterval)
	defer tick.Stop()

	for {
		select {
		case <-ctx.Done():
			f.flush(ctx, l, batch)
			return
		case e := <-l.q:
			batch = append(batch, e)
			if len(batch) < f.BatchSize {
				continue
			}
		case <-tick.C:
			if len(batch) == 0 {
				continue
			}
		}
		if !f.writeRetrying(ctx, l, batch) {
			f.flush(ctx, l, batch)
			return
		}
		batch = batch[:0]
		tick.Reset(f.FlushInterval)
	}
}

// writeRetrying writes batch, retrying with backoff; it reports false when
// ctx ended before the batch was written.
func (f *Fanout) writeRetrying(ctx context.Context, l *lane, batch []Event) bool {
	wait := f.RetryMin
	for attempt := 1; ; attempt++ {
		err := l.w.Write(ctx, batch)
		if err == nil {
			l.written.Add(float64(len(batch)))
			if attempt > 1 {
				l.log.Info("sink write recovered", "attempts", attempt)
			}
			return true
		}
		l.failed.Add(float64(len(batch)))
		if ctx.Err() != nil {
			return false
		}
		if attempt == 1 || attempt%10 == 0 { // a lasting outage logs every 10th attempt
			l.log.Warn("sink write failed, retrying", "events", len(batch), "attempt", attempt, "retry_in", wait, "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, f.RetryMax)
	}
}

// flush writes batch and the events queued when it starts, one attempt per
// batch within FlushTimeout; what cannot be written is counted as dropped.
// Events published during the flush stay queued (Publish should have
// stopped: ingest and analysis stop before the sinks).
func (f *Fanout) flush(ctx context.Context, l *lane, batch []Event) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.FlushTimeout)
	defer cancel()
	left := len(l.q)
	lost := 0
	for {
		for len(batch) < f.BatchSize && left > 0 {
			batch = append(batch, <-l.q)
			left--
		}
		if len(batch) == 0 {
			break
		}
		if fctx.Err() != nil {
			lost += len(batch)
		} else if err := l.w.Write(fctx, batch); err != nil {
			l.failed.Add(float64(len(batch)))
			lost += len(batch)
			l.log.Warn("sink final flush failed", "events", len(batch), "err", err)
		} else {
			l.written.Add(float64(len(batch)))
		}
		batch = batch[:0]
	}
	if lost > 0 {
		l.dropped.Add(float64(lost))
		l.log.Error("sink events lost at shutdown", "events", lost)
	}
}
