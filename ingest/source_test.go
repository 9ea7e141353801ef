package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/camsim"
	"github.com/matthan/matthan/ingest/decode"
)

// TestSourceReceives reads real footage from camsim over TCP and UDP and
// checks the access units: keyframe first, parameter sets, rate, timing.
func TestSourceReceives(t *testing.T) {
	t.Parallel()
	// An H.265 camera: four seconds of real footage, transcoded.
	h265 := filepath.Join(t.TempDir(), "wildfire_h265.mp4")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", clip(t, wildfire), "-t", "4", "-c:v", "libx265",
		"-preset", "ultrafast", "-x265-params", "keyint=24:log-level=error", "-tag:v", "hvc1", h265).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	cam := &camsim.Server{
		Listen:        "127.0.0.1:0",
		UDPRTPAddress: freeUDPPair(t),
		Files:         []string{clip(t, intersection), clip(t, wildfire), h265},
	}
	startCamera(t, cam)

	cases := []struct {
		name      string
		file      string
		transport string
		codec     ingest.Codec
		fps       float64
		bframes   bool
		used      string // Status.Transport
	}{
		{"intersection", clip(t, intersection), "tcp", ingest.H264, 30, false, "tcp"},
		{"bframes", clip(t, wildfire), "", ingest.H264, 24, true, "tcp"},
		{"bframes-udp", clip(t, wildfire), "udp", ingest.H264, 24, true, "udp"},
		{"h265", h265, "auto", ingest.H265, 24, true, "udp"}, // the camera serves UDP: auto keeps it
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dmx, err := decode.OpenFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			want := dmx.Params()
			dmx.Close()

			reg := prometheus.NewRegistry()
			metrics, err := ingest.NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			var got collector
			src := &ingest.Source{
				CameraID:     "cam-" + tc.name,
				URL:          "rtsp://" + cam.Addr() + "/" + camsim.StreamName(tc.file),
				Transport:    tc.transport,
				OnAccessUnit: got.add,
				Metrics:      metrics,
			}
			stop := runSource(t, src)
			waitFor(t, 10*time.Second, "first access unit", func() bool { return got.len() > 0 })
			time.Sleep(3 * time.Second)
			st := src.Status()
			stop()
			units := got.snapshot()

			first := units[0].au
			if !first.Keyframe {
				t.Error("first access unit is not a keyframe")
			}
			if p := first.Params; p == nil || p.Codec != tc.codec || !bytes.Equal(p.VPS, want.VPS) ||
				!bytes.Equal(p.SPS, want.SPS) || !bytes.Equal(p.PPS, want.PPS) {
				t.Errorf("first access unit's Params = %+v, want the file's %s parameter sets", p, tc.codec)
			}
			keys := 0
			for _, u := range units {
				if u.au.Params != first.Params {
					t.Fatalf("Params changed although the camera sends the same parameter sets")
				}
				if d := u.au.Capture.Sub(u.arrival); d < -time.Second || d > time.Second {
					t.Fatalf("Capture %v is %v from the arrival time", u.au.Capture, d)
				}
				if u.au.Keyframe {
					keys++
				}
			}
			if tc.bframes && keys < 3 {
				t.Errorf("%d keyframes in ~3 s of a clip with one per second", keys)
			}

			span := units[len(units)-1].arrival.Sub(units[0].arrival)
			rate := float64(len(units)-1) / span.Seconds()
			if span < 2500*time.Millisecond || rate < tc.fps*0.85 || rate > tc.fps*1.15 {
				t.Errorf("%d access units in %v = %.1f/s, want %.0f ±15%%", len(units), span, rate, tc.fps)
			}
			if st.FPS < tc.fps*0.85 || st.FPS > tc.fps*1.15 {
				t.Errorf("Status.FPS = %.1f, want %.0f ±15%%", st.FPS, tc.fps)
			}
			if st.Transport != tc.used {
				t.Errorf("Status.Transport = %q, want %q", st.Transport, tc.used)
			}
			if st.State != ingest.StateOnline || st.Frames == 0 || st.Frames > uint64(len(units)) || st.Reconnects != 0 || st.LastFrame.IsZero() {
				t.Errorf("Status = %+v, want online with %d frames and no reconnects", st, len(units))
			}

			// PTS: presentation order differs from decode order with B-frames,
			// and presentation time advances with the wall clock.
			reordered := false
			maxPTS := units[0].au.PTS
			for i := 1; i < len(units); i++ {
				if units[i].au.PTS < units[i-1].au.PTS {
					reordered = true
				}
				maxPTS = max(maxPTS, units[i].au.PTS)
			}
			if reordered != tc.bframes {
				t.Errorf("PTS out of decode order = %v, want %v", reordered, tc.bframes)
			}
			if d := (maxPTS - units[0].au.PTS) - span; d < -300*time.Millisecond || d > 300*time.Millisecond {
				t.Errorf("PTS advanced %v while the wall clock advanced %v", maxPTS-units[0].au.PTS, span)
			}

			m := gather(t, reg, src.CameraID)
			if m["matthan_ingest_access_units_total"] != float64(len(units)) {
				t.Errorf("access_units_total = %v, want %d", m["matthan_ingest_access_units_total"], len(units))
			}
			if m["matthan_ingest_bytes_total"] < float64(len(units))*100 {
				t.Errorf("bytes_total = %v for %d access units", m["matthan_ingest_bytes_total"], len(units))
			}
			if m["matthan_ingest_state/offline"] != 1 || m["matthan_ingest_state/online"] != 0 {
				t.Errorf("state gauge after Run returned: %v, want offline", m)
			}
		})
	}
}

