package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

// analyzeMain runs the live analysis on a video file: "matthan analyze
// -scene FILE [flags] VIDEO".
func analyzeMain(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return analyze(ctx, args, os.Stdout, os.Stderr)
}

// analyzeOptions are the parsed flags of analyze.
type analyzeOptions struct {
	scene     string
	fps       float64
	json      bool
	frames    bool
	annotate  string
	model     string
	modelsDir string
	threshold float64
	threads   int
	camera    string
	evidence  string
	start     time.Time
	file      string
}

func parseAnalyzeFlags(args []string, stderr io.Writer) (analyzeOptions, error) {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: matthan analyze -scene FILE [flags] VIDEO\n\n"+
			"Runs the engine's live analysis (detector, tracker, counting lines, crowd zones and the\n"+
			"scene's rules) on a video file of any container and codec FFmpeg reads. A frame's capture\n"+
			"time is -start + its PTS. Prints a summary; with -json, one JSON line per event (with\n"+
			"offset_s, the frame's time from the start of the file) and a last line of type \"summary\".\n\nflags:\n")
		fs.PrintDefaults()
	}
	var o analyzeOptions
	var start string
	fs.StringVar(&o.scene, "scene", "", "scene `FILE` (YAML: lines, zones, lanes, signals); none: detection summaries only")
	fs.Float64Var(&o.fps, "fps", 5, "frames analysed per second of video")
	fs.BoolVar(&o.json, "json", false, "print the events and the summary as JSON lines")
	fs.BoolVar(&o.frames, "frames", false, "with -json, also print one line of type \"frame\" per analysed frame (tracks with their boxes, zone counts, crossings)")
	fs.StringVar(&o.annotate, "annotate", "", "write the analysed frames with tracks, lines, zones and counts to `OUT.mp4`")
	fs.StringVar(&o.model, "model", "yolox_nano", "detector `name` (a manifest of models/zoo: "+strings.Join(models.ZooNames(), ", ")+")")
	fs.StringVar(&o.modelsDir, "models", "", "`folder` of the model files (default $"+models.ModelsDirEnv+" or .deps/models)")
	fs.Float64Var(&o.threshold, "threshold", 0, "least confidence of the detections summarised, 0–1 (default: the model's); the tracker also uses lower-scoring candidates")
	fs.IntVar(&o.threads, "threads", 1, "ONNX Runtime intra-op `threads`")
	fs.StringVar(&o.camera, "camera", "", "camera `id` in the events (default: the scene's camera, else the file's stem)")
	fs.StringVar(&o.evidence, "evidence", "", "keep violation snapshots under `DIR`/<camera>/<date>/<event id>.jpg (default: not kept; events still carry their sha256)")
	fs.StringVar(&start, "start", "", "capture time of the file's first instant, RFC 3339 (default "+analyzer.FileEpoch.Format(time.RFC3339)+")")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() != 1:
		fs.Usage()
		return o, fmt.Errorf("want one VIDEO, got %d arguments", fs.NArg())
	case !(o.fps > 0) || math.IsInf(o.fps, 0) || o.fps > 60:
		return o, fmt.Errorf("-fps %g: want a rate in (0, 60]", o.fps)
	case o.threshold < 0 || o.threshold >= 1:
		return o, fmt.Errorf("-threshold %g: want a confidence in (0, 1), or 0 for the model's", o.threshold)
	case o.threads < 1:
		return o, fmt.Errorf("-threads %d: want at least 1", o.threads)
	}
	if o.frames && !o.json {
		return o, errors.New("-frames needs -json")
	}
	if o.annotate != "" && !videoOutExts[strings.ToLower(filepath.Ext(o.annotate))] {
		return o, fmt.Errorf("-annotate %s: want an .mp4 file name", o.annotate)
	}
	if start != "" {
		t, err := time.Parse(time.RFC3339Nano, start)
		if err != nil {
			return o, fmt.Errorf("-start %q: want an RFC 3339 time such as 2025-06-01T08:00:00Z", start)
		}
		o.start = t
	}
	o.file = fs.Arg(0)
	if o.modelsDir == "" {
		o.modelsDir = models.DefaultModelsDir()
	}
	return o, nil
}

