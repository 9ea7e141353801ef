package analyzer

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

func TestIsReference(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codec ingest.Codec
		nalus [][]byte
		want  bool
	}{
		{"h264 idr", ingest.H264, [][]byte{{0x65}}, true},
		{"h264 reference p", ingest.H264, [][]byte{{0x41}}, true},
		{"h264 non-reference b", ingest.H264, [][]byte{{0x01}}, false},
		{"h264 sei then non-reference slice", ingest.H264, [][]byte{{0x06, 0x05}, {0x01}}, false},
		{"h264 aud, sps, pps, idr", ingest.H264, [][]byte{{0x09}, {0x67}, {0x68}, {0x65}}, true},
		{"h264 no slice", ingest.H264, [][]byte{{0x67}, {0x68}}, true},
		{"empty", ingest.H264, [][]byte{{}}, true},
		{"h265 trail_n", ingest.H265, [][]byte{{0x00, 0x01}}, false},
		{"h265 trail_r", ingest.H265, [][]byte{{0x02, 0x01}}, true},
		{"h265 rasl_n", ingest.H265, [][]byte{{0x10, 0x01}}, false},
		{"h265 reserved vcl_n14", ingest.H265, [][]byte{{0x1c, 0x01}}, false},
		{"h265 reserved vcl_r15", ingest.H265, [][]byte{{0x1e, 0x01}}, true},
		{"h265 idr_w_radl", ingest.H265, [][]byte{{0x26, 0x01}}, true},
		{"h265 vps then trail_n", ingest.H265, [][]byte{{0x40, 0x01}, {0x00, 0x01}}, false},
		{"h265 no slice", ingest.H265, [][]byte{{0x40, 0x01}, {0x42, 0x01}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isReference(tc.codec, tc.nalus); got != tc.want {
				t.Errorf("isReference = %v, want %v", got, tc.want)
			}
		})
	}
}

// synthGOPs returns n GOPs of an H.264 stream in decode order, starting at
// PTS from: each a keyframe and frames-1 more pictures every interval,
// where pattern (repeated after the keyframe) says which are references
// ('R') and which not ('n'). Non-reference pictures get the PTS before
// the reference that follows them, as B-frames do.
func synthGOPs(from time.Duration, n, frames int, interval time.Duration, pattern string) []ingest.AccessUnit {
	var aus []ingest.AccessUnit
	pts := from
	for range n {
		aus = append(aus, ingest.AccessUnit{NALUs: [][]byte{{0x65}}, PTS: pts, Keyframe: true})
		for i := 1; i < frames; i++ {
			nal := byte(0x41)
			if pattern[(i-1)%len(pattern)] == 'n' {
				nal = 0x01
			}
			aus = append(aus, ingest.AccessUnit{NALUs: [][]byte{{nal}}, PTS: pts + time.Duration(i)*interval})
		}
		pts += time.Duration(frames) * interval
	}
	return aus
}

