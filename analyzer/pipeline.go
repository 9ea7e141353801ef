package analyzer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/matthan/matthan/analyzer/counting"
	"github.com/matthan/matthan/analyzer/crowd"
	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/analyzer/violation"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

// Detector is what a pipeline needs of a model: *models.Scheduler (shared
// by all cameras; what the engine uses) or a single *models.Detector. It must
// be safe for concurrent use.
type Detector interface {
	Manifest() models.Manifest
	Detect(input []float32, lb models.Letterbox, frameW, frameH int) ([]models.Detection, error)
}

// FrameObserver watches decoded frames (the picture health monitor is one).
// The frames may be scaled to the detector's input (Analyst.FrameSize);
// f.Full gives the picture at full size, converted on the first call of
// the frame.
type FrameObserver interface {
	Observe(f *decode.Frame) error
}

// Pipeline analyses one camera. Push feeds it access units from the camera's
// source; Run decodes, samples, detects and publishes events until ctx ends.
type Pipeline struct {
	// CameraID names the camera in events and metrics.
	CameraID string
	// SystemID is copied into events.
	SystemID string
	// Node is copied into events.
	Node string
	// FPS is how many frames per second of capture time the detector
	// analyses. Defaults to 2. The decoder samples faster when an Analytic
	// asks for a shorter interval.
	FPS float64
	// EventInterval is the shortest capture-time gap between two detection
	// summaries. Defaults to 1 s.
	EventInterval time.Duration
	// QueueSize bounds the access units waiting for the decoder.
	// Defaults to 256 (about 8 s of 30 fps video).
	QueueSize int
	// Detector runs the model. Required. With a Scene it must report
	// candidates down to the tracker's low score (see AnalystConfig).
	Detector Detector
	// Scene is what the camera looks at: with one, the pipeline tracks the
	// objects and runs the counting lines, the crowd zones and Rules. Nil
	// publishes the detection summaries only. SetScene replaces it, with
	// Rules and Analytics, while the pipeline runs.
	Scene *scene.Scene
	// ReportThreshold is the least confidence of the detections the
	// summaries count. Defaults to the manifest's threshold.
	ReportThreshold float32
	// Track, Counting and Crowd tune the tracker and the built-in rules
	// (see AnalystConfig); zero values give the defaults.
	Track    track.Config
	Counting counting.Config
	Crowd    crowd.Config
	// Rules are the track rules run with a Scene (violations).
	Rules []Rule
	// Analytics are the rules with their own model and rate (smoke and
	// fire).
	Analytics []Analytic
	// DecodeEveryFrame makes the decoder decode every picture, for a
	// consumer that needs them all (none does today). Otherwise it decodes
	// only what the sampling needs, chosen from the stream's structure:
	// keyframes only when the analysis period is at least the keyframe
	// interval, reference pictures only when it is at least their spacing
	// (see ModeChooser), and no non-reference picture while a sampled
	// frame still waits for the detector.
	DecodeEveryFrame bool
	// Health, when set, sees every sampled frame before analysis, on the
	// decoder's goroutine (picture health: frozen, covered, defocused,
	// moved; see analyzer/health). It must be quick and must not keep the
	// frame; the frame may be scaled to the detector's input, and its Full
	// method gives the picture at full size (a conversion, so only on the
	// frames that need it).
	Health FrameObserver
	// Publish receives every event. It must not block. Required.
	Publish func(sink.Event)
	// OnAnalysed, when set, is called from the detector goroutine after each
	// analysed frame (for benchmarks and tests) with the frame's Analysis,
	// whose slices it must not keep. It must not block.
	OnAnalysed func(Analysis)
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Metrics defaults to unregistered metrics.
	Metrics *Metrics
	// DecodeMetrics defaults to unregistered metrics.
	DecodeMetrics *DecodeMetrics

	initOnce  sync.Once
	in        chan queued
	needKey   atomic.Bool // drop access units until the next keyframe
	received  atomic.Int64
	keyframes atomic.Int64
	mode      atomic.Int64 // decode.Mode of the decoder
	decoded   atomic.Int64
	inferred  atomic.Int64
	dropped   atomic.Int64
	lastFrame atomic.Int64 // unix nanos of the capture time of the last inferred frame
	latest    latestPicture
	period    atomic.Int64 // the Analyst's sampling period (ns), read by the decoder

	sceneMu sync.Mutex
	pending *sceneSetup // given by SetScene, taken by the detector at its next frame
	current *sceneSetup // the last one taken; nil while the fields are in force
}