// gather returns the metric values of the main stream of camera, by name,
// with "/state" after the name for the state gauge.
func gather(t *testing.T, reg *prometheus.Registry, camera string) map[string]float64 {
	t.Helper()
	return gatherStream(t, reg, camera, ingest.StreamMain)
}

// gatherStream is gather for one stream of camera.
func gatherStream(t *testing.T, reg *prometheus.Registry, camera, stream string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name, cam, str := mf.GetName(), false, false
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "camera":
					cam = l.GetValue() == camera
				case "stream":
					str = l.GetValue() == stream
				case "state":
					name += "/" + l.GetValue()
				}
			}
			if !cam || !str {
				continue
			}
			if c := m.GetCounter(); c != nil {
				out[name] = c.GetValue()
			} else if g := m.GetGauge(); g != nil {
				out[name] = g.GetValue()
			}
		}
	}
	return out
}

// TestSourceReconnects follows a camera that is absent at first, starts,
// goes away mid-stream and comes back, on the same port; the camera wants
// credentials, which must never show in the logs or the status.
func TestSourceReconnects(t *testing.T) {
	t.Parallel()
	const user, password = "operator", "s3cr3t-Pa55"
	addr := freeAddr(t)
	url := "rtsp://" + user + ":" + password + "@" + addr + "/" + wildfireName
	newCamera := func() *camsim.Server {
		return &camsim.Server{Listen: addr, Files: []string{clip(t, wildfire)}, User: user, Password: password}
	}
	var logs logBuffer
	var got collector
	src := &ingest.Source{
		CameraID:     "gate-3",
		URL:          url,
		OnAccessUnit: got.add,
		Logger:       slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	runSource(t, src)

	// Absent: offline, retrying at growing intervals.
	var attempts []time.Time
	waitFor(t, 8*time.Second, "two retries", func() bool {
		st := src.Status()
		if st.State == ingest.StateOnline {
			t.Fatalf("online without a camera: %+v", st)
		}
		for uint64(len(attempts)) < st.Reconnects {
			attempts = append(attempts, time.Now())
		}
		return st.Reconnects >= 2
	})
	st := src.Status()
	if st.LastError == "" || !strings.Contains(st.LastError, "refused") {
		t.Errorf("LastError = %q, want the refused connection", st.LastError)
	}
	if first, second := attempts[1].Sub(attempts[0]), 1500*time.Millisecond; first < second {
		t.Errorf("second retry %v after the first, want the backoff doubled (≈2 s)", first)
	}

	// The camera starts: online within the pending backoff.
	stopCam := startCamera(t, newCamera())
	started := time.Now()
	due := time.Until(src.Status().NextAttempt)
	waitFor(t, due+3*time.Second, "online after the camera started", func() bool { return got.len() > 0 })
	t.Logf("online %v after the camera started (retry was due in %v)", time.Since(started).Round(time.Millisecond), due.Round(time.Millisecond))
	if st := src.Status(); st.State != ingest.StateOnline {
		t.Errorf("state %v with frames flowing", st.State)
	}

	// The camera goes away mid-stream: offline at once.
	time.Sleep(500 * time.Millisecond)
	stopCam()
	waitFor(t, 2*time.Second, "offline after the camera stopped", func() bool {
		return src.Status().State == ingest.StateOffline
	})
	before := got.len()

	// And comes back on the same port, at the next attempt. The connection
	// was not up long enough to reset the backoff.
	startCamera(t, newCamera())
	due = time.Until(src.Status().NextAttempt)
	waitFor(t, due+3*time.Second, "frames after the camera restarted", func() bool { return got.len() > before })
	if st := src.Status(); st.State != ingest.StateOnline {
		t.Errorf("state %v after the restart", st.State)
	}
	if units := got.snapshot(); !units[before].au.Keyframe {
		t.Error("the first access unit after the reconnection is not a keyframe")
	}

	text := logs.String()
	t.Logf("logs:\n%s", text)
	for _, secret := range []string{password, url, user + ":"} {
		if strings.Contains(text, secret) {
			t.Errorf("log output contains %q:\n%s", secret, text)
		}
	}
	for _, want := range []string{"component=ingest", "camera=gate-3", "camera offline", "camera online"} {
		if !strings.Contains(text, want) {
			t.Errorf("log output lacks %q:\n%s", want, text)
		}
	}
}

// TestSourceSilentCamera: a camera that keeps the connection but stops
// sending is dropped after ReadTimeout and read again when it resumes.
func TestSourceSilentCamera(t *testing.T) {
	t.Parallel()
	cam := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip(t, wildfire)}}
	startCamera(t, cam)
	var got collector
	src := &ingest.Source{
		CameraID:     "cam-silent",
		URL:          "rtsp://" + cam.Addr() + "/" + wildfireName,
		ReadTimeout:  time.Second,
		OnAccessUnit: got.add,
	}
	runSource(t, src)
	waitFor(t, 5*time.Second, "first access unit", func() bool { return got.len() > 0 })
	if err := cam.Pause(wildfireName); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	waitFor(t, 3*time.Second, "offline after a silent second", func() bool { return src.Status().State == ingest.StateOffline })
	if d := time.Since(paused); d < 900*time.Millisecond {
		t.Errorf("offline %v after the camera went silent, before ReadTimeout", d)
	}
	if st := src.Status(); !strings.Contains(st.LastError, ingest.ErrNoData.Error()) {
		t.Errorf("LastError = %q, want %q", st.LastError, ingest.ErrNoData)
	}
	if err := cam.Resume(wildfireName); err != nil {
		t.Fatal(err)
	}
	before := got.len()
	waitFor(t, 5*time.Second, "frames after the camera resumed", func() bool { return got.len() > before })
}

