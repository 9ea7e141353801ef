package record

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/ingest"
)

// recording is a camera's recording made by the real Recorder from a clip.
type recording struct {
	root string
	aus  []ingest.AccessUnit // every access unit recorded, capture times included
	segs []Segment
}

// record runs a Recorder over every frame of f once per offset, each run
// feeding capture times base+offset+PTS, and returns what it recorded.
func recordRuns(t *testing.T, f footage, segment time.Duration, offsets ...time.Duration) recording {
	t.Helper()
	rec := recording{root: t.TempDir()}
	for _, off := range offsets {
		r := &Recorder{Root: rec.root, CameraID: "cam", SegmentDuration: segment, QueueLength: 2000}
		x := start(r)
		for i := range f.packets {
			au := f.accessUnit(i, off, false)
			rec.aus = append(rec.aus, au)
			pushPaced(r, au)
		}
		if err := x.stop(t); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	segs, err := ReadIndex(rec.root, "cam")
	if err != nil {
		t.Fatal(err)
	}
	rec.segs = segs
	return rec
}

// framesShown returns the capture times of the recorded access units in
// [from, to), sorted, give or take a millisecond of rounding.
func (r recording) framesShown(from, to time.Time) []time.Time {
	var out []time.Time
	for _, au := range r.aus {
		if !au.Capture.Before(from.Add(-time.Millisecond)) && au.Capture.Before(to.Add(-time.Millisecond)) {
			out = append(out, au.Capture)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// wantClip is what a test expects of a clip.
type wantClip struct {
	preRoll time.Duration // Start = from - preRoll (to the millisecond)
	sources int
	gaps    [][2]time.Duration // offsets from base
	endsAt  time.Duration      // if set, End = base + endsAt (the recording stops before To)
	tail    time.Duration      // End - to is at most this; default one frame
}

// checkClip checks an exported clip against the recording it was cut from
// (see checkManifest, checkSources, checkMedia).
func checkClip(t *testing.T, rec recording, f footage, clip Clip, out string, from, to time.Time, want wantClip) {
	t.Helper()
	t.Logf("clip %v..%v (%v, %d frames, %d bytes) from %d sources, gaps %v",
		clip.Start.Format("15:04:05.000"), clip.End.Format("15:04:05.000"), clip.Duration(), clip.Frames, clip.Size, len(clip.Sources), clip.Gaps)
	checkManifest(t, clip, out, from, to)
	checkSources(t, rec, clip, want.sources)
	checkMedia(t, rec, f, clip, out, from, to, want)
}

// checkManifest checks the clip file's hash, its layout (progressive, moov
// first) and its manifest.
func checkManifest(t *testing.T, clip Clip, out string, from, to time.Time) {
	t.Helper()
	sum, size := fileSHA256(t, out)
	if sum != clip.SHA256 || size != clip.Size {
		t.Errorf("file sha256 %s size %d, clip says %s %d", sum, size, clip.SHA256, clip.Size)
	}
	b, err := os.ReadFile(out + ManifestSuffix)
	if err != nil {
		t.Fatal(err)
	}
	var m Clip
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.SHA256 != sum || m.Size != size || m.File != filepath.Base(out) || m.Camera != "cam" || m.Schema != ManifestSchema ||
		!m.From.Equal(from) || !m.To.Equal(to) || !m.Start.Equal(clip.Start) || !m.End.Equal(clip.End) || m.Created.IsZero() {
		t.Errorf("manifest %s\ndoes not match the clip %+v", b, clip)
	}
	if !slices.EqualFunc(m.Sources, clip.Sources, func(a, b ClipSource) bool {
		return a.Path == b.Path && a.SHA256 == b.SHA256 && a.Size == b.Size && a.Frames == b.Frames && a.Start.Equal(b.Start)
	}) {
		t.Errorf("manifest sources %+v, clip %+v", m.Sources, clip.Sources)
	}
	if boxes := topBoxes(t, out); !slices.Equal(boxes, []string{"ftyp", "moov", "mdat"}) {
		t.Errorf("boxes %v, want ftyp moov mdat (progressive, moov first)", boxes)
	}

}

// checkSources checks that the clip's sources are indexed segments, with
// the index's hashes.
func checkSources(t *testing.T, rec recording, clip Clip, want int) {
	t.Helper()
	if len(clip.Sources) != want {
		t.Errorf("%d sources, want %d", len(clip.Sources), want)
	}
	frames := 0
	for _, s := range clip.Sources {
		frames += s.Frames
		i := slices.IndexFunc(rec.segs, func(g Segment) bool { return g.Path == s.Path })
		if i < 0 {
			t.Errorf("source %s is not in the index", s.Path)
			continue
		}
		if g := rec.segs[i]; s.SHA256 != g.SHA256 || s.Size != g.Size || !s.Start.Equal(g.Start) || !s.End.Equal(g.End) || s.Open {
			t.Errorf("source %+v, index %+v", s, g)
		}
		if sum, _ := fileSHA256(t, filepath.Join(rec.root, "cam", s.Path)); sum != s.SHA256 {
			t.Errorf("source %s: file sha256 %s, manifest %s", s.Path, sum, s.SHA256)
		}
	}
	if frames != clip.Frames {
		t.Errorf("sources give %d frames, the clip has %d", frames, clip.Frames)
	}
}

// checkMedia checks what players see: ffprobe and ffmpeg read the clip
// without a word, it starts with a keyframe at the pre-roll and covers the
// range, and its frames are the recorded frames of [Start, End), each shown
// at its capture time.
func checkMedia(t *testing.T, rec recording, f footage, clip Clip, out string, from, to time.Time, want wantClip) {
	t.Helper()
	if wantStart := from.Add(-want.preRoll).Truncate(time.Millisecond); !clip.Start.Truncate(time.Millisecond).Equal(wantStart) {
		t.Errorf("clip starts at %v, want %v", clip.Start, wantStart)
	}
	if !slices.ContainsFunc(rec.aus, func(au ingest.AccessUnit) bool {
		return au.Keyframe && au.Capture.Truncate(time.Millisecond).Equal(clip.Start.Truncate(time.Millisecond))
	}) {
		t.Errorf("clip starts at %v, not at a keyframe", clip.Start)
	}
	gop := 128 * f.period
	if want.preRoll >= 0 {
		if clip.Start.After(from) || from.Sub(clip.Start) > gop {
			t.Errorf("clip starts %v before from, want 0..%v (one GOP)", from.Sub(clip.Start), gop)
		}
	}
	if want.endsAt == 0 {
		tail := want.tail
		if tail == 0 {
			tail = f.period + time.Millisecond
		}
		if d := clip.End.Sub(to); d < 0 || d > tail {
			t.Errorf("clip ends %v after to, want 0..%v", d, tail)
		}
	} else if !clip.End.Round(time.Millisecond).Equal(base.Add(want.endsAt).Round(time.Millisecond)) {
		t.Errorf("clip ends at %v, want the end of the recording %v", clip.End, base.Add(want.endsAt))
	}
	var gaps [][2]time.Duration
	for _, g := range clip.Gaps {
		gaps = append(gaps, [2]time.Duration{g.Start.Sub(base).Round(time.Millisecond), g.End.Sub(base).Round(time.Millisecond)})
	}
	if !slices.Equal(gaps, want.gaps) {
		t.Errorf("gaps %v, want %v", gaps, want.gaps)
	}

	p := probe(t, out)
	if p.stderr != "" {
		t.Errorf("ffprobe -v error says %q", p.stderr)
	}
	if len(p.packets) == 0 || !p.packets[0].key || p.packets[0].dts > 0 {
		t.Fatalf("clip does not start with a keyframe: %+v", p.packets[:min(1, len(p.packets))])
	}
	for j := 1; j < len(p.packets); j++ {
		if p.packets[j].dts <= p.packets[j-1].dts {
			t.Fatalf("dts not increasing at packet %d: %v after %v", j, p.packets[j].dts, p.packets[j-1].dts)
		}
	}
	if p.frames != len(p.packets) || p.frames != clip.Frames {
		t.Errorf("ffprobe decoded %d frames of %d packets, the clip has %d", p.frames, len(p.packets), clip.Frames)
	}
	var shown []time.Time
	for _, k := range p.packets {
		shown = append(shown, clip.Start.Add(k.pts))
	}
	slices.SortFunc(shown, time.Time.Compare)
	if shown[0] != clip.Start {
		t.Errorf("first picture shown at %v of the clip, want 0", shown[0].Sub(clip.Start))
	}
	src := rec.framesShown(clip.Start, clip.End)
	if len(src) != len(shown) {
		t.Errorf("the clip has %d frames, the recording %d in [%v, %v)", len(shown), len(src), clip.Start, clip.End)
	} else {
		for i := range src {
			if d := absDur(shown[i].Sub(src[i])); d > 2*time.Millisecond {
				t.Fatalf("frame %d shown at %v, captured at %v (%v apart)", i, shown[i], src[i], d)
			}
		}
	}
	if d := absDur(probeDuration(t, out) - clip.Duration()); d > time.Millisecond {
		t.Errorf("ffprobe: the clip plays %v, Duration %v", probeDuration(t, out), clip.Duration())
	}
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", out, "-f", "null", "-").CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("ffmpeg decode: %v: %s", err, out)
	}
}

// probeDuration returns how long ffprobe says a file plays.
func probeDuration(t *testing.T, path string) time.Duration {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return seconds(t, strings.TrimSpace(string(out)))
}

// topBoxes returns the types of the top-level boxes of an MP4 file.
func topBoxes(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for len(b) >= 8 {
		size := binary.BigEndian.Uint32(b)
		out = append(out, string(b[4:8]))
		if size < 8 || int(size) > len(b) {
			t.Fatalf("box %s of %d bytes, %d left", b[4:8], size, len(b))
		}
		b = b[size:]
	}
	return out
}

// TestExport cuts clips from a recording made of the intersection clip
// (30 fps, keyframe every 128 frames = 4.267 s, no B-frames) recorded
// twice: at 0 s and at 45 s, in 10 s segments cut at keyframes 0, 12.8 and
// 25.6 s, and 45, 57.8 and 70.6 s; nothing is recorded from 30.3 to 45 s.
func TestExport(t *testing.T) {
	f := loadClip(t, clipIntersection)
	rec := recordRuns(t, f, 10*time.Second, 0, 45*time.Second)
	if len(rec.segs) != 6 {
		t.Fatalf("%d segments recorded, want 6: %+v", len(rec.segs), rec.segs)
	}
	at := func(s float64) time.Time { return base.Add(time.Duration(s * float64(time.Second))) }
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	const clipEnd = 30.3 // the clip's 909 frames end here

	tests := []struct {
		name     string
		from, to float64 // seconds after base
		want     wantClip
	}{
		{"20 s over three segments", 8, 28, wantClip{preRoll: sec(8 - 4.266), sources: 3}},
		{"inside one segment", 14, 20, wantClip{preRoll: sec(14 - 12.8), sources: 1}},
		{"on a keyframe", 12.8, 13.5, wantClip{preRoll: 0, sources: 1}},
		{"across a gap", 25, 50, wantClip{preRoll: sec(25 - 21.333), sources: 3,
			gaps: [][2]time.Duration{{sec(clipEnd), sec(45)}}}},
		{"starts in a gap", 35, 50, wantClip{preRoll: sec(35 - 45), sources: 1,
			gaps: [][2]time.Duration{{sec(35), sec(45)}}}},
		{"ends after the recording", 70, 80, wantClip{preRoll: sec(70 - 66.333), sources: 2,
			gaps: [][2]time.Duration{{sec(45 + clipEnd), sec(80)}}, endsAt: sec(45 + clipEnd)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "clip.mp4")
			from, to := at(tc.from), at(tc.to)
			clip, err := Export(context.Background(), rec.root, "cam", from, to, out)
			if err != nil {
				t.Fatal(err)
			}
			checkClip(t, rec, f, clip, out, from, to, tc.want)
		})
	}

	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name     string
			camera   string
			from, to time.Time
			want     error
			says     []string
		}{
			{"in the gap", "cam", at(31), at(44), ErrNoRecording, []string{`"cam"`, "09:27:24.000Z", "09:27:37.000Z"}},
			{"before the recording", "cam", at(-3600), at(-60), ErrNoRecording, []string{`"cam"`, "08:26:53.000Z"}},
			{"after the recording", "cam", at(76), at(100), ErrNoRecording, []string{`"cam"`}},
			{"unknown camera", "nope", at(0), at(10), ErrUnknownCamera, []string{`"nope"`}},
			{"camera with a path", "../cam", at(0), at(10), ErrInvalidConfig, []string{"../cam"}},
			{"to before from", "cam", at(10), at(5), ErrInvalidRange, []string{"not after"}},
			{"empty range", "cam", at(10), at(10), ErrInvalidRange, []string{"not after"}},
			{"no from", "cam", time.Time{}, at(10), ErrInvalidRange, []string{"set"}},
			{"too long", "cam", at(0), at(0).Add(MaxClipSpan + time.Second), ErrInvalidRange, []string{"longer than"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "clip.mp4")
				_, err := Export(context.Background(), rec.root, tc.camera, tc.from, tc.to, out)
				if !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				for _, s := range tc.says {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				if left, _ := os.ReadDir(filepath.Dir(out)); len(left) > 0 {
					t.Errorf("files left behind: %v", left)
				}
			})
		}
	})

	t.Run("existing output", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "clip.mp4")
		if err := os.WriteFile(out, []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Export(context.Background(), rec.root, "cam", at(1), at(2), out); !errors.Is(err, os.ErrExist) {
			t.Fatalf("error %v, want one that matches os.ErrExist", err)
		}
		if b, _ := os.ReadFile(out); string(b) != "keep" {
			t.Errorf("the existing file was overwritten")
		}
	})

	t.Run("altered segment", func(t *testing.T) {
		root := t.TempDir()
		if err := os.CopyFS(filepath.Join(root, "cam"), os.DirFS(filepath.Join(rec.root, "cam"))); err != nil {
			t.Fatal(err)
		}
		seg := filepath.Join(root, "cam", rec.segs[1].Path)
		b, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-100] ^= 0xff // one bit of a picture
		if err := os.WriteFile(seg, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = Export(context.Background(), root, "cam", at(14), at(15), filepath.Join(t.TempDir(), "clip.mp4"))
		if !errors.Is(err, ErrSegmentChanged) || !strings.Contains(err.Error(), rec.segs[1].Path) {
			t.Fatalf("error %v, want ErrSegmentChanged naming %s", err, rec.segs[1].Path)
		}
		// the segments around it still export
		if _, err := Export(context.Background(), root, "cam", at(1), at(5), filepath.Join(t.TempDir(), "clip.mp4")); err != nil {
			t.Errorf("the first segment: %v", err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var buf bytes.Buffer
		if _, err := WriteClip(ctx, &buf, rec.root, "cam", at(1), at(20)); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
}

// TestExportBFrames cuts a clip with B-frames (decode order differs from
// presentation order) over two segments: keyframes at 0 and 10.43 s.
func TestExportBFrames(t *testing.T) {
	f := loadClip(t, clipOverhead)
	rec := recordRuns(t, f, 5*time.Second, 0)
	if len(rec.segs) != 2 {
		t.Fatalf("%d segments recorded, want 2: %+v", len(rec.segs), rec.segs)
	}
	from, to := base.Add(3*time.Second), base.Add(12*time.Second)
	out := filepath.Join(t.TempDir(), "clip.mp4")
	clip, err := Export(context.Background(), rec.root, "cam", from, to, out)
	if err != nil {
		t.Fatal(err)
	}
	f.period = time.Second * 1001 / 24000
	// The last picture decoded before to may be a P-frame shown a few
	// frames after it.
	checkClip(t, rec, f, clip, out, from, to, wantClip{preRoll: 3 * time.Second, sources: 2, tail: 4 * f.period})

	// WriteClip streams the same bytes.
	var buf bytes.Buffer
	c2, err := WriteClip(context.Background(), &buf, rec.root, "cam", from, to)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if hex.EncodeToString(sum[:]) != clip.SHA256 || c2.SHA256 != clip.SHA256 || c2.File != "" {
		t.Errorf("WriteClip wrote sha256 %x, says %s; Export %s", sum, c2.SHA256, clip.SHA256)
	}
}

// TestExportOpenSegment exports while the recorder is still writing: the
// range reaches into the segment not yet indexed, which is read up to its
// last complete part.
func TestExportOpenSegment(t *testing.T) {
	f := loadClip(t, clipIntersection)
	root := t.TempDir()
	r := &Recorder{Root: root, CameraID: "cam", SegmentDuration: 10 * time.Second, QueueLength: 2000}
	x := start(r)
	defer func() {
		if x != nil {
			x.stop(t)
		}
	}()
	const n = 500 // 16.7 s: one segment closed at 12.8 s, the next open
	rec := recording{root: root}
	for i := range n {
		au := f.accessUnit(i, 0, false)
		rec.aus = append(rec.aus, au)
		pushPaced(r, au)
	}
	from, to := base.Add(10*time.Second), base.Add(15*time.Second)
	// Wait for the parts up to 15 s to be on disk.
	deadline := time.Now().Add(20 * time.Second)
	for {
		newest, err := newestSegmentFile(filepath.Join(root, "cam"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if strings.HasSuffix(newest, "09-27-05.mp4") {
			data, err := os.ReadFile(filepath.Join(root, "cam", newest))
			if err != nil {
				t.Fatal(err)
			}
			m, err := parseSegment(data, newest, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.samples) > 0 && fromTicks(m.samples[len(m.samples)-1].dts) > 2300*time.Millisecond {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the second segment has no parts past 15 s after 20 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	segs, err := ReadIndex(root, "cam")
	if err != nil || len(segs) != 1 {
		t.Fatalf("index %+v, %v: want the first segment only", segs, err)
	}
	rec.segs = segs

	out := filepath.Join(t.TempDir(), "clip.mp4")
	clip, err := Export(context.Background(), root, "cam", from, to, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(clip.Sources) != 2 || !clip.Sources[1].Open || clip.Sources[0].Open {
		t.Fatalf("sources %+v: want the closed segment, then the open one", clip.Sources)
	}
	open := clip.Sources[1]
	if want := base.Add(12800 * time.Millisecond); !open.Start.Equal(want) {
		t.Errorf("open segment starts %v, want %v", open.Start, want)
	}
	checkManifest(t, clip, out, from, to)
	checkMedia(t, rec, f, clip, out, from, to, wantClip{preRoll: 10*time.Second - 256*f.period})

	// Once closed, the segment begins with the bytes the manifest hashed.
	if err := x.stop(t); err != nil {
		t.Fatal(err)
	}
	x = nil
	if segs, err := ReadIndex(root, "cam"); err != nil || len(segs) != 2 || segs[1].Path != open.Path {
		t.Fatalf("index %+v, %v: want two segments, the second %s", segs, err, open.Path)
	}
	b, err := os.ReadFile(filepath.Join(root, "cam", open.Path))
	if err != nil {
		t.Fatal(err)
	}
	if open.Size >= int64(len(b)) {
		t.Fatalf("the open segment had %d bytes when exported, %d when closed", open.Size, len(b))
	}
	if sum := sha256.Sum256(b[:open.Size]); hex.EncodeToString(sum[:]) != open.SHA256 {
		t.Errorf("open source: sha256 %s of %d bytes; the closed file's first %d bytes hash to %x", open.SHA256, open.Size, open.Size, sum)
	}
}

// TestExportParamsChange refuses a range over a change of the stream
// parameters (another picture size), which one MP4 track cannot hold, and
// exports each side of it.
func TestExportParamsChange(t *testing.T) {
	a, b := loadClip(t, clipIntersection), loadClip(t, clipOverhead)
	root := t.TempDir()
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
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	_, err := Export(context.Background(), root, "cam", at(500), at(3000), filepath.Join(t.TempDir(), "clip.mp4"))
	if !errors.Is(err, ErrParamsChange) || !strings.Contains(err.Error(), "09:26:55.000Z") {
		t.Fatalf("error %v, want ErrParamsChange at 09:26:55.000Z", err)
	}
	for _, r := range [][2]int{{500, 1500}, {2000, 3000}} {
		clip, err := Export(context.Background(), root, "cam", at(r[0]), at(r[1]), filepath.Join(t.TempDir(), "clip.mp4"))
		if err != nil || len(clip.Sources) != 1 {
			t.Errorf("%v: %v, sources %+v", r, err, clip.Sources)
		}
	}
}