// sceneSetup is a scene with the track rules and analytics built for it.
type sceneSetup struct {
	scene     *scene.Scene
	rules     []Rule
	analytics []Analytic
}

// close closes the rules and analytics that have a Close method.
func (s *sceneSetup) close() {
	if s == nil {
		return
	}
	for _, r := range s.rules {
		if c, ok := r.(io.Closer); ok {
			c.Close()
		}
	}
	for _, x := range s.analytics {
		if c, ok := x.(io.Closer); ok {
			c.Close()
		}
	}
}

// SetScene makes the pipeline work on sc, with the track rules and
// analytics built for it, from its next analysed frame on, without
// stopping: they replace the Scene, Rules and Analytics fields (sc nil
// publishes detection summaries and runs the analytics only). The events
// the replaced counting lines and rules still hold (the open
// traffic.count interval) are published then. A scene given while Run is
// not running is taken when it starts; a second one given before the
// next frame replaces the first.
//
// The pipeline owns what it is given here: it closes the rules and
// analytics that have a Close method once they are replaced, or at
// Close. It returns an error, and changes nothing, when sc is invalid or
// a rule or analytic is nil. Safe for concurrent use.
func (p *Pipeline) SetScene(sc *scene.Scene, rules []Rule, analytics []Analytic) error {
	if sc != nil {
		if err := sc.Validate(); err != nil {
			return fmt.Errorf("camera %s: %w", p.CameraID, err)
		}
		if _, err := crowd.New(p.CameraID, sc.Zones, p.Crowd); err != nil {
			return fmt.Errorf("camera %s: %w", p.CameraID, err)
		}
		if _, err := counting.New(p.CameraID, sc.Lines, p.Counting); err != nil {
			return fmt.Errorf("camera %s: %w", p.CameraID, err)
		}
	}
	for i, r := range rules {
		if r == nil {
			return fmt.Errorf("camera %s: rules[%d] is nil", p.CameraID, i)
		}
	}
	for i, x := range analytics {
		if x == nil {
			return fmt.Errorf("camera %s: analytics[%d] is nil", p.CameraID, i)
		}
	}
	p.sceneMu.Lock()
	superseded := p.pending
	p.pending = &sceneSetup{scene: sc, rules: rules, analytics: analytics}
	p.sceneMu.Unlock()
	superseded.close() // never used
	return nil
}

// SignalFeed is a track rule that takes an external signal-phase feed
// (ViolationRule): SetSignal must be safe for concurrent use and hand the
// state to the analysis goroutine.
type SignalFeed interface {
	SetSignal(id string, state violation.SignalState, at time.Time) error
}

// SetSignal hands the state of signal id from an external signal-phase
// feed, as of at, to the rules of the scene in force and of one given to
// SetScene and not yet taken. It fails wrapping violation.ErrUnknownSignal
// when none of their scenes has the signal, or ErrInvalidSignalState. Safe
// for concurrent use.
func (p *Pipeline) SetSignal(id string, state violation.SignalState, at time.Time) error {
	p.sceneMu.Lock()
	sets := [][]Rule{p.Rules}
	if p.current != nil {
		sets[0] = p.current.rules
	}
	if p.pending != nil {
		sets = append(sets, p.pending.rules)
	}
	p.sceneMu.Unlock()
	taken := false
	for _, rules := range sets {
		for _, r := range rules {
			f, ok := r.(SignalFeed)
			if !ok {
				continue
			}
			switch err := f.SetSignal(id, state, at); {
			case err == nil:
				taken = true
			case !errors.Is(err, violation.ErrUnknownSignal):
				return err
			}
		}
	}
	if !taken {
		return fmt.Errorf("camera %s: %w: %q", p.CameraID, violation.ErrUnknownSignal, id)
	}
	return nil
}

// Close closes the rules and analytics given to SetScene. Call it once Run
// has returned for good.
func (p *Pipeline) Close() error {
	p.sceneMu.Lock()
	defer p.sceneMu.Unlock()
	p.pending.close()
	p.current.close()
	p.pending, p.current = nil, nil
	return nil
}

// takeScene returns the scene given to SetScene since the last call, nil
// when none, and makes it the current one; the one it replaces is
// returned too, for its owner to close once it is out of use.
func (p *Pipeline) takeScene() (next, prev *sceneSetup) {
	p.sceneMu.Lock()
	defer p.sceneMu.Unlock()
	next, p.pending = p.pending, nil
	if next != nil {
		prev, p.current = p.current, next
	}
	return next, prev
}

