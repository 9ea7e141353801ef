package health

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/matthan/matthan/ingest/decode"
)

// Defaults of a Monitor, chosen from the sample footage (see the tests):
// the normal clips stay clear of every threshold by a factor of about two.
const (
	// DefaultInterval paces the measurements: two a second is enough to
	// see a change and costs about a millisecond of CPU each.
	DefaultInterval = 500 * time.Millisecond
	// DefaultFrozenAfter is how long the picture must stay unchanged. A live
	// camera re-quantises even a static scene at every keyframe (typically
	// every 1–4 s); the quietest sample clip never stays under the floor for
	// more than 2.9 s. Detection comes 6.5 to 7.5 s after the freeze.
	DefaultFrozenAfter = 6 * time.Second
	// DefaultFrozenDiff is the noise floor, the mean absolute difference of
	// two thumbnails in grey levels: a repeated picture gives 0, a live one
	// at least about 1 at every keyframe.
	DefaultFrozenDiff = 0.5
	// DefaultTamperAfter is how long covered, defocused and moved must hold:
	// longer than a passing truck or a hand waved in front of the lens.
	DefaultTamperAfter = 4 * time.Second
	// DefaultClearAfter is how long the cause must be gone before a
	// condition clears.
	DefaultClearAfter = 3 * time.Second
	// DefaultCoveredContrast is the thumbnail's luma standard deviation
	// under which the picture is uniform. The flattest sample clip (a road
	// at dusk from above) has 20; a covered lens has a few grey levels.
	DefaultCoveredContrast = 10
	// DefaultCoveredDark is the mean luma under which a picture that is
	// also nearly uniform (under twice DefaultCoveredContrast) is dark.
	DefaultCoveredDark = 20
	// DefaultDefocusRatio is the fraction of the learned sharpness under
	// which the picture is out of focus. Traffic moves the sharpness of
	// the sample clips down to 0.55 of their baseline; a blur of 2 pixels
	// brings it to 0.1 or less.
	DefaultDefocusRatio = 0.3
	// DefaultMovedShift is the displacement of the view, as a fraction of
	// the picture's width, from which the camera has moved: 2%, against
	// 0.5% for the most jittery sample clip (a long lens on a tripod).
	DefaultMovedShift = 0.02
	// DefaultMovedCorrelation is the correlation with the reference edge
	// map under which the view no longer matches: the sample clips stay
	// above 0.35 with traffic crossing them.
	DefaultMovedCorrelation = 0.2
	// DefaultLearnFor is the capture time of clean samples the baselines
	// are learned from.
	DefaultLearnFor = 10 * time.Second
	// DefaultAdapt is the time constant with which the baselines follow
	// slow changes of the scene.
	DefaultAdapt = 2 * time.Minute
	// DefaultMaxGap is the longest gap between two samples that still
	// counts as continuous: a longer one (the camera was offline, analysis
	// fell behind) restarts the runs building up towards onset or clearing.
	DefaultMaxGap = 5 * time.Second
)

// Clearing margins: a condition clears only when its measure is this far on
// the good side of the onset threshold.
const (
	clearFrozen   = 1.5 // × FrozenDiff, on two samples within ClearAfter
	clearContrast = 1.5 // × CoveredContrast
	clearDefocus  = 1.5 // × DefocusRatio
	clearShift    = 0.5 // × MovedShift
	clearCorr     = 1.5 // × MovedCorrelation
	darkContrast  = 2.0 // × CoveredContrast: how uniform a dark picture must be
	alignedShift  = 1.0 // thumbnail pixels: the view matches well enough to adapt the reference
	minLearn      = 5   // samples the baselines need at least
)

