package record

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/matthan/matthan/ingest"
)

func TestMain(m *testing.M) {
	if root := os.Getenv(crashChildEnv); root != "" {
		os.Exit(crashChild(root)) // a recorder for TestRecorderKilled to kill
	}
	goleak.VerifyTestMain(m)
}

// TestRecorderFootage records real clips faster than real time and checks
// the segments with ffprobe, against the clip and the index.
func TestRecorderFootage(t *testing.T) {
	tests := []struct {
		name     string
		clip     func(testing.TB) string // a clip name or a path
		segment  time.Duration
		byDTS    bool     // Capture follows DTS (arrival order) instead of PTS
		segments []string // end reasons
	}{
		{"H.264 no B-frames", named(clipIntersection), 10 * time.Second, true, []string{EndDuration, EndDuration, EndStop}},
		{"H.264 B-frames, capture by DTS", named(clipOverhead), 10 * time.Second, true, []string{EndDuration, EndStop}},
		{"H.264 B-frames, capture by PTS", named(clipOverhead), 10 * time.Second, false, []string{EndDuration, EndStop}},
		{"H.265 B-frames", h265Clip, 3 * time.Second, false, []string{EndDuration, EndStop}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := loadClip(t, tc.clip(t))
			root := t.TempDir()
			reg := prometheus.NewRegistry()
			m, err := NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			r := &Recorder{Root: root, CameraID: "cam", SegmentDuration: tc.segment,
				QueueLength: 2000, Metrics: m}
			x := start(r)
			aus := make([]ingest.AccessUnit, len(f.packets))
			for i := range f.packets {
				aus[i] = f.accessUnit(i, 0, tc.byDTS)
			}
			pushPaced(r, aus...)
			if err := x.stop(t); err != nil {
				t.Fatalf("Run: %v", err)
			}

			segs, err := ReadIndex(root, "cam")
			if err != nil {
				t.Fatal(err)
			}
			if got := reasons(segs); !slices.Equal(got, tc.segments) {
				t.Fatalf("segments ended %v, want %v", got, tc.segments)
			}
			keyCaptures := map[time.Time]bool{}
			for _, au := range aus {
				if au.Keyframe {
					keyCaptures[au.Capture.Truncate(time.Millisecond)] = true
				}
			}
			var (
				frames     int
				sum        time.Duration
				totalBytes int64
				totalParts int
				presented  []time.Time // absolute presentation times of every recorded frame
			)
			for i, s := range segs {
				path := filepath.Join(root, "cam", s.Path)
				if want := s.Start.Format("2006-01-02/15-04-05") + ".mp4"; s.Path != want || s.Camera != "cam" {
					t.Errorf("segment %d: camera %q path %q, want cam %q", i, s.Camera, s.Path, want)
				}
				if !keyCaptures[s.Start] {
					t.Errorf("segment %d starts at %v, not at the capture time of a keyframe", i, s.Start)
				}
				sum256, size := fileSHA256(t, path)
				if sum256 != s.SHA256 || size != s.Size {
					t.Errorf("segment %d: index sha256 %s size %d, file has %s %d", i, s.SHA256, s.Size, sum256, size)
				}
				totalBytes += size
				totalParts += countBoxes(t, path, "moof")

				p := probe(t, path)
				if p.stderr != "" {
					t.Errorf("segment %d: ffprobe -v error says %q", i, p.stderr)
				}
				if p.frames != len(p.packets) || p.frames != s.Frames {
					t.Errorf("segment %d: ffprobe decoded %d frames of %d packets, index says %d", i, p.frames, len(p.packets), s.Frames)
				}
				if len(p.packets) == 0 || !p.packets[0].key || p.packets[0].dts != 0 {
					t.Fatalf("segment %d does not start with a keyframe at dts 0: %+v", i, p.packets[:min(1, len(p.packets))])
				}
				for j := 1; j < len(p.packets); j++ {
					if p.packets[j].dts <= p.packets[j-1].dts {
						t.Fatalf("segment %d: dts not increasing at packet %d: %v after %v", i, j, p.packets[j].dts, p.packets[j-1].dts)
					}
				}
				first := p.packets[0].pts // the keyframe, presented at capture time s.Start
				span := p.end() - first
				if d := absDur(span - s.Duration); d > 2*time.Millisecond {
					t.Errorf("segment %d: ffprobe spans %v, index duration %v", i, span, s.Duration)
				}
				if i+1 < len(segs) {
					next := segs[i+1].Start
					if d := absDur(s.Start.Add(span).Sub(next)); d > f.period {
						t.Errorf("segment %d ends at %v, next starts at %v: %v apart, more than a frame", i, s.Start.Add(span), next, d)
					}
					if !s.End.Equal(next) {
						t.Errorf("index: segment %d ends %v, next starts %v", i, s.End, next)
					}
				}
				for _, k := range p.packets {
					presented = append(presented, s.Start.Add(k.pts-first))
				}
				frames += len(p.packets)
				sum += span
				t.Logf("segment %d: %s %v..%v %d frames, ffprobe span %v, %d bytes", i, s.Path,
					s.Start.Format("15:04:05.000"), s.End.Format("15:04:05.000"), s.Frames, span, s.Size)
			}
			if frames != len(f.packets) {
				t.Errorf("%d frames in the segments, the clip has %d", frames, len(f.packets))
			}
			if d := absDur(sum - f.duration); d > time.Duration(len(segs))*f.period {
				t.Errorf("segments last %v in all, the clip %v", sum, f.duration)
			}
			if !tc.byDTS {
				// Capture follows PTS: every frame is presented at its capture time.
				slices.SortFunc(presented, time.Time.Compare)
				want := make([]time.Time, len(aus))
				for i, au := range aus {
					want[i] = au.Capture
				}
				slices.SortFunc(want, time.Time.Compare)
				for i := range want {
					if d := absDur(presented[i].Sub(want[i])); d > 2*time.Millisecond {
						t.Fatalf("frame %d in presentation order shown at %v, captured at %v", i, presented[i], want[i])
					}
				}
			}
			for _, c := range []struct {
				name string
				want float64
			}{
				{"bytes_written_total", float64(totalBytes)},
				{"segments_closed_total", float64(len(segs))},
				{"parts_written_total", float64(totalParts)},
				{"dropped_access_units_total", 0},
				{"gaps_total", 0},
			} {
				if got := counter(t, reg, c.name, "cam"); got != c.want {
					t.Errorf("metric %s = %v, want %v", c.name, got, c.want)
				}
			}
			if min := int(f.duration / time.Second); totalParts < min {
				t.Errorf("%d parts for %v of video, want at least one a second", totalParts, f.duration)
			}
		})
	}
}