// restoreScene puts prev back as the current scene after next failed to
// apply.
func (p *Pipeline) restoreScene(next, prev *sceneSetup) {
	p.sceneMu.Lock()
	if p.current == next {
		p.current = prev
	}
	p.sceneMu.Unlock()
}

// Snapshot returns the camera's latest picture as JPEG (refreshed every
// SnapshotInterval of capture time) and its capture time; ok is false
// before the first. Safe for concurrent use.
func (p *Pipeline) Snapshot() (jpeg []byte, capture time.Time, ok bool) {
	return p.latest.get()
}

// queued is an access unit waiting for the decoder.
type queued struct {
	au ingest.AccessUnit
	// resync marks the keyframe that follows dropped access units (and the
	// first one): the decoder gives out what it holds and starts afresh.
	resync bool
}

// Stats is a snapshot of a pipeline's counters.
type Stats struct {
	// AccessUnits and Keyframes count the access units the decoder
	// received, decoded or skipped by its mode.
	AccessUnits int64
	Keyframes   int64
	// DecodeMode is the decoder's current mode.
	DecodeMode     decode.Mode
	FramesDecoded  int64 // pictures decoded
	FramesInferred int64
	FramesDropped  int64
	LastAnalysed   time.Time // capture time of the last analysed frame; zero if none
	// Period is the detector's sampling period in force (one frame per
	// period of capture time); 0 before Run has built its Analyst.
	Period time.Duration
}

func (p *Pipeline) init() {
	p.initOnce.Do(func() {
		if p.FPS <= 0 {
			p.FPS = 2
		}
		if p.EventInterval <= 0 {
			p.EventInterval = time.Second
		}
		if p.QueueSize <= 0 {
			p.QueueSize = 256
		}
		if p.Logger == nil {
			p.Logger = slog.New(slog.DiscardHandler)
		}
		if p.Metrics == nil {
			p.Metrics = NewMetrics(nil)
		}
		if p.DecodeMetrics == nil {
			p.DecodeMetrics = NewDecodeMetrics(nil)
		}
		p.DecodeMetrics.AccessUnits.WithLabelValues(p.CameraID)
		p.DecodeMetrics.setMode(p.CameraID, decode.EveryFrame)
		// Show the drop counters at zero from the start, so a dashboard
		// can tell "no drops" from "no data".
		for _, stage := range []string{stageIngestQueue, stageFrameQueue, stageNotDecoded} {
			p.Metrics.FramesDropped.WithLabelValues(p.CameraID, stage)
		}
		p.in = make(chan queued, p.QueueSize)
		p.needKey.Store(true)
	})
}

// Push hands one access unit to the pipeline without blocking. When the
// queue is full the unit is dropped and so is everything up to the next
// keyframe, so the decoder never sees a broken reference chain.
// Safe to call from one producer goroutine at a time.
func (p *Pipeline) Push(au ingest.AccessUnit) {
	p.init()
	resync := p.needKey.Load()
	if resync {
		if !au.Keyframe {
			p.drop(stageIngestQueue)
			return
		}
		p.needKey.Store(false)
	}
	select {
	case p.in <- queued{au, resync}:
	default:
		p.needKey.Store(true)
		p.drop(stageIngestQueue)
	}
}

func (p *Pipeline) drop(stage string) {
	p.dropped.Add(1)
	p.Metrics.FramesDropped.WithLabelValues(p.CameraID, stage).Inc()
}

// Stats returns the pipeline's counters. Safe for concurrent use.
func (p *Pipeline) Stats() Stats {
	s := Stats{
		AccessUnits:    p.received.Load(),
		Keyframes:      p.keyframes.Load(),
		DecodeMode:     decode.Mode(p.mode.Load()),
		FramesDecoded:  p.decoded.Load(),
		FramesInferred: p.inferred.Load(),
		FramesDropped:  p.dropped.Load(),
		Period:         time.Duration(p.period.Load()),
	}
	if n := p.lastFrame.Load(); n != 0 {
		s.LastAnalysed = time.Unix(0, n).UTC()
	}
	return s
}

