package analyzer

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/matthan/matthan/analyzer/firesmoke"
	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

// FireSmokeInterval is the default sampling period of the fire and smoke
// analytic: the rule's temporal evidence (flicker, drift, k-of-n votes) was
// checked at 2 fps and up; at 1 fps a yellow bus pulling away once passed
// for fire.
const FireSmokeInterval = 500 * time.Millisecond

// FireSmokeStillsInterval is the default period of the stills mode
// (scene.FireSmokeStills).
const FireSmokeStillsInterval = 10 * time.Second

// FireSmokeThreshold is the least score the fire/smoke detector should
// report: below the rule's own vote threshold, so weak evidence reaches it.
const FireSmokeThreshold float32 = 0.25

// FireSmokeAnalytic runs a fire/smoke model and the firesmoke rule on
// full-resolution frames at its own rate (an Analytic), keeping each
// alert's snapshot in Evidence. In the scene's stills mode a large frame is
// also detected in overlapping tiles (firesmoke.Stills).
type FireSmokeAnalytic struct {
	rule     *firesmoke.Rule
	frames   *FrameDetector
	stills   *firesmoke.Stills // stills mode only
	interval time.Duration
	camera   string
	evidence *EvidenceDir
	model    sink.ModelRef
	errs     *errorSummary
}

// HasSmokeWatch tells whether a scene asks for fire and smoke analysis: it
// has at least one smoke_watch zone.
func HasSmokeWatch(sc *scene.Scene) bool {
	if sc == nil {
		return false
	}
	for _, z := range sc.Zones {
		if z.Kind == scene.ZoneSmokeWatch {
			return true
		}
	}
	return false
}

// NewFireSmokeAnalytic builds the analytic for a camera's scene: its
// smoke_watch and ignore zones, and its sampling (scene.FireSmoke: a video
// rate, FireSmokeInterval by default, or stills, FireSmokeStillsInterval
// apart by default). det runs the fire/smoke model and should report down
// to FireSmokeThreshold. Evidence nil keeps no snapshots. Close frees the
// preprocessor.
func NewFireSmokeAnalytic(camera string, sc scene.Scene, det Detector, evidence *EvidenceDir, log *slog.Logger) (*FireSmokeAnalytic, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var set scene.FireSmoke
	if sc.FireSmoke != nil {
		set = *sc.FireSmoke
	}
	stills := set.Mode == scene.FireSmokeStills
	interval := set.Interval.D()
	switch {
	case interval > 0:
	case stills:
		interval = FireSmokeStillsInterval
	default:
		interval = FireSmokeInterval
	}
	rule, err := firesmoke.New(camera, sc.Zones, fireSmokeRuleConfig(interval))
	if err != nil {
		return nil, err
	}
	frames, err := NewFrameDetector(det)
	if err != nil {
		return nil, err
	}
	m := det.Manifest()
	a := &FireSmokeAnalytic{
		rule: rule, frames: frames, interval: interval, camera: camera, evidence: evidence,
		model: sink.ModelRef{Name: m.Name, Version: m.Version},
		errs:  newErrorSummary(log, "fire/smoke analytic", time.Minute),
	}
	if stills {
		// The Analyst calls Analyse once per interval: Detect, not Observe.
		a.stills, err = firesmoke.NewStills(a.frames, firesmoke.StillConfig{InputSize: max(m.Input.Width, m.Input.Height), Interval: interval})
		if err != nil {
			frames.Close()
			return nil, fmt.Errorf("fire/smoke model %s: %w", m.Name, err)
		}
	}
	return a, nil
}

// fireSmokeRuleConfig scales the rule's spans to samples interval apart:
// its defaults were set for video rates, and a window of stills must hold
// several of them (four), as must the quiet time before an alert clears
// (three), or every still would start afresh.
func fireSmokeRuleConfig(interval time.Duration) firesmoke.Config {
	var c firesmoke.Config
	if w := 4 * interval; w > 10*time.Second {
		c.Window = w
	}
	if q := 3 * interval; q > time.Minute {
		c.Quiet = q
	}
	return c
}

// FrameDetector runs a Detector on frames of any size: the model's
// preprocessing (letterbox), then the model, boxes in the frame's pixels.
// It is a firesmoke.Detector. Not safe for concurrent use; Close frees the
// preprocessor.
type FrameDetector struct {
	pre *Preprocessor
	det Detector
}

// NewFrameDetector returns a FrameDetector running det.
func NewFrameDetector(det Detector) (*FrameDetector, error) {
	m := det.Manifest()
	pre, err := NewPreprocessor(m.Input)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	return &FrameDetector{pre: pre, det: det}, nil
}

// Detect detects on f (a tile of a larger frame too: its Stride may exceed
// its width).
func (d *FrameDetector) Detect(f *decode.Frame) ([]models.Detection, error) {
	input, lb, err := d.pre.Tensor(f)
	if err != nil {
		return nil, err
	}
	return d.det.Detect(input, lb, f.Width, f.Height)
}

// Close frees the preprocessor.
func (d *FrameDetector) Close() error { return d.pre.Close() }

// Interval implements Analytic.
func (a *FireSmokeAnalytic) Interval() time.Duration { return a.interval }

// Analyse implements Analytic: detect fire and smoke on the frame (and its
// tiles, in stills mode), then let the rule weigh the evidence over time.
func (a *FireSmokeAnalytic) Analyse(ts time.Time, frame *decode.Frame) ([]sink.Event, error) {
	var dets []models.Detection
	var err error
	if a.stills != nil {
		dets, err = a.stills.Detect(frame)
	} else {
		dets, err = a.frames.Detect(frame)
	}
	if err != nil {
		return nil, err
	}
	alerts, err := a.rule.Observe(ts, frame, dets)
	if err != nil {
		a.errs.add(err)
	}
	events := make([]sink.Event, 0, len(alerts))
	for _, al := range alerts {
		ev := al.Event
		if ev.CameraID == "" {
			ev.CameraID = a.camera
		}
		model := a.model
		ev.Model = &model
		if a.evidence != nil && len(al.Snapshot) > 0 {
			if err := a.evidence.Save(ev, al.Snapshot); err != nil {
				a.errs.add(err)
			}
		}
		events = append(events, ev)
	}
	return events, nil
}

// Flush implements Analytic: the rule forgets its regions (a stream break);
// alerts are raised as they are proven, so none is held back.
func (a *FireSmokeAnalytic) Flush() []sink.Event {
	a.rule.Flush()
	return nil
}

// Close frees the preprocessor.
func (a *FireSmokeAnalytic) Close() error { return a.frames.Close() }
