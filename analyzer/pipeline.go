package analyzer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

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

// Pipeline analyses one camera. Push feeds it access units from the camera's
// source; Run decodes, samples, detects and publishes events until ctx ends.
type Pipeline struct {
	// CameraID names the camera in events and metrics.
	CameraID string
	// SystemID is copied into events.
	SystemID string
	// Node is copied into events.
	Node string
	// FPS is how many frames per second of capture time are analysed.
	// Defaults to 2.
	FPS float64
	// EventInterval is the shortest capture-time gap between two detection
	// summaries. Defaults to 1 s.
	EventInterval time.Duration
	// QueueSize bounds the access units waiting for the decoder.
	// Defaults to 256 (about 8 s of 30 fps video).
	QueueSize int
	// Detector runs the model. Required.
	Detector Detector
	// Publish receives every event. It must not block. Required.
	Publish func(sink.Event)
	// OnAnalysed, when set, is called from the detector goroutine after each
	// analysed frame (for benchmarks and tests). It must not block.
	OnAnalysed func(Analysis)
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Metrics defaults to unregistered metrics.
	Metrics *Metrics

	initOnce  sync.Once
	in        chan ingest.AccessUnit
	needKey   atomic.Bool // drop access units until the next keyframe
	decoded   atomic.Int64
	inferred  atomic.Int64
	dropped   atomic.Int64
	lastFrame atomic.Int64 // unix nanos of the capture time of the last inferred frame
}

// Analysis is the result of one analysed frame.
type Analysis struct {
	CameraID   string
	Capture    time.Time // capture time of the frame
	Done       time.Time // when its detections were ready
	Detections []models.Detection
}

// Stats is a snapshot of a pipeline's counters.
type Stats struct {
	FramesDecoded  int64
	FramesInferred int64
	FramesDropped  int64
	LastAnalysed   time.Time // capture time of the last analysed frame; zero if none
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
		// Show the drop counters at zero from the start, so a dashboard
		// can tell "no drops" from "no data".
		for _, stage := range []string{stageIngestQueue, stageFrameQueue} {
			p.Metrics.FramesDropped.WithLabelValues(p.CameraID, stage)
		}
		p.in = make(chan ingest.AccessUnit, p.QueueSize)
		p.needKey.Store(true)
	})
}

// Push hands one access unit to the pipeline without blocking. When the
// queue is full the unit is dropped and so is everything up to the next
// keyframe, so the decoder never sees a broken reference chain.
// Safe to call from one producer goroutine at a time.
func (p *Pipeline) Push(au ingest.AccessUnit) {
	p.init()
	if p.needKey.Load() {
		if !au.Keyframe {
			p.drop(stageIngestQueue)
			return
		}
		p.needKey.Store(false)
	}
	select {
	case p.in <- au:
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
		FramesDecoded:  p.decoded.Load(),
		FramesInferred: p.inferred.Load(),
		FramesDropped:  p.dropped.Load(),
	}
	if n := p.lastFrame.Load(); n != 0 {
		s.LastAnalysed = time.Unix(0, n).UTC()
	}
	return s
}

// Run decodes and analyses until ctx ends. It owns two goroutines, the
// decoder (with the sampler) and the detector, joined by a latest-frame slot.
func (p *Pipeline) Run(ctx context.Context) error {
	p.init()
	if p.Detector == nil || p.Publish == nil {
		return errors.New("analyzer: pipeline needs a Detector and a Publish function")
	}
	pre, err := NewPreprocessor(p.Detector.Manifest().Input)
	if err != nil {
		return fmt.Errorf("camera %s: %w", p.CameraID, err)
	}
	defer pre.Close()

	// Frame buffers circulate between the goroutines: the decoder fills a
	// free one, the detector hands it back when done.
	free := make(chan *decode.Frame, 3)
	for range cap(free) {
		free <- &decode.Frame{}
	}
	slot := make(chan *decode.Frame, 1)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.decodeLoop(ctx, free, slot)
	}()
	err = p.detectLoop(ctx, pre, free, slot)
	wg.Wait()
	return err
}

