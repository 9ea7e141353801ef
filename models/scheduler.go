package models

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Scheduler limits, with their reasons.
const (
	// defaultMaxBatch bounds a batch of a dynamic-batch model: past about 8
	// frames a CPU gains nothing from larger batches and latency grows.
	defaultMaxBatch = 8
	// queueSize is how many requests may wait before Detect blocks to
	// enqueue. Each camera pipeline has at most one request in flight, so
	// this is the number of cameras a node can queue without blocking.
	queueSize = 1024
)

// SchedulerOptions tune a Scheduler. The zero value is usable.
type SchedulerOptions struct {
	// Workers is the number of sessions run in parallel; defaults to
	// runtime.NumCPU() / Session.IntraOpThreads (at least 1), so that the
	// threads of all workers fill the cores without oversubscribing them.
	Workers int
	// Session tunes every worker's session; see SessionOptions.
	Session SessionOptions
	// Threshold is the minimum confidence reported; defaults to (0) the
	// manifest's threshold.
	Threshold float32
	// MaxBatch is the largest number of frames run in one inference when
	// the model's batch axis is dynamic; defaults to 8. Ignored (1) for a
	// model of fixed batch 1.
	MaxBatch int
	// MaxWait is how long a worker holding fewer than MaxBatch requests
	// waits for more before running them; defaults to 0: a worker runs what
	// is queued when it becomes free (under load, requests pile up while
	// the workers are busy, so batches form without adding latency).
	MaxWait time.Duration
	// StandIns adds to the detections the boxes of the manifest's
	// stand-in classes (Manifest.StandIns), marked Detection.StandIn, for
	// a tracker; off, they are dropped like every class without a label.
	StandIns bool
}

// SchedulerStats is a snapshot of a Scheduler's counters.
type SchedulerStats struct {
	Workers  int           // sessions running in parallel
	MaxBatch int           // largest batch a run takes (1 for a fixed-batch model)
	Requests int64         // Detect calls answered, errors included
	Errors   int64         // Detect calls that failed
	Runs     int64         // inferences run; Requests/Runs is the mean batch size
	Waiting  int           // requests queued now, not yet taken by a worker
	Busy     time.Duration // total time workers spent running and decoding
	// CPU is the CPU time the threads of CPURuns inferences used (their
	// thread clocks, read around each inference that stayed on one
	// thread, nearly all): against the busy time per run it tells how long
	// the inferences waited for a core that other work held.
	CPU     time.Duration
	CPURuns int64
}

// Scheduler shares one model among many cameras: it is safe for concurrent
// use, and Detect calls are served in arrival order by a pool of workers,
// each with its own ONNX Runtime session. As each camera pipeline has at
// most one frame in flight, arrival order is round-robin across cameras:
// no camera starves. When the model's batch axis is dynamic, requests
// waiting together run as one batch. Close stops the workers and frees the
// sessions.
type Scheduler struct {
	mod      *model
	workers  int
	maxWait  time.Duration
	maxBatch int

	queue chan *request
	quit  chan struct{} // closed by Close: workers stop, Detect refuses
	mu    sync.RWMutex  // guards closed against enqueueing (read) and Close (write)
	// closed is set under mu once quit is closed; no request is enqueued
	// afterwards, so Close can answer the ones left in the queue.
	closed bool
	wg     sync.WaitGroup
	pool   sync.Pool // *request

	runners   []*runner
	closeOnce sync.Once
	closeErr  error

	requests, errs, runs, busy, cpu, cpuRuns atomic.Int64
}

// request is one Detect call waiting for a worker.
type request struct {
	input  []float32
	lb     Letterbox
	frameW int
	frameH int
	dets   []Detection
	err    error
	done   chan struct{} // receives once when dets/err are set
}

