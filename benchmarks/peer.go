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
// same files, at the same sampling rate and inference threads.
type PeerResult struct {
	Clips      []string `json:"clips"`
	FPS        float64  `json:"fps"`
	MaxSeconds float64  `json:"max_seconds_per_clip,omitempty"` // 0: whole clips
	Rounds     int      `json:"rounds"`                         // each side's result is its median round
	Threads    int      `json:"threads"`
	// Ours decodes in one goroutine and preprocesses and infers in another,
	// as a Pipeline does (lossless here: files do not run away).
	Ours OfflineResult `json:"ours"`
	// OursSequential does the same work in one loop, like the baseline.
	OursSequential OfflineResult     `json:"ours_sequential"`
	Baseline       OfflineResult     `json:"baseline"`
	Versions       map[string]string `json:"baseline_versions"`
	Agreement      Agreement         `json:"agreement"`
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
	r := &PeerResult{FPS: cfg.FPS, Threads: cfg.Threads}
	for _, c := range clips {
		r.Clips = append(r.Clips, filepath.Base(c))
	}
	rounds := peerRounds
	if cfg.Quick {
		r.MaxSeconds, rounds = quickClipSeconds, 1
	} else {
		r.MaxSeconds = clipSeconds
	}
	// The sides take turns, round after round, so that load from elsewhere
	// on a shared machine falls on all of them; each reports its median.
	var (
		par, seq, py []OfflineResult
		ours         map[frameKey]frameDets
	)
	for round := range rounds {
		o, found, err := runOffline(ctx, clips, cfg.FPS, r.MaxSeconds, det, true)
		if err != nil {
			return nil, err
		}
		par = append(par, o)
		if round == 0 {
			ours = found
		}
		if o, _, err = runOffline(ctx, clips, cfg.FPS, r.MaxSeconds, det, false); err != nil {
			return nil, err
		}
		seq = append(seq, o)
		// The baseline analyses the frames our sampler kept in the first round.
		base, err := runBaseline(ctx, cfg, m, det.Threshold(), clips, ours)
		if err != nil {
			return nil, err
		}
		py = append(py, base.result)
		if round == 0 {
			r.Versions = base.versions
			r.Agreement = agree(ours, base.frames)
		}
	}
	r.Rounds = rounds
	r.Ours, r.OursSequential, r.Baseline = median(par), median(seq), median(py)
	return r, nil
}

// median returns the result of median frames per second (the lower middle
// one of an even count).
func median(rs []OfflineResult) OfflineResult {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b OfflineResult) int { return cmp.Compare(a.FramesPerSec, b.FramesPerSec) })
	return s[(len(s)-1)/2]
}

// runOffline decodes the clips as fast as possible, samples fps frames per
// second of video, and detects on each sampled frame with det. In parallel
// mode decoding runs in its own goroutine, handing frames over through a
// small blocking queue, as a Pipeline does (but without dropping).
func runOffline(ctx context.Context, clips []string, fps, maxSeconds float64, det *models.Scheduler, parallel bool) (OfflineResult, map[frameKey]frameDets, error) {
	pre, err := analyzer.NewPreprocessor(det.Input())
	if err != nil {
		return OfflineResult{}, nil, fmt.Errorf("bench: %w", err)
	}
	defer pre.Close()
	type sampled struct {
		key frameKey
		ms  float64
		f   *decode.Frame
	}
	found := make(map[frameKey]frameDets)
	free := make(chan *decode.Frame, 3)
	for range cap(free) {
		free <- &decode.Frame{}
	}
	res := OfflineResult{Name: "matthan, decode ∥ infer"}
	if !parallel {
		res.Name = "matthan, one loop"
	}
	analyse := func(s sampled) error {
		defer func() { free <- s.f }()
		input, lb, err := pre.Tensor(s.f)
		if err != nil {
			return err
		}
		dets, err := det.Detect(input, lb, s.f.Width, s.f.Height)
		if err != nil {
			return err
		}
		found[s.key] = frameDets{dets: dets}
		res.Frames++
		res.Detections += len(dets)
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
					free <- s.f
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

	cpu0, start := cpuTime(), time.Now()
	var decErr error
	for _, clip := range clips {
		if ctx.Err() != nil {
			decErr = errStopped
			break
		}
		n, err := decodeSampled(clip, fps, maxSeconds, free, func(i int, ms float64, f *decode.Frame) error {
			return emit(sampled{key: frameKey{filepath.Base(clip), i}, ms: ms, f: f})
		})
		res.Decoded += n
		if err != nil {
			decErr = err
			break
		}
	}
	close(work)
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.CPUSeconds = (cpuTime() - cpu0).Seconds()
	if err := errors.Join(decErr, inferErr); err != nil {
		return res, nil, fmt.Errorf("bench: offline: %w", err)
	}
	res.FramesPerSec = float64(res.Frames) / res.Seconds
	if res.Frames > 0 {
		res.CPUPerFrame = res.CPUSeconds / float64(res.Frames)
	}
	return res, found, nil
}

// decodeSampled decodes clip and calls emit with the display index, time
// since the first frame (ms) and a converted frame taken from free, for
// every frame the sampler keeps. It stops after maxSeconds of video when
// that is set. It returns the number of frames decoded.
func decodeSampled(clip string, fps, maxSeconds float64, free chan *decode.Frame, emit func(int, float64, *decode.Frame) error) (int, error) {
	dm, err := decode.OpenFile(clip)
	if err != nil {
		return 0, err
	}
	defer dm.Close()
	dec, err := decode.NewDecoder(dm.Codec())
	if err != nil {
		return 0, err
	}
	defer dec.Close()
	period := 1000 / fps
	var (
		index          = -1
		first          time.Duration
		next           float64
		started, timed bool
	)
	// picture handles a ready picture; it reports whether to stop.
	picture := func() (bool, error) {
		index++
		pts, _ := dec.PictureTime()
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
		f := <-free
		if err := dec.Convert(f, 0, 0); err != nil {
			free <- f
			return false, nil // counted by the decoder; the frame is skipped
		}
		return false, emit(index, ms, f)
	}
	for {
		p, err := dm.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return index + 1, err
		}
		ready, _ := dec.Decode(ingest.AccessUnit{Params: dm.Params(), NALUs: p.NALUs, PTS: p.PTS, Keyframe: p.Keyframe})
		if !ready {
			continue
		}
		if stop, err := picture(); stop || err != nil {
			return index, err
		}
	}
	for {
		ready, _ := dec.Flush()
		if !ready {
			return index + 1, nil
		}
		if stop, err := picture(); stop || err != nil {
			return index, err
		}
	}
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
// model, input geometry, threshold, NMS, classes and threads, on the frames
// of sampled (the frames our sampler kept).
func runBaseline(ctx context.Context, cfg Config, m models.Manifest, threshold float32, clips []string, sampled map[frameKey]frameDets) (*baselineRun, error) {
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
		"--threads", strconv.Itoa(cfg.Threads),
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
		Name: "Python: OpenCV + onnxruntime", Frames: out.Frames, Decoded: out.Decoded,
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
