package ingest

import (
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		failures int
		lo, hi   time.Duration
	}{
		{0, 800 * time.Millisecond, 1200 * time.Millisecond},
		{1, 1600 * time.Millisecond, 2400 * time.Millisecond},
		{2, 3200 * time.Millisecond, 4800 * time.Millisecond},
		{4, 12800 * time.Millisecond, 19200 * time.Millisecond},
		{5, 24 * time.Second, 30 * time.Second},
		{50, 24 * time.Second, 30 * time.Second},
	} {
		for range 200 {
			if d := backoff(tc.failures); d < tc.lo || d > tc.hi {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", tc.failures, d, tc.lo, tc.hi)
			}
		}
	}
}

func TestRateWindow(t *testing.T) {
	var w rateWindow
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 30 * 8 { // 8 s at 30/s
		w.add(t0.Add(time.Duration(i) * time.Second / 30))
	}
	end := t0.Add(8 * time.Second)
	for _, tc := range []struct {
		at     time.Time
		lo, hi float64
	}{
		{end, 29.5, 30.5},
		{end.Add(2500 * time.Millisecond), 14, 16}, // half the window silent
		{end.Add(6 * time.Second), 0, 0},
	} {
		if r := w.rate(tc.at); r < tc.lo || r > tc.hi {
			t.Errorf("rate %v after the last event = %.2f, want in [%v, %v]", tc.at.Sub(end), r, tc.lo, tc.hi)
		}
	}
	var empty rateWindow
	if r := empty.rate(end); r != 0 {
		t.Errorf("rate of no events = %v", r)
	}
}

func TestSanitize(t *testing.T) {
	raw := "rtsp://admin:p%40ss-w0rd@10.1.2.3:554/Streaming/Channels/101"
	cfg, err := (&Source{CameraID: "c", URL: raw}).config()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		"describe " + raw + ": timeout",
		"auth admin:p%40ss-w0rd failed",
		`password "p@ss-w0rd" rejected`,
		"query ?pw=p%40ss-w0rd",
	} {
		out := sanitize(in, cfg.secrets)
		if strings.Contains(out, "w0rd") {
			t.Errorf("sanitize(%q) = %q", in, out)
		}
	}
	if out := sanitize("dial tcp 10.1.2.3:554: refused", cfg.secrets); out != "dial tcp 10.1.2.3:554: refused" {
		t.Errorf("sanitize changed an error without secrets: %q", out)
	}
}

// NAL units with the right type bytes; the payload does not matter here.
var (
	h264SPS   = []byte{0x67, 0x4d, 0x00, 0x1e}
	h264SPS2  = []byte{0x67, 0x64, 0x00, 0x28}
	h264PPS   = []byte{0x68, 0xee, 0x3c}
	h264IDR   = []byte{0x65, 0x88, 0x80}
	h264P     = []byte{0x41, 0x9a, 0x02}
	h265VPS   = []byte{0x40, 0x01, 0x0c}
	h265SPS   = []byte{0x42, 0x01, 0x01}
	h265PPS   = []byte{0x44, 0x01, 0xc1}
	h265CRA   = []byte{0x2a, 0x01, 0xaf} // type 21
	h265BLA   = []byte{0x20, 0x01, 0xaf} // type 16
	h265TRAIL = []byte{0x02, 0x01, 0xd0} // type 1
)

func TestAssembler(t *testing.T) {
	type step struct {
		nalus    [][]byte
		out      bool // an access unit comes out
		key      bool
		newParam bool // Params differ from the previous unit's
	}
	sdp264 := &StreamParams{Codec: H264, SPS: h264SPS, PPS: h264PPS}
	cases := []struct {
		name   string
		codec  Codec
		params *StreamParams
		steps  []step
	}{
		{"waits for a keyframe", H264, sdp264, []step{
			{nalus: [][]byte{h264P}},
			{nalus: [][]byte{h264IDR}, out: true, key: true, newParam: true},
			{nalus: [][]byte{h264P}, out: true},
		}},
		{"in-band parameter sets only", H264, nil, []step{
			{nalus: [][]byte{h264IDR}},
			{nalus: [][]byte{h264SPS, h264IDR}},
			{nalus: [][]byte{h264P}},
			{nalus: [][]byte{h264SPS, h264PPS, h264IDR}, out: true, key: true, newParam: true},
			{nalus: [][]byte{h264P}, out: true},
		}},
		{"repeated parameter sets keep Params", H264, sdp264, []step{
			{nalus: [][]byte{h264SPS, h264PPS, h264IDR}, out: true, key: true, newParam: true},
			{nalus: [][]byte{h264SPS, h264PPS, h264IDR}, out: true, key: true},
		}},
		{"changed SPS gives new Params", H264, sdp264, []step{
			{nalus: [][]byte{h264IDR}, out: true, key: true, newParam: true},
			{nalus: [][]byte{h264SPS2, h264PPS, h264IDR}, out: true, key: true, newParam: true},
			{nalus: [][]byte{h264P}, out: true},
		}},
		{"H.265 IRAP and VPS", H265, nil, []step{
			{nalus: [][]byte{h265SPS, h265PPS, h265CRA}},
			{nalus: [][]byte{h265VPS, h265SPS, h265PPS, h265TRAIL}},
			{nalus: [][]byte{h265BLA}, out: true, key: true, newParam: true},
			{nalus: [][]byte{h265TRAIL}, out: true},
			{nalus: [][]byte{h265CRA}, out: true, key: true},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &auAssembler{codec: tc.codec, params: tc.params}
			var prev *StreamParams
			var history []*StreamParams
			for i, st := range tc.steps {
				au, ok := a.assemble(st.nalus, time.Duration(i)*time.Millisecond, time.Now())
				if ok != st.out {
					t.Fatalf("step %d: out = %v, want %v", i, ok, st.out)
				}
				if !ok {
					continue
				}
				if au.Keyframe != st.key {
					t.Errorf("step %d: Keyframe = %v, want %v", i, au.Keyframe, st.key)
				}
				if (au.Params != prev) != st.newParam {
					t.Errorf("step %d: new Params = %v, want %v", i, au.Params != prev, st.newParam)
				}
				if p := au.Params; p == nil || p.Codec != tc.codec || p.SPS == nil || p.PPS == nil || (tc.codec == H265 && p.VPS == nil) {
					t.Errorf("step %d: incomplete Params %+v", i, p)
				}
				prev = au.Params
				history = append(history, au.Params)
			}
			// Params handed out earlier are never modified.
			if tc.name == "changed SPS gives new Params" {
				if string(history[0].SPS) != string(h264SPS) || string(history[1].SPS) != string(h264SPS2) {
					t.Errorf("Params history: %x then %x", history[0].SPS, history[1].SPS)
				}
			}
		})
	}
}