// decodeLoop decodes every access unit (references must be decoded) but
// converts only the pictures the sampler keeps.
func (p *Pipeline) decodeLoop(ctx context.Context, free, slot chan *decode.Frame) {
	var (
		dec        *decode.Decoder
		codec      ingest.Codec
		next       time.Time // capture time of the next frame to sample
		period     = time.Duration(float64(time.Second) / p.FPS)
		errSummary = newErrorSummary(p.Logger, "decode errors", time.Minute)
	)
	defer func() {
		if dec != nil {
			dec.Close()
		}
		errSummary.flush()
	}()
	for {
		var au ingest.AccessUnit
		select {
		case <-ctx.Done():
			return
		case au = <-p.in:
		}
		if au.Params == nil {
			continue
		}
		if dec == nil || codec != au.Params.Codec {
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
		}
		ready, err := dec.Decode(au)
		if err != nil {
			p.Metrics.DecodeErrors.WithLabelValues(p.CameraID).Inc()
			errSummary.add(err)
		}
		if !ready {
			continue
		}
		p.decoded.Add(1)
		p.Metrics.FramesDecoded.WithLabelValues(p.CameraID).Inc()
		_, capture := dec.PictureTime()
		if capture.Before(next) {
			continue
		}
		if next.IsZero() || capture.Sub(next) > period {
			next = capture.Add(period)
		} else {
			next = next.Add(period)
		}
		// Three buffers circulate: at most one waits in the slot and one is
		// with the detector, so a free one is always at hand.
		f := <-free
		if err := dec.Convert(f, 0, 0); err != nil {
			errSummary.add(err)
			free <- f
			continue
		}
		p.Metrics.FramesSampled.WithLabelValues(p.CameraID).Inc()
		select {
		case old := <-slot: // the detector is behind: the newer frame replaces the older
			p.drop(stageFrameQueue)
			free <- old
		default:
		}
		slot <- f // the decoder is the only sender, so there is room
	}
}

// detectLoop runs the detector on each sampled frame and publishes at most
// one detection summary per EventInterval of capture time.
func (p *Pipeline) detectLoop(ctx context.Context, pre *Preprocessor, free, slot chan *decode.Frame) error {
	m := p.Detector.Manifest()
	hist := p.Metrics.InferenceSeconds.WithLabelValues(m.Name)
	errSummary := newErrorSummary(p.Logger, "detector errors", time.Minute)
	defer errSummary.flush()
	var lastEvent time.Time
	for {
		var f *decode.Frame
		select {
		case <-ctx.Done():
			return nil
		case f = <-slot:
		}
		start := time.Now()
		input, lb, err := pre.Tensor(f)
		var dets []models.Detection
		if err == nil {
			dets, err = p.Detector.Detect(input, lb, f.Width, f.Height)
		}
		capture := f.Capture
		free <- f
		if err != nil {
			errSummary.add(err)
			continue
		}
		hist.Observe(time.Since(start).Seconds())
		p.inferred.Add(1)
		p.lastFrame.Store(capture.UnixNano())
		p.Metrics.FramesInferred.WithLabelValues(p.CameraID).Inc()
		if p.OnAnalysed != nil {
			p.OnAnalysed(Analysis{CameraID: p.CameraID, Capture: capture, Done: time.Now(), Detections: dets})
		}
		if len(dets) == 0 || (!lastEvent.IsZero() && capture.Sub(lastEvent) < p.EventInterval) {
			continue
		}
		lastEvent = capture
		p.Publish(p.summary(capture, dets, m))
	}
}

// summary is the first simple event: how many objects of each class one
// frame shows.
func (p *Pipeline) summary(capture time.Time, dets []models.Detection, m models.Manifest) sink.Event {
	ev := sink.NewEvent(sink.TypeDetectionSummary, p.CameraID, capture)
	ev.SystemID = p.SystemID
	ev.Node = p.Node
	ev.Model = &sink.ModelRef{Name: m.Name, Version: m.Version}
	ev.Counts = make(map[string]int)
	for _, d := range dets {
		ev.Counts[d.Class]++
	}
	p.Metrics.Events.WithLabelValues(p.CameraID, ev.Type).Inc()
	return ev
}