func TestStreamShapeMode(t *testing.T) {
	const frame30 = time.Second / 30
	pOnly := synthGOPs(0, 4, 120, frame30, "R")    // 4 s GOPs, no B-frames
	bFrames := synthGOPs(0, 4, 120, frame30, "Rn") // every other picture a non-reference one
	keyOnly := synthGOPs(0, 1, 1, frame30, "R")    // one keyframe: no complete GOP
	oneGOP := synthGOPs(0, 2, 120, frame30, "Rn")[:121]
	// A PTS jump of two minutes between GOPs (see TestStreamShapeForgets).
	jump := append(synthGOPs(0, 2, 120, frame30, "Rn"), synthGOPs(2*time.Minute, 2, 60, frame30, "Rn")...)

	for _, tc := range []struct {
		name   string
		aus    []ingest.AccessUnit
		period time.Duration
		want   decode.Mode
	}{
		{"nothing seen", nil, time.Minute, decode.EveryFrame},
		{"no complete gop", keyOnly, time.Minute, decode.EveryFrame},
		{"one gop: not yet keyframes only", oneGOP, time.Minute, decode.SkipNonReference},
		{"one gop, fast sampling", oneGOP, frame30, decode.EveryFrame},
		{"no non-reference pictures", pOnly, 200 * time.Millisecond, decode.EveryFrame},
		{"p only, period below gop", pOnly, 3900 * time.Millisecond, decode.EveryFrame},
		{"p only, period of the gop", pOnly, 4 * time.Second, decode.KeyframesOnly},
		{"b-frames, every frame wanted", bFrames, frame30, decode.EveryFrame},
		{"b-frames, just under the reference gap", bFrames, 2*frame30 - time.Millisecond, decode.EveryFrame},
		{"b-frames, the reference gap", bFrames, 2 * frame30, decode.SkipNonReference},
		{"b-frames, 5 fps", bFrames, 200 * time.Millisecond, decode.SkipNonReference},
		{"b-frames, 0.2 fps", bFrames, 5 * time.Second, decode.KeyframesOnly},
		{"jump, before and after", jump, 4 * time.Second, decode.KeyframesOnly},
		{"no period", bFrames, 0, decode.EveryFrame},
		// The open GOP counts once it spans a second.
		{"open gop under a second", synthGOPs(0, 1, 25, frame30, "Rn"), 200 * time.Millisecond, decode.EveryFrame},
		{"open gop of 2 s, b-frames", synthGOPs(0, 1, 61, frame30, "Rn"), 200 * time.Millisecond, decode.SkipNonReference},
		{"open gop of 2 s, fast sampling", synthGOPs(0, 1, 61, frame30, "Rn"), frame30, decode.EveryFrame},
		{"open gop of 2 s, p only", synthGOPs(0, 1, 61, frame30, "R"), 200 * time.Millisecond, decode.EveryFrame},
		{"open gop only: never keyframes only", synthGOPs(0, 1, 61, frame30, "Rn"), time.Minute, decode.SkipNonReference},
		// Two 4 s GOPs, then an open one already longer than the period.
		{"open gop longer than the period", append(slices.Clone(bFrames[:240]), synthGOPs(8*time.Second, 1, 150, frame30, "Rn")...), 4500 * time.Millisecond, decode.SkipNonReference},
		{"open gop shorter than the period", append(slices.Clone(bFrames[:240]), synthGOPs(8*time.Second, 1, 100, frame30, "Rn")...), 4500 * time.Millisecond, decode.KeyframesOnly},
		// References every 2 pictures; the last one arrived 4 pictures on,
		// its reference B-frame not yet: the last gap is not counted.
		{"open gop, reference b-frame on its way", append(synthGOPs(0, 1, 41, frame30, "nR"), ingest.AccessUnit{NALUs: [][]byte{{0x41}}, PTS: 44 * frame30}), 2 * frame30, decode.SkipNonReference},
		{"open gop, the long gap confirmed", append(synthGOPs(0, 1, 41, frame30, "nR"), ingest.AccessUnit{NALUs: [][]byte{{0x41}}, PTS: 44 * frame30}, ingest.AccessUnit{NALUs: [][]byte{{0x41}}, PTS: 46 * frame30}), 2 * frame30, decode.EveryFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s streamShape
			for _, au := range tc.aus {
				s.observe(ingest.H264, au)
			}
			if got := s.mode(tc.period); got != tc.want {
				t.Errorf("mode(%v) = %v, want %v (%d gops: %+v)", tc.period, got, tc.want, s.n, s.gops[:s.n])
			}
		})
	}
}