// NewScheduler loads the weights m.File from dir as NewDetector does
// (checking hash, names and shapes against the manifest) and starts
// opt.Workers workers, each with its own session. InitRuntime must have
// succeeded first. Close it to stop the workers.
func NewScheduler(m Manifest, dir string, opt SchedulerOptions) (*Scheduler, error) {
	switch {
	case opt.Workers < 0:
		return nil, fmt.Errorf("scheduler %s: %w: Workers %d: want ≥ 1, or 0 for one per %d cores",
			m.Name, ErrInvalidOptions, opt.Workers, max(opt.Session.IntraOpThreads, 1))
	case opt.MaxBatch < 0:
		return nil, fmt.Errorf("scheduler %s: %w: MaxBatch %d: want ≥ 1, or 0 for %d", m.Name, ErrInvalidOptions, opt.MaxBatch, defaultMaxBatch)
	case opt.MaxWait < 0:
		return nil, fmt.Errorf("scheduler %s: %w: MaxWait %v: want ≥ 0", m.Name, ErrInvalidOptions, opt.MaxWait)
	}
	mod, err := loadModel(m, dir, opt.Threshold, opt.Session)
	if err != nil {
		return nil, err
	}
	mod.standIns = opt.StandIns
	workers := opt.Workers
	if workers == 0 {
		workers = defaultWorkers(runtime.NumCPU(), mod.session.IntraOpThreads)
	}
	maxBatch := opt.MaxBatch
	if maxBatch == 0 {
		maxBatch = defaultMaxBatch
	}
	if !mod.dynamic {
		maxBatch = 1
	}
	s := &Scheduler{
		mod:      mod,
		workers:  workers,
		maxWait:  opt.MaxWait,
		maxBatch: maxBatch,
		queue:    make(chan *request, queueSize),
		quit:     make(chan struct{}),
	}
	s.pool.New = func() any { return &request{done: make(chan struct{}, 1)} }
	for range workers {
		r, err := mod.newRunner(maxBatch)
		if err != nil {
			for _, r := range s.runners {
				r.close()
			}
			return nil, err
		}
		s.runners = append(s.runners, r)
	}
	for _, r := range s.runners {
		s.wg.Go(func() { s.work(r) })
	}
	return s, nil
}

// defaultWorkers is how many sessions of threads intra-op threads fill cpus
// cores without oversubscribing them, at least 1.
func defaultWorkers(cpus, threads int) int {
	return max(cpus/max(threads, 1), 1)
}

// Manifest returns the manifest the scheduler was built from.
func (s *Scheduler) Manifest() Manifest { return s.mod.m }

// Input returns the input the model expects; build a preprocessor from it.
func (s *Scheduler) Input() InputSpec { return s.mod.m.Input }

// Threshold returns the minimum confidence reported.
func (s *Scheduler) Threshold() float32 { return s.mod.threshold }

// FoldError is Detector.FoldError for the scheduler's model.
func (s *Scheduler) FoldError() error { return s.mod.foldErr }

// Detect is Detector.Detect, served by the next free worker in arrival
// order; it blocks until the detections are ready. As with Detector.Detect,
// input must not change before Detect returns: a frame run alone is read
// where it lies (and its buffer stays bound to the worker's session
// afterwards), a frame batched with others is copied into the batch. It
// fails with ErrClosed once Close has begun.
func (s *Scheduler) Detect(input []float32, lb Letterbox, frameW, frameH int) ([]Detection, error) {
	m := s.mod.m
	if len(input) != s.mod.inLen {
		return nil, fmt.Errorf("detect %s: %w: %d values, model input %v needs %d",
			m.Name, ErrInputSize, len(input), m.Input.TensorShape(), s.mod.inLen)
	}
	req := s.pool.Get().(*request)
	req.input, req.lb, req.frameW, req.frameH = input, lb, frameW, frameH

	s.mu.RLock()
	enqueued := false
	if !s.closed {
		select {
		case s.queue <- req:
			enqueued = true
		case <-s.quit:
		}
	}
	s.mu.RUnlock()
	if !enqueued {
		req.input = nil
		s.pool.Put(req)
		return nil, fmt.Errorf("detect %s: %w", m.Name, ErrClosed)
	}

	<-req.done
	dets, err := req.dets, req.err
	*req = request{done: req.done}
	s.pool.Put(req)
	return dets, err
}