// TestRecorderInterrupted cuts a recording short in the middle of a part:
// by cancelling Run, and by copying the file while a part is half written
// (what a crash leaves on disk).
func TestRecorderInterrupted(t *testing.T) {
	f := loadClip(t, clipIntersection)

	t.Run("cancel", func(t *testing.T) {
		root := t.TempDir()
		r := &Recorder{Root: root, CameraID: "cam", QueueLength: 2000}
		x := start(r)
		const n = 100 // 3.33 s: the fourth part is under way
		for i := range n {
			r.Push(f.accessUnit(i, 0, true))
		}
		if err := x.stop(t); err != nil { // at once, while the writer is busy
			t.Fatal(err)
		}
		segs, err := ReadIndex(root, "cam")
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) != 1 || segs[0].EndReason != EndStop || segs[0].Frames != n {
			t.Fatalf("index %+v, want one stopped segment of %d frames", segs, n)
		}
		path := filepath.Join(root, "cam", segs[0].Path)
		if sum, _ := fileSHA256(t, path); sum != segs[0].SHA256 {
			t.Errorf("sha256 %s, index %s", sum, segs[0].SHA256)
		}
		p := probe(t, path)
		if p.stderr != "" || p.frames != n {
			t.Errorf("ffprobe decoded %d frames, want %d; stderr %q", p.frames, n, p.stderr)
		}
		if want := time.Duration(n) * f.period; absDur(segs[0].Duration-want) > time.Millisecond {
			t.Errorf("duration %v, want %v", segs[0].Duration, want)
		}
	})

	t.Run("crash", func(t *testing.T) {
		root := t.TempDir()
		crash := filepath.Join(t.TempDir(), "crash.mp4")
		var (
			parts int
			done  = -1
		)
		r := &Recorder{Root: root, CameraID: "cam", QueueLength: 2000}
		r.testHookPartWrite = func(path string, framesDone int) {
			if parts++; parts != 3 {
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Error(err)
				return
			}
			if err := os.WriteFile(crash, b, 0o644); err != nil {
				t.Error(err)
			}
			done = framesDone
		}
		x := start(r)
		for i := range 200 {
			pushPaced(r, f.accessUnit(i, 0, true))
		}
		if err := x.stop(t); err != nil {
			t.Fatal(err)
		}
		if done != 60 {
			t.Fatalf("crash copied after %d frames, want two parts of 30", done)
		}
		if !truncated(t, crash) {
			t.Fatal("the crash copy ends on a box boundary: the part was not cut")
		}
		p := probe(t, crash)
		t.Logf("crash copy: %d packets, %d frames decoded, stderr %q", len(p.packets), p.frames, p.stderr)
		if p.frames < done {
			t.Fatalf("ffprobe decoded %d frames of the crashed file, %d were complete", p.frames, done)
		}
		for j := range done {
			if want := time.Duration(j) * f.period; absDur(p.packets[j].pts-want) > time.Millisecond {
				t.Fatalf("frame %d of the crashed file at %v, want %v", j, p.packets[j].pts, want)
			}
		}
	})
}

