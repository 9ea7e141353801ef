package camsim_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/camsim"
	"github.com/matthan/matthan/ingest/decode"
)

// picture is a decoded picture of a test stream.
type picture struct {
	pts  time.Duration
	pix  []byte
	mean float64
}

// decodeUnits decodes units in order, with params for keyframes that lack
// parameter sets, and returns the pictures.
func decodeUnits(t *testing.T, params *ingest.StreamParams, units []unit) []picture {
	t.Helper()
	dec, err := decode.NewDecoder(ingest.H264)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var out []picture
	for _, u := range units {
		ready, err := dec.Decode(ingest.AccessUnit{Params: params, NALUs: u.nalus, PTS: u.pts,
			Keyframe: h264.IsRandomAccess(u.nalus)})
		if err != nil {
			t.Errorf("decode unit at %v: %v", u.pts, err)
		}
		if !ready {
			continue
		}
		var f decode.Frame
		if err := dec.Convert(&f, 0, 0); err != nil {
			t.Fatal(err)
		}
		sum, n := 0, 0
		for i := 0; i < len(f.Pix); i += 13 { // a sample of the bytes is enough
			sum += int(f.Pix[i])
			n++
		}
		pts, _ := dec.PictureTime()
		out = append(out, picture{pts: pts, pix: f.Pix, mean: float64(sum) / float64(n)})
	}
	return out
}

// TestPictureFaults switches a stream through Freeze, Black and Normal and
// checks what a plain client decodes in each phase, and that the
// presentation times go on without going back.
func TestPictureFaults(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		fps     float64
		bframes bool
	}{
		{"no-bframes", intersection, 30, false},
		{"bframes", wildfire, 24, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip(t, tc.file)}}
			name := camsim.StreamName(tc.file)
			if err := srv.Freeze(name); !errors.Is(err, camsim.ErrNotRunning) {
				t.Errorf("Freeze before Run: %v, want ErrNotRunning", err)
			}
			start(t, srv)
			for _, control := range []func(string) error{srv.Freeze, srv.Black, srv.Normal} {
				if err := control("nope"); !errors.Is(err, camsim.ErrUnknownStream) {
					t.Errorf("control of an unknown stream: %v, want ErrUnknownStream", err)
				}
			}
			r := read(t, srv.URLs()[0], gortsplib.TransportTCP)
			params := &ingest.StreamParams{Codec: ingest.H264, SPS: r.sdp.SPS, PPS: r.sdp.PPS}
			r.waitKeyframe(t, 5*time.Second)

			// Each phase lasts 1.6 s; the first 0.4 s (frames in flight, the
			// decoder's reorder delay) are not judged.
			const phase, settle = 1600 * time.Millisecond, 400 * time.Millisecond
			type mark struct {
				name string
				at   int // units received when the phase began
			}
			var marks []mark
			for _, p := range []struct {
				name    string
				control func(string) error
			}{
				{"normal", nil}, {"freeze", srv.Freeze}, {"black", srv.Black}, {"normal again", srv.Normal},
			} {
				if p.control != nil {
					if err := p.control(name); err != nil {
						t.Fatalf("%s: %v", p.name, err)
					}
				}
				marks = append(marks, mark{p.name, len(r.snapshot())})
				time.Sleep(phase)
			}
			units := r.snapshot()
			pics := decodeUnits(t, params, units)
			frame := time.Duration(float64(time.Second) / tc.fps)

			// Pictures of each phase, by PTS: a phase starts settle after
			// the PTS of its first unit.
			phasePics := func(i int) []picture {
				from := units[min(marks[i].at, len(units)-1)].pts + settle
				to := time.Duration(1 << 62)
				if i+1 < len(marks) {
					to = units[min(marks[i+1].at, len(units)-1)].pts
				}
				var ps []picture
				for _, p := range pics {
					if p.pts >= from && p.pts < to {
						ps = append(ps, p)
					}
				}
				if len(ps) < 10 {
					t.Fatalf("phase %s: %d pictures, want about %.0f", marks[i].name, len(ps), (phase-settle).Seconds()*tc.fps)
				}
				return ps
			}
			varies := func(ps []picture) bool {
				for _, p := range ps[1:] {
					if !bytes.Equal(p.pix, ps[0].pix) {
						return true
					}
				}
				return false
			}
			if ps := phasePics(0); !varies(ps) {
				t.Errorf("normal: %d identical pictures", len(ps))
			}
			if ps := phasePics(1); varies(ps) || ps[0].mean < 10 {
				t.Errorf("freeze: pictures vary (%v) or are black (mean %.1f)", varies(ps), ps[0].mean)
			}
			for _, p := range phasePics(2) {
				if p.mean > 1 {
					t.Fatalf("black: picture at %v has mean %.1f", p.pts, p.mean)
				}
			}
			if ps := phasePics(3); !varies(ps) || ps[0].mean < 10 {
				t.Errorf("normal again: pictures vary = %v, mean %.1f", varies(ps), ps[0].mean)
			}

			// The black clip carries its own SPS in-band; the file's comes
			// back with the file.
			spsIn := func(from, to int, want func([]byte) bool) bool {
				for _, u := range units[from:to] {
					for _, n := range u.nalus {
						if nalType(n) == h264.NALUTypeSPS && want(n) {
							return true
						}
					}
				}
				return false
			}
			fileSPS := func(n []byte) bool { return bytes.Equal(n, params.SPS) }
			if !spsIn(marks[2].at, marks[3].at, func(n []byte) bool { return !fileSPS(n) }) {
				t.Errorf("black: no SPS of the black clip in-band")
			}
			if !spsIn(marks[3].at, len(units), fileSPS) {
				t.Errorf("normal again: the file's SPS is not sent in-band")
			}

			// Presentation times never repeat or go back, and leave no hole
			// larger than the reorder delay at a switch.
			var pts []time.Duration
			for _, u := range units {
				pts = append(pts, u.pts)
			}
			maxStep := frame * 3 / 2
			if tc.bframes {
				slices.Sort(pts)
				maxStep = 4 * frame
			}
			for i := 1; i < len(pts); i++ {
				if d := pts[i] - pts[i-1]; d < frame/2 || d > maxStep {
					t.Fatalf("PTS %v then %v: step %v, want %v to %v", pts[i-1], pts[i], d, frame/2, maxStep)
				}
			}
		})
	}
}