// TestSourceUnusableCamera: cameras that answer but cannot be read as
// configured put the source in the error state, with a message and without
// a retry storm.
func TestSourceUnusableCamera(t *testing.T) {
	t.Parallel()
	const user, password = "viewer", "Corr3ct-horse"
	cam := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip(t, wildfire)}, User: user, Password: password}
	startCamera(t, cam)
	mpeg4 := serveDescription(t, &format.MPEG4Video{PayloadTyp: 96, ProfileLevelID: 1})
	audio := serveDescription(t, &format.G711{PayloadTyp: 0, MULaw: true, SampleRate: 8000, ChannelCount: 1})

	cases := []struct {
		name string
		url  string
		is   error
		text string
	}{
		{"no credentials", "rtsp://" + cam.Addr() + "/" + wildfireName, ingest.ErrUnauthorized, "401"},
		{"wrong password", "rtsp://" + user + ":wr0ng-pass@" + cam.Addr() + "/" + wildfireName, ingest.ErrUnauthorized, "401"},
		{"unknown path", "rtsp://" + user + ":" + password + "@" + cam.Addr() + "/nope", ingest.ErrStreamNotFound, "404"},
		{"mpeg4 video", "rtsp://" + mpeg4 + "/cam", ingest.ErrUnsupportedCodec, "unsupported codec MPEG-4 Video"},
		{"audio only", "rtsp://" + audio + "/cam", ingest.ErrNoVideo, "no video stream"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs logBuffer
			src := &ingest.Source{
				CameraID: "cam-x",
				URL:      tc.url,
				Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
			}
			runSource(t, src)
			waitFor(t, 5*time.Second, "error state", func() bool { return src.Status().State == ingest.StateError })
			time.Sleep(500 * time.Millisecond)
			st := src.Status()
			t.Logf("LastError: %s", st.LastError)
			if !strings.Contains(st.LastError, tc.is.Error()) || !strings.Contains(st.LastError, tc.text) {
				t.Errorf("LastError = %q, want %q and %q", st.LastError, tc.is, tc.text)
			}
			if wait := time.Until(st.NextAttempt); wait < 20*time.Second {
				t.Errorf("next attempt in %v, want the long backoff", wait)
			}
			if st.Reconnects != 0 || st.State != ingest.StateError {
				t.Errorf("Status = %+v, want error and no retry yet", st)
			}
			for _, secret := range []string{password, "wr0ng-pass"} {
				if strings.Contains(logs.String(), secret) || strings.Contains(st.LastError, secret) {
					t.Errorf("password in the logs or status:\n%s\n%s", logs.String(), st.LastError)
				}
			}
		})
	}
}

