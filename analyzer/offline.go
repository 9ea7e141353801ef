package analyzer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/sink"
)

// FileEpoch is the capture time of PTS 0 of a file analysed offline when
// no start is given: a file has no wall clock, so the capture time of a
// frame is FileEpoch + its PTS. It is a whole minute, so the traffic.count
// intervals of a file are its minutes from PTS 0.
var FileEpoch = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// Offline analyses a video file with the Analyst a live Pipeline would
// use: after decoding, the code path is the same. Frames are decoded in
// presentation order (any container and codec FFmpeg reads), given the
// capture time Start + PTS, sampled at the Analyst's Period as the live
// decoder samples, converted as the live decoder converts them (to
// Analyst.FrameSize, the picture kept for Frame.Full), and analysed.
type Offline struct {
	// Path is the video file. Required.
	Path string
	// Analyst analyses the frames. Required; Offline does not close it.
	Analyst *Analyst
	// Start is the capture time of PTS 0. Defaults to FileEpoch.
	Start time.Time
	// OnFrame, when set, is called after each analysed frame with the frame
	// (valid during the call only; maybe scaled to the detector's input,
	// f.Full gives the picture at full size) and its analysis; an error
	// stops Run.
	OnFrame func(f *decode.Frame, res *Analysis) error
	// OnEvent, when set, is called with every event, in order, and its
	// capture time's offset from Start (the frame's PTS); the events the
	// Analyst flushes at the end of the file come last. An error stops Run.
	OnEvent func(ev sink.Event, offset time.Duration) error
	// OnError, when set, is called with the errors of frames whose
	// analysis partly failed; Run goes on. Without it Run stops on the
	// first such error.
	OnError func(err error)

	summary Summary
}

// Summary is what an offline analysis saw over the whole file.
type Summary struct {
	// CameraID is the camera id the events carry.
	CameraID string `json:"camera_id"`
	// File is the analysed file.
	File string `json:"file"`
	// Frames is the number of frames decoded; Analysed the number the
	// detector ran on.
	Frames   int `json:"frames"`
	Analysed int `json:"analysed"`
	// DurationS is the PTS of the last decoded frame, in seconds.
	DurationS float64 `json:"duration_s"`
	// Counts are the line crossings: line → direction (in, out) → class →
	// count. Every line of the scene is present with both directions.
	Counts map[string]map[string]map[string]int `json:"counts"`
	// Zones are the crowd zones' people counts over the analysed frames.
	Zones map[string]ZoneStat `json:"zones"`
	// Alerts are the alert.* events, in order.
	Alerts []sink.Event `json:"alerts"`
	// Violations are the violation.* events, in order.
	Violations []sink.Event `json:"violations"`
	// DecodeErrors counts damaged packets or pictures skipped.
	DecodeErrors int `json:"decode_errors"`
	// Rules and Analytics name the plugged rule and analytic types that
	// ran (the built-in counting and crowd rules are not listed).
	Rules     []string `json:"rules"`
	Analytics []string `json:"analytics"`
}

// ZoneStat is one crowd zone's people count over an analysis.
type ZoneStat struct {
	// Peak is the largest count in one frame and PeakS the offset of the
	// first frame with it, in seconds.
	Peak  int     `json:"peak"`
	PeakS float64 `json:"peak_s"`
	// Mean is the mean count per analysed frame.
	Mean float64 `json:"mean"`
	// MeanDensity and PeakDensity are in people per m² (zones with an
	// area only).
	PeakDensity float64 `json:"peak_density,omitempty"`
	MeanDensity float64 `json:"mean_density,omitempty"`
	// Alerts is the number of alert.crowd raised.
	Alerts int `json:"alerts"`
}

// Run analyses the whole file, then flushes the Analyst, and returns the
// first error of decoding or of a callback. ctx stops it between frames.
func (o *Offline) Run(ctx context.Context) error {
	if o.Analyst == nil || o.Path == "" {
		return errors.New("offline: a Path and an Analyst are required")
	}
	start := o.Start
	if start.IsZero() {
		start = FileEpoch
	}
	v, err := decode.OpenVideo(o.Path)
	if err != nil {
		return err
	}
	defer v.Close()

	a := o.Analyst
	o.summary = Summary{CameraID: a.cfg.CameraID, File: o.Path}
	sample := sampler{period: a.Period()}
	var f decode.Frame
	defer f.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := v.Decode()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pts := v.PictureTime()
		o.summary.Frames++
		o.summary.DurationS = pts.Seconds()
		if !sample.take(start.Add(pts)) {
			continue
		}
		w, h := a.FrameSize(v.PictureSize())
		if err := v.ConvertKeep(&f, w, h); err != nil {
			return err
		}
		f.Capture = start.Add(pts)
		res, err := a.Analyse(&f)
		if err != nil {
			err = fmt.Errorf("%s at %.3f s: %w", o.Path, f.PTS.Seconds(), err)
			if o.OnError == nil {
				return err
			}
			o.OnError(err)
		}
		if res.Detected {
			o.summary.Analysed++
		}
		if err := o.events(res.Events, start); err != nil {
			return err
		}
		if o.OnFrame != nil {
			if err := o.OnFrame(&f, &res); err != nil {
				return err
			}
		}
	}
	o.summary.DecodeErrors = v.Errors()
	if err := o.events(a.Flush(), start); err != nil {
		return err
	}
	o.finish(start)
	return nil
}

// events hands evs to OnEvent and keeps the alerts and violations.
func (o *Offline) events(evs []sink.Event, start time.Time) error {
	for _, ev := range evs {
		switch eventAudience(ev.Type) {
		case "alert":
			o.summary.Alerts = append(o.summary.Alerts, ev)
		case "violation":
			o.summary.Violations = append(o.summary.Violations, ev)
		}
		if o.OnEvent != nil {
			if err := o.OnEvent(ev, ev.TS.Sub(start)); err != nil {
				return err
			}
		}
	}
	return nil
}

// finish fills the counts and zones of the summary.
func (o *Offline) finish(start time.Time) {
	a := o.Analyst
	s := &o.summary
	s.Counts = make(map[string]map[string]map[string]int)
	s.Zones = make(map[string]ZoneStat)
	if sc := a.Scene(); sc != nil {
		for _, l := range sc.Lines {
			s.Counts[l.ID] = map[string]map[string]int{"in": {}, "out": {}}
		}
	}
	for _, t := range a.Totals() {
		s.Counts[t.Line][string(t.Direction)][t.Class] += t.Count
	}
	for _, z := range a.Zones() {
		st := ZoneStat{Peak: z.Peak, Mean: z.Mean, PeakDensity: z.PeakDensity, MeanDensity: z.MeanDensity, Alerts: z.Alerts}
		if z.Frames > 0 {
			st.PeakS = z.PeakAt.Sub(start).Seconds()
		}
		s.Zones[z.Zone] = st
	}
	s.Rules, s.Analytics = []string{}, []string{}
	for _, r := range a.cfg.Rules {
		s.Rules = append(s.Rules, fmt.Sprintf("%T", r))
	}
	for _, x := range a.cfg.Analytics {
		s.Analytics = append(s.Analytics, fmt.Sprintf("%T", x))
	}
	if s.Alerts == nil {
		s.Alerts = []sink.Event{}
	}
	if s.Violations == nil {
		s.Violations = []sink.Event{}
	}
}

// Summary returns what Run saw; complete after Run returned nil.
func (o *Offline) Summary() Summary { return o.summary }
