package camsim_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"

	"github.com/matthan/matthan/ingest/camsim"
	"github.com/matthan/matthan/ingest/decode"
)

// unit is an access unit as a plain gortsplib client sees it.
type unit struct {
	nalus   [][]byte
	pts     time.Duration
	arrival time.Time
}

// reader is a plain gortsplib client reading the H.264 stream at a URL,
// independent of ingest.Source.
type reader struct {
	client *gortsplib.Client
	sdp    *format.H264

	mu    sync.Mutex
	units []unit
}

// read starts reading url with transport until the test ends.
func read(t *testing.T, url string, transport gortsplib.Transport) *reader {
	t.Helper()
	u, err := base.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	r := &reader{client: &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &transport}}
	if err := r.client.Start2(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.client.Close)
	desc, _, err := r.client.Describe(u)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	medi := desc.FindFormat(&r.sdp)
	if medi == nil {
		t.Fatalf("no H.264 media in %+v", desc.Medias)
	}
	dec, err := r.sdp.CreateDecoder()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		t.Fatalf("setup: %v", err)
	}
	r.client.OnPacketRTP(medi, r.sdp, func(pkt *rtp.Packet) {
		pts, ok := r.client.PacketPTS2(medi, pkt)
		if !ok {
			return
		}
		nalus, err := dec.Decode(pkt)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.units = append(r.units, unit{nalus: nalus, pts: time.Duration(pts) * time.Second / 90000, arrival: time.Now()})
		r.mu.Unlock()
	})
	if _, err := r.client.Play(nil); err != nil {
		t.Fatalf("play: %v", err)
	}
	return r
}

// snapshot returns the units received so far.
func (r *reader) snapshot() []unit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.units)
}

// waitKeyframe waits for the first IDR and returns the index of its unit.
func (r *reader) waitKeyframe(t *testing.T, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for i, u := range r.snapshot() {
			if h264.IsRandomAccess(u.nalus) {
				return i
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no keyframe within %v", within)
	return 0
}

func nalType(n []byte) h264.NALUType { return h264.NALUType(n[0] & 0x1f) }

func TestServe(t *testing.T) {
	udp := freeUDPPair(t)
	srv := &camsim.Server{
		Listen:        "127.0.0.1:0",
		UDPRTPAddress: udp,
		Files:         []string{clip(t, intersection), clip(t, wildfire)},
	}
	start(t, srv)
	wantURLs := []string{
		"rtsp://" + srv.Addr() + "/traffic_intersection_signals_cctv_day",
		"rtsp://" + srv.Addr() + "/wildfire_smoke_hillside_dusk",
	}
	if got := srv.URLs(); !slices.Equal(got, wantURLs) {
		t.Fatalf("URLs = %q, want %q", got, wantURLs)
	}

	cases := []struct {
		name      string
		file      string
		url       string
		transport gortsplib.Transport
		fps       float64
		size      string // ffprobe's codec,width,height
		bframes   bool
	}{
		{"intersection", intersection, wantURLs[0], gortsplib.TransportTCP, 30, "h264,640,480", false},
		{"bframes", wildfire, wantURLs[1], gortsplib.TransportTCP, 24, "h264,400,240", true},
		{"bframes-udp", wildfire, wantURLs[1], gortsplib.TransportUDP, 24, "h264,400,240", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dmx, err := decode.OpenFile(clip(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			want := dmx.Params()
			dmx.Close()

			r := read(t, tc.url, tc.transport)
			if !bytes.Equal(r.sdp.SPS, want.SPS) || !bytes.Equal(r.sdp.PPS, want.PPS) {
				t.Errorf("SDP parameter sets differ from the file's")
			}

			// An independent client: FFmpeg must see the stream as the file.
			if tc.transport == gortsplib.TransportTCP {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-rtsp_transport", "tcp",
					"-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height",
					"-of", "csv=p=0", tc.url).CombinedOutput()
				if got := strings.TrimSpace(string(out)); err != nil || got != tc.size {
					t.Errorf("ffprobe = %q (%v), want %q", got, err, tc.size)
				}
			}

			first := r.waitKeyframe(t, 8*time.Second)
			time.Sleep(3 * time.Second)
			units := r.snapshot()[first:]

			key := units[0].nalus
			if len(key) > 0 && nalType(key[0]) == h264.NALUTypeAccessUnitDelimiter {
				key = key[1:]
			}
			if len(key) < 3 || nalType(key[0]) != h264.NALUTypeSPS || nalType(key[1]) != h264.NALUTypePPS ||
				!bytes.Equal(key[0], want.SPS) || !bytes.Equal(key[1], want.PPS) {
				t.Errorf("keyframe does not start with the file's SPS and PPS: types %v", types(key))
			}

			span := units[len(units)-1].arrival.Sub(units[0].arrival)
			rate := float64(len(units)-1) / span.Seconds()
			if rate < tc.fps*0.9 || rate > tc.fps*1.1 {
				t.Errorf("%d units in %v = %.1f/s, want %.0f ±10%%", len(units), span, rate, tc.fps)
			}
			// Presentation times advance with the wall clock.
			ptsSpan := maxPTS(units) - units[0].pts
			if d := ptsSpan - span; d < -300*time.Millisecond || d > 300*time.Millisecond {
				t.Errorf("PTS advanced %v while the wall clock advanced %v", ptsSpan, span)
			}
			reordered := false
			for i := 1; i < len(units); i++ {
				if units[i].pts < units[i-1].pts {
					reordered = true
				}
			}
			if reordered != tc.bframes {
				t.Errorf("PTS out of decode order = %v, want %v (B-frames)", reordered, tc.bframes)
			}
		})
	}
}

func types(au [][]byte) []h264.NALUType {
	var ts []h264.NALUType
	for _, n := range au {
		ts = append(ts, nalType(n))
	}
	return ts
}

func maxPTS(units []unit) time.Duration {
	m := units[0].pts
	for _, u := range units {
		m = max(m, u.pts)
	}
	return m
}

// TestLoop plays a one-second cut of a B-frame clip for almost three
// seconds: the presentation times must go on without a gap or a repeat
// across the loops.
func TestLoop(t *testing.T) {
	short := filepath.Join(t.TempDir(), "short.h264.mp4")
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", clip(t, wildfire), "-map", "0:v:0", "-c", "copy",
		"-frames:v", "24", short).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	srv := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{short}}
	start(t, srv)
	r := read(t, srv.URLs()[0], gortsplib.TransportTCP)
	first := r.waitKeyframe(t, 3*time.Second)
	time.Sleep(2700 * time.Millisecond)
	units := r.snapshot()[first:]
	if len(units) < 55 {
		t.Fatalf("%d units in 2.7 s, want about 65", len(units))
	}
	var pts []time.Duration
	for _, u := range units {
		pts = append(pts, u.pts)
	}
	slices.Sort(pts)
	frame := time.Second / 24
	for i := 1; i < len(pts); i++ {
		if d := pts[i] - pts[i-1]; d < frame/2 || d > frame*3/2 {
			t.Fatalf("PTS %v then %v: step %v, want one frame (%v)", pts[i-1], pts[i], d, frame)
		}
	}
	// Every loop starts on a keyframe carrying the parameter sets.
	keys := 0
	for _, u := range units {
		if h264.IsRandomAccess(u.nalus) {
			keys++
			if n := u.nalus[0]; nalType(n) != h264.NALUTypeSPS && nalType(n) != h264.NALUTypeAccessUnitDelimiter {
				t.Errorf("keyframe without SPS in front: %v", types(u.nalus))
			}
		}
	}
	if keys < 2 {
		t.Errorf("%d keyframes in %d units, want one per loop", keys, len(units))
	}
}