// Monitor watches the picture of one camera for the Conditions. Set the
// fields before the first Observe and do not change them after.
//
// Observe must be called from one goroutine at a time; Status and Relearn
// are safe from any goroutine. Close frees the OpenCV memory.
type Monitor struct {
	// Camera names the camera in changes, status, logs and metrics.
	Camera string
	// Interval is the capture time between two measured frames; frames
	// that come sooner are skipped. Defaults to DefaultInterval.
	Interval time.Duration
	// FrozenAfter is how long the picture must stay unchanged to be
	// frozen. Defaults to DefaultFrozenAfter.
	FrozenAfter time.Duration
	// FrozenDiff is the mean absolute difference of two samples' thumbnails,
	// in grey levels, under which the picture has not changed. Defaults to
	// DefaultFrozenDiff.
	FrozenDiff float64
	// TamperAfter is how long covered, defocused and moved must hold to
	// come into effect. Defaults to DefaultTamperAfter.
	TamperAfter time.Duration
	// ClearAfter is how long the cause of a tamper condition must be gone
	// for it to clear; a frozen picture clears at the second clear change
	// within ClearAfter. Defaults to DefaultClearAfter.
	ClearAfter time.Duration
	// CoveredContrast is the luma standard deviation under which the
	// picture is uniform. Defaults to DefaultCoveredContrast.
	CoveredContrast float64
	// CoveredDark is the mean luma under which a nearly uniform picture is
	// dark. Defaults to DefaultCoveredDark.
	CoveredDark float64
	// DefocusRatio is the fraction of the learned sharpness under which the
	// picture is out of focus. Defaults to DefaultDefocusRatio.
	DefocusRatio float64
	// MovedShift is the displacement of the view, as a fraction of the
	// picture's width, from which the camera has moved. Defaults to
	// DefaultMovedShift.
	MovedShift float64
	// MovedCorrelation is the correlation with the reference edge map
	// under which the view no longer matches. Defaults to
	// DefaultMovedCorrelation.
	MovedCorrelation float64
	// LearnFor is the capture time of clean samples the sharpness baseline
	// and the reference view are learned from. Defaults to DefaultLearnFor.
	LearnFor time.Duration
	// Adapt is the time constant with which the baseline and the reference
	// follow slow changes while all is well. Defaults to DefaultAdapt.
	Adapt time.Duration
	// MaxGap is the longest gap between samples that keeps a run towards
	// onset or clearing going. Defaults to DefaultMaxGap.
	MaxGap time.Duration
	// OnChange, when set, is called with every change, from the goroutine
	// that calls Observe, after Observe's state is updated (so it may call
	// Status). It must not block.
	OnChange func(Change)
	// Logger receives the changes with component=health and camera keys.
	// Nil discards them.
	Logger *slog.Logger
	// Metrics records the conditions. Nil records nothing.
	Metrics *Metrics

	initOnce sync.Once
	log      *slog.Logger
	metrics  *cameraMetrics
	adaptN   int      // samples in the adaptation time constant
	pic      *picture // owned by Observe's goroutine
	// probe, when set (by tests), sees every sample's measures and
	// sharpness ratio (0 while learning).
	probe func(at time.Time, x measures, ratio float64)

	mu       sync.Mutex // guards what follows, which Status and Relearn read
	closed   bool
	relearn  bool // Relearn was called: the next Observe forgets the baselines
	last     time.Time
	samples  int64
	learned  int       // clean samples learned from so far
	learnAt  time.Time // capture time of the first of them
	sharp    []float64 // sharpness of the clean samples while learning
	changed  time.Time // while frozen: the last sample that changed clearly
	baseline float64   // learned sharpness; 0 while learning
	track    [len(conditions) + 1]tracker
}

// init applies the defaults once.
func (m *Monitor) init() {
	m.initOnce.Do(func() {
		setDefault(&m.Interval, DefaultInterval)
		setDefault(&m.FrozenAfter, DefaultFrozenAfter)
		setDefault(&m.FrozenDiff, DefaultFrozenDiff)
		setDefault(&m.TamperAfter, DefaultTamperAfter)
		setDefault(&m.ClearAfter, DefaultClearAfter)
		setDefault(&m.CoveredContrast, DefaultCoveredContrast)
		setDefault(&m.CoveredDark, DefaultCoveredDark)
		setDefault(&m.DefocusRatio, DefaultDefocusRatio)
		setDefault(&m.MovedShift, DefaultMovedShift)
		setDefault(&m.MovedCorrelation, DefaultMovedCorrelation)
		setDefault(&m.LearnFor, DefaultLearnFor)
		setDefault(&m.Adapt, DefaultAdapt)
		setDefault(&m.MaxGap, DefaultMaxGap)
		m.adaptN = max(1, int(m.Adapt/m.Interval))
		log := m.Logger
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		m.log = log.With("component", "health", "camera", m.Camera)
		m.metrics = m.Metrics.forCamera(m.Camera)
		m.pic = newPicture()
	})
}

