package ingest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
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
		w.add(t0.Add(time.Duration(i)*time.Second/30), 1000)
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

func TestRateWindowBytes(t *testing.T) {
	var w rateWindow
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 25 * 8 { // 8 s at 25/s, 10 kB each
		w.add(t0.Add(time.Duration(i)*time.Second/25), 10_000)
	}
	fps, bytes := w.rates(t0.Add(8 * time.Second))
	if fps < 24.5 || fps > 25.5 || bytes < 245_000 || bytes > 255_000 {
		t.Errorf("rates = %.2f/s, %.0f B/s, want 25/s, 250 kB/s", fps, bytes)
	}
}

func TestLossBuckets(t *testing.T) {
	var l lossBuckets
	t0 := time.Unix(1_700_000_000, 0)
	for s := range 10 { // 90 packets a second, 10 more lost from the sixth second on
		lost := uint64(0)
		if s >= 5 {
			lost = 10
		}
		l.add(t0.Add(time.Duration(s)*time.Second), 90, lost)
		if s == 4 {
			if got, n := l.ratio(t0.Add(4 * time.Second)); got != 0 || n != 450 {
				t.Errorf("after 5 clean seconds: %v of %d, want 0 of 450", got, n)
			}
		}
	}
	// The window holds seconds 4 to 9: 6×90 received, 5×10 lost.
	for _, at := range []time.Duration{9 * time.Second, 9*time.Second + 900*time.Millisecond} {
		if got, n := l.ratio(t0.Add(at)); n != 590 || got != 50.0/590 {
			t.Errorf("ratio at %v = %.4f of %d, want %.4f of 590", at, got, n, 50.0/590)
		}
	}
	if got, n := l.ratio(t0.Add(20 * time.Second)); got != 0 || n != 0 {
		t.Errorf("ratio after the window = %v of %d", got, n)
	}
}

func TestUptimeClock(t *testing.T) {
	day := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	var c uptimeClock
	c.start(day.Add(-2 * time.Hour)) // 22:00 the day before
	c.set(day.Add(-time.Hour), true) // up from 23:00
	total, today := c.ratios(day.Add(-30 * time.Minute))
	if total != 1.0/3 || today != 1.0/3 { // 30 min of 90, on the day before
		t.Errorf("at 23:30: %v, %v; want 1/3, 1/3", total, today)
	}
	c.set(day.Add(time.Hour), false) // down at 01:00, past midnight
	c.set(day.Add(2*time.Hour), true)
	total, today = c.ratios(day.Add(4 * time.Hour))
	// Up 23:00–01:00 and 02:00–04:00 of 6 h; today 1 h + 2 h of 4 h.
	if total != 4.0/6 || today != 3.0/4 {
		t.Errorf("at 04:00: %v, %v; want %v, %v", total, today, 4.0/6, 3.0/4)
	}
	// Up until noon of the next day, without a call in between.
	total, today = c.ratios(day.Add(36 * time.Hour))
	if want := 36.0 / 38; total != want || today != 1 {
		t.Errorf("the next day at noon: %v, %v; want %v, 1", total, today, want)
	}
	var idle uptimeClock
	if total, today := idle.ratios(day); total != 0 || today != 0 {
		t.Errorf("before start: %v, %v", total, today)
	}
}

func TestDegradedRule(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	var b statusBox
	b.firstAU = t0
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for i := range 30 * 6 { // 6 s at 30/s, 30 packets/s, none lost
		b.fps.add(at(time.Duration(i)*time.Second/30), 1000)
		if i%30 == 0 {
			b.loss.add(at(time.Duration(i)*time.Second/30), 30, 0)
		}
	}
	if r := b.degradedLocked(at(6 * time.Second)); r != "" || b.nominal < 29 {
		t.Fatalf("steady 30/s: %q, nominal %v", r, b.nominal)
	}
	// 10/s for 5 s: a third of the nominal rate.
	for i := range 10 * 5 {
		b.fps.add(at(6*time.Second+time.Duration(i)*time.Second/10), 1000)
	}
	if r := b.degradedLocked(at(11 * time.Second)); !strings.HasPrefix(r, "frame rate ") || !strings.Contains(r, "under 50% of the nominal") {
		t.Errorf("10/s after 30/s: %q", r)
	}
	if b.nominal < 29 {
		t.Errorf("nominal fell to %v", b.nominal)
	}
	// Back to 30/s, with 3% of the packets lost.
	for i := range 30 * 5 {
		b.fps.add(at(11*time.Second+time.Duration(i)*time.Second/30), 1000)
		if i%30 == 0 {
			b.loss.add(at(11*time.Second+time.Duration(i)*time.Second/30), 97, 3)
		}
	}
	if r := b.degradedLocked(at(16 * time.Second)); !strings.HasPrefix(r, "3.0% of RTP packets lost") {
		t.Errorf("3%% loss: %q", r)
	}
}

func TestRTSPError(t *testing.T) {
	parse := fmt.Errorf("expected 'RTSP/1.0', got %v", []byte{0x9c})
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		name string
		err  error
		is   error // nil: none of ours
		text string
	}{
		{"unparsable answer", parse, ErrNotRTSP, "the answer is not RTSP (expected 'RTSP/1.0'"},
		{"RTP instead of an answer", liberrors.ErrClientUnexpectedFrame{}, ErrNotRTSP, "not RTSP (received unexpected interleaved frame)"},
		{"no answer", liberrors.ErrClientRequestTimedOut{}, nil, "no answer within 2s (request timed out)"},
		{"closed", io.EOF, nil, "the camera closed the connection instead of answering (EOF)"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, nil, "closed the connection instead of answering"},
		{"refused", refused, nil, "connection refused"},
		{"401", liberrors.ErrClientBadStatusCode{Code: 401, Message: "Unauthorized"}, ErrUnauthorized, "RTSP 401 Unauthorized"},
		{"404", liberrors.ErrClientBadStatusCode{Code: 404, Message: "Not Found"}, ErrStreamNotFound, "RTSP 404"},
		{"500", liberrors.ErrClientBadStatusCode{Code: 500, Message: "Internal Server Error"}, nil, "500"},
		{"bad SDP", liberrors.ErrClientSDPInvalid{Err: errors.New("invalid line")}, nil, "invalid SDP"},
		{"certificate", &tls.CertificateVerificationError{Err: errors.New("x509: unknown authority")}, nil, "unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rtspError(tc.err, 2*time.Second)
			if !strings.Contains(got.Error(), tc.text) {
				t.Errorf("rtspError = %q, want it to say %q", got, tc.text)
			}
			for _, sentinel := range []error{ErrNotRTSP, ErrUnauthorized, ErrStreamNotFound} {
				if errors.Is(got, sentinel) != (sentinel == tc.is) {
					t.Errorf("rtspError = %q: errors.Is %v = %v", got, sentinel, !errors.Is(got, sentinel))
				}
			}
		})
	}
}