func TestStreamShapeForgets(t *testing.T) {
	const frame30 = time.Second / 30
	var s streamShape
	for _, au := range synthGOPs(0, 3, 120, frame30, "Rn") {
		s.observe(ingest.H264, au)
	}
	if got := s.mode(5 * time.Second); got != decode.KeyframesOnly {
		t.Fatalf("mode after 2 gops = %v, want %v", got, decode.KeyframesOnly)
	}

	// Units went missing: the open GOP is not counted, so a keyframe 20 s
	// after the last one does not make a GOP of 20 s.
	s.interrupt()
	for _, au := range synthGOPs(24*time.Second, 1, 1, frame30, "R") {
		s.observe(ingest.H264, au)
	}
	if s.n != 2 {
		t.Errorf("%d gops after an interruption, want the 2 from before", s.n)
	}

	// A jump of the stream's clock is not a GOP.
	for _, au := range synthGOPs(24*time.Second+3*time.Minute, 1, 1, frame30, "R") {
		s.observe(ingest.H264, au)
	}
	if s.n != 2 {
		t.Errorf("%d gops after a jump of the clock, want 2", s.n)
	}

	// A new stream: nothing is known.
	s.reset()
	if got := s.mode(5 * time.Second); got != decode.EveryFrame {
		t.Errorf("mode after reset = %v, want %v", got, decode.EveryFrame)
	}
	for _, au := range synthGOPs(0, 2, 120, frame30, "R") {
		s.observe(ingest.H264, au)
	}
	if s.n != 1 {
		t.Errorf("%d gops after reset and 2 keyframes, want 1", s.n)
	}
}

// TestStreamShapeRealClips learns the structure of the real clips, looped
// as the camera simulator loops them (PTS keeps increasing), and checks the
// modes the issue asks for.
func TestStreamShapeRealClips(t *testing.T) {
	for _, tc := range []struct {
		clip   string
		period time.Duration
		want   decode.Mode
	}{
		// 30 fps, P-frames only, 4.27 s GOPs.
		{"traffic_intersection_signals_cctv_day.mp4", time.Second / 30, decode.EveryFrame},
		{"traffic_intersection_signals_cctv_day.mp4", 200 * time.Millisecond, decode.EveryFrame},
		{"traffic_intersection_signals_cctv_day.mp4", 4 * time.Second, decode.EveryFrame},
		{"traffic_intersection_signals_cctv_day.mp4", 5 * time.Second, decode.KeyframesOnly},
		// 23.98 fps, B-frames (every other picture a reference), GOPs of
		// 10.4 s and, at the loop, 9.6 s.
		{"traffic_road_overhead_both_directions_dusk.mp4", time.Second / 30, decode.EveryFrame},
		{"traffic_road_overhead_both_directions_dusk.mp4", 100 * time.Millisecond, decode.SkipNonReference},
		{"traffic_road_overhead_both_directions_dusk.mp4", 200 * time.Millisecond, decode.SkipNonReference},
		{"traffic_road_overhead_both_directions_dusk.mp4", 10 * time.Second, decode.SkipNonReference},
		{"traffic_road_overhead_both_directions_dusk.mp4", 11 * time.Second, decode.KeyframesOnly},
	} {
		t.Run(tc.clip+"/"+tc.period.String(), func(t *testing.T) {
			codec, aus := readClip(t, tc.clip, 3)
			var s streamShape
			for _, au := range aus {
				s.observe(codec, au)
			}
			if got := s.mode(tc.period); got != tc.want {
				t.Errorf("mode(%v) = %v, want %v (gops %+v)", tc.period, got, tc.want, s.gops[:s.n])
			}
		})
	}
}

// readClip returns the access units of a clip played loops times, the PTS
// of each loop following the last, with the clip's parameter sets.
func readClip(t testing.TB, clip string, loops int) (ingest.Codec, []ingest.AccessUnit) {
	t.Helper()
	dm, err := decode.OpenFile(testenv.Clip(t, clip))
	if err != nil {
		t.Fatal(err)
	}
	defer dm.Close()
	var one []ingest.AccessUnit
	var last time.Duration
	for {
		p, err := dm.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		one = append(one, ingest.AccessUnit{Params: dm.Params(), NALUs: p.NALUs, PTS: p.PTS, Keyframe: p.Keyframe})
		last = max(last, p.PTS)
	}
	step := last + time.Duration(float64(time.Second)/dm.FrameRate())
	var aus []ingest.AccessUnit
	for i := range loops {
		for _, au := range one {
			au.PTS += time.Duration(i) * step
			aus = append(aus, au)
		}
	}
	return dm.Codec(), aus
}

