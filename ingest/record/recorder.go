package record

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/matthan/matthan/ingest"
)

const (
	// defaultQueueLength holds 10 s of video at 60 fps, so a disk that
	// stalls for a few seconds costs nothing.
	defaultQueueLength = 600
	// maxSampleTicks is the longest gap between two decode timestamps
	// accepted inside a segment; a longer one is a break in the stream.
	maxSampleTicks = 10 * timeScale
	// fallbackFrameTicks is the duration given to the last frame of a
	// segment when no earlier frame tells the frame period (30 fps).
	fallbackFrameTicks = timeScale / 30
	// logInterval is the least time between two warnings of the same kind.
	logInterval = 10 * time.Second
)

// Recorder records one camera's stream as fMP4 segments under
// <Root>/<CameraID> and indexes each closed segment in index.jsonl. Set the
// exported fields, then call Run in one goroutine and Push from the source.
type Recorder struct {
	// Root is the directory holding one folder per camera. Required.
	Root string
	// CameraID names the camera's folder and is the camera label of logs,
	// metrics and index lines. Required; a single path element.
	CameraID string
	// SegmentDuration is the target length of a segment file: a segment
	// ends at the first keyframe after it. Defaults to 60 s.
	SegmentDuration time.Duration
	// PartDuration is how much video is written and synced to disk at a
	// time, and so the most a crash can lose. Defaults to 1 s.
	PartDuration time.Duration
	// QueueLength is how many access units Push holds for the writer.
	// Defaults to 600 (10 s at 60 fps).
	QueueLength int
	// Logger receives the recorder's logs; nil discards them.
	Logger *slog.Logger
	// Metrics counts bytes, segments, parts and drops; nil counts nothing.
	Metrics *Metrics

	once    sync.Once
	queue   chan queued
	log     *slog.Logger
	m       cameraMetrics
	running atomic.Bool

	gapPending atomic.Bool // an access unit was dropped since the last one queued
	dropLog    limiter

	testHookPartWrite func(path string, framesDone int) // see segmentFile.testHookPartWrite
}

// queued is an access unit in the queue; gapBefore says access units were
// dropped just before it.
type queued struct {
	au        ingest.AccessUnit
	gapBefore bool
}

// setup builds what Push and Run share; it runs once.
func (r *Recorder) setup() {
	r.once.Do(func() {
		n := r.QueueLength
		if n <= 0 {
			n = defaultQueueLength
		}
		r.queue = make(chan queued, n)
		l := r.Logger
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		r.log = l.With("component", "record", "camera", r.CameraID)
		r.m = r.Metrics.forCamera(r.CameraID)
	})
}

// Push queues an access unit for recording and returns at once. If the
// queue is full the access unit is dropped, counted and logged at a limited
// rate, and the recording gets a gap: the current segment ends and the next
// one starts at the next keyframe. A zero Capture is set to the time of the
// call. Push keeps au: the caller must not change its NAL units afterwards.
// Call it from one goroutine (the source's); it is safe while Run runs.
func (r *Recorder) Push(au ingest.AccessUnit) {
	r.setup()
	if au.Capture.IsZero() {
		au.Capture = time.Now()
	}
	select {
	case r.queue <- queued{au: au, gapBefore: r.gapPending.Swap(false)}:
	default:
		r.gapPending.Store(true)
		r.m.dropped.Inc()
		if n, ok := r.dropLog.note(time.Now()); ok {
			r.log.Warn("recording queue full: access units dropped, the recording has a gap",
				"dropped", n, "queue", cap(r.queue))
		}
	}
}

// Run writes the queued access units until ctx ends. It waits for the first
// keyframe, then writes segments; when ctx ends it records what is still
// queued, closes the last segment, indexes it and returns nil. It returns an
// error (after closing and indexing what it wrote) when the config is
// invalid (ErrInvalidConfig), the stream cannot be recorded
// (ErrUnsupportedCodec, ErrInvalidParams) or the disk fails; its owner may
// call Run again. Run starts no goroutines.
func (r *Recorder) Run(ctx context.Context) error {
	if err := r.validate(); err != nil {
		return err
	}
	if !r.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer r.running.Store(false)
	r.setup()

	w := &writer{
		r:        r,
		camDir:   filepath.Join(r.Root, r.CameraID),
		segTicks: toTicks(orDefault(r.SegmentDuration, 60*time.Second)),
		partDur:  orDefault(r.PartDuration, time.Second),
	}
	w.partTicks = toTicks(w.partDur)
	if err := os.MkdirAll(w.camDir, 0o755); err != nil {
		return fmt.Errorf("record %s: %w", r.CameraID, err)
	}
	if err := repairIndex(w.camDir); err != nil {
		return fmt.Errorf("record %s: %w", r.CameraID, err)
	}
	r.log.Debug("recorder started", "dir", w.camDir)

	tick := time.NewTicker(w.partDur)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return w.stop()
		case it := <-r.queue:
			if err := w.handle(it); err != nil {
				return w.fail(err)
			}
		case <-tick.C:
			if err := w.flushStale(); err != nil {
				return w.fail(err)
			}
		}
	}
}

