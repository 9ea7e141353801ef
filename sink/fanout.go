package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/matthan/matthan/sink/spool"
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
// own queue and goroutine, so a slow or failing sink delays nobody else.
//
// Without SpoolDir the queue is in memory and bounded by QueueSize: when it
// is full, the sink's events are dropped, counted, and Publish says so; what
// the final flush cannot write is lost too. With SpoolDir each sink's queue
// is a disk spool (package spool) in SpoolDir/<sink name>: every accepted
// event is in the spool file, as its JSON, before Publish returns; the
// sink's goroutine reads it in order, writes it in batches (a RawWriter gets
// the JSON as it is in the spool, encoded once), retrying with backoff, and
// acknowledges it once written, so neither an outage of the sink nor a
// restart of the engine loses it (delivery is at-least-once: events written
// but not yet acknowledged are written again after a restart). When a spool
// holds SpoolMaxBytes, Publish refuses events for that sink with
// spool.ErrFull, counted and alarmed.
//
// Configure it before the first Publish, Open or Run; Publish is safe for
// concurrent use.
type Fanout struct {
	// Sinks receive every valid published event.
	Sinks []Writer
	// QueueSize bounds the events waiting in memory for each sink, without
	// SpoolDir. Defaults to DefaultQueueSize.
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
	// SpoolDir, when set, holds a disk spool per sink, SpoolDir/<sink
	// name>, through which every event goes; sink names must then be
	// unique file names. Empty keeps the queues in memory only.
	SpoolDir string
	// SpoolMaxBytes bounds the bytes waiting in each sink's spool. Defaults
	// to spool.DefaultMaxBytes.
	SpoolMaxBytes int64
	// SpoolMetrics receives the spools' gauges and counters. Defaults to
	// unregistered metrics.
	SpoolMetrics *spool.Metrics
	// OnSpoolFull, when set, is called with a sink's name and true when its
	// spool becomes full, and false when it accepts events again. It is
	// called from the goroutine calling Publish and must not block.
	OnSpoolFull func(sink string, full bool)

	once    sync.Once
	openErr error
	lanes   []lane
	running atomic.Bool
}

// lane is one sink's queue and counters.
type lane struct {
	w                                   Writer
	raw                                 RawWriter    // w, when it is one
	q                                   chan Event   // without a spool
	sp                                  *spool.Spool // with one
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
			raw, _ := w.(RawWriter)
			f.lanes[i] = lane{
				raw:       raw,
				w:         w,
				q:         make(chan Event, f.QueueSize),
				published: f.Metrics.published.WithLabelValues(name),
				written:   f.Metrics.written.WithLabelValues(name),
				failed:    f.Metrics.failed.WithLabelValues(name),
				dropped:   f.Metrics.dropped.WithLabelValues(name),
				log:       f.Logger.With("sink", name),
			}
		}
		if f.SpoolDir != "" {
			f.openErr = f.openSpools()
		}
	})
}

// openSpools opens the spool of every sink, or none.
func (f *Fanout) openSpools() error {
	seen := map[string]bool{}
	for _, l := range f.lanes {
		name := l.w.Name()
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || seen[name] {
			return fmt.Errorf("open sink spools: sink name %q: want a unique name usable as a folder name", name)
		}
		seen[name] = true
	}
	for i := range f.lanes {
		l := &f.lanes[i]
		name := l.w.Name()
		var onFull func(bool)
		if f.OnSpoolFull != nil {
			onFull = func(full bool) { f.OnSpoolFull(name, full) }
		}
		sp, err := spool.Open(filepath.Join(f.SpoolDir, name), spool.Options{
			Name:     name,
			MaxBytes: f.SpoolMaxBytes,
			OnFull:   onFull,
			Logger:   f.Logger.With("sink", name),
			Metrics:  f.SpoolMetrics,
		})
		if err != nil {
			return errors.Join(fmt.Errorf("open sink spools: %w", err), f.Close())
		}
		l.sp = sp
	}
	return nil
}

// Open opens the sinks' spools (with SpoolDir), resuming what an earlier
// run left in them. Publish and Run open them too; call Open first to fail
// start-up on an unusable spool rather than at the first Publish.
func (f *Fanout) Open() error {
	f.init()
	return f.openErr
}