// analyze is analyzeMain with its context and output streams.
func analyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseAnalyzeFlags(args, stderr)
	if err != nil {
		return err
	}
	if st, err := os.Stat(o.file); err != nil {
		return err
	} else if st.IsDir() {
		return fmt.Errorf("%s is a folder, want a video file", o.file)
	}
	var sc *scene.Scene
	if o.scene != "" {
		s, err := scene.Load(o.scene)
		if err != nil {
			return err
		}
		sc = &s
	}
	camera := o.camera
	if camera == "" && sc != nil {
		camera = sc.Camera
	}
	if camera == "" {
		camera = strings.TrimSuffix(filepath.Base(o.file), filepath.Ext(o.file))
	}
	m, err := models.Zoo(o.model)
	if err != nil {
		return fmt.Errorf("-model: %w", err)
	}
	if err := models.InitRuntime(models.DefaultRuntimePath()); err != nil {
		return err
	}
	report := float32(o.threshold)
	if report == 0 {
		report = m.Threshold
	}
	det, err := models.NewDetector(m, o.modelsDir, models.Options{Threads: o.threads, Threshold: detectorThreshold(report, sc),
		StandIns: sc != nil})
	if err != nil {
		return err
	}
	defer det.Close()
	node, _ := os.Hostname()
	var evidence *analyzer.EvidenceDir
	if o.evidence != "" {
		evidence = &analyzer.EvidenceDir{Root: o.evidence}
	}
	rules, analytics, closeRules, err := sceneRules(camera, sc, evidence, o)
	if err != nil {
		return err
	}
	defer closeRules()
	a, err := analyzer.NewAnalyst(analyzer.AnalystConfig{
		CameraID: camera, Node: node, Scene: sc, Detector: det, FPS: o.fps,
		ReportThreshold: report, Rules: rules, Analytics: analytics,
	})
	if err != nil {
		return err
	}
	defer a.Close()

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	run := &analyzer.Offline{Path: o.file, Analyst: a, Start: o.start}
	if o.json {
		run.OnEvent = func(ev sink.Event, offset time.Duration) error {
			return writeEventLine(out, ev, offset)
		}
	}
	warned := 0
	run.OnError = func(err error) {
		if warned++; warned <= 5 { // a damaged file would repeat one error per frame
			fmt.Fprintf(stderr, "matthan analyze: %v\n", err)
		}
	}
	var vw *annotatedVideo
	if o.annotate != "" {
		vw = &annotatedVideo{path: o.annotate, fps: 1 / max(a.Period().Seconds(), 1/o.fps), a: a}
		defer vw.close()
	}
	start := o.start
	if start.IsZero() {
		start = analyzer.FileEpoch
	}
	if vw != nil || o.frames {
		run.OnFrame = func(f *decode.Frame, res *analyzer.Analysis) error {
			if o.frames {
				if err := writeFrameLine(out, res, res.Capture.Sub(start)); err != nil {
					return err
				}
			}
			if vw != nil {
				return vw.frame(f, res)
			}
			return nil
		}
	}
	if err := run.Run(ctx); err != nil {
		return err
	}
	if vw != nil {
		if err := vw.close(); err != nil {
			return err
		}
	}
	sum := run.Summary()
	if o.json {
		b, err := json.Marshal(summaryLine{Type: "summary", Summary: sum})
		if err != nil {
			return err
		}
		out.Write(b)
		out.WriteByte('\n')
	} else {
		writeSummaryText(out, sum, o.annotate)
	}
	return out.Flush()
}

// detectorThreshold is the threshold the detector is opened with: the
// report threshold, or with a scene the lower of it and the tracker's low
// score, so that the tracker's second pass gets the weak boxes of
// partly hidden objects.
func detectorThreshold(report float32, sc *scene.Scene) float32 {
	if sc == nil {
		return report
	}
	tr, err := track.New(track.Config{})
	if err != nil {
		return report
	}
	return min(report, tr.Config().LowScore)
}

