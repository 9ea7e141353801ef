package benchmarks

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// peerBaseline is the Python peer baseline, embedded so that the harness
// runs it from any working directory.
//
//go:embed baseline/peer_baseline.py
var peerBaseline []byte

// Limits of the offline comparison.
const (
	// clipSeconds is how much of each clip the offline comparison analyses
	// (about 350 frames over the 7 clips at 5 fps, so that several rounds
	// fit in the run); quickClipSeconds, in quick mode.
	clipSeconds      = 10
	quickClipSeconds = 4
	// peerRounds is how many times each side runs (once in quick mode).
	peerRounds = 3
	// matchIoU is the overlap at which a box of ours and one of the baseline
	// are the same detection.
	matchIoU = 0.5
)

// PeerResult compares our components with the Python peer baseline on the
// same files, the same sampled frames and the same model.
//
// Ours runs three ways: the product's configuration (every clip a camera of
// its own, all at once, sharing one models.Scheduler of Workers sessions of
// Threads intra-op threads: all cores busy), and, for transparency, one clip
// after another with one frame in flight (decode ∥ infer, then one loop),
// which keeps only one inference thread busy. The baseline runs twice: with
// Threads intra-op threads and with ONNX Runtime's default session options
// (intra-op threads = the physical cores); the faster (higher median
// frames/s) is the target's denominator.
type PeerResult struct {
	Clips      []string `json:"clips"`
	FPS        float64  `json:"fps"`
	MaxSeconds float64  `json:"max_seconds_per_clip,omitempty"` // 0: whole clips
	Rounds     int      `json:"rounds"`                         // each variant's result is its median round
	Threads    int      `json:"threads"`                        // intra-op threads of our sessions and of the first baseline
	Workers    int      `json:"workers"`                        // sessions of our scheduler
	// Cameras runs one decode ∥ infer pair per clip, all clips at once, all
	// sharing the scheduler, as the engine runs cameras: wall time and
	// process CPU time of the whole concurrent run.
	Cameras OfflineResult `json:"ours_cameras"`
	// Ours decodes in one goroutine and preprocesses and infers in another,
	// as a Pipeline does (lossless here: files do not run away), one clip
	// after another: one frame in flight, so one inference thread busy.
	Ours OfflineResult `json:"ours"`
	// OursSequential does the same work in one loop, like the baseline.
	OursSequential OfflineResult `json:"ours_sequential"`
	// Baseline is the Python script with Threads intra-op threads (and one
	// inter-op thread); BaselineDefault, with ONNX Runtime's default session
	// options. BestBaseline names the faster of the two.
	Baseline        OfflineResult     `json:"baseline"`
	BaselineDefault OfflineResult     `json:"baseline_ort_default"`
	BestBaseline    string            `json:"best_baseline"`
	Versions        map[string]string `json:"baseline_versions"`
	// Agreement compares ours one clip at a time (decode ∥ infer) with the
	// baseline at Threads threads; CamerasAgreement, ours as cameras with
	// the best baseline (first round of each).
	Agreement        Agreement `json:"agreement"`
	CamerasAgreement Agreement `json:"cameras_agreement"`
	// CamerasDiffering counts, summed over the rounds, the frames whose
	// detections as cameras were not exactly (same classes, scores and boxes)
	// those of the first round one clip at a time: 0 when running the clips
	// concurrently changes nothing.
	CamerasDiffering int `json:"cameras_frames_differing"`
}

// best returns the faster baseline variant, the target's denominator.
func (p *PeerResult) best() OfflineResult {
	if p.BaselineDefault.FramesPerSec > p.Baseline.FramesPerSec {
		return p.BaselineDefault
	}
	return p.Baseline
}