// Close closes the sinks' spools; what they hold stays for the next run.
// Run closes them when it returns: Close is for a Fanout that never ran.
func (f *Fanout) Close() error {
	var errs []error
	for i := range f.lanes {
		if sp := f.lanes[i].sp; sp != nil {
			errs = append(errs, sp.Close())
		}
	}
	return errors.Join(errs...)
}

// Publish queues e for every sink without blocking on any sink. It refuses
// an invalid event (ErrInvalidEvent), counted. It returns, joined, an error
// per sink that did not take e, counted as dropped: ErrQueueFull for a full
// memory queue; spool.ErrFull, or the spool's write error, with SpoolDir.
// The other sinks have e.
func (f *Fanout) Publish(e Event) error {
	f.init()
	if err := e.Validate(); err != nil {
		f.Metrics.invalid.Inc()
		return err
	}
	if f.openErr != nil {
		for i := range f.lanes {
			f.lanes[i].dropped.Inc()
		}
		return f.openErr
	}
	var rec []byte
	if f.SpoolDir != "" {
		var err error
		if rec, err = e.MarshalJSON(); err != nil { // a NaN measure, say
			f.Metrics.invalid.Inc()
			return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
		}
	}
	var errs []error
	for i := range f.lanes {
		l := &f.lanes[i]
		if l.sp != nil {
			if err := l.sp.Append(rec); err != nil {
				l.dropped.Inc()
				errs = append(errs, err) // names the sink's spool
				continue
			}
			l.published.Inc()
			continue
		}
		select {
		case l.q <- e:
			l.published.Inc()
		default:
			l.dropped.Inc()
			errs = append(errs, fmt.Errorf("sink %s: %w", l.w.Name(), ErrQueueFull))
		}
	}
	return errors.Join(errs...)
}

// Run writes queued events to the sinks, one goroutine per sink, until ctx
// ends; then it writes what is still queued, within FlushTimeout, and
// returns once every sink goroutine has ended, after closing the spools
// (what they still hold waits for the next run). It returns nil after a
// shutdown, ErrAlreadyRunning if called twice, and the error of a spool
// that did not open or close.
func (f *Fanout) Run(ctx context.Context) error {
	f.init()
	if !f.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	if f.openErr != nil {
		return f.openErr
	}
	var wg sync.WaitGroup
	for i := range f.lanes {
		if f.lanes[i].sp != nil {
			wg.Go(func() { f.drainSpool(ctx, &f.lanes[i]) })
		} else {
			wg.Go(func() { f.drain(ctx, &f.lanes[i]) })
		}
	}
	wg.Wait()
	return f.Close()
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
		if !f.writeRetrying(ctx, l, len(batch), func(ctx context.Context) error { return l.w.Write(ctx, batch) }) {
			f.flush(ctx, l, batch)
			return
		}
		batch = batch[:0]
		tick.Reset(f.FlushInterval)
	}
}