// Run decodes and analyses until ctx ends. It owns two goroutines, the
// decoder (with the sampler) and the detector, joined by a latest-frame slot.
// When ctx ends it publishes what the Analyst still holds (the open
// traffic.count interval) before returning.
func (p *Pipeline) Run(ctx context.Context) error {
	p.init()
	if p.Detector == nil || p.Publish == nil {
		return errors.New("analyzer: pipeline needs a Detector and a Publish function")
	}
	// A scene given to SetScene, before or during an earlier run, is in
	// force over the fields.
	setup := &sceneSetup{scene: p.Scene, rules: p.Rules, analytics: p.Analytics}
	next, prev := p.takeScene()
	p.sceneMu.Lock()
	if p.current != nil {
		setup = p.current
	}
	p.sceneMu.Unlock()
	a, err := NewAnalyst(AnalystConfig{
		CameraID: p.CameraID, SystemID: p.SystemID, Node: p.Node,
		Scene: setup.scene, Detector: p.Detector, FPS: p.FPS, EventInterval: p.EventInterval,
		ReportThreshold: p.ReportThreshold, Track: p.Track, Counting: p.Counting, Crowd: p.Crowd,
		Rules: setup.rules, Analytics: setup.analytics, Logger: p.Logger, Metrics: p.Metrics,
	})
	if err != nil {
		if next != nil {
			// The next run goes back to the scene before.
			p.restoreScene(next, prev)
			next.close()
		}
		return fmt.Errorf("camera %s: %w", p.CameraID, err)
	}
	prev.close()
	defer a.Close()
	p.period.Store(int64(a.Period()))

	// Frame buffers circulate between the goroutines: the decoder fills a
	// free one, the detector hands it back when done. Each keeps a
	// reference to its decoded picture until it goes back.
	free := decode.NewFramePool(3)
	defer free.Close()
	slot := make(chan *decode.Frame, 1)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.decodeLoop(ctx, a, free, slot)
	}()
	err = p.detectLoop(ctx, a, free, slot)
	wg.Wait()
	for _, ev := range a.Flush() {
		p.Publish(ev)
	}
	return err
}

// decodeLoop decodes what the sampling needs and hands the detector the
// pictures the sampler keeps, one per period of capture time, unconverted
// (decode.Decoder.Keep): the detector converts the ones it takes to
// Analyst.FrameSize (for a large picture, straight to the size it takes),
// so a frame replaced in the slot while the detector is behind costs no
// conversion. The picture stays kept for the consumers that want it at
// full size.
// It chooses the decoder's mode from the stream's structure (ModeChooser),
// and while a sampled frame still waits for the detector it does not
// decode the non-reference pictures, which would only replace it.
func (p *Pipeline) decodeLoop(ctx context.Context, a *Analyst, free *decode.FramePool, slot chan *decode.Frame) {
	var (
		dec        *decode.Decoder
		codec      ingest.Codec
		modes      ModeChooser
		sample     = sampler{period: time.Duration(p.period.Load())}
		errSummary = newErrorSummary(p.Logger, "decode errors", time.Minute)
		received   = p.DecodeMetrics.AccessUnits.WithLabelValues(p.CameraID)
		decoded    = p.Metrics.FramesDecoded.WithLabelValues(p.CameraID)
		sampled    = p.Metrics.FramesSampled.WithLabelValues(p.CameraID)
		decodeErrs = p.Metrics.DecodeErrors.WithLabelValues(p.CameraID)
	)
	defer func() {
		if dec != nil {
			dec.Close()
		}
		errSummary.flush()
	}()
	// picture hands the decoder's ready picture to the detector when the
	// sampler takes it.
	picture := func() {
		p.decoded.Add(1)
		decoded.Inc()
		sample.period = time.Duration(p.period.Load()) // a new scene may change it
		if _, capture := dec.PictureTime(); !sample.take(capture) {
			return
		}
		// Three buffers circulate: at most one waits in the slot and one is
		// with the detector, so a free one is always at hand.
		f := free.Get()
		w, h := a.FrameSize(dec.PictureSize())
		if err := dec.Keep(f, w, h); err != nil { // converted by the detector, if it takes the frame
			errSummary.add(err)
			free.Put(f)
			return
		}
		sampled.Inc()
		if p.Health != nil {
			if err := p.Health.Observe(f); err != nil {
				errSummary.add(err)
			}
		}
		if p.latest.due(f.Capture) {
			if jpeg, err := snapshotJPEG(f); err != nil {
				errSummary.add(err)
			} else {
				p.latest.set(jpeg, f.Capture)
			}
		}
		select {
		case old := <-slot: // the detector is behind: the newer frame replaces the older
			p.drop(stageFrameQueue)
			free.Put(old)
		default:
		}
		slot <- f // the decoder is the only sender, so there is room
	}
	// drain hands on the pictures the decoder holds for reordering and
	// leaves it ready to start afresh at a keyframe.
	drain := func() {
		for {
			got, err := dec.Flush()
			if err != nil {
				decodeErrs.Inc()
				errSummary.add(err)
			}
			if !got {
				return
			}
			picture()
		}
	}
	for {
		var q queued
		select {
		case <-ctx.Done():
			return
		case q = <-p.in:
		}
		au := q.au
		p.received.Add(1)
		received.Inc()
		if au.Keyframe {
			p.keyframes.Add(1)
		}
		if au.Params == nil {
			continue
		}
		switch {
		case dec == nil || codec != au.Params.Codec:
			// A new stream: its decoder starts at a keyframe and decodes
			// every picture until the stream's structure is known.
			if !au.Keyframe {
				continue
			}
			if dec != nil {
				dec.Close()
			}
			var err error
			if dec, err = decode.NewDecoder(au.Params.Codec); err != nil {
				errSummary.add(err)
				dec = nil
				continue
			}
			codec = au.Params.Codec
			modes.Reset()
			p.showMode(decode.EveryFrame)
		case q.resync:
			// Access units were dropped before this keyframe: the pictures
			// the decoder holds go out, and it starts again from here.
			drain()
			modes.Interrupt()
		}
		period := time.Duration(p.period.Load())
		m, reference := modes.Choose(codec, au, period, dec.Mode())
		if m != dec.Mode() && !p.DecodeEveryFrame {
			dec.SetMode(m)
			p.showMode(m)
			p.Logger.Debug("decode mode", "mode", m.String(), "period", period)
		}
		if !reference && !p.DecodeEveryFrame && dec.Mode() == decode.EveryFrame && len(slot) > 0 {
			// The detector is behind: a sampled frame still waits. A
			// picture no other refers to would only replace it; the next
			// reference picture will, so this one is not decoded.
			p.drop(stageNotDecoded)
			continue
		}
		ready, err := dec.Decode(au)
		if err != nil {
			decodeErrs.Inc()
			errSummary.add(err)
		}
		if ready {
			picture()
		}
		if au.Keyframe && dec.Mode() == decode.KeyframesOnly {
			// With B-frames the keyframe waits in the decoder for later
			// pictures to be reordered against, and this mode skips them
			// all: take it out now.
			drain()
		}
	}
}