func TestRunRefuses(t *testing.T) {
	cases := []struct {
		name    string
		files   []string
		is      error
		message []string
	}{
		{"mpeg4", []string{clip(t, intersection), clip(t, wildfireMP4V)}, decode.ErrUnsupportedCodec,
			[]string{"mpeg4", "H.264", "H.265", "wildfire_smoke_hillside_dusk.h264.mp4", "make deps"}},
		{"same name", []string{clip(t, wildfire), clip(t, wildfireMP4V)}, camsim.ErrDuplicateName,
			[]string{`"wildfire_smoke_hillside_dusk"`}},
		{"no files", nil, camsim.ErrNoFiles, nil},
		{"missing file", []string{filepath.Join(t.TempDir(), "nope.mp4")}, nil, []string{"nope.mp4"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := &camsim.Server{Listen: "127.0.0.1:0", Files: tc.files}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := srv.Run(ctx)
			if err == nil {
				t.Fatal("Run accepted the files")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %q", err, tc.is)
			}
			for _, m := range tc.message {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not say %q", err, m)
				}
			}
			select {
			case <-srv.Ready():
				t.Error("Ready closed although Run failed")
			default:
			}
		})
	}
}

func TestPauseResume(t *testing.T) {
	srv := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip(t, wildfire)}}
	if err := srv.Pause("wildfire_smoke_hillside_dusk"); !errors.Is(err, camsim.ErrNotRunning) {
		t.Errorf("Pause before Run: %v, want ErrNotRunning", err)
	}
	start(t, srv)
	if err := srv.Pause("nope"); !errors.Is(err, camsim.ErrUnknownStream) {
		t.Errorf("Pause(nope): %v, want ErrUnknownStream", err)
	}
	r := read(t, srv.URLs()[0], gortsplib.TransportTCP)
	r.waitKeyframe(t, 3*time.Second)

	if err := srv.Pause("wildfire_smoke_hillside_dusk"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // frames in flight
	before := r.snapshot()
	time.Sleep(time.Second)
	if n := len(r.snapshot()) - len(before); n > 0 {
		t.Errorf("%d units arrived while paused", n)
	}
	if err := srv.Resume("wildfire_smoke_hillside_dusk"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	after := r.snapshot()[len(before):]
	if len(after) < 18 {
		t.Fatalf("%d units in the second after Resume, want about 24", len(after))
	}
	if maxPTS(after) <= maxPTS(before) {
		t.Errorf("PTS went back after Resume: %v then %v", maxPTS(before), maxPTS(after))
	}
}

func TestStreamName(t *testing.T) {
	for in, want := range map[string]string{
		"/v/traffic.mp4": "traffic",
		"/v/wildfire_smoke_hillside_dusk.h264.mp4": "wildfire_smoke_hillside_dusk",
		"cam-1.mkv": "cam-1",
	} {
		if got := camsim.StreamName(in); got != want {
			t.Errorf("StreamName(%q) = %q, want %q", in, got, want)
		}
	}
}
