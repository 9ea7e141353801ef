package decode

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/ingest"
)

func TestDemuxerClips(t *testing.T) {
	for _, tc := range []struct {
		name          string
		packets       int
		width, height int
		fps           float64
		duration      time.Duration
	}{
		{clipIntersection, 909, 640, 480, 30, 30300 * time.Millisecond},
		{clipOverhead, 480, 640, 360, 23.976, 20020 * time.Millisecond},
		{clipTram, 314, 640, 480, 25, 12560 * time.Millisecond},
		{clipFire, 899, 426, 240, 29.97, 30 * time.Second},
		{clipWildfire264, 420, 400, 240, 24, 17500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, pkts := readAll(t, clip(t, tc.name))
			if d.Codec() != ingest.H264 {
				t.Errorf("codec %q, want H264", d.Codec())
			}
			if len(pkts) != tc.packets {
				t.Errorf("%d packets, want %d", len(pkts), tc.packets)
			}
			if d.Width() != tc.width || d.Height() != tc.height {
				t.Errorf("size %dx%d, want %dx%d", d.Width(), d.Height(), tc.width, tc.height)
			}
			if f := d.FrameRate(); f < tc.fps-0.01 || f > tc.fps+0.01 {
				t.Errorf("frame rate %.3f, want %.3f", f, tc.fps)
			}
			if dd := d.Duration() - tc.duration; dd < -50*time.Millisecond || dd > 50*time.Millisecond {
				t.Errorf("duration %v, want about %v", d.Duration(), tc.duration)
			}
			p := d.Params()
			if p == nil || p.Codec != ingest.H264 || len(p.SPS) == 0 || len(p.PPS) == 0 {
				t.Fatalf("params %+v: want SPS and PPS", p)
			}
			if typ := p.SPS[0] & 0x1f; typ != h264NALSPS {
				t.Errorf("SPS NAL type %d, want 7", typ)
			}
			if typ := p.PPS[0] & 0x1f; typ != h264NALPPS {
				t.Errorf("PPS NAL type %d, want 8", typ)
			}
			if !pkts[0].Keyframe {
				t.Error("first packet is not a keyframe")
			}
			keys := 0
			pts := make([]time.Duration, len(pkts))
			for i, pk := range pkts {
				pts[i] = pk.PTS
				if len(pk.NALUs) == 0 {
					t.Fatalf("packet %d has no NAL units", i)
				}
				idr := false
				for _, n := range pk.NALUs {
					if len(n) == 0 || n[0]&0x80 != 0 {
						t.Fatalf("packet %d: bad NAL unit header % x", i, n[:min(len(n), 4)])
					}
					idr = idr || n[0]&0x1f == h264NALIDR
				}
				if pk.Keyframe {
					keys++
					if !idr {
						t.Errorf("keyframe packet %d has no IDR slice", i)
					}
				}
				if i > 0 && pk.DTS <= pkts[i-1].DTS {
					t.Fatalf("DTS not increasing at packet %d: %v after %v", i, pk.DTS, pkts[i-1].DTS)
				}
				if pk.PTS < pk.DTS {
					t.Fatalf("packet %d: PTS %v before DTS %v", i, pk.PTS, pk.DTS)
				}
			}
			if keys == 0 {
				t.Error("no keyframes")
			}
			slices.Sort(pts)
			if pts[0] != 0 {
				t.Errorf("first PTS %v, want 0", pts[0])
			}
			for i := 1; i < len(pts); i++ {
				if pts[i] <= pts[i-1] {
					t.Fatalf("PTS %v repeats or goes back in presentation order", pts[i])
				}
			}
			if last := pts[len(pts)-1]; last > tc.duration || last < tc.duration-time.Second {
				t.Errorf("last PTS %v, duration %v", last, tc.duration)
			}
		})
	}
}

func TestDemuxerRewind(t *testing.T) {
	d, first := readAll(t, clip(t, clipOverhead))
	for round := range 2 {
		if err := d.Rewind(); err != nil {
			t.Fatal(err)
		}
		for i := range first {
			p, err := d.Read()
			if err != nil {
				t.Fatalf("round %d packet %d: %v", round, i, err)
			}
			if p.PTS != first[i].PTS || p.DTS != first[i].DTS || p.Keyframe != first[i].Keyframe ||
				!slices.EqualFunc(p.NALUs, first[i].NALUs, bytes.Equal) {
				t.Fatalf("round %d packet %d differs after rewind", round, i)
			}
			if i == 10 && round == 0 {
				break // rewind from the middle too
			}
		}
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a video at all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		path     string
		sentinel error
		want     []string
	}{
		{"mpeg4", clip(t, clipWildfire), ErrUnsupportedCodec, []string{`"mpeg4"`, clipWildfire, "only H.264 and H.265"}},
		{"missing", filepath.Join(dir, "nope.mp4"), os.ErrNotExist, []string{"nope.mp4"}},
		{"text", text, nil, []string{"notes.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := OpenFile(tc.path)
			if err == nil {
				d.Close()
				t.Fatal("opened")
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tc.sentinel)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestDemuxerClosed(t *testing.T) {
	d, err := OpenFile(clip(t, clipTram))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d.Close()
	if _, err := d.Read(); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
}
