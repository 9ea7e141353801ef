package analyzer

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/matthan/matthan/analyzer/counting"
	"github.com/matthan/matthan/analyzer/crowd"
	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

// sampleSlack is how early a frame may come and still be taken for the
// next sampling instant: timestamps of a steady stream are rounded (a
// 29.97 fps frame lands a fraction of a millisecond before a 5 fps
// instant), and without slack a 30 fps stream sampled at 5 fps would
// alternate gaps of 6 and 7 frames.
const sampleSlack = 2 * time.Millisecond

// AnalystConfig configures an Analyst.
type AnalystConfig struct {
	// CameraID names the camera in events and metrics. Required.
	CameraID string
	// SystemID is copied into events.
	SystemID string
	// Node is copied into events.
	Node string
	// Scene is what the camera looks at. Nil runs the detector only and
	// publishes detection summaries (no tracker, no rules).
	Scene *scene.Scene
	// Detector runs the model. Required. With a Scene it must report
	// candidates down to Track.LowScore (0.1 by default): open it with
	// that threshold (models.Options.Threshold,
	// models.SchedulerOptions.Threshold) and keep ReportThreshold for the
	// summaries.
	Detector Detector
	// FPS is how many frames per second of capture time the detector
	// (and with it the tracker and the track rules) analyses. Defaults to 2.
	FPS float64
	// EventInterval is the shortest capture-time gap between two detection
	// summaries. Defaults to 1 s.
	EventInterval time.Duration
	// ReportThreshold is the least confidence of the detections the
	// summaries count and Analysis.Detections holds; the tracker sees
	// every candidate the detector reports. Defaults to the manifest's
	// threshold.
	ReportThreshold float32
	// Track, Counting and Crowd tune the tracker and the two built-in rule
	// families; their zero values give their defaults, except that
	// Track.HighScore, the score that may start a track, defaults to the
	// model manifest's threshold. Counting.Aspect defaults to the aspect of
	// the first frame.
	Track    track.Config
	Counting counting.Config
	Crowd    crowd.Config
	// Rules are the camera's track rules (violations), run after the
	// built-in ones on every detector frame when a Scene is set.
	Rules []Rule
	// Analytics are the camera's rules with their own model and rate
	// (smoke and fire); they run with or without a Scene.
	Analytics []Analytic
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Metrics defaults to unregistered metrics.
	Metrics *Metrics
}

// Analysis is the result of one analysed frame.
type Analysis struct {
	// CameraID is the camera's id.
	CameraID string
	// Capture is the capture time of the frame.
	Capture time.Time
	// Done is when its analysis was finished.
	Done time.Time
	// Detected is whether the detector ran on this frame; a frame taken
	// only for an Analytic's rate has no detections and no tracks.
	Detected bool
	// Detections are the detector's boxes (frame pixels) scoring at least
	// the report threshold, outside the ignore zones.
	Detections []models.Detection
	// Tracks are the live tracks after this frame (with a Scene).
	Tracks []track.Track
	// Crossings are the line crossings counted on this frame.
	Crossings []counting.Crossing
	// Zones are the crowd zones' counts after this frame.
	Zones []crowd.ZoneCount
	// Events are the events produced on this frame, stamped.
	Events []sink.Event
}

// Analyst is the frame-level analysis of one camera, the same code for a
// live stream (Pipeline) and for a file (Offline): given a decoded frame
// with its capture time it runs, at their rates, the detector (preprocess,
// detect, drop what lies in ignore zones), the tracker, the counting lines,
// the crowd zones, the plugged rules and the analytics, and returns the
// events with the camera, system, node and model filled in.
//
// An Analyst is not safe for concurrent use: one goroutine feeds it the
// camera's frames in capture-time order. Close frees its C memory.
type Analyst struct {
	cfg    AnalystConfig
	man    models.Manifest
	pre    *Preprocessor
	report float32
	detect sampler
	ext    []analytic
	period time.Duration // fastest rate of the detector and the analytics
	hist   prometheus.Observer

	ignore  []scene.Zone
	tracker *track.Tracker
	counter *counting.Counter // built on the first frame (its aspect)
	monitor *crowd.Monitor

	lastSummary time.Time
	lastTracks  []track.Track
	lastZones   []crowd.ZoneCount
	frameW      int
	frameH      int
}

// analytic is an Analytic with its sampler.
type analytic struct {
	Analytic
	s sampler
}

// sampler picks, from frames in capture-time order, one per period.
type sampler struct {
	period time.Duration
	next   time.Time
}