// TestRecorderGap overflows the queue: the drops are counted and the
// recording has a gap until the next keyframe.
func TestRecorderGap(t *testing.T) {
	f := loadClip(t, clipIntersection)
	root := t.TempDir()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	const queue, drop = 64, 10 // keyframes at 0, 128, 256...
	r := &Recorder{Root: root, CameraID: "cam", QueueLength: queue, Metrics: m}
	for i := range queue + drop { // the writer is not running yet
		r.Push(f.accessUnit(i, 0, true))
	}
	x := start(r)
	for i := queue + drop; i < 300; i++ {
		pushPaced(r, f.accessUnit(i, 0, true))
	}
	if err := x.stop(t); err != nil {
		t.Fatal(err)
	}
	// pushed = recorded + dropped: the queue drops, then the frames up to
	// the next keyframe, which cannot be decoded without the dropped ones.
	if got := counter(t, reg, "dropped_access_units_total", "cam"); got != 128-queue {
		t.Errorf("dropped %v, want %d (%d queue drops, then up to keyframe 128)", got, 128-queue, drop)
	}
	if got := counter(t, reg, "gaps_total", "cam"); got != 1 {
		t.Errorf("gaps %v, want 1", got)
	}
	segs, err := ReadIndex(root, "cam")
	if err != nil {
		t.Fatal(err)
	}
	if got := reasons(segs); !slices.Equal(got, []string{EndGap, EndStop}) {
		t.Fatalf("segments ended %v, want [gap stop]", got)
	}
	if segs[0].Frames != queue || segs[1].Frames != 300-128 {
		t.Errorf("frames %d and %d, want %d before the gap and %d from keyframe 128", segs[0].Frames, segs[1].Frames, queue, 300-128)
	}
	if want := f.accessUnit(128, 0, true).Capture.Truncate(time.Millisecond); !segs[1].Start.Equal(want) {
		t.Errorf("second segment starts %v, want keyframe 128 at %v", segs[1].Start, want)
	}
	if !segs[0].End.Before(segs[1].Start) {
		t.Errorf("no gap in the index: %v then %v", segs[0].End, segs[1].Start)
	}
	for _, s := range segs {
		if p := probe(t, filepath.Join(root, "cam", s.Path)); p.stderr != "" || p.frames != s.Frames {
			t.Errorf("%s: ffprobe decoded %d frames, index %d; stderr %q", s.Path, p.frames, s.Frames, p.stderr)
		}
	}
}

