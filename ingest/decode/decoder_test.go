package decode

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/matthan/matthan/ingest"
)

// epoch is the capture time of the first access unit in the tests.
var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// accessUnit wraps a demuxed packet as a camera would deliver it.
func accessUnit(params *ingest.StreamParams, p Packet) ingest.AccessUnit {
	return ingest.AccessUnit{Params: params, NALUs: p.NALUs, PTS: p.PTS, Capture: epoch.Add(p.PTS), Keyframe: p.Keyframe}
}

// picture is what the tests record of a ready picture.
type picture struct {
	pts     time.Duration
	capture time.Time
}

// decodeAll feeds every packet to d, then flushes it, and returns the
// pictures in output order. Every call must succeed.
func decodeAll(t *testing.T, d *Decoder, params *ingest.StreamParams, pkts []Packet) []picture {
	t.Helper()
	var pics []picture
	take := func() {
		pts, capture := d.PictureTime()
		pics = append(pics, picture{pts, capture})
	}
	for i, p := range pkts {
		ready, err := d.Decode(accessUnit(params, p))
		if err != nil {
			t.Fatalf("access unit %d: %v", i, err)
		}
		if ready {
			take()
		}
	}
	for {
		ready, err := d.Flush()
		if err != nil {
			t.Fatalf("flush: %v", err)
		}
		if !ready {
			return pics
		}
		take()
	}
}

// meanLuma returns the mean of all bytes of f and whether they differ.
func meanAndVaries(f *Frame) (float64, bool) {
	var sum int
	varies := false
	for _, v := range f.Pix {
		sum += int(v)
		varies = varies || v != f.Pix[0]
	}
	return float64(sum) / float64(len(f.Pix)), varies
}

// ffmpegFirstFrame returns the first frame of path as BGR24 decoded by the
// ffmpeg command, an independent reference.
func ffmpegFirstFrame(t *testing.T, path string) []byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-threads", "1", "-i", path, "-frames:v", "1",
		"-f", "rawvideo", "-pix_fmt", "bgr24", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	return out
}

// hevcClip encodes a short H.265 clip with B-frames from the tram clip.
func hevcClip(t *testing.T) string {
	return encodeTram(t, "tram.hevc.mp4", "-frames:v", "48", "-vf", "scale=320:240", "-c:v", "libx265", "-preset", "ultrafast",
		"-x265-params", "log-level=error:keyint=24:bframes=3:pools=1:frame-threads=1")
}

