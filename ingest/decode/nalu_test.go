package decode

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/matthan/matthan/ingest"
)

var annexBCases = []struct {
	name string
	in   []byte
	want [][]byte // nil with err
	err  bool
}{
	{"3-byte start codes", []byte{0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3}, [][]byte{{0x67, 1, 2}, {0x68, 3}}, false},
	{"4-byte start codes", []byte{0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x65, 9, 9}, [][]byte{{0x67, 1}, {0x65, 9, 9}}, false},
	{"trailing zeros", []byte{0, 0, 1, 0x41, 7, 0, 0, 0, 0}, [][]byte{{0x41, 7}}, false},
	{"leading zeros", []byte{0, 0, 0, 0, 0, 1, 0x41, 7}, [][]byte{{0x41, 7}}, false},
	{"emulation prevention kept", []byte{0, 0, 1, 0x41, 0, 0, 3, 1}, [][]byte{{0x41, 0, 0, 3, 1}}, false},
	{"empty units dropped", []byte{0, 0, 1, 0, 0, 1, 0x41}, [][]byte{{0x41}}, false},
	{"no start code", []byte{0x41, 1, 2}, nil, true},
	{"junk before start code", []byte{9, 0, 0, 1, 0x41}, nil, true},
	{"empty", nil, nil, true},
}

func TestSplitAnnexB(t *testing.T) {
	for _, tc := range annexBCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitAnnexB(tc.in, nil)
			if tc.err {
				if !errors.Is(err, ErrBitstream) {
					t.Fatalf("error %v, want ErrBitstream", err)
				}
				return
			}
			if err != nil || !slices.EqualFunc(got, tc.want, bytes.Equal) {
				t.Fatalf("got % x, %v; want % x", got, err, tc.want)
			}
		})
	}
}

var lengthPrefixedCases = []struct {
	name string
	in   []byte
	size int
	want [][]byte
	err  bool
}{
	{"4 bytes", []byte{0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x06}, 4, [][]byte{{0x65, 1}, {0x06}}, false},
	{"2 bytes", []byte{0, 1, 0x41, 0, 2, 0x41, 2}, 2, [][]byte{{0x41}, {0x41, 2}}, false},
	{"1 byte", []byte{1, 0x41}, 1, [][]byte{{0x41}}, false},
	{"zero length skipped", []byte{0, 0, 0, 0, 0, 0, 0, 1, 0x41}, 4, [][]byte{{0x41}}, false},
	{"overlong", []byte{0, 0, 0, 9, 0x41}, 4, nil, true},
	{"truncated length", []byte{0, 0, 0, 1, 0x41, 0, 0}, 4, nil, true},
	{"size 3", []byte{0, 0, 1, 0x41}, 3, nil, true},
}

func TestSplitLengthPrefixed(t *testing.T) {
	for _, tc := range lengthPrefixedCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitLengthPrefixed(tc.in, tc.size, nil)
			if tc.err {
				if !errors.Is(err, ErrBitstream) {
					t.Fatalf("error %v, want ErrBitstream", err)
				}
				return
			}
			if err != nil || !slices.EqualFunc(got, tc.want, bytes.Equal) {
				t.Fatalf("got % x, %v; want % x", got, err, tc.want)
			}
		})
	}
}

var (
	testSPS  = []byte{0x67, 0x64, 0x00, 0x1f, 0xac}
	testPPS  = []byte{0x68, 0xee, 0x3c, 0x80}
	testAVCC = append(append(append(
		[]byte{1, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0, 5}, testSPS...), 1, 0, 4), testPPS...)
)