// TestRecorderParamsChange feeds two clips with different SPS back to back,
// twice with the same capture times: the change starts a new segment, and
// the second run does not overwrite the first run's files.
func TestRecorderParamsChange(t *testing.T) {
	a, b := loadClip(t, clipIntersection), loadClip(t, clipOverhead)
	root := t.TempDir()
	for range 2 {
		r := &Recorder{Root: root, CameraID: "cam", QueueLength: 2000}
		x := start(r)
		for i := range 60 {
			pushPaced(r, a.accessUnit(i, 0, false))
		}
		for i := range 60 {
			pushPaced(r, b.accessUnit(i, 2*time.Second, false))
		}
		if err := x.stop(t); err != nil {
			t.Fatal(err)
		}
	}
	segs, err := ReadIndex(root, "cam")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{EndParams, EndStop, EndParams, EndStop}
	if got := reasons(segs); !slices.Equal(got, want) {
		t.Fatalf("segments ended %v, want %v", got, want)
	}
	paths := map[string]bool{}
	for i, s := range segs {
		paths[s.Path] = true
		p := probe(t, filepath.Join(root, "cam", s.Path))
		wantH := []int{480, 360}[i%2]
		if p.stderr != "" || p.frames != 60 || p.width != 640 || p.height != wantH {
			t.Errorf("%s: %dx%d, %d frames, stderr %q; want 640x%d, 60 frames", s.Path, p.width, p.height, p.frames, p.stderr, wantH)
		}
	}
	if len(paths) != 4 || !strings.HasSuffix(segs[2].Path, "_1.mp4") {
		t.Errorf("segment paths %v: want four files, the repeats suffixed _1", slices.Collect(func(yield func(string) bool) {
			for _, s := range segs {
				yield(s.Path)
			}
		}))
	}
}

// TestRecorderRefuses checks the errors Run returns for bad config and for
// streams it cannot record.
func TestRecorderRefuses(t *testing.T) {
	f := loadClip(t, clipIntersection)
	key := f.accessUnit(0, 0, false)
	badCodec, badSPS := *f.params, *f.params
	badCodec.Codec = "MJPEG"
	badSPS.SPS = []byte{0x67, 0xff}
	tests := []struct {
		name  string
		r     *Recorder
		au    *ingest.StreamParams
		want  error
		field string
	}{
		{"no root", &Recorder{CameraID: "cam"}, nil, ErrInvalidConfig, "Root"},
		{"camera path", &Recorder{Root: "x", CameraID: "../cam"}, nil, ErrInvalidConfig, "CameraID"},
		{"empty camera", &Recorder{Root: "x"}, nil, ErrInvalidConfig, "CameraID"},
		{"negative segment", &Recorder{Root: "x", CameraID: "c", SegmentDuration: -1}, nil, ErrInvalidConfig, "SegmentDuration"},
		{"part longer than segment", &Recorder{Root: "x", CameraID: "c", SegmentDuration: time.Second, PartDuration: 2 * time.Second}, nil, ErrInvalidConfig, "PartDuration"},
		{"codec", &Recorder{CameraID: "c"}, &badCodec, ErrUnsupportedCodec, "MJPEG"},
		{"bad SPS", &Recorder{CameraID: "c"}, &badSPS, ErrInvalidParams, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			if r.Root == "" && tc.au != nil {
				r.Root = t.TempDir()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if tc.au != nil {
				au := key
				au.Params = tc.au
				r.Push(au)
			}
			err := r.Run(ctx)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Run: %v, want %v naming %q", err, tc.want, tc.field)
			}
		})
	}
}

