package ingest_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/camsim"
)

// TestSourceGarbage: a server that is not an RTSP camera, on the camera's
// address, leaves the source offline with a clear error, retrying with
// backoff and without a storm; once a real camera serves that address, the
// source goes online.
func TestSourceGarbage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		mode int
		text string // in Status.LastError; either of the texts separated by |
	}{
		{"random answer", garbageReply, "not RTSP|no answer within 2s"},
		{"random at once", garbageAtOnce, "not RTSP|no answer within 2s"},
		{"closes at once", garbageCloseAtOnce, "closed the connection instead of answering"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := freeAddr(t)
			garbage := startGarbage(t, addr, tc.mode)
			var got collector
			src := &ingest.Source{
				CameraID:     "cam-garbage",
				URL:          "rtsp://" + addr + "/" + wildfireName,
				ReadTimeout:  2 * time.Second,
				OnAccessUnit: got.add,
			}
			runSource(t, src)
			start := time.Now()
			waitFor(t, 5*time.Second, "offline", func() bool { return src.Status().State == ingest.StateOffline })
			st := src.Status()
			t.Logf("LastError after %v: %s", time.Since(start).Round(time.Millisecond), st.LastError)
			if !slices.ContainsFunc(strings.Split(tc.text, "|"), func(s string) bool { return strings.Contains(st.LastError, s) }) {
				t.Errorf("LastError = %q, want it to say %q", st.LastError, tc.text)
			}

			// Backoff 1, 2, 4 s (±20%): 3 or 4 attempts in the first 6 s.
			time.Sleep(6*time.Second - time.Since(start))
			n := garbage.connections()
			st = src.Status()
			t.Logf("%d connections in 6 s, status %+v", n, st)
			if n < 2 || n > 5 {
				t.Errorf("%d connections in 6 s, want 2 to 5 (exponential backoff from 1 s)", n)
			}
			if st.State != ingest.StateOffline && st.State != ingest.StateConnecting {
				t.Errorf("state %v, want offline (or connecting for the next attempt)", st.State)
			}
			if st.Frames != 0 || got.len() != 0 {
				t.Errorf("%d frames from a server that is not a camera", got.len())
			}

			// A real camera on the same address.
			garbage.stop()
			startCamera(t, &camsim.Server{Listen: addr, Files: []string{clip(t, wildfire)}})
			due := time.Until(src.Status().NextAttempt)
			waitFor(t, max(due, 0)+5*time.Second, "frames from the real camera", func() bool { return got.len() > 0 })
			if st := src.Status(); st.State != ingest.StateOnline {
				t.Errorf("state %v with frames flowing", st.State)
			}
		})
	}
}