// setDefault sets *v to def when it is not positive.
func setDefault[T time.Duration | float64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// frameTime is the time a frame is judged at: its capture time, or for
// frames of files, which have none, its PTS counted from the Unix epoch.
func frameTime(f *decode.Frame) time.Time {
	if !f.Capture.IsZero() {
		return f.Capture
	}
	return time.Unix(0, 0).UTC().Add(f.PTS)
}

// Observe measures f when Interval has passed since the last measured frame
// (by capture time) and updates the conditions, calling OnChange for each
// change. f may be scaled (to a detector's input): the picture is measured
// at full size (f.Full), converted only on the frames measured. It does not keep f. A frame that is not BGR24 gives an error
// wrapping ErrBadFrame and changes nothing.
func (m *Monitor) Observe(f *decode.Frame) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return fmt.Errorf("camera %s: %w", m.Camera, ErrClosed)
	}
	m.mu.Unlock()
	m.init()
	if f == nil {
		return fmt.Errorf("camera %s: %w: nil frame", m.Camera, ErrBadFrame)
	}
	at := frameTime(f)
	m.mu.Lock()
	last := m.last
	relearn := m.relearn
	m.mu.Unlock()
	if !last.IsZero() && at.After(last.Add(-m.MaxGap)) && at.Before(last.Add(m.Interval)) {
		return nil // too soon (or slightly out of order)
	}

	full, err := f.Full() // the thresholds are set for the picture's own size
	if err != nil {
		return fmt.Errorf("camera %s: %w: %w", m.Camera, ErrBadFrame, err)
	}
	meas, err := m.pic.measure(full)
	if err != nil {
		return fmt.Errorf("camera %s: %w", m.Camera, err)
	}
	m.metrics.sample()

	m.mu.Lock()
	var changes []Change
	if relearn {
		changes = m.forget(at)
		m.relearn = false
	}
	if !last.IsZero() && (at.Sub(last) > m.MaxGap || at.Before(last)) {
		for i := range m.track {
			m.track[i].restart()
		}
	}
	m.last = at
	m.samples++
	changes = append(changes, m.judge(at, meas)...)
	m.mu.Unlock()

	for _, ch := range changes {
		m.metrics.record(ch)
		if ch.Active {
			m.log.Warn("picture "+ch.Condition.String(), "since", ch.Since, "detail", ch.Detail)
		} else {
			m.log.Info("picture no longer "+ch.Condition.String(), "since", ch.Since)
		}
		if m.OnChange != nil {
			m.OnChange(ch)
		}
	}
	return nil
}

// judge steps every condition with one sample and learns from it when it is
// clean. m.mu is held.
func (m *Monitor) judge(at time.Time, x measures) []Change {
	var changes []Change
	// step advances condition c; why says what the cause is, measured
	// what this sample shows.
	step := func(c Condition, cause, clear bool, onset, clearAfter time.Duration, why, measured string) {
		t := &m.track[c]
		detail := why + ": " + measured
		if t.step(at, cause, clear, onset, clearAfter, detail) {
			ch := Change{Camera: m.Camera, Condition: c, Active: t.active, Since: t.since, At: at, Detail: detail}
			if !t.active {
				ch.Detail = "cleared: " + measured
			}
			changes = append(changes, ch)
		}
	}

	// Covered: uniform, or dark and nearly uniform.
	c := m.CoveredContrast
	covered := x.Std < c || (x.Mean < m.CoveredDark && x.Std < darkContrast*c)
	uncovered := x.Std >= clearContrast*c && (x.Mean >= clearContrast*m.CoveredDark || x.Std >= clearContrast*darkContrast*c)
	step(Covered, covered, uncovered, m.TamperAfter, m.ClearAfter,
		"picture dark or uniform", fmt.Sprintf("mean luma %.1f, contrast %.1f (uniform under %.1f)", x.Mean, x.Std, c))
	masked := covered || m.track[Covered].active

	// Frozen: every sample equal to the previous one, within the noise
	// floor. A uniform picture cannot prove it. The picture is live again
	// when two samples within ClearAfter change clearly: a quiet scene
	// changes only at keyframes, every second or two, so asking every
	// sample to change would keep it frozen.
	hasDiff := !math.IsNaN(x.Diff)
	frozen := hasDiff && !masked && x.Diff < m.FrozenDiff
	moving := false
	if m.track[Frozen].active && hasDiff && x.Diff >= clearFrozen*m.FrozenDiff {
		moving = !m.changed.IsZero() && at.Sub(m.changed) <= m.ClearAfter
		m.changed = at
	}
	frozenFor := time.Duration(0)
	if t := &m.track[Frozen]; t.active {
		frozenFor = at.Sub(t.since)
	} else if !t.run.IsZero() {
		frozenFor = at.Sub(t.run)
	}
	step(Frozen, frozen, moving, m.FrozenAfter, 0, // two changes suffice: no wait after the second
		fmt.Sprintf("picture unchanged for %.1f s", frozenFor.Seconds()),
		fmt.Sprintf("mean difference from the previous sample %.2f grey levels (floor %.2f)", x.Diff, m.FrozenDiff))
	if !m.track[Frozen].active {
		m.changed = time.Time{}
	}

	// Learning needs clean samples.
	if m.baseline == 0 {
		if m.probe != nil {
			m.probe(at, x, 0)
		}
		if !masked && !m.track[Frozen].active {
			m.learn(at, x)
		}
		return changes
	}

	// Defocused: sharpness far under the learned baseline.
	ratio := x.Sharpness / m.baseline
	if m.probe != nil {
		m.probe(at, x, ratio)
	}
	defocused := !masked && ratio < m.DefocusRatio
	sharp := !masked && ratio >= clearDefocus*m.DefocusRatio
	step(Defocused, defocused, sharp, m.TamperAfter, m.ClearAfter,
		"picture out of focus", fmt.Sprintf("sharpness %.0f%% of the learned %.3f (out of focus under %.0f%%)",
			100*ratio, m.baseline, 100*m.DefocusRatio))
	masked = masked || defocused || m.track[Defocused].active

	// Moved: the view is displaced from the reference, or no longer
	// matches it.
	limit := m.MovedShift * float64(m.pic.size.X)
	moved := !masked && x.HasRef && (x.ShiftLen >= limit || x.Corr < m.MovedCorrelation)
	inPlace := !masked && x.HasRef && x.ShiftLen < clearShift*limit && x.Corr >= clearCorr*m.MovedCorrelation
	step(Moved, moved, inPlace, m.TamperAfter, m.ClearAfter,
		"view differs from the learned one",
		fmt.Sprintf("shift (%d, %d) px of a %d px wide thumbnail, correlation with the reference %.2f (moved from %.1f px or under %.2f)",
			x.Shift.X, x.Shift.Y, m.pic.size.X, x.Corr, limit, m.MovedCorrelation))

	// Follow slow changes of the scene while all is well.
	quiet := true
	for _, c := range conditions {
		if t := &m.track[c]; t.active || t.pending() {
			quiet = false
		}
	}
	if quiet && x.HasRef && x.ShiftLen < alignedShift {
		a := 1 / float64(m.adaptN)
		m.baseline = math.Exp((1-a)*math.Log(m.baseline) + a*math.Log(math.Max(x.Sharpness, 1e-9)))
		m.pic.learnRef(m.adaptN)
	}
	return changes
}