// TestReadIndex reads well-formed, torn and corrupt indexes.
func TestReadIndex(t *testing.T) {
	line := `{"camera":"cam","path":"2025-03-14/09-26-53.mp4","start":"2025-03-14T09:26:53.000Z","end":"2025-03-14T09:27:05.800Z","duration":12.8,"size":10,"sha256":"ab","frames":384,"end_reason":"duration"}`
	want := Segment{Camera: "cam", Path: "2025-03-14/09-26-53.mp4", Start: base, End: base.Add(12800 * time.Millisecond),
		Duration: 12800 * time.Millisecond, Size: 10, SHA256: "ab", Frames: 384, EndReason: EndDuration}
	tests := []struct {
		name    string
		content *string
		n       int
		err     error
	}{
		{"missing", nil, 0, os.ErrNotExist},
		{"two lines", ptr(line + "\n" + line + "\n"), 2, nil},
		{"torn last line", ptr(line + "\n" + line[:40]), 1, nil},
		{"corrupt line", ptr(line[:40] + "\n" + line + "\n"), 0, ErrCorruptIndex},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.content != nil {
				os.MkdirAll(filepath.Join(root, "cam"), 0o755)
				if err := os.WriteFile(filepath.Join(root, "cam", IndexFile), []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			segs, err := ReadIndex(root, "cam")
			if !errors.Is(err, tc.err) || len(segs) != tc.n {
				t.Fatalf("ReadIndex: %d segments, %v; want %d, %v", len(segs), err, tc.n, tc.err)
			}
			for _, s := range segs {
				if s != want {
					t.Errorf("read %+v, want %+v", s, want)
				}
			}
		})
	}

	t.Run("append after torn line", func(t *testing.T) {
		root := t.TempDir()
		dir := filepath.Join(root, "cam")
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, IndexFile), []byte(line+"\n"+line[:40]), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := appendIndex(dir, want); err != nil { // cuts the torn line first
			t.Fatal(err)
		}
		segs, err := ReadIndex(root, "cam")
		if err != nil || len(segs) != 2 || segs[1] != want {
			t.Fatalf("ReadIndex after repair: %+v, %v; want the first line and the appended one", segs, err)
		}
	})
}

// named returns a clip getter for a clip of the footage.
func named(clip string) func(testing.TB) string {
	return func(testing.TB) string { return clip }
}

func ptr[T any](v T) *T { return &v }

// reasons lists the end reasons of segs.
func reasons(segs []Segment) []string {
	var out []string
	for _, s := range segs {
		out = append(out, s.EndReason)
	}
	return out
}

// countBoxes counts the top-level MP4 boxes of a type in a file.
func countBoxes(tb testing.TB, path, typ string) int {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for len(b) >= 8 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 || size > len(b) {
			tb.Fatalf("%s: bad box size %d", path, size)
		}
		if string(b[4:8]) == typ {
			n++
		}
		b = b[size:]
	}
	return n
}

// truncated reports whether the last top-level box of a file runs past its end.
func truncated(tb testing.TB, path string) bool {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	for len(b) >= 8 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 {
			tb.Fatalf("%s: bad box size %d", path, size)
		}
		if size > len(b) {
			return true
		}
		b = b[size:]
	}
	return len(b) > 0
}

// TestRecorderCameraRestart restarts the stream's timestamps at a keyframe
// (a camera reboot without new parameters): the segment ends with a gap and
// the next starts at that keyframe, nothing dropped.
func TestRecorderCameraRestart(t *testing.T) {
	f := loadClip(t, clipIntersection)
	root := t.TempDir()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	r := &Recorder{Root: root, CameraID: "cam", QueueLength: 2000, Metrics: m}
	x := start(r)
	for i := range 200 {
		pushPaced(r, f.accessUnit(i, 0, false))
	}
	restart := f.packets[256].PTS
	for i := 256; i < 400; i++ {
		au := f.accessUnit(i, -restart, false) // PTS from 0 again
		au.Capture = base.Add(time.Minute + f.packets[i].PTS - restart)
		pushPaced(r, au)
	}
	if err := x.stop(t); err != nil {
		t.Fatal(err)
	}
	segs, err := ReadIndex(root, "cam")
	if err != nil {
		t.Fatal(err)
	}
	if got := reasons(segs); !slices.Equal(got, []string{EndGap, EndStop}) || segs[0].Frames != 200 || segs[1].Frames != 144 {
		t.Fatalf("segments %+v, want a gap after 200 frames then 144", segs)
	}
	if got := counter(t, reg, "dropped_access_units_total", "cam"); got != 0 {
		t.Errorf("dropped %v access units, want 0", got)
	}
	for _, s := range segs {
		if p := probe(t, filepath.Join(root, "cam", s.Path)); p.stderr != "" || p.frames != s.Frames {
			t.Errorf("%s: ffprobe decoded %d frames, index %d; stderr %q", s.Path, p.frames, s.Frames, p.stderr)
		}
	}
}