// validate checks the config fields.
func (r *Recorder) validate() error {
	switch {
	case r.Root == "":
		return fmt.Errorf("%w: Root is empty, want the recordings directory", ErrInvalidConfig)
	case r.SegmentDuration < 0:
		return fmt.Errorf("%w: SegmentDuration %v is negative", ErrInvalidConfig, r.SegmentDuration)
	case r.PartDuration < 0:
		return fmt.Errorf("%w: PartDuration %v is negative", ErrInvalidConfig, r.PartDuration)
	case r.QueueLength < 0:
		return fmt.Errorf("%w: QueueLength %d is negative", ErrInvalidConfig, r.QueueLength)
	case r.PartDuration > orDefault(r.SegmentDuration, 60*time.Second):
		return fmt.Errorf("%w: PartDuration %v is longer than SegmentDuration", ErrInvalidConfig, r.PartDuration)
	}
	return checkCameraID(r.CameraID)
}

// checkCameraID accepts ids usable as one directory name.
func checkCameraID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`+"\x00") {
		return fmt.Errorf("%w: CameraID %q, want a non-empty name without path separators", ErrInvalidConfig, id)
	}
	return nil
}

// orDefault returns d, or def when d is zero.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// sample is an access unit waiting for the next one to know its duration.
type sample struct {
	dts, pts int64 // stream timestamps in ticks
	keyframe bool
	payload  []byte // AVCC (length-prefixed) NAL units
}

// writer is the state of a running Recorder; only Run's goroutine uses it.
type writer struct {
	r         *Recorder
	camDir    string
	segTicks  int64
	partTicks int64
	partDur   time.Duration

	params   *ingest.StreamParams // of the open segment
	dts264   *h264.DTSExtractor
	dts265   *h265.DTSExtractor
	seg      *segmentFile // nil while waiting for a keyframe
	prev     *sample      // last sample of seg, not yet in its part
	lastDur  int64        // duration of the last sample added
	waitFrom time.Time    // when waiting for a keyframe began (zero when not waiting)
	skipped  int          // access units skipped while waiting for a keyframe
	gapLog   limiter

	init       []byte               // encoded init section of initParams
	initParams *ingest.StreamParams // parameters init was built for
}

// handle records one access unit.
func (w *writer) handle(it queued) error {
	au := it.au
	if it.gapBefore {
		if err := w.breakOff(EndGap, "recorder queue was full"); err != nil {
			return err
		}
	}
	if au.Params == nil || len(au.NALUs) == 0 {
		w.r.m.dropped.Inc()
		return w.breakOff(EndGap, "access unit without parameters or NAL units")
	}
	if c := au.Params.Codec; c != ingest.H264 && c != ingest.H265 {
		return fmt.Errorf("record %s: %w: %q (want H264 or H265)", w.r.CameraID, ErrUnsupportedCodec, c)
	}
	if w.seg != nil && !sameParams(w.params, au.Params) {
		if err := w.end(EndParams); err != nil {
			return err
		}
		w.dts264, w.dts265 = nil, nil
	}
	if w.seg == nil {
		if !au.Keyframe {
			// Undecodable without the pictures before it: counted as
			// dropped, so pushed = recorded + dropped.
			w.skipped++
			w.r.m.dropped.Inc()
			return nil
		}
		if _, err := w.initFor(au.Params); err != nil {
			return err
		}
	}

	pts := toTicks(au.PTS)
	dts, err := w.extractDTS(au, pts)
	var why string
	switch {
	case err != nil:
		why = "cannot derive the decode time: " + err.Error()
	case w.seg != nil && dts-w.prev.dts > maxSampleTicks:
		why = fmt.Sprintf("timestamps jumped by %v", fromTicks(dts-w.prev.dts))
	}
	if why != "" {
		// A break in the stream (a camera restart, a PTS jump): end the
		// segment and, at a keyframe, start the next one right here.
		if err := w.breakOff(EndGap, why); err != nil {
			return err
		}
		if !au.Keyframe {
			w.r.m.dropped.Inc()
			return nil
		}
		if dts, err = w.extractDTS(au, pts); err != nil {
			w.r.m.dropped.Inc()
			return nil
		}
	}
	payload, err := h264.AVCC(au.NALUs).Marshal() // the same length-prefixed layout for H.265
	if err != nil {
		w.r.m.dropped.Inc()
		return w.breakOff(EndGap, "bad NAL units: "+err.Error())
	}

	if w.seg != nil && au.Keyframe && dts-w.seg.firstDTS >= w.segTicks {
		if err := w.commit(dts); err != nil {
			return err
		}
		w.seg.endPTS = max(w.seg.endPTS, pts-w.seg.firstPTS)
		if err := w.end(EndDuration); err != nil {
			return err
		}
	}
	if w.seg == nil {
		if err := w.start(au); err != nil {
			return err
		}
	} else if err := w.commit(dts); err != nil {
		return err
	}
	w.prev = &sample{dts: dts, pts: pts, keyframe: au.Keyframe, payload: payload}
	return nil
}

// extractDTS derives the decode time of au from its presentation time and
// its slice headers. A keyframe is given its parameter sets when it lacks
// them, so the extractor knows the SPS in force.
func (w *writer) extractDTS(au ingest.AccessUnit, pts int64) (int64, error) {
	nalus := au.NALUs
	if au.Keyframe {
		nalus = withParams(au)
	}
	if au.Params.Codec == ingest.H265 {
		if w.dts265 == nil {
			w.dts265 = &h265.DTSExtractor{}
			w.dts265.Initialize()
		}
		return w.dts265.Extract(nalus, pts)
	}
	if w.dts264 == nil {
		w.dts264 = &h264.DTSExtractor{}
		w.dts264.Initialize()
	}
	return w.dts264.Extract(nalus, pts)
}

// withParams returns the NAL units of au preceded by its parameter sets,
// unless it carries an SPS itself.
func withParams(au ingest.AccessUnit) [][]byte {
	for _, n := range au.NALUs {
		if len(n) == 0 {
			continue
		}
		if au.Params.Codec == ingest.H265 && h265.NALUType((n[0]>>1)&0x3f) == h265.NALUType_SPS_NUT ||
			au.Params.Codec == ingest.H264 && h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS {
			return au.NALUs
		}
	}
	out := make([][]byte, 0, len(au.NALUs)+3)
	if au.Params.Codec == ingest.H265 {
		out = append(out, au.Params.VPS)
	}
	out = append(out, au.Params.SPS, au.Params.PPS)
	return append(out, au.NALUs...)
}

// sameParams reports whether two parameter sets describe the same stream.
func sameParams(a, b *ingest.StreamParams) bool {
	return a == b || a != nil && b != nil && a.Codec == b.Codec &&
		bytes.Equal(a.VPS, b.VPS) && bytes.Equal(a.SPS, b.SPS) && bytes.Equal(a.PPS, b.PPS)
}

// start opens a segment whose first sample is the keyframe au.
func (w *writer) start(au ingest.AccessUnit) error {
	init, err := w.initFor(au.Params)
	if err != nil {
		return err
	}
	seg, err := createSegment(w.camDir, au.Capture, init)
	if err != nil {
		return fmt.Errorf("record %s: %w", w.r.CameraID, err)
	}
	seg.testHookPartWrite = w.r.testHookPartWrite
	w.r.m.bytes.Add(float64(len(init)))
	w.seg, w.params, w.prev, w.lastDur = seg, au.Params, nil, 0
	if !w.waitFrom.IsZero() || w.skipped > 0 {
		w.r.log.Info("recording resumed at keyframe", "skipped", w.skipped, "segment", seg.rel)
	}
	w.waitFrom, w.skipped = time.Time{}, 0
	w.r.log.Debug("segment opened", "segment", seg.rel)
	return nil
}

// initFor returns the init section for p, encoding it when p differs from
// the last parameters seen.
func (w *writer) initFor(p *ingest.StreamParams) ([]byte, error) {
	if w.init == nil || !sameParams(w.initParams, p) {
		init, err := segmentInit(p)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", w.r.CameraID, err)
		}
		w.init, w.initParams = init, p
	}
	return w.init, nil
}

// commit adds the pending sample to the part, its duration running to
// nextDTS, and writes the part once it spans PartDuration.
func (w *writer) commit(nextDTS int64) error {
	p := w.prev
	if p == nil {
		return nil
	}
	w.prev = nil
	w.lastDur = nextDTS - p.dts
	w.seg.add(p.dts, p.pts, uint32(w.lastDur), p.keyframe, p.payload)
	if w.seg.partLength(nextDTS) >= w.partTicks {
		return w.flush()
	}
	return nil
}

// flush writes the pending part.
func (w *writer) flush() error {
	n, err := w.seg.flush()
	w.r.m.bytes.Add(float64(n))
	if err != nil {
		return fmt.Errorf("record %s: %w", w.r.CameraID, err)
	}
	if n > 0 {
		w.r.m.parts.Inc()
	}
	return nil
}

// flushStale writes a part that has waited longer than PartDuration of
// wall time, so a stalled stream does not hold video in memory.
func (w *writer) flushStale() error {
	if w.seg == nil || len(w.seg.part) == 0 || time.Since(w.seg.partOpened) < w.partDur {
		return nil
	}
	return w.flush()
}

// end writes what remains of the open segment, closes it and indexes it.
// The last sample, whose successor never came, lasts as long as the one
// before it.
func (w *writer) end(reason string) error {
	if w.seg == nil {
		return nil
	}
	if w.prev != nil {
		d := w.lastDur
		if d <= 0 {
			d = fallbackFrameTicks
		}
		if err := w.commit(w.prev.dts + d); err != nil {
			return err
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	seg := w.seg
	w.seg = nil
	rec, err := seg.close(w.r.CameraID, reason)
	if err != nil {
		return fmt.Errorf("record %s: %w", w.r.CameraID, err)
	}
	if err := appendIndex(w.camDir, rec); err != nil {
		return fmt.Errorf("record %s: %w", w.r.CameraID, err)
	}
	w.r.m.segments.Inc()
	w.r.log.Info("segment closed", "segment", rec.Path, "start", rec.Start, "duration", rec.Duration,
		"frames", rec.Frames, "bytes", rec.Size, "reason", reason)
	return nil
}

// breakOff ends the open segment at a break in the stream and waits for
// the next keyframe; decode times are derived afresh from there.
func (w *writer) breakOff(reason, why string) error {
	w.dts264, w.dts265 = nil, nil
	if w.waitFrom.IsZero() {
		w.waitFrom = time.Now()
	}
	w.r.m.gaps.Inc()
	if n, ok := w.gapLog.note(time.Now()); ok {
		w.r.log.Warn("recording gap: waiting for the next keyframe", "why", why, "gaps", n)
	}
	return w.end(reason)
}

// stop records what is queued (at most one queue's worth, so a source
// still pushing cannot hold it up) and closes the open segment.
func (w *writer) stop() error {
drain:
	for range cap(w.r.queue) {
		select {
		case it := <-w.r.queue:
			if err := w.handle(it); err != nil {
				return w.fail(err)
			}
		default:
			break drain
		}
	}
	if err := w.end(EndStop); err != nil {
		return w.fail(err)
	}
	return nil
}

// fail closes the open segment after err, indexing what reached the disk
// so nothing written is lost, and returns err.
func (w *writer) fail(err error) error {
	if w.seg == nil {
		return err
	}
	seg := w.seg
	w.seg, w.prev = nil, nil
	rec, cerr := seg.close(w.r.CameraID, EndError)
	if cerr == nil {
		cerr = appendIndex(w.camDir, rec)
	}
	if cerr != nil {
		return errors.Join(err, cerr)
	}
	w.r.m.segments.Inc()
	return err
}

// limiter lets one of a kind of warning through per logInterval and counts
// the occurrences in between. It is safe for concurrent use.
type limiter struct {
	last  atomic.Int64 // unix nanoseconds of the last warning let through
	count atomic.Int64 // occurrences since then
}

// note records an occurrence at now; ok says to log, with n occurrences.
func (l *limiter) note(now time.Time) (n int64, ok bool) {
	l.count.Add(1)
	last := l.last.Load()
	if last != 0 && now.UnixNano()-last < int64(logInterval) {
		return 0, false
	}
	if !l.last.CompareAndSwap(last, now.UnixNano()) {
		return 0, false
	}
	return l.count.Swap(0), true
}