// take reports whether the frame captured at ts is due and, if so,
// schedules the next instant. Instants keep a steady grid while frames
// come in time, and restart from ts after a gap of more than one period.
func (s *sampler) take(ts time.Time) bool {
	if s.period <= 0 {
		return true
	}
	if !s.next.IsZero() && ts.Before(s.next.Add(-sampleSlack)) {
		return false
	}
	if s.next.IsZero() || ts.Sub(s.next) > s.period {
		s.next = ts.Add(s.period)
	} else {
		s.next = s.next.Add(s.period)
	}
	return true
}

// NewAnalyst checks cfg and returns an Analyst for it.
func NewAnalyst(cfg AnalystConfig) (*Analyst, error) {
	if cfg.Detector == nil {
		return nil, errors.New("analyst: a Detector is required")
	}
	if cfg.FPS <= 0 {
		cfg.FPS = 2
	}
	if cfg.EventInterval <= 0 {
		cfg.EventInterval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	a := &Analyst{cfg: cfg, man: cfg.Detector.Manifest()}
	a.report = cfg.ReportThreshold
	if a.report <= 0 {
		a.report = a.man.Threshold
	}
	if cfg.Track.HighScore == 0 {
		// A detection the model's own operating threshold accepts may start
		// a track: confirmation, not the score, filters the noise.
		a.cfg.Track.HighScore = a.man.Threshold
	}
	a.detect.period = time.Duration(float64(time.Second) / cfg.FPS)
	if err := a.configure(cfg.Scene, cfg.Rules, cfg.Analytics); err != nil {
		return nil, err
	}
	pre, err := NewPreprocessor(a.man.Input)
	if err != nil {
		return nil, fmt.Errorf("analyst: camera %s: %w", cfg.CameraID, err)
	}
	a.pre = pre
	a.hist = cfg.Metrics.InferenceSeconds.WithLabelValues(a.man.Name)
	return a, nil
}

// configure sets up the parts that depend on the scene: the tracker, the
// crowd zones, the ignore zones, the counting lines (built on the next
// frame, for its aspect), the track rules and the analytics. On an error
// the Analyst is left as it was. A tracker already running is kept, so
// the tracks go on across a change of scene.
func (a *Analyst) configure(sc *scene.Scene, rules []Rule, analytics []Analytic) error {
	cfg := a.cfg
	period := a.detect.period
	var ext []analytic
	for i, x := range analytics {
		if x == nil {
			return fmt.Errorf("analyst: Analytics[%d] is nil", i)
		}
		iv := max(x.Interval(), 0)
		ext = append(ext, analytic{Analytic: x, s: sampler{period: iv}})
		period = min(period, iv)
	}
	var (
		tracker = a.tracker
		monitor *crowd.Monitor
		ignore  []scene.Zone
	)
	if sc != nil {
		var err error
		if tracker == nil {
			if tracker, err = track.New(cfg.Track); err != nil {
				return fmt.Errorf("analyst: %w", err)
			}
		}
		if monitor, err = crowd.New(cfg.CameraID, sc.Zones, cfg.Crowd); err != nil {
			return fmt.Errorf("analyst: %w", err)
		}
		if _, err := counting.New(cfg.CameraID, sc.Lines, cfg.Counting); err != nil {
			return fmt.Errorf("analyst: %w", err)
		}
		for _, z := range sc.Zones {
			if z.Kind == scene.ZoneIgnore {
				ignore = append(ignore, z)
			}
		}
		for i, r := range rules {
			if r == nil {
				return fmt.Errorf("analyst: Rules[%d] is nil", i)
			}
		}
		low := tracker.Config().LowScore
		if t, ok := cfg.Detector.(interface{ Threshold() float32 }); ok && t.Threshold() > low {
			cfg.Logger.Warn("the detector drops candidates the tracker could use: open it with a threshold at most the tracker's low score",
				"detector_threshold", t.Threshold(), "low_score", low)
		}
	} else {
		tracker = nil
	}
	a.cfg.Scene, a.cfg.Rules, a.cfg.Analytics = sc, rules, analytics
	a.ext, a.period = ext, period
	a.tracker, a.monitor, a.ignore = tracker, monitor, ignore
	a.counter = nil
	a.lastTracks, a.lastZones = nil, nil
	return nil
}

// SetScene makes the Analyst work on sc from the next frame on, with the
// track rules and analytics built for it, which replace the configured
// ones (sc nil: detection summaries and the analytics only). The live
// tracks go on; the counting lines, crowd zones and ignore zones are the
// new scene's. It returns, stamped, what the replaced counting lines,
// rules and analytics still held (the open traffic.count interval). On an
// error nothing changes. Like Analyse, it must be called from the
// goroutine that feeds the Analyst.
func (a *Analyst) SetScene(sc *scene.Scene, rules []Rule, analytics []Analytic) ([]sink.Event, error) {
	counter, oldRules, oldExt := a.counter, a.cfg.Rules, a.ext
	if err := a.configure(sc, rules, analytics); err != nil {
		return nil, err
	}
	var held []sink.Event
	if counter != nil {
		held = append(held, counter.Flush()...)
	}
	for _, r := range oldRules {
		held = append(held, r.Flush()...)
	}
	for _, x := range oldExt {
		held = append(held, x.Flush()...)
	}
	a.stamp(held)
	return held, nil
}

// Period is the capture time between the frames the Analyst wants: the
// shortest of the detector's and the analytics' periods (0 = every frame).
// A caller may give it more frames; those not due are skipped cheaply.
func (a *Analyst) Period() time.Duration { return a.period }

// Scene returns the scene the Analyst works on, nil without one.
func (a *Analyst) Scene() *scene.Scene { return a.cfg.Scene }

// Manifest returns the detector's manifest.
func (a *Analyst) Manifest() models.Manifest { return a.man }

// FrameSize is the size a decoder should convert a w×h picture to for
// Analyse (ConvertSize for the detector's input). Safe for concurrent use.
func (a *Analyst) FrameSize(w, h int) (int, int) { return ConvertSize(a.man.Input, w, h) }

// Analyse analyses the frame f (BGR24, f.Capture set) with every part that
// is due at its capture time. f is best converted to FrameSize with its
// picture kept (decode.Decoder.ConvertKeep): the detector takes it as it
// is when it is scaled, the analytics and the rules that need the picture
// at full size get it from f.Full. A full-size frame works too. Geometry (detections,
// tracks, zones) is in the pixels of f's source picture. It returns the
// analysis and the errors of the parts that failed, joined; the parts that
// did not fail still contribute their events. f is not kept.
func (a *Analyst) Analyse(f *decode.Frame) (Analysis, error) {
	ts := f.Capture
	res := Analysis{CameraID: a.cfg.CameraID, Capture: ts}
	var errs []error
	if a.detect.take(ts) {
		if err := a.runDetector(f, &res); err != nil {
			errs = append(errs, err)
		}
	}
	for i := range a.ext {
		x := &a.ext[i]
		if !x.s.take(ts) {
			continue
		}
		full, err := f.Full()
		if err != nil {
			errs = append(errs, fmt.Errorf("analytic %T: %w", x.Analytic, err))
			continue
		}
		evs, err := x.Analyse(ts, full)
		if err != nil {
			errs = append(errs, fmt.Errorf("analytic %T: %w", x.Analytic, err))
		}
		res.Events = append(res.Events, evs...)
	}
	a.stamp(res.Events)
	res.Done = time.Now()
	return res, errors.Join(errs...)
}

// runDetector detects on f and, with a scene, runs the tracker and the
// track rules.
func (a *Analyst) runDetector(f *decode.Frame, res *Analysis) error {
	start := time.Now()
	w, h := f.SourceSize()
	input, lb, err := a.pre.Tensor(f)
	var dets []models.Detection
	if err == nil {
		dets, err = a.cfg.Detector.Detect(input, lb, w, h)
	}
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	a.hist.Observe(time.Since(start).Seconds())
	res.Detected = true
	dets = a.dropIgnored(dets, w, h)
	for _, d := range dets {
		if d.Confidence >= a.report && !d.StandIn {
			res.Detections = append(res.Detections, d)
		}
	}
	ts := res.Capture
	if len(res.Detections) > 0 && (a.lastSummary.IsZero() || ts.Sub(a.lastSummary) >= a.cfg.EventInterval) {
		a.lastSummary = ts
		res.Events = append(res.Events, a.summary(ts, res.Detections))
	}
	if a.cfg.Scene == nil {
		return nil
	}
	return a.observe(ts, f, dets, res)
}

// observe runs the tracker and every track rule on one detector frame.
func (a *Analyst) observe(ts time.Time, f *decode.Frame, dets []models.Detection, res *Analysis) error {
	w, h := f.SourceSize()
	tracks, err := a.tracker.Update(ts, dets, w, h)
	if errors.Is(err, track.ErrTimeBackwards) {
		// The camera's clock jumped back: the tracks' motion is void.
		a.cfg.Logger.Warn("capture time went backwards: tracks restarted", "ts", ts)
		a.tracker.Reset()
		tracks, err = a.tracker.Update(ts, dets, w, h)
	}
	if err != nil {
		return fmt.Errorf("track: %w", err)
	}
	if err := a.ensureCounter(w, h); err != nil {
		return err
	}
	crossings, evs := a.counter.Update(ts, tracks)
	res.Crossings = crossings
	res.Events = append(res.Events, evs...)
	zones, evs := a.monitor.Update(ts, tracks)
	res.Zones = zones
	res.Events = append(res.Events, evs...)
	for _, r := range a.cfg.Rules {
		res.Events = append(res.Events, r.Observe(ts, f, tracks)...)
	}
	res.Tracks = tracks
	a.lastTracks, a.lastZones = tracks, zones
	return nil
}

// ensureCounter builds the counter on the first frame, with the frame's
// aspect unless one is configured. A later change of resolution keeps the
// first aspect: the lines are normalised, only the hysteresis band's
// shape on sloping lines is slightly off.
func (a *Analyst) ensureCounter(w, h int) error {
	a.frameW, a.frameH = w, h
	if a.counter != nil {
		return nil
	}
	cc := a.cfg.Counting
	if cc.Aspect == 0 {
		cc.Aspect = float64(w) / float64(h)
	}
	c, err := counting.New(a.cfg.CameraID, a.cfg.Scene.Lines, cc)
	if err != nil {
		return fmt.Errorf("analyst: %w", err)
	}
	a.counter = c
	return nil
}

// dropIgnored removes, in place, the detections whose bottom centre lies
// in an ignore zone that covers their class.
func (a *Analyst) dropIgnored(dets []models.Detection, w, h int) []models.Detection {
	if len(a.ignore) == 0 {
		return dets
	}
	out := dets[:0]
	for _, d := range dets {
		p := scene.BottomCentre([4]float32{d.Box[0] / float32(w), d.Box[1] / float32(h), d.Box[2] / float32(w), d.Box[3] / float32(h)})
		ignored := false
		for _, z := range a.ignore {
			if (len(z.Classes) == 0 || slices.Contains(z.Classes, d.Class)) && z.Polygon.Contains(p) {
				ignored = true
				break
			}
		}
		if !ignored {
			out = append(out, d)
		}
	}
	return out
}

// summary is the detection.summary event: how many objects of each class
// one frame shows.
func (a *Analyst) summary(ts time.Time, dets []models.Detection) sink.Event {
	ev := sink.NewEvent(sink.TypeDetectionSummary, a.cfg.CameraID, ts)
	ev.Counts = make(map[string]int)
	for _, d := range dets {
		ev.Counts[d.Class]++
	}
	return ev
}

// stamp fills in what every event of this camera carries and counts the
// events by type.
func (a *Analyst) stamp(evs []sink.Event) {
	for i := range evs {
		ev := &evs[i]
		if ev.CameraID == "" {
			ev.CameraID = a.cfg.CameraID
		}
		if ev.SystemID == "" {
			ev.SystemID = a.cfg.SystemID
		}
		if ev.Node == "" {
			ev.Node = a.cfg.Node
		}
		if ev.Model == nil {
			ev.Model = &sink.ModelRef{Name: a.man.Name, Version: a.man.Version}
		}
		a.cfg.Metrics.Events.WithLabelValues(a.cfg.CameraID, ev.Type).Inc()
	}
}

// Flush returns, stamped, the events the counting lines, the rules and the
// analytics still hold (the open traffic.count interval): at the end of a
// file or on shutdown.
func (a *Analyst) Flush() []sink.Event {
	var evs []sink.Event
	if a.counter != nil {
		evs = append(evs, a.counter.Flush()...)
	}
	for _, r := range a.cfg.Rules {
		evs = append(evs, r.Flush()...)
	}
	for _, x := range a.ext {
		evs = append(evs, x.Flush()...)
	}
	a.stamp(evs)
	return evs
}

// Totals returns the line crossings counted so far, by line, direction and
// class; nil without a scene or before the first frame.
func (a *Analyst) Totals() []counting.Total {
	if a.counter == nil {
		return nil
	}
	return a.counter.Totals()
}

// Zones returns what each crowd zone saw so far; nil without a scene.
func (a *Analyst) Zones() []crowd.ZoneSummary {
	if a.monitor == nil {
		return nil
	}
	return a.monitor.Summary()
}

// Close frees the preprocessor's C memory. Rules and analytics are their
// builders' to close.
func (a *Analyst) Close() error {
	if a.pre != nil {
		a.pre.Close()
		a.pre = nil
	}
	return nil
}

// eventAudience returns the part of an event type before the dot
// ("alert", "violation", "traffic"...).
func eventAudience(typ string) string {
	aud, _, _ := strings.Cut(typ, ".")
	return aud
}