// sceneRules builds the camera's plugged rules and analytics for the
// scene: the violation rules, and the fire and smoke analytic (its own
// model, firesmoke_416, at 2 fps) when the scene has a smoke_watch zone.
// The engine's wiring does the same for live cameras. close frees what was
// built.
func sceneRules(camera string, sc *scene.Scene, evidence *analyzer.EvidenceDir, o analyzeOptions) (rules []analyzer.Rule, analytics []analyzer.Analytic, close func(), err error) {
	var closers []func()
	close = func() {
		for _, c := range closers {
			c()
		}
	}
	if sc == nil {
		return nil, nil, close, nil
	}
	violations, err := analyzer.NewViolationRule(camera, *sc, evidence, nil)
	if err != nil {
		return nil, nil, close, err
	}
	rules = append(rules, violations)
	if analyzer.HasSmokeWatch(sc) {
		m, err := models.Zoo(fireSmokeModel)
		if err != nil {
			return nil, nil, close, err
		}
		det, err := models.NewDetector(m, o.modelsDir, models.Options{Threads: o.threads, Threshold: analyzer.FireSmokeThreshold})
		if err != nil {
			return nil, nil, close, err
		}
		closers = append(closers, func() { det.Close() })
		fs, err := analyzer.NewFireSmokeAnalytic(camera, *sc, det, evidence, nil)
		if err != nil {
			close()
			return nil, nil, func() {}, err
		}
		closers = append(closers, func() { fs.Close() })
		analytics = append(analytics, fs)
	}
	return rules, analytics, close, nil
}

// fireSmokeModel is the model the fire and smoke analytic runs.
const fireSmokeModel = "firesmoke_416"

// summaryLine is the last JSON line of analyze -json.
type summaryLine struct {
	Type string `json:"type"`
	analyzer.Summary
}

// writeEventLine writes ev as one JSON line with offset_s added.
func writeEventLine(w *bufio.Writer, ev sink.Event, offset time.Duration) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	w.Write(b[:len(b)-1]) // the object without its closing brace
	fmt.Fprintf(w, `,"offset_s":%.3f}`+"\n", offset.Seconds())
	return nil
}

// frameLine is a line of type "frame" of analyze -json -frames.
type frameLine struct {
	Type       string         `json:"type"`
	OffsetS    float64        `json:"offset_s"`
	Detected   bool           `json:"detected"`
	Detections int            `json:"detections"`
	Tracks     int            `json:"tracks"`
	Confirmed  int            `json:"confirmed"`
	Zones      map[string]int `json:"zones,omitempty"`
	Crossings  []crossingLine `json:"crossings,omitempty"`
	// Objects are the live tracks, so a person can follow a count.
	Objects []objectLine `json:"objects,omitempty"`
}

// objectLine is one live track on a frame: its box is normalised (x1, y1,
// x2, y2) and, when the track was not matched on this frame (Updated
// false), the predicted one.
type objectLine struct {
	ID        uint64     `json:"id"`
	Class     string     `json:"class"`
	Confirmed bool       `json:"confirmed"`
	Updated   bool       `json:"updated"`
	Box       [4]float64 `json:"box"`
}

// crossingLine is one line crossing counted on a frame; Confirmed is the
// state of its track on that frame (a count from an unconfirmed track
// would be a bug).
type crossingLine struct {
	Line      string `json:"line"`
	Direction string `json:"direction"`
	Class     string `json:"class"`
	TrackID   uint64 `json:"track_id"`
	Confirmed bool   `json:"confirmed"`
}

