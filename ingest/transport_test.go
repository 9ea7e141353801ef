package ingest_test

import (
	"encoding/base64"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/camsim"
)

// TestSourceTransportFallback: with Transport "auto", a camera that refuses
// UDP, and one whose UDP packets never arrive (a firewall), are read over
// TCP; after such a fallback, reconnections go to TCP at once.
func TestSourceTransportFallback(t *testing.T) {
	t.Parallel()
	t.Run("camera without UDP", func(t *testing.T) {
		t.Parallel()
		cam := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip(t, wildfire)}} // no UDPRTPAddress: TCP only
		startCamera(t, cam)
		var logs logBuffer
		var got collector
		src := &ingest.Source{
			CameraID:     "cam-auto",
			URL:          "rtsp://" + cam.Addr() + "/" + wildfireName,
			Transport:    "auto",
			OnAccessUnit: got.add,
			Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
		}
		runSource(t, src)
		start := time.Now()
		waitFor(t, 5*time.Second, "frames", func() bool { return got.len() > 0 })
		t.Logf("first frame after %v", time.Since(start).Round(time.Millisecond))
		if st := src.Status(); st.State != ingest.StateOnline || st.Transport != "tcp" {
			t.Errorf("state %v over %q, want online over tcp", st.State, st.Transport)
		}
		if !strings.Contains(logs.String(), "transport switched to TCP") {
			t.Errorf("no transport switch in the logs:\n%s", logs.String())
		}
	})

	t.Run("UDP blocked", func(t *testing.T) {
		t.Parallel()
		cam := &camsim.Server{Listen: "127.0.0.1:0", UDPRTPAddress: freeUDPPair(t), Files: []string{clip(t, wildfire)}}
		startCamera(t, cam)
		// The proxy sends the camera's UDP to ports nobody listens on.
		dead := freeUDPPair(t)
		_, deadPort, _ := strings.Cut(dead, ":")
		clientPort := regexp.MustCompile(`client_port=\d+-\d+`)
		proxy := &rtspProxy{Target: cam.Addr(), Request: func(h string) string {
			return clientPort.ReplaceAllString(h, "client_port="+deadPort+"-"+itoa(atoi(t, deadPort)+1))
		}}
		addr := startProxy(t, proxy)

		var logs logBuffer
		var got collector
		src := &ingest.Source{
			CameraID:     "cam-auto",
			URL:          "rtsp://" + addr + "/" + wildfireName,
			Transport:    "auto",
			OnAccessUnit: got.add,
			Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
		}
		runSource(t, src)
		start := time.Now()
		waitFor(t, 10*time.Second, "frames", func() bool { return got.len() > 0 })
		took := time.Since(start)
		t.Logf("first frame after %v", took.Round(time.Millisecond))
		if took < 2500*time.Millisecond {
			t.Errorf("frames after %v: before the 3 s UDP probe ran out, so UDP was not blocked", took)
		}
		if st := src.Status(); st.State != ingest.StateOnline || st.Transport != "tcp" {
			t.Errorf("state %v over %q, want online over tcp", st.State, st.Transport)
		}
		if !strings.Contains(logs.String(), "no UDP packets received") {
			t.Errorf("no transport switch in the logs:\n%s", logs.String())
		}

		// A network outage: the source reconnects over TCP without trying UDP.
		proxy.dropConns()
		waitFor(t, 3*time.Second, "offline", func() bool { return src.Status().State == ingest.StateOffline })
		before, setups := got.len(), len(proxy.requests())
		waitFor(t, 6*time.Second, "frames after the reconnection", func() bool { return got.len() > before })
		n := 0
		for _, h := range proxy.requests()[setups:] {
			if strings.HasPrefix(h, "SETUP ") {
				n++
				if !strings.Contains(h, "RTP/AVP/TCP") {
					t.Errorf("UDP tried again after the fallback:\n%s", h)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d SETUP requests after the reconnection, want 1", n)
		}
	})
}

// atoi parses a decimal port.
func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a port: %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TestSourceAuth reads a camera that takes Basic or Digest authentication.
// camsim offers both at once (gortsplib's default), and the client picks
// Digest; a proxy strips one offer from the camera's 401 answers, so the
// source meets a camera with only the other, as real cameras are set up.
func TestSourceAuth(t *testing.T) {
	t.Parallel()
	const user, password = "operator", "Tr0ub4dor-3"
	cam := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip(t, wildfire)}, User: user, Password: password}
	startCamera(t, cam)
	basicToken := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))

	cases := []struct {
		scheme   string // the one the camera offers
		strip    string // the offer the proxy removes
		password string
		online   bool
	}{
		{"Basic", "WWW-Authenticate: Digest", password, true},
		{"Digest", "WWW-Authenticate: Basic", password, true},
		{"Basic", "WWW-Authenticate: Digest", "wrong-Pa55", false},
		{"Digest", "WWW-Authenticate: Basic", "wrong-Pa55", false},
	}
	for _, tc := range cases {
		name := tc.scheme
		if !tc.online {
			name += " wrong password"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			proxy := &rtspProxy{Target: cam.Addr(), Response: func(h string) string { return withoutHeaderLines(h, tc.strip) }}
			addr := startProxy(t, proxy)
			var logs logBuffer
			var got collector
			src := &ingest.Source{
				CameraID:     "cam-auth",
				URL:          "rtsp://" + user + ":" + tc.password + "@" + addr + "/" + wildfireName,
				OnAccessUnit: got.add,
				Logger:       slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}
			runSource(t, src)
			if tc.online {
				waitFor(t, 5*time.Second, "frames", func() bool { return got.len() > 0 })
			} else {
				waitFor(t, 5*time.Second, "error state", func() bool { return src.Status().State == ingest.StateError })
			}
			st := src.Status()
			t.Logf("status: %v %q", st.State, st.LastError)

			authorized := 0
			for _, h := range proxy.requests() {
				for line := range strings.SplitSeq(h, "\n") {
					if v, ok := strings.CutPrefix(line, "Authorization: "); ok {
						authorized++
						if !strings.HasPrefix(v, tc.scheme+" ") {
							t.Errorf("the source answered %s with %q", tc.scheme, line)
						}
					}
				}
			}
			if authorized == 0 {
				t.Error("no request carried credentials")
			}
			if !tc.online {
				if !strings.Contains(st.LastError, ingest.ErrUnauthorized.Error()) || !strings.Contains(st.LastError, "401") {
					t.Errorf("LastError = %q, want %q with the 401", st.LastError, ingest.ErrUnauthorized)
				}
				if wait := time.Until(st.NextAttempt); wait < 20*time.Second {
					t.Errorf("next attempt in %v, want the long backoff", wait)
				}
			}
			text := logs.String() + st.LastError
			for _, secret := range []string{tc.password, basicToken, user + ":"} {
				if strings.Contains(text, secret) {
					t.Errorf("logs or status show %q:\n%s", secret, text)
				}
			}
		})
	}
}
