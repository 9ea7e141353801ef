package analyzer

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/matthan/matthan/analyzer/firesmoke"
	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/sink"
)

// FireSmokeInterval is the default sampling period of the fire and smoke
// analytic: the rule's temporal evidence (flicker, drift, k-of-n votes) was
// checked at 2 fps and up; at 1 fps a yellow bus pulling away once passed
// for fire.
const FireSmokeInterval = 500 * time.Millisecond

// FireSmokeThreshold is the least score the fire/smoke detector should
// report: below the rule's own vote threshold, so weak evidence reaches it.
const FireSmokeThreshold float32 = 0.25

// FireSmokeAnalytic runs a fire/smoke model and the firesmoke rule on
// full-resolution frames at its own rate (an Analytic), keeping each
// alert's snapshot in Evidence.
type FireSmokeAnalytic struct {
	rule     *firesmoke.Rule
	pre      *Preprocessor
	det      Detector
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

// NewFireSmokeAnalytic builds the analytic for a camera's scene (its
// smoke_watch and ignore zones). det runs the fire/smoke model and should
// report down to FireSmokeThreshold; interval 0 means FireSmokeInterval.
// Evidence nil keeps no snapshots. Close frees the preprocessor.
func NewFireSmokeAnalytic(camera string, sc scene.Scene, det Detector, interval time.Duration, evidence *EvidenceDir, log *slog.Logger) (*FireSmokeAnalytic, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if interval <= 0 {
		interval = FireSmokeInterval
	}
	rule, err := firesmoke.New(camera, sc.Zones, firesmoke.Config{})
	if err != nil {
		return nil, err
	}
	m := det.Manifest()
	pre, err := NewPreprocessor(m.Input)
	if err != nil {
		return nil, fmt.Errorf("fire/smoke model %s: %w", m.Name, err)
	}
	return &FireSmokeAnalytic{
		rule: rule, pre: pre, det: det, interval: interval, camera: camera, evidence: evidence,
		model: sink.ModelRef{Name: m.Name, Version: m.Version},
		errs:  newErrorSummary(log, "fire/smoke analytic", time.Minute),
	}, nil
}

// Interval implements Analytic.
func (a *FireSmokeAnalytic) Interval() time.Duration { return a.interval }

// Analyse implements Analytic: detect fire and smoke on the frame, then let
// the rule weigh the evidence over time.
func (a *FireSmokeAnalytic) Analyse(ts time.Time, frame *decode.Frame) ([]sink.Event, error) {
	input, lb, err := a.pre.Tensor(frame)
	if err != nil {
		return nil, err
	}
	dets, err := a.det.Detect(input, lb, frame.Width, frame.Height)
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
func (a *FireSmokeAnalytic) Close() error { return a.pre.Close() }