// writeFrameLine writes one analysed frame's line.
func writeFrameLine(w *bufio.Writer, res *analyzer.Analysis, offset time.Duration) error {
	l := frameLine{Type: "frame", OffsetS: math.Round(offset.Seconds()*1000) / 1000, Detected: res.Detected,
		Detections: len(res.Detections), Tracks: len(res.Tracks)}
	confirmed := make(map[uint64]bool, len(res.Tracks))
	for _, tk := range res.Tracks {
		if tk.Confirmed {
			l.Confirmed++
			confirmed[tk.ID] = true
		}
		o := objectLine{ID: tk.ID, Class: tk.Class, Confirmed: tk.Confirmed, Updated: tk.Updated}
		for i, v := range tk.Box {
			o.Box[i] = math.Round(float64(v)*1000) / 1000
		}
		l.Objects = append(l.Objects, o)
	}
	if len(res.Zones) > 0 {
		l.Zones = make(map[string]int, len(res.Zones))
		for _, z := range res.Zones {
			l.Zones[z.Zone] = z.Count
		}
	}
	for _, c := range res.Crossings {
		l.Crossings = append(l.Crossings, crossingLine{Line: c.Line, Direction: string(c.Direction), Class: c.Class,
			TrackID: c.TrackID, Confirmed: confirmed[c.TrackID]})
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	w.Write(b)
	return w.WriteByte('\n')
}

// writeSummaryText prints the summary for a person.
func writeSummaryText(w io.Writer, s analyzer.Summary, annotated string) {
	fmt.Fprintf(w, "%s: %d frames decoded, %d analysed, %.1f s\n", s.File, s.Frames, s.Analysed, s.DurationS)
	lines := make([]string, 0, len(s.Counts))
	for l := range s.Counts {
		lines = append(lines, l)
	}
	slices.Sort(lines)
	for _, l := range lines {
		for _, dir := range []string{"in", "out"} {
			byClass := s.Counts[l][dir]
			total := 0
			var parts []string
			for _, c := range slices.Sorted(maps.Keys(byClass)) {
				total += byClass[c]
				parts = append(parts, fmt.Sprintf("%s %d", c, byClass[c]))
			}
			fmt.Fprintf(w, "line %s %s: %d (%s)\n", l, dir, total, strings.Join(parts, ", "))
		}
	}
	for _, z := range slices.Sorted(maps.Keys(s.Zones)) {
		st := s.Zones[z]
		fmt.Fprintf(w, "zone %s: peak %d people at %.1f s, mean %.1f, alerts %d\n", z, st.Peak, st.PeakS, st.Mean, st.Alerts)
	}
	fmt.Fprintf(w, "alerts: %d, violations: %d\n", len(s.Alerts), len(s.Violations))
	for _, ev := range append(slices.Clone(s.Alerts), s.Violations...) {
		fmt.Fprintf(w, "  %s %s %s%s\n", ev.TS.Format("15:04:05.000"), ev.Type, ev.Zone, ev.Line)
	}
	if annotated != "" {
		fmt.Fprintln(w, annotated)
	}
}

// annotatedVideo writes the analysed frames with the analysis drawn on
// them, at the analysis rate.
type annotatedVideo struct {
	path string
	fps  float64
	a    *analyzer.Analyst
	w    *gocv.VideoWriter
}

// frame draws res on the analysed frame's picture at full size and writes
// it.
func (v *annotatedVideo) frame(analysed *decode.Frame, res *analyzer.Analysis) error {
	f, err := analysed.Full()
	if err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	mat, err := gocv.NewMatFromBytes(f.Height, f.Width, gocv.MatTypeCV8UC3, f.Pix[:f.Stride*f.Height])
	if err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	defer mat.Close()
	v.a.Draw(&mat, res)
	if v.w == nil {
		if v.w, err = openVideoWriter(v.path, v.fps, f.Width, f.Height); err != nil {
			return err
		}
	}
	if err := v.w.Write(mat); err != nil {
		return fmt.Errorf("write %s: %w", v.path, err)
	}
	return nil
}

func (v *annotatedVideo) close() error {
	if v.w == nil {
		return nil
	}
	err := v.w.Close()
	v.w = nil
	if err != nil {
		return fmt.Errorf("write %s: %w", v.path, err)
	}
	return nil
}