// noDetector is a Detector that finds nothing: these tests are about
// which pictures reach analysis, not what is in them.
type noDetector struct{ man models.Manifest }

func (d noDetector) Manifest() models.Manifest { return d.man }

func (noDetector) Detect([]float32, models.Letterbox, int, int) ([]models.Detection, error) {
	return nil, nil
}

// sampledFrames is a Health hook recording the capture times of the
// sampled frames; gate, when set, holds the decoder until it is closed.
type sampledFrames struct {
	mu   sync.Mutex
	ts   []time.Time
	gate chan struct{}
}

func (s *sampledFrames) Observe(f *decode.Frame) error {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	s.ts = append(s.ts, f.Capture)
	s.mu.Unlock()
	return nil
}

func (s *sampledFrames) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ts)
}

// feed runs p, hands it aus (their capture time base + PTS) and waits until
// the decoder has taken every unit Push kept; then it stops p. between, when
// set, runs before each unit.
func feed(t *testing.T, p *Pipeline, aus []ingest.AccessUnit, base time.Time, between func(i int)) {
	t.Helper()
	p.init()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	dropped := p.Metrics.FramesDropped.WithLabelValues(p.CameraID, stageIngestQueue)
	for i, au := range aus {
		if between != nil {
			between(i)
		}
		au.Capture = base.Add(au.PTS)
		p.Push(au)
	}
	deadline := time.Now().Add(time.Minute)
	for p.Stats().AccessUnits+int64(testutil.ToFloat64(dropped)) < int64(len(aus)) {
		if time.Now().After(deadline) {
			t.Fatalf("the decoder took %d of %d access units", p.Stats().AccessUnits, len(aus))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func newTestPipeline(t *testing.T, fps float64, h FrameObserver) *Pipeline {
	t.Helper()
	man, err := models.Zoo("yolox_nano")
	if err != nil {
		t.Fatal(err)
	}
	return &Pipeline{CameraID: "road", FPS: fps, Detector: noDetector{man}, Health: h, Publish: func(sink.Event) {}}
}

// TestPipelineKeyframesOnlyWithBFrames feeds the B-frame road clip, four
// loops, at one frame per 15 s: from a second or two into the first GOP the
// decoder skips the non-reference pictures, after two GOPs (10.4 s and
// 9.6 s) it decodes keyframes only, and each keyframe comes out at once even
// though no later picture pushes it out of the decoder's reordering.
func TestPipelineKeyframesOnlyWithBFrames(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	_, aus := readClip(t, "traffic_road_overhead_both_directions_dusk.mp4", 4)
	base := time.Unix(1_700_000_000, 0).UTC()
	var keys []time.Time
	for _, au := range aus {
		if au.Keyframe {
			keys = append(keys, base.Add(au.PTS))
		}
	}
	// Once the first GOP has shown a second of its structure the decoder
	// skips the non-reference pictures; after two GOPs it decodes keyframes
	// only. decoded(from) counts the pictures when skipping begins at the
	// first unit shown from that time: every unit before, the reference
	// ones after, up to the third keyframe, then the keyframes.
	second := slices.IndexFunc(aus, func(au ingest.AccessUnit) bool { return au.Keyframe && au.PTS > 0 })
	third := second + 1 + slices.IndexFunc(aus[second+1:], func(au ingest.AccessUnit) bool { return au.Keyframe })
	decoded := func(from time.Duration) int64 {
		start := slices.IndexFunc(aus, func(au ingest.AccessUnit) bool { return au.PTS >= from })
		n := int64(start + len(keys) - 2)
		for _, au := range aus[start:third] {
			if isReference(ingest.H264, au.NALUs) {
				n++
			}
		}
		return n
	}
	least, most := decoded(time.Second), decoded(3*time.Second)

	h := &sampledFrames{}
	p := newTestPipeline(t, 1.0/15, h)
	p.QueueSize = len(aus)
	feed(t, p, aus, base, nil)

	s := p.Stats()
	if s.DecodeMode != decode.KeyframesOnly {
		t.Errorf("mode %v, want %v", s.DecodeMode, decode.KeyframesOnly)
	}
	t.Logf("%d pictures decoded of %d units; %d to %d expected", s.FramesDecoded, len(aus), least, most)
	if s.FramesDecoded < least || s.FramesDecoded > most {
		t.Errorf("%d pictures decoded, want %d to %d: the units of the first 1 to 3 s, then the reference pictures up to the third keyframe (unit %d of %d) and the %d keyframes from there",
			s.FramesDecoded, least, most, third, len(aus), len(keys)-2)
	}
	var late int
	for _, ts := range h.times() {
		if ts.Before(keys[2]) {
			continue
		}
		late++
		if !slices.ContainsFunc(keys, ts.Equal) {
			t.Errorf("sampled frame at %v is not a keyframe", ts.Sub(base))
		}
	}
	if late < 3 {
		t.Errorf("%d frames sampled after the switch, want 3 (keyframes at 30.5, 50.5 and 60.1 s)", late)
	}
	if n := testutil.ToFloat64(p.Metrics.DecodeErrors.WithLabelValues(p.CameraID)); n != 0 {
		t.Errorf("%v decode errors", n)
	}
}

// TestPipelineResyncAfterDrops holds the decoder while a loop of the road
// clip arrives, so the queue overflows and Push drops units up to a
// keyframe; the decoder then starts cleanly there, finds the stream's
// structure again and skips the non-reference pictures.
func TestPipelineResyncAfterDrops(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	_, aus := readClip(t, "traffic_road_overhead_both_directions_dusk.mp4", 4)
	base := time.Unix(1_700_000_000, 0).UTC()
	h := &sampledFrames{gate: make(chan struct{})}
	p := newTestPipeline(t, 5, h)
	p.QueueSize = 16
	dropped := func() float64 {
		return testutil.ToFloat64(p.Metrics.FramesDropped.WithLabelValues(p.CameraID, stageIngestQueue))
	}
	var last Stats // at the start of the last loop
	feed(t, p, aus, base, func(i int) {
		if i == len(aus)/4 {
			// After the first loop, the decoder goes on.
			close(h.gate)
		}
		if i > len(aus)/4 {
			// From then on, one unit at a time: no more drops.
			for p.Stats().AccessUnits+int64(dropped()) < int64(i) {
				time.Sleep(time.Millisecond)
			}
		}
		if i == len(aus)*3/4 {
			last = p.Stats()
		}
	})
	s := p.Stats()
	aus4, pics4 := s.AccessUnits-last.AccessUnits, s.FramesDecoded-last.FramesDecoded
	t.Logf("%d units received, %.0f dropped, %d pictures decoded; last loop: %d units, %d pictures", s.AccessUnits, dropped(), s.FramesDecoded, aus4, pics4)
	if dropped() == 0 {
		t.Fatal("no unit dropped")
	}
	if s.DecodeMode != decode.SkipNonReference {
		t.Errorf("mode %v, want %v", s.DecodeMode, decode.SkipNonReference)
	}
	if n := testutil.ToFloat64(p.Metrics.DecodeErrors.WithLabelValues(p.CameraID)); n != 0 {
		t.Errorf("%v decode errors", n)
	}
	// Half of the road clip's pictures are references.
	if pics4 < aus4*45/100 || pics4 > aus4*55/100 {
		t.Errorf("%d pictures decoded of the last loop's %d units, want half", pics4, aus4)
	}
}