// learn adds a clean sample to the baselines, and ends learning once the
// clean samples span LearnFor.
func (m *Monitor) learn(at time.Time, x measures) {
	if m.learned == 0 {
		m.learnAt = at
	}
	m.pic.learnRef(m.adaptN)
	m.sharp = append(m.sharp, x.Sharpness)
	m.learned++
	if m.learned < minLearn || at.Sub(m.learnAt) < m.LearnFor {
		return
	}
	s := slices.Clone(m.sharp)
	slices.Sort(s)
	m.baseline = math.Max(s[len(s)/2], 1e-9)
	m.sharp = nil
	m.log.Info("picture baselines learned", "sharpness", m.baseline, "samples", m.learned)
}

// forget drops the learned baselines and clears defocused and moved, which
// are judged against them. m.mu is held.
func (m *Monitor) forget(at time.Time) []Change {
	m.pic.resetRef()
	m.learned, m.sharp, m.baseline = 0, nil, 0
	var changes []Change
	for _, c := range []Condition{Defocused, Moved} {
		t := &m.track[c]
		if t.active {
			changes = append(changes, Change{Camera: m.Camera, Condition: c, Active: false, Since: at, At: at,
				Detail: "cleared: baselines relearned"})
		}
		*t = tracker{}
	}
	return changes
}

// Relearn makes the Monitor forget the sharpness baseline and the reference
// view and learn them again from the next frames, as after a camera was
// re-aimed or refocused on purpose. Active defocused and moved conditions
// clear at the next Observe.
func (m *Monitor) Relearn() {
	m.mu.Lock()
	m.relearn = true
	m.mu.Unlock()
}

// Status returns a snapshot of the monitor.
func (m *Monitor) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Status{Camera: m.Camera, Learning: m.baseline == 0 || m.relearn, LastSample: m.last, Samples: m.samples}
	for _, c := range conditions {
		if t := m.track[c]; t.active {
			st.Active = append(st.Active, ActiveCondition{Condition: c, Since: t.since, Detail: t.detail})
		}
	}
	return st
}

// Close frees the OpenCV memory. Observe returns ErrClosed after it; Status
// still works. Close must not run concurrently with Observe.
func (m *Monitor) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed && m.pic != nil {
		m.pic.close()
	}
	m.closed = true
	return nil
}