// work serves requests with one runner until Close.
//
// The worker is not locked to a thread (runtime.LockOSThread): a locked
// goroutine that waits on channels between long cgo calls keeps the
// runtime's monitor thread waking every few tens of microseconds, which
// cost about 1 ms of CPU per inference here (7 %), on a core the
// inferences need.
func (s *Scheduler) work(r *runner) {
	batch := make([]*request, 0, s.maxBatch)
	var timer *time.Timer
	if s.maxWait > 0 && s.maxBatch > 1 {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
	}
	for {
		select {
		case <-s.quit:
			return
		case req := <-s.queue:
			batch = append(batch[:0], req)
		}
		batch = s.fill(batch, timer)
		s.serve(r, batch)
	}
}

// fill adds to batch the requests already queued, then, with a timer
// (MaxWait), those arriving before it fires, up to MaxBatch.
func (s *Scheduler) fill(batch []*request, timer *time.Timer) []*request {
queued:
	for len(batch) < s.maxBatch {
		select {
		case req := <-s.queue:
			batch = append(batch, req)
		default:
			break queued
		}
	}
	if timer == nil || len(batch) == s.maxBatch {
		return batch
	}
	timer.Reset(s.maxWait)
	defer timer.Stop()
	for len(batch) < s.maxBatch {
		select {
		case req := <-s.queue:
			batch = append(batch, req)
		case <-timer.C:
			return batch
		case <-s.quit:
			return batch
		}
	}
	return batch
}

// serve runs one batch and answers each of its requests.
func (s *Scheduler) serve(r *runner, batch []*request) {
	start := time.Now()
	var err error
	if len(batch) == 1 {
		err = s.measured(func() error { return r.runInPlace(batch[0].input) })
	} else {
		for i, req := range batch {
			copy(r.input(i), req.input)
		}
		err = s.measured(func() error { return r.run(len(batch)) })
	}
	for i, req := range batch {
		if err == nil {
			req.dets, req.err = r.detections(i, req.lb, req.frameW, req.frameH)
		} else {
			req.err = err
		}
		if req.err != nil {
			req.err = fmt.Errorf("detect %s: %w", s.mod.m.Name, req.err)
			s.errs.Add(1)
		}
	}
	s.busy.Add(int64(time.Since(start)))
	s.runs.Add(1)
	s.requests.Add(int64(len(batch)))
	for _, req := range batch {
		req.done <- struct{}{}
	}
}

// Stats returns a snapshot of the counters.
func (s *Scheduler) Stats() SchedulerStats {
	return SchedulerStats{
		Workers:  s.workers,
		MaxBatch: s.maxBatch,
		Requests: s.requests.Load(),
		Errors:   s.errs.Load(),
		Runs:     s.runs.Load(),
		Waiting:  len(s.queue),
		Busy:     time.Duration(s.busy.Load()),
		CPU:      time.Duration(s.cpu.Load()),
		CPURuns:  s.cpuRuns.Load(),
	}
}

// Close stops the workers after the batches they are running, answers the
// requests still queued with ErrClosed and frees the sessions. It is safe
// to call more than once and from several goroutines.
func (s *Scheduler) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		s.mu.Lock() // waits for Detect calls that are enqueueing
		s.closed = true
		s.mu.Unlock()
		s.wg.Wait()
		for drained := false; !drained; {
			select {
			case req := <-s.queue:
				req.err = fmt.Errorf("detect %s: %w", s.mod.m.Name, ErrClosed)
				s.errs.Add(1)
				s.requests.Add(1)
				req.done <- struct{}{}
			default:
				drained = true
			}
		}
		var errs []error
		for _, r := range s.runners {
			errs = append(errs, r.close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// measured runs an inference and adds the CPU time its thread used to the
// counters. A cgo call keeps its thread, but the goroutine may move to
// another thread just before or after it: such a run is not counted.
func (s *Scheduler) measured(run func() error) error {
	tid, cpu := unix.Gettid(), threadCPU()
	err := run()
	if used := threadCPU() - cpu; unix.Gettid() == tid && used >= 0 {
		s.cpu.Add(int64(used))
		s.cpuRuns.Add(1)
	}
	return err
}

// threadCPU returns the CPU time the calling thread has used; 0 if the
// clock cannot be read.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