// encodeTram encodes the tram clip with the ffmpeg output options opts,
// without audio, into a temporary file called name, and returns its path.
func encodeTram(t *testing.T, name string, opts ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	args := append([]string{"-v", "error", "-i", clip(t, clipTram)}, opts...)
	cmd := exec.Command("ffmpeg", append(args, "-an", out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("encode %s: %v: %s", name, err, b)
	}
	return out
}

func TestDecoderEveryFrame(t *testing.T) {
	for _, tc := range []struct {
		name  string
		path  func(t *testing.T) string
		codec ingest.Codec
	}{
		{"h264-bframes", func(t *testing.T) string { return clip(t, clipOverhead) }, ingest.H264},
		{"h264-bframes-2", func(t *testing.T) string { return clip(t, clipTram) }, ingest.H264},
		{"h265-bframes", hevcClip, ingest.H265},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path(t)
			dm, pkts := readAll(t, path)
			if dm.Codec() != tc.codec {
				t.Fatalf("codec %s, want %s", dm.Codec(), tc.codec)
			}
			if tc.codec == ingest.H265 && (len(dm.Params().VPS) == 0 || nalType(ingest.H265, dm.Params().VPS) != h265NALVPS) {
				t.Fatalf("H.265 params without VPS: %+v", dm.Params())
			}
			d, err := NewDecoder(tc.codec)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			pics := decodeAll(t, d, dm.Params(), pkts)
			if len(pics) != len(pkts) {
				t.Fatalf("%d pictures from %d access units", len(pics), len(pkts))
			}
			for i, p := range pics {
				if i > 0 && p.pts <= pics[i-1].pts {
					t.Fatalf("picture %d: PTS %v after %v", i, p.pts, pics[i-1].pts)
				}
				if want := epoch.Add(p.pts); !p.capture.Equal(want) {
					t.Fatalf("picture %d: capture %v, want %v", i, p.capture, want)
				}
			}
			if s := d.Stats(); s.AccessUnits != uint64(len(pkts)) || s.Pictures != uint64(len(pkts)) || s.Errors != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestDecoderConvert(t *testing.T) {
	path := clip(t, clipOverhead)
	dm, pkts := readAll(t, path)
	d, err := NewDecoder(dm.Codec())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var f Frame
	if err := d.Convert(&f, 0, 0); !errors.Is(err, ErrNoPicture) {
		t.Fatalf("Convert before any picture: %v", err)
	}
	i := 0
	for ; i < len(pkts); i++ {
		ready, err := d.Decode(accessUnit(dm.Params(), pkts[i]))
		if err != nil {
			t.Fatal(err)
		}
		if ready {
			break
		}
	}
	if w, h := d.PictureSize(); w != 640 || h != 360 {
		t.Fatalf("picture size %dx%d", w, h)
	}

	// Native size against the ffmpeg command's first frame.
	if err := d.Convert(&f, 0, 0); err != nil {
		t.Fatal(err)
	}
	if f.Width != 640 || f.Height != 360 || f.Stride != 1920 || len(f.Pix) != 1920*360 {
		t.Fatalf("native frame %dx%d stride %d len %d", f.Width, f.Height, f.Stride, len(f.Pix))
	}
	if f.PTS != 0 || !f.Capture.Equal(epoch) {
		t.Errorf("frame times %v %v, want 0 and %v", f.PTS, f.Capture, epoch)
	}
	ref := ffmpegFirstFrame(t, path)
	if len(ref) != len(f.Pix) {
		t.Fatalf("ffmpeg frame %d bytes, ours %d", len(ref), len(f.Pix))
	}
	if mad := meanAbsDiff(ref, f.Pix); mad > 2 {
		t.Errorf("mean absolute difference to ffmpeg's frame %.2f, want <= 2", mad)
	}

	for _, tc := range []struct {
		reqW, reqH int
		w, h       int
	}{
		{416, 234, 416, 234},
		{320, 0, 320, 180},
		{0, 90, 160, 90},
		{640, 640, 640, 640}, // stretched: the caller's choice
	} {
		pix := f.Pix
		if err := d.Convert(&f, tc.reqW, tc.reqH); err != nil {
			t.Fatal(err)
		}
		if f.Width != tc.w || f.Height != tc.h || f.Stride != 3*tc.w || len(f.Pix) != 3*tc.w*tc.h {
			t.Errorf("Convert(%d, %d): %dx%d stride %d len %d", tc.reqW, tc.reqH, f.Width, f.Height, f.Stride, len(f.Pix))
		}
		if len(f.Pix) <= cap(pix) && &f.Pix[0] != &pix[0] {
			t.Errorf("Convert(%d, %d) reallocated a big enough buffer", tc.reqW, tc.reqH)
		}
		if m, varies := meanAndVaries(&f); m < 30 || m > 220 || !varies {
			t.Errorf("Convert(%d, %d): mean %.1f, varies %v", tc.reqW, tc.reqH, m, varies)
		}
	}
	if err := d.Convert(&f, -1, 10); err == nil {
		t.Error("Convert to a negative size succeeded")
	}

	// Steady state: no allocation.
	if n := testing.AllocsPerRun(20, func() {
		if err := d.Convert(&f, 416, 234); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Convert allocates %.1f times per call", n)
	}
}

func TestDecoderModes(t *testing.T) {
	dm, pkts := readAll(t, clip(t, clipOverhead))
	keyPTS := map[time.Duration]bool{}
	for _, p := range pkts {
		if p.Keyframe {
			keyPTS[p.PTS] = true
		}
	}
	for _, tc := range []struct {
		mode     Mode
		min, max int
	}{
		{EveryFrame, len(pkts), len(pkts)},
		{KeyframesOnly, len(keyPTS), len(keyPTS)},
		{SkipNonReference, len(keyPTS) + 1, len(pkts) - 1},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			d, err := NewDecoder(dm.Codec())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			d.SetMode(tc.mode)
			pics := decodeAll(t, d, dm.Params(), pkts)
			if len(pics) < tc.min || len(pics) > tc.max {
				t.Fatalf("%d pictures, want %d..%d", len(pics), tc.min, tc.max)
			}
			for _, p := range pics {
				if tc.mode == KeyframesOnly && !keyPTS[p.pts] {
					t.Errorf("picture at %v is not a keyframe", p.pts)
				}
			}
		})
	}
}

func TestDecoderGarbage(t *testing.T) {
	dm, pkts := readAll(t, clip(t, clipIntersection))
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(first byte, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		if first != 0 {
			b[0] = first
		}
		return b
	}
	// A real P slice cut short, and one with its payload scrambled.
	var slice []byte
	for _, p := range pkts[1:] {
		if n := p.NALUs[len(p.NALUs)-1]; n[0]&0x1f == 1 && len(n) > 200 {
			slice = n
			break
		}
	}
	scrambled := append(slices.Clone(slice[:4]), random(0, len(slice)-4)...)
	garbage := []struct {
		name string
		au   ingest.AccessUnit
	}{
		{"random", ingest.AccessUnit{NALUs: [][]byte{random(0xff, 3000)}}},
		{"empty", ingest.AccessUnit{}},
		{"empty-nalu", ingest.AccessUnit{NALUs: [][]byte{{}}}},
		{"idr-header-random-payload", ingest.AccessUnit{NALUs: [][]byte{random(0x65, 3000)}, Keyframe: true}},
		{"sps-header-random-payload", ingest.AccessUnit{NALUs: [][]byte{random(0x67, 40), random(0x68, 8), random(0x65, 2000)}, Keyframe: true}},
		{"slice-truncated", ingest.AccessUnit{NALUs: [][]byte{slice[:12]}}},
		{"slice-scrambled", ingest.AccessUnit{NALUs: [][]byte{scrambled}}},
	}

	d, err := NewDecoder(dm.Codec())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const warm = 20
	for i, p := range pkts[:warm] {
		if _, err := d.Decode(accessUnit(dm.Params(), p)); err != nil {
			t.Fatalf("access unit %d: %v", i, err)
		}
	}
	var f Frame
	for _, g := range garbage {
		ready, err := d.Decode(g.au)
		t.Logf("%s: ready %v, %v", g.name, ready, err)
		if !errors.Is(err, ErrDecode) {
			t.Errorf("%s: error %v, want ErrDecode", g.name, err)
		}
		if ready { // concealed: it must still convert
			if err := d.Convert(&f, 64, 36); err != nil {
				t.Errorf("%s: convert: %v", g.name, err)
			}
		}
	}
	// After the next keyframe, decoding is clean again.
	next := slices.IndexFunc(pkts[warm:], func(p Packet) bool { return p.Keyframe }) + warm
	if next < warm {
		t.Fatal("no keyframe after the garbage")
	}
	pictures := 0
	for i, p := range pkts[warm:] {
		ready, err := d.Decode(accessUnit(dm.Params(), p))
		if err != nil && warm+i >= next {
			t.Errorf("access unit %d (keyframe at %d): %v", warm+i, next, err)
		}
		if ready && warm+i >= next {
			pictures++
			if err := d.Convert(&f, 0, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := len(pkts) - next - 2; pictures < want {
		t.Errorf("%d pictures after the keyframe, want at least %d", pictures, want)
	}
	if s := d.Stats(); s.Errors < uint64(len(garbage)) {
		t.Errorf("stats count %d errors, want at least %d", s.Errors, len(garbage))
	}
}

func TestDecoderNoParams(t *testing.T) {
	// Without parameter sets nothing decodes, and every access unit says so.
	_, pkts := readAll(t, clip(t, clipTram))
	d, err := NewDecoder(ingest.H264)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i, p := range pkts[:5] {
		ready, err := d.Decode(accessUnit(nil, p))
		if ready || !errors.Is(err, ErrDecode) {
			t.Errorf("access unit %d: ready %v, error %v", i, ready, err)
		}
	}
}

func TestNewDecoderUnsupported(t *testing.T) {
	if _, err := NewDecoder("VP8"); !errors.Is(err, ErrUnsupportedCodec) {
		t.Fatalf("error %v, want ErrUnsupportedCodec", err)
	}
}

func TestDecoderClosed(t *testing.T) {
	d, err := NewDecoder(ingest.H265)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d.Close()
	if _, err := d.Decode(ingest.AccessUnit{NALUs: [][]byte{{0x40, 0x01}}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close: %v", err)
	}
	if err := d.Convert(&Frame{}, 0, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Convert after Close: %v", err)
	}
}

// FuzzDecode feeds arbitrary access units to a decoder primed with a real
// stream's first keyframe: it must return, never crash.
func FuzzDecode(f *testing.F) {
	dm, pkts := readAll(f, clip(f, clipIntersection))
	for _, p := range pkts[:4] {
		f.Add(bytes.Join(p.NALUs, []byte{0, 0, 1}))
	}
	f.Add([]byte{0x65, 0x88, 0x84, 0x00, 0x33, 0xff})
	f.Add([]byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewDecoder(ingest.H264)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if _, err := d.Decode(accessUnit(dm.Params(), pkts[0])); err != nil {
			t.Fatal(err)
		}
		nalus, err := splitAnnexB(append([]byte{0, 0, 1}, data...), nil)
		if err != nil {
			return
		}
		d.Decode(ingest.AccessUnit{Params: dm.Params(), NALUs: nalus, PTS: time.Second})
		for {
			if ready, _ := d.Flush(); !ready {
				break
			}
			var fr Frame
			if err := d.Convert(&fr, 32, 32); err != nil {
				t.Fatal(err)
			}
		}
	})
}