// OfflineResult is one side of the offline comparison.
type OfflineResult struct {
	Name         string  `json:"name"`
	Frames       int     `json:"frames"`  // sampled frames analysed
	Decoded      int     `json:"decoded"` // frames decoded
	Detections   int     `json:"detections"`
	Seconds      float64 `json:"seconds"`
	FramesPerSec float64 `json:"frames_per_sec"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	CPUPerFrame  float64 `json:"cpu_seconds_per_frame"`
}

// Agreement compares the detections of ours and of the baseline frame by
// frame, on the frames both analysed.
type Agreement struct {
	Frames          int     `json:"frames"`         // frames both sides analysed
	OnlyOurs        int     `json:"only_ours"`      // frames only ours sampled
	OnlyBaseline    int     `json:"only_baseline"`  // frames only the baseline sampled
	CountsEqual     int     `json:"counts_equal"`   // frames with as many detections on both sides
	OursBoxes       int     `json:"ours_boxes"`     // detections of ours on the common frames
	BaselineBoxes   int     `json:"baseline_boxes"` // detections of the baseline on the common frames
	MatchedBoxes    int     `json:"matched_boxes"`  // same class and IoU ≥ 0.5, one to one
	CountsEqualFrac float64 `json:"counts_equal_fraction"`
	// BoxF1 is 2·matched ÷ (ours + baseline): 1 when both find the same boxes.
	BoxF1 float64 `json:"box_f1"`
}

// frameKey names one frame of one clip by its display index.
type frameKey struct {
	clip  string
	index int
}

// frameDets is what one side found in one frame.
type frameDets struct {
	dets []models.Detection
}

// measurePeer runs our components and the Python baseline on the same clips
// and compares them.
func measurePeer(ctx context.Context, cfg Config, m models.Manifest, clips []string, det *models.Scheduler) (*PeerResult, error) {
	if m.Output.Format != models.FormatYOLOX || m.Input.Letterbox.Align != models.AlignTopLeft ||
		m.Input.Color != models.BGR || m.Input.Width != m.Input.Height {
		return nil, fmt.Errorf("bench: the peer baseline handles square BGR top-left YOLOX models only, not %s", m.Name)
	}
	r := &PeerResult{FPS: cfg.FPS, Threads: cfg.Threads, Workers: det.Stats().Workers}
	for _, c := range clips {
		r.Clips = append(r.Clips, filepath.Base(c))
	}
	rounds := peerRounds
	if cfg.Quick {
		r.MaxSeconds, rounds = quickClipSeconds, 1
	} else {
		r.MaxSeconds = clipSeconds
	}
	order, err := displayIndexes(clips, r.MaxSeconds)
	if err != nil {
		return nil, err
	}
	// The variants take turns, round after round, so that load from
	// elsewhere on a shared machine falls on all of them; each reports its
	// median.
	var (
		cams, par, seq    []OfflineResult
		py, pyDefault     []OfflineResult
		ours, oursCams    map[frameKey]frameDets
		base, baseDefault *baselineRun
	)
	for round := range rounds {
		o, found, err := runOffline(ctx, clips, order, cfg.FPS, r.MaxSeconds, det, decodeInfer)
		if err != nil {
			return nil, err
		}
		par = append(par, o)
		if round == 0 {
			ours = found
		}
		if o, _, err = runOffline(ctx, clips, order, cfg.FPS, r.MaxSeconds, det, oneLoop); err != nil {
			return nil, err
		}
		seq = append(seq, o)
		o, found, err = runOffline(ctx, clips, order, cfg.FPS, r.MaxSeconds, det, clipsAsCameras)
		if err != nil {
			return nil, err
		}
		cams = append(cams, o)
		r.CamerasDiffering += differing(ours, found)
		if round == 0 {
			oursCams = found
		}
		// The baseline analyses the frames our sampler kept in the first round.
		b, err := runBaseline(ctx, cfg, m, det.Threshold(), cfg.Threads, clips, ours)
		if err != nil {
			return nil, err
		}
		py = append(py, b.result)
		bd, err := runBaseline(ctx, cfg, m, det.Threshold(), 0, clips, ours)
		if err != nil {
			return nil, err
		}
		pyDefault = append(pyDefault, bd.result)
		if round == 0 {
			r.Versions = b.versions
			base, baseDefault = b, bd
		}
	}
	r.Rounds = rounds
	r.Cameras, r.Ours, r.OursSequential = median(cams), median(par), median(seq)
	r.Baseline, r.BaselineDefault = median(py), median(pyDefault)
	r.BestBaseline = r.best().Name
	r.Agreement = agree(ours, base.frames)
	if r.BestBaseline == r.BaselineDefault.Name {
		r.CamerasAgreement = agree(oursCams, baseDefault.frames)
	} else {
		r.CamerasAgreement = agree(oursCams, base.frames)
	}
	return r, nil
}

// median returns the result of median frames per second (the lower middle
// one of an even count).
func median(rs []OfflineResult) OfflineResult {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b OfflineResult) int { return cmp.Compare(a.FramesPerSec, b.FramesPerSec) })
	return s[(len(s)-1)/2]
}

// offlineMode is how runOffline arranges the work.
type offlineMode int

const (
	// oneLoop decodes, preprocesses and infers in one loop, clip after clip.
	oneLoop offlineMode = iota
	// decodeInfer decodes in one goroutine and preprocesses and infers in
	// another, clip after clip: one frame in flight.
	decodeInfer
	// clipsAsCameras runs a decodeInfer pair per clip, all clips at once,
	// sharing the scheduler, as the engine runs cameras.
	clipsAsCameras
)

func (m offlineMode) String() string {
	switch m {
	case oneLoop:
		return "matthan, one loop"
	case decodeInfer:
		return "matthan, decode ∥ infer"
	default:
		return "matthan, clips as cameras"
	}
}

// runOffline decodes the clips as fast as possible (order names their
// pictures: displayIndexes), samples fps frames per second of video, and detects on each sampled frame with det, arranged as
// mode says. Wall time and process CPU time are measured once over the
// whole run (all clips, and in clipsAsCameras mode all of them at once).
func runOffline(ctx context.Context, clips []string, order map[string]displayIndex, fps, maxSeconds float64, det *models.Scheduler, mode offlineMode) (OfflineResult, map[frameKey]frameDets, error) {
	groups := [][]string{clips}
	if mode == clipsAsCameras {
		groups = groups[:0]
		for _, c := range clips {
			groups = append(groups, []string{c})
		}
	}
	passes := make([]*offlinePass, 0, len(groups))
	defer func() {
		for _, p := range passes {
			p.pre.Close()
		}
	}()
	for _, g := range groups {
		pre, err := analyzer.NewPreprocessor(det.Input())
		if err != nil {
			return OfflineResult{}, nil, fmt.Errorf("bench: %w", err)
		}
		passes = append(passes, &offlinePass{clips: g, order: order, det: det, pre: pre, found: make(map[frameKey]frameDets)})
	}

	res := OfflineResult{Name: mode.String()}
	errs := make([]error, len(passes))
	var wg sync.WaitGroup
	cpu0, start := cpuTime(), time.Now()
	for i, p := range passes {
		wg.Go(func() { errs[i] = p.run(ctx, fps, maxSeconds, mode != oneLoop) })
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.CPUSeconds = (cpuTime() - cpu0).Seconds()
	if err := errors.Join(errs...); err != nil {
		return res, nil, fmt.Errorf("bench: offline: %w", err)
	}
	found := passes[0].found
	for i, p := range passes {
		res.Frames += p.frames
		res.Decoded += p.decoded
		res.Detections += p.detections
		if i > 0 {
			maps.Copy(found, p.found)
		}
	}
	res.FramesPerSec = float64(res.Frames) / res.Seconds
	if res.Frames > 0 {
		res.CPUPerFrame = res.CPUSeconds / float64(res.Frames)
	}
	return res, found, nil
}

// offlinePass is the work of one goroutine pair (or one loop) of
// runOffline: its clips one after another, with its own preprocessor and
// frames, and what it found.
type offlinePass struct {
	clips []string
	order map[string]displayIndex
	det   *models.Scheduler
	pre   *analyzer.Preprocessor

	frames, decoded, detections int
	found                       map[frameKey]frameDets
}

// run analyses the pass's clips. In parallel mode decoding runs in its own
// goroutine, handing frames over through a small blocking queue, as a
// Pipeline does (but without dropping).
func (p *offlinePass) run(ctx context.Context, fps, maxSeconds float64, parallel bool) error {
	type sampled struct {
		key frameKey
		ms  float64
		f   *decode.Frame
	}
	free := decode.NewFramePool(3)
	defer free.Close()
	analyse := func(s sampled) error {
		defer free.Put(s.f)
		input, lb, err := p.pre.Tensor(s.f)
		if err != nil {
			return err
		}
		w, h := s.f.SourceSize()
		dets, err := p.det.Detect(input, lb, w, h)
		if err != nil {
			return err
		}
		p.found[s.key] = frameDets{dets: dets}
		p.frames++
		p.detections += len(dets)
		return nil
	}

	work := make(chan sampled, 1)
	var wg sync.WaitGroup
	var inferErr error
	if parallel {
		wg.Go(func() {
			for s := range work {
				if inferErr == nil {
					inferErr = analyse(s)
				} else {
					free.Put(s.f)
				}
			}
		})
	}
	emit := func(s sampled) error {
		if parallel {
			work <- s
			return nil
		}
		return analyse(s)
	}

	var decErr error
	for _, clip := range p.clips {
		if ctx.Err() != nil {
			decErr = errStopped
			break
		}
		n, err := decodeSampled(clip, p.order[clip], p.det.Input(), fps, maxSeconds, free, func(i int, ms float64, f *decode.Frame) error {
			return emit(sampled{key: frameKey{filepath.Base(clip), i}, ms: ms, f: f})
		})
		p.decoded += n
		if err != nil {
			decErr = err
			break
		}
	}
	close(work)
	wg.Wait()
	return errors.Join(decErr, inferErr)
}

// differing counts the frames of want and got whose detections are not
// exactly the same (same classes, scores and boxes in the same order),
// counting frames only one of them analysed.
func differing(want, got map[frameKey]frameDets) int {
	n := 0
	for k, w := range want {
		g, ok := got[k]
		if !ok || !slices.Equal(w.dets, g.dets) {
			n++
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			n++
		}
	}
	return n
}

// decodeSampled decodes clip and calls emit with the display index, time
// since the first frame (ms) and a frame taken from free, for every frame
// the sampler keeps: converted as a Pipeline converts (to
// analyzer.ConvertSize, the picture kept). Like a Pipeline it decodes only
// what the sampling needs (analyzer.ModeChooser); order gives the display
// index of each picture (displayIndexes). It stops after maxSeconds of
// video when that is set. It returns the number of pictures decoded.
func decodeSampled(clip string, order displayIndex, spec models.InputSpec, fps, maxSeconds float64, free *decode.FramePool, emit func(int, float64, *decode.Frame) error) (int, error) {
	period := 1000 / fps
	var (
		modes          analyzer.ModeChooser
		decoded        int
		first          time.Duration
		next           float64
		started, timed bool
	)
	chooseMode := func(dec *decode.Decoder, codec ingest.Codec, au ingest.AccessUnit) {
		if m, _ := modes.Choose(codec, au, time.Duration(period*float64(time.Millisecond)), dec.Mode()); m != dec.Mode() {
			dec.SetMode(m)
		}
	}
	picture := func(dec *decode.Decoder) (bool, error) {
		decoded++
		pts, _ := dec.PictureTime()
		index, ok := order[pts]
		if !ok {
			return true, fmt.Errorf("%s: no display index for the picture at %v", filepath.Base(clip), pts)
		}
		if !started {
			first, started = pts, true
		}
		ms := float64(pts-first) / float64(time.Millisecond)
		if maxSeconds > 0 && ms >= maxSeconds*1000 {
			return true, nil
		}
		if timed && ms < next {
			return false, nil
		}
		if !timed || ms-next > period {
			next = ms + period
		} else {
			next += period
		}
		timed = true
		f := free.Get()
		pw, ph := dec.PictureSize()
		w, h := analyzer.ConvertSize(spec, pw, ph)
		if err := dec.ConvertKeep(f, w, h); err != nil {
			free.Put(f)
			return false, nil // counted by the decoder; the frame is skipped
		}
		return false, emit(index, ms, f)
	}
	err := eachPicture(clip, chooseMode, picture)
	return decoded, err
}

// eachPicture decodes clip, letting before set the decoder's mode for each
// access unit, and calls picture for each picture ready until it says stop
// or the clip ends. In keyframes-only mode a keyframe is flushed out at
// once, as a Pipeline does: it would wait for pictures the mode skips.
func eachPicture(clip string, before func(*decode.Decoder, ingest.Codec, ingest.AccessUnit), picture func(*decode.Decoder) (stop bool, err error)) error {
	dm, err := decode.OpenFile(clip)
	if err != nil {
		return err
	}
	defer dm.Close()
	dec, err := decode.NewDecoder(dm.Codec())
	if err != nil {
		return err
	}
	defer dec.Close()
	flush := func() (bool, error) {
		for {
			if ready, _ := dec.Flush(); !ready {
				return false, nil
			}
			if stop, err := picture(dec); stop || err != nil {
				return true, err
			}
		}
	}
	for {
		p, err := dm.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		au := ingest.AccessUnit{Params: dm.Params(), NALUs: p.NALUs, PTS: p.PTS, Keyframe: p.Keyframe}
		if before != nil {
			before(dec, dm.Codec(), au)
		}
		if ready, _ := dec.Decode(au); ready {
			if stop, err := picture(dec); stop || err != nil {
				return err
			}
		}
		if au.Keyframe && dec.Mode() == decode.KeyframesOnly {
			if stop, err := flush(); stop || err != nil {
				return err
			}
		}
	}
	_, err = flush()
	return err
}

// displayIndex maps the PTS of each picture of a clip to its display
// index: its place among the pictures a decoder that decodes every one
// gives out, which is how the baseline counts. (The container's PTS do not
// give it: in some clips they are not in display order.)
type displayIndex map[time.Duration]int

// displayIndexes decodes every picture of the first maxSeconds (and a
// second more) of each clip, untimed, as decodeSampled does, to name the
// pictures it gives.
func displayIndexes(clips []string, maxSeconds float64) (map[string]displayIndex, error) {
	out := make(map[string]displayIndex, len(clips))
	for _, clip := range clips {
		idx := displayIndex{}
		var first time.Duration
		err := eachPicture(clip, nil, func(dec *decode.Decoder) (bool, error) {
			pts, _ := dec.PictureTime()
			if len(idx) == 0 {
				first = pts
			}
			if _, dup := idx[pts]; dup {
				return true, fmt.Errorf("two pictures at %v", pts)
			}
			idx[pts] = len(idx)
			return (pts - first).Seconds() >= maxSeconds+1, nil
		})
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", filepath.Base(clip), err)
		}
		out[clip] = idx
	}
	return out, nil
}

// baselineRun is what the Python baseline reported.
type baselineRun struct {
	result   OfflineResult
	versions map[string]string
	frames   map[frameKey]frameDets
}

// baselineOutput is the JSON peer_baseline.py prints.
type baselineOutput struct {
	Frames     int               `json:"frames"`
	Decoded    int               `json:"decoded"`
	Seconds    float64           `json:"seconds"`
	FPS        float64           `json:"fps"`
	CPUSeconds float64           `json:"cpu_seconds"`
	Versions   map[string]string `json:"versions"`
	Clips      []struct {
		Clip    string `json:"clip"`
		Sampled []struct {
			I int         `json:"i"`
			D [][]float64 `json:"d"` // class, score, x1, y1, x2, y2
		} `json:"sampled"`
	} `json:"clips"`
}

// runBaseline runs the Python peer baseline on the clips with the same
// model, input geometry, threshold, NMS and classes, on the frames of
// sampled (the frames our sampler kept), with threads intra-op threads and
// one inter-op thread, or with ONNX Runtime's default session options when
// threads is 0.
func runBaseline(ctx context.Context, cfg Config, m models.Manifest, threshold float32, threads int, clips []string, sampled map[frameKey]frameDets) (*baselineRun, error) {
	frames := make(map[string][]int)
	for k := range sampled {
		frames[k.clip] = append(frames[k.clip], k.index)
	}
	for _, c := range clips { // a clip with no sampled frame is still listed, as empty
		if _, ok := frames[filepath.Base(c)]; !ok {
			frames[filepath.Base(c)] = []int{}
		}
	}
	list, err := os.CreateTemp("", "matthan-peer-frames-*.json")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.Remove(list.Name())
	err = json.NewEncoder(list).Encode(frames)
	if cerr := list.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("bench: frame list: %w", err)
	}

	script, err := os.CreateTemp("", "matthan-peer-baseline-*.py")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.Remove(script.Name())
	if _, err := script.Write(peerBaseline); err != nil {
		script.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := script.Close(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	var keep []string
	for i := range m.Classes {
		if _, ok := m.Label(i); ok {
			keep = append(keep, strconv.Itoa(i))
		}
	}
	args := []string{script.Name(),
		"--model", filepath.Join(cfg.ModelsDir, m.File),
		"--size", strconv.Itoa(m.Input.Width),
		"--threads", strconv.Itoa(threads),
		"--fps", strconv.FormatFloat(cfg.FPS, 'g', -1, 64),
		"--threshold", strconv.FormatFloat(float64(threshold), 'g', -1, 32),
		"--nms", strconv.FormatFloat(float64(m.NMSIoU), 'g', -1, 32),
		"--pad", strconv.Itoa(m.Input.Letterbox.Pad),
		"--keep", strings.Join(keep, ","),
		"--frames", list.Name(),
	}
	args = append(args, clips...)
	cmd := exec.CommandContext(ctx, cfg.Python, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("bench: peer baseline (%s): %w: %s", cfg.Python, err, lastLines(stderr.String(), 5))
	}
	var out baselineOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("bench: peer baseline printed no JSON report: %w: %s", err, lastLines(stderr.String(), 5))
	}
	run := &baselineRun{versions: out.Versions, frames: make(map[frameKey]frameDets)}
	run.result = OfflineResult{
		Name: baselineName(threads), Frames: out.Frames, Decoded: out.Decoded,
		Seconds: out.Seconds, FramesPerSec: out.FPS, CPUSeconds: out.CPUSeconds,
	}
	if out.Frames > 0 {
		run.result.CPUPerFrame = out.CPUSeconds / float64(out.Frames)
	}
	for _, c := range out.Clips {
		for _, s := range c.Sampled {
			var fd frameDets
			for _, d := range s.D {
				if len(d) != 6 {
					return nil, fmt.Errorf("bench: peer baseline: detection %v of %s frame %d: want 6 values", d, c.Clip, s.I)
				}
				fd.dets = append(fd.dets, models.Detection{ClassID: int(d[0]), Confidence: float32(d[1]),
					Box: [4]float32{float32(d[2]), float32(d[3]), float32(d[4]), float32(d[5])}})
			}
			run.result.Detections += len(fd.dets)
			run.frames[frameKey{c.Clip, s.I}] = fd
		}
	}
	return run, nil
}

// baselineName names the baseline variant of threads intra-op threads (0:
// ONNX Runtime's default).
func baselineName(threads int) string {
	if threads == 0 {
		return "Python, ORT default threads"
	}
	return fmt.Sprintf("Python, ORT %d intra-op thread(s)", threads)
}

// agree compares the two sides frame by frame.
func agree(ours, base map[frameKey]frameDets) Agreement {
	var a Agreement
	for k, o := range ours {
		b, ok := base[k]
		if !ok {
			a.OnlyOurs++
			continue
		}
		a.Frames++
		if len(o.dets) == len(b.dets) {
			a.CountsEqual++
		}
		a.OursBoxes += len(o.dets)
		a.BaselineBoxes += len(b.dets)
		a.MatchedBoxes += matchBoxes(o.dets, b.dets)
	}
	for k := range base {
		if _, ok := ours[k]; !ok {
			a.OnlyBaseline++
		}
	}
	if a.Frames > 0 {
		a.CountsEqualFrac = float64(a.CountsEqual) / float64(a.Frames)
	}
	if n := a.OursBoxes + a.BaselineBoxes; n > 0 {
		a.BoxF1 = 2 * float64(a.MatchedBoxes) / float64(n)
	} else if a.Frames > 0 {
		a.BoxF1 = 1
	}
	return a
}

// matchBoxes pairs boxes of the same class overlapping by IoU ≥ matchIoU,
// greedily, best confidence first (both lists come sorted that way), and
// returns the number of pairs.
func matchBoxes(a, b []models.Detection) int {
	used := make([]bool, len(b))
	n := 0
	for _, x := range a {
		best, bi := float32(matchIoU), -1
		for j, y := range b {
			if used[j] || y.ClassID != x.ClassID {
				continue
			}
			if iou := models.IoU(x.Box, y.Box); iou >= best {
				best, bi = iou, j
			}
		}
		if bi >= 0 {
			used[bi] = true
			n++
		}
	}
	return n
}

// lastLines returns the last n lines of s, for error messages.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