// writeRetrying writes a batch of n events with write, retrying with
// backoff; it reports false when ctx ended before the batch was written.
func (f *Fanout) writeRetrying(ctx context.Context, l *lane, n int, write func(context.Context) error) bool {
	wait := f.RetryMin
	for attempt := 1; ; attempt++ {
		err := write(ctx)
		if err == nil {
			l.written.Add(float64(n))
			if attempt > 1 {
				l.log.Info("sink write recovered", "attempts", attempt)
			}
			return true
		}
		l.failed.Add(float64(n))
		if ctx.Err() != nil {
			return false
		}
		if attempt == 1 || attempt%10 == 0 { // a lasting outage logs every 10th attempt
			l.log.Warn("sink write failed, retrying", "events", n, "attempt", attempt, "retry_in", wait, "err", err)
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

// drainSpool is the goroutine of a sink with a spool: it reads batches from
// the spool in order, by size or once the oldest unread event waited
// FlushInterval, writes them, retrying until written or ctx ends, and
// acknowledges each written batch.
func (f *Fanout) drainSpool(ctx context.Context, l *lane) {
	timer := time.NewTimer(f.FlushInterval)
	timer.Stop()
	defer timer.Stop()
	waiting, due := false, false
	for {
		n := l.sp.Unread()
		if n >= f.BatchSize || (n > 0 && due) {
			if waiting {
				timer.Stop()
				waiting = false
			}
			due = false
			batch, err := f.readSpool(l)
			if err != nil {
				l.log.Error("sink spool read failed, retrying", "err", err)
				if !sleep(ctx, f.RetryMax) {
					f.flushSpool(ctx, l, spooled{})
					return
				}
				continue
			}
			if !f.writeRetrying(ctx, l, batch.len(), func(ctx context.Context) error { return l.writeSpooled(ctx, batch) }) {
				f.flushSpool(ctx, l, batch)
				return
			}
			f.ack(l)
			continue
		}
		if n > 0 && !waiting {
			timer.Reset(f.FlushInterval)
			waiting = true
		}
		select {
		case <-ctx.Done():
			f.flushSpool(ctx, l, spooled{})
			return
		case <-l.sp.Ready():
		case <-timer.C:
			waiting, due = false, true
		}
	}
}

// spooled is a batch read from a spool: encoded events for a RawWriter,
// decoded ones for another Writer.
type spooled struct {
	raw    []Encoded
	events []Event
}

func (b spooled) len() int { return len(b.raw) + len(b.events) }

// writeSpooled writes a batch read from l's spool.
func (l *lane) writeSpooled(ctx context.Context, b spooled) error {
	if l.raw != nil {
		return l.raw.WriteRaw(ctx, b.raw)
	}
	return l.w.Write(ctx, b.events)
}

// readSpool reads the next batch of at most BatchSize events: for a
// RawWriter as they are in the spool, with the fields it routes by;
// decoded for another Writer. A record that does not decode (it cannot:
// Publish wrote it) is logged, counted as dropped and skipped.
func (f *Fanout) readSpool(l *lane) (spooled, error) {
	recs, err := l.sp.Read(f.BatchSize)
	var b spooled
	if l.raw != nil {
		b.raw = make([]Encoded, 0, len(recs))
	} else {
		b.events = make([]Event, 0, len(recs))
	}
	for _, r := range recs {
		var derr error
		if l.raw != nil {
			var enc Encoded
			if enc, derr = parseEncoded(r); derr == nil {
				b.raw = append(b.raw, enc)
			}
		} else {
			var e Event
			if derr = json.Unmarshal(r, &e); derr == nil {
				b.events = append(b.events, e)
			}
		}
		if derr != nil {
			l.dropped.Inc()
			l.log.Error("sink spool record does not decode, skipped", "record", string(r[:min(len(r), 200)]), "err", derr)
		}
	}
	return b, err
}

// ack acknowledges the batches read from l's spool. A failed ack is
// logged: those events are written again after a restart.
func (f *Fanout) ack(l *lane) {
	if err := l.sp.Ack(); err != nil {
		l.log.Error("sink spool ack failed: written events will be sent again after a restart", "err", err)
	}
}

// flushSpool writes batch and then what the spool holds unread, one
// attempt per batch, within FlushTimeout; at the first failure it stops:
// what is left stays in the spool for the next run, nothing is lost.
func (f *Fanout) flushSpool(ctx context.Context, l *lane, batch spooled) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.FlushTimeout)
	defer cancel()
	for fctx.Err() == nil {
		if batch.len() == 0 {
			var err error
			if batch, err = f.readSpool(l); err != nil {
				l.log.Error("sink spool read failed at shutdown", "err", err)
				break
			}
			if batch.len() == 0 {
				f.ack(l) // records skipped as undecodable
				break
			}
		}
		if err := l.writeSpooled(fctx, batch); err != nil {
			l.failed.Add(float64(batch.len()))
			l.log.Warn("sink final flush failed", "events", batch.len(), "err", err)
			break
		}
		l.written.Add(float64(batch.len()))
		f.ack(l)
		batch = spooled{}
	}
	if records, bytes := l.sp.Pending(); records > 0 {
		l.log.Info("sink events kept in the spool for the next run", "events", records, "bytes", bytes)
	}
}

// sleep waits d, or less when ctx ends first; it reports whether ctx is live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