// applyScene hands the Analyst the scene given to SetScene since the last
// frame, if any, and publishes what the replaced rules still held.
func (p *Pipeline) applyScene(a *Analyst) {
	next, prev := p.takeScene()
	if next == nil {
		return
	}
	held, err := a.SetScene(next.scene, next.rules, next.analytics)
	if err != nil {
		p.restoreScene(next, prev)
		next.close()
		p.Logger.Error("new scene not applied; the previous one stays", "error", err)
		return
	}
	prev.close()
	p.period.Store(int64(a.Period()))
	for _, ev := range held {
		p.Publish(ev)
	}
	n := sceneSize(next.scene)
	p.Logger.Info("scene applied", "lines", n[0], "zones", n[1], "lanes", n[2], "signals", n[3])
}

// sceneSize counts the lines, zones, lanes and signals of sc.
func sceneSize(sc *scene.Scene) [4]int {
	if sc == nil {
		return [4]int{}
	}
	return [4]int{len(sc.Lines), len(sc.Zones), len(sc.Lanes), len(sc.Signals)}
}

// showMode records m as the decoder's mode in Stats and the metrics.
func (p *Pipeline) showMode(m decode.Mode) {
	p.mode.Store(int64(m))
	p.DecodeMetrics.setMode(p.CameraID, m)
}

// detectLoop hands each sampled frame to the Analyst and publishes its
// events.
func (p *Pipeline) detectLoop(ctx context.Context, a *Analyst, free *decode.FramePool, slot chan *decode.Frame) error {
	errSummary := newErrorSummary(p.Logger, "analysis errors", time.Minute)
	defer errSummary.flush()
	for {
		var f *decode.Frame
		select {
		case <-ctx.Done():
			return nil
		case f = <-slot:
		}
		p.applyScene(a)
		if err := f.Convert(); err != nil {
			errSummary.add(err)
			free.Put(f)
			continue
		}
		res, err := a.Analyse(f)
		free.Put(f)
		if err != nil {
			errSummary.add(err)
		}
		for _, ev := range res.Events {
			p.Publish(ev)
		}
		if !res.Detected {
			continue
		}
		p.inferred.Add(1)
		p.lastFrame.Store(res.Capture.UnixNano())
		p.Metrics.FramesInferred.WithLabelValues(p.CameraID).Inc()
		if p.OnAnalysed != nil {
			p.OnAnalysed(res)
		}
	}
}