// serveDescription runs a gortsplib server that announces one media of
// format f at every path (and sends nothing), and returns its address.
func serveDescription(t *testing.T, f format.Format) string {
	t.Helper()
	h := &describeHandler{}
	var addr string
	l := freeAddr(t)
	srv := &gortsplib.Server{Handler: h, RTSPAddress: l}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	addr = l
	typ := description.MediaTypeVideo
	if _, ok := f.(*format.G711); ok {
		typ = description.MediaTypeAudio
	}
	h.stream = &gortsplib.ServerStream{Server: srv, Desc: &description.Session{
		Medias: []*description.Media{{Type: typ, Formats: []format.Format{f}}},
	}}
	if err := h.stream.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.stream.Close()
		srv.Close()
	})
	return addr
}

// describeHandler answers DESCRIBE with its stream.
type describeHandler struct {
	stream *gortsplib.ServerStream
}

func (h *describeHandler) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return &base.Response{StatusCode: base.StatusOK}, h.stream, nil
}

func TestSourceConfig(t *testing.T) {
	cases := []struct {
		name string
		src  *ingest.Source
		text string
	}{
		{"transport", &ingest.Source{CameraID: "c1", URL: "rtsp://127.0.0.1:1/x", Transport: "quic"}, `transport "quic": expected tcp, udp or auto`},
		{"scheme", &ingest.Source{CameraID: "c1", URL: "http://admin:hunter2-pw@cam/x"}, "URL: expected rtsp://"},
		{"unparsable", &ingest.Source{CameraID: "c1", URL: "rtsp://admin:hunter2-pw@cam:port:x/%zz"}, "URL: expected rtsp://"},
		{"no camera id", &ingest.Source{URL: "rtsp://127.0.0.1:1/x"}, "CameraID is empty"},
		{"stream", &ingest.Source{CameraID: "c1", URL: "rtsp://127.0.0.1:1/x", Stream: "third"}, `stream "third": expected main or sub`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			err := tc.src.Run(ctx)
			if !errors.Is(err, ingest.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("Run = %v, want ErrInvalidConfig saying %q", err, tc.text)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"rtsp://admin:pw@10.0.0.7:554/Streaming/101": "rtsp://10.0.0.7:554/Streaming/101",
		"rtsp://10.0.0.7/live":                       "rtsp://10.0.0.7/live",
		"rtsp://admin:p%zz@host/":                    "(invalid URL)",
	} {
		if got := ingest.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSourceCaptureFromSenderReports: once the camera's first RTCP sender
// report arrives (camsim sends one every 10 s), Capture is the camera's
// capture time, which precedes arrival by the B-frame reorder delay (two
// frames of the clip, 83 ms) for most pictures.
func TestSourceCaptureFromSenderReports(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 12 s for an RTCP sender report")
	}
	t.Parallel()
	cam := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip(t, wildfire)}}
	startCamera(t, cam)
	started := time.Now()
	var got collector
	src := &ingest.Source{CameraID: "cam-sr", URL: "rtsp://" + cam.Addr() + "/" + wildfireName, OnAccessUnit: got.add}
	stop := runSource(t, src)
	time.Sleep(12*time.Second - time.Since(started))
	stop()

	early, reported := 0, 0
	for _, u := range got.snapshot() {
		d := u.arrival.Sub(u.au.Capture)
		if d < -50*time.Millisecond || d > time.Second {
			t.Fatalf("Capture %v is %v before arrival", u.au.Capture, d)
		}
		if u.arrival.Sub(started) < 9*time.Second && d > 20*time.Millisecond {
			early++
		}
		if u.arrival.Sub(started) > 11*time.Second && d > 50*time.Millisecond {
			reported++
		}
	}
	if early > 0 {
		t.Errorf("%d access units before the first sender report have a capture time before arrival", early)
	}
	if reported < 5 {
		t.Errorf("%d access units after the sender report carry the camera's capture time, want most", reported)
	}
}