func TestParseExtradata(t *testing.T) {
	hvcc := make([]byte, 23)
	hvcc[0], hvcc[21], hvcc[22] = 1, 0x0f, 3 // version 1, length size 4, 3 arrays
	vps, sps, pps := []byte{0x40, 0x01, 0x0c}, []byte{0x42, 0x01, 0x01}, []byte{0x44, 0x01, 0xc1}
	for _, ps := range [][]byte{vps, sps, pps} {
		hvcc = append(hvcc, 0x80|ps[0]>>1, 0, 1, 0, byte(len(ps)))
		hvcc = append(hvcc, ps...)
	}
	for _, tc := range []struct {
		name          string
		codec         ingest.Codec
		in            []byte
		vps, sps, pps []byte
		lengthSize    int
		err           bool
	}{
		{"avcC", ingest.H264, testAVCC, nil, testSPS, testPPS, 4, false},
		{"avcC length size 2", ingest.H264, append([]byte{1, 0x64, 0, 0x1f, 0xfd}, testAVCC[5:]...), nil, testSPS, testPPS, 2, false},
		{"annex-b", ingest.H264, append(append([]byte{0, 0, 0, 1}, testSPS...), append([]byte{0, 0, 1}, testPPS...)...), nil, testSPS, testPPS, 0, false},
		{"hvcC", ingest.H265, hvcc, vps, sps, pps, 4, false},
		{"none", ingest.H264, nil, nil, nil, nil, 0, false},
		{"avcC truncated", ingest.H264, testAVCC[:10], nil, nil, nil, 0, true},
		{"avcC bad version", ingest.H264, append([]byte{2}, testAVCC[1:]...), nil, nil, nil, 0, true},
		{"hvcC truncated", ingest.H265, hvcc[:30], nil, nil, nil, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseExtradata(tc.codec, tc.in)
			if tc.err {
				if !errors.Is(err, ErrBitstream) {
					t.Fatalf("error %v, want ErrBitstream", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := cfg.params
			if p.Codec != tc.codec || !bytes.Equal(p.VPS, tc.vps) || !bytes.Equal(p.SPS, tc.sps) || !bytes.Equal(p.PPS, tc.pps) || cfg.lengthSize != tc.lengthSize {
				t.Fatalf("got %+v length size %d", p, cfg.lengthSize)
			}
		})
	}
}

// TestDemuxerAnnexB streams a raw H.264 elementary stream (Annex-B, no
// container) and checks it yields the same slices as the MP4 it came from.
func TestDemuxerAnnexB(t *testing.T) {
	src := clip(t, clipOverhead)
	raw := filepath.Join(t.TempDir(), "overhead.h264")
	if b, err := exec.Command("ffmpeg", "-v", "error", "-i", src, "-c:v", "copy", "-bsf:v", "h264_mp4toannexb",
		"-an", "-f", "h264", raw).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	_, want := readAll(t, src)
	d, got := readAll(t, raw)
	if len(d.Params().SPS) == 0 || len(d.Params().PPS) == 0 {
		t.Errorf("no parameter sets from the raw stream: %+v", d.Params())
	}
	if len(got) != len(want) {
		t.Fatalf("%d packets, the MP4 has %d", len(got), len(want))
	}
	slices := func(p Packet) [][]byte {
		var s [][]byte
		for _, n := range p.NALUs {
			if t := n[0] & 0x1f; t >= 1 && t <= 5 {
				s = append(s, n)
			}
		}
		return s
	}
	inBand := 0
	for i := range got {
		if !slicesEqual(slices(got[i]), slices(want[i])) {
			t.Fatalf("packet %d: slices differ", i)
		}
		if got[i].Keyframe != want[i].Keyframe {
			t.Errorf("packet %d: keyframe %v, MP4 says %v", i, got[i].Keyframe, want[i].Keyframe)
		}
		for _, n := range got[i].NALUs {
			if n[0]&0x1f == h264NALSPS {
				inBand++
			}
		}
	}
	if inBand == 0 {
		t.Error("the in-band SPS were dropped")
	}
}

func slicesEqual(a, b [][]byte) bool { return slices.EqualFunc(a, b, bytes.Equal) }

func FuzzSplitAnnexB(f *testing.F) {
	for _, tc := range annexBCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		nalus, err := splitAnnexB(b, nil)
		if err != nil {
			return
		}
		for _, n := range nalus {
			if len(n) == 0 || n[len(n)-1] == 0 || bytes.Contains(n, []byte{0, 0, 1}) {
				t.Fatalf("bad unit % x", n)
			}
		}
	})
}

func FuzzSplitLengthPrefixed(f *testing.F) {
	for _, tc := range lengthPrefixedCases {
		f.Add(tc.in, tc.size)
	}
	f.Fuzz(func(t *testing.T, b []byte, size int) {
		nalus, err := splitLengthPrefixed(b, size, nil)
		if err != nil {
			return
		}
		total := 0
		for _, n := range nalus {
			total += size + len(n)
		}
		if total > len(b) {
			t.Fatalf("%d bytes of units from %d", total, len(b))
		}
	})
}

func FuzzParseExtradata(f *testing.F) {
	f.Add(testAVCC, false)
	f.Add(testAVCC[:9], false)
	f.Add([]byte{0, 0, 1, 0x67, 1}, false)
	f.Add(make([]byte, 30), true)
	f.Fuzz(func(t *testing.T, b []byte, h265 bool) {
		c := ingest.H264
		if h265 {
			c = ingest.H265
		}
		cfg, err := parseExtradata(c, b)
		if err == nil && (cfg.params == nil || cfg.lengthSize == 3 || cfg.lengthSize > 4) {
			t.Fatalf("config %+v", cfg)
		}
	})
}
