package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/violation"
	"github.com/matthan/matthan/api/audit"
)

// memSignals stands in for the engine's pipelines: it records the states
// handed on; cameras in stopped are not analysed.
type memSignals struct {
	mu      sync.Mutex
	got     []string
	stopped map[string]bool
}

func (m *memSignals) SetSignal(camera, signal string, state violation.SignalState, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped[camera] {
		return fmt.Errorf("camera %q: %w", camera, ErrCameraNotRunning)
	}
	m.got = append(m.got, camera+"/"+signal+"="+string(state)+"@"+at.UTC().Format(time.RFC3339))
	return nil
}

// TestSignalFeed checks the signal-phase feed for every user and camera
// (the administrators of the camera's system only), what it hands on, the
// audit entry written before, and the refusals, each naming what was
// wrong and handing nothing on.
func TestSignalFeed(t *testing.T) {
	e := newEnv(t, false)
	scenes := &memScenes{scenes: map[string]*scene.Scene{}, saved: map[string]time.Time{}}
	for _, c := range allCams {
		b, _ := json.Marshal(sceneBody(c)) // its signal is "main"
		sc, err := scene.ParseJSON(b)
		if err != nil {
			t.Fatal(err)
		}
		scenes.scenes[c] = &sc
	}
	feed := &memSignals{stopped: map[string]bool{}}
	e.srv.Scenes, e.srv.Signals = scenes, feed
	at := time.Now().UTC().Truncate(time.Second)
	body := map[string]any{"state": "red", "at": at.Format(time.RFC3339)}
	accepted := 0
	for _, u := range allUsers {
		for _, c := range allCams {
			r := e.as(u, "PUT", "/api/v1/cameras/"+c+"/signals/main", body)
			var want int
			switch {
			case may(u, c, 'M'):
				want = http.StatusOK
				accepted++
			case visibleTo(u, c):
				want = http.StatusForbidden
			default:
				want = http.StatusNotFound
			}
			if r.status != want {
				t.Errorf("PUT as %s on %s: %d %s, want %d", u, c, r.status, r.body, want)
			}
		}
	}
	if accepted == 0 || len(feed.got) != accepted {
		t.Fatalf("%d states handed on for %d accepted", len(feed.got), accepted)
	}
	if want := camOwn + "/main=red@" + at.Format(time.RFC3339); !strings.Contains(strings.Join(feed.got, " "), want) {
		t.Errorf("handed on %v, want %s among them", feed.got, want)
	}
	// Each change of state is audited once; a repeat of the state is not
	// a change (the controller repeats it for it to hold).
	audited := func() []audit.Entry {
		entries, err := e.store.Audit().Query(context.Background(), audit.Filter{Action: ActionSignalSet, Object: "camera:" + camOwn})
		if err != nil {
			t.Fatal(err)
		}
		return entries
	}
	if entries := audited(); len(entries) != 1 || !strings.Contains(string(entries[0].After), `"state":"red"`) ||
		!strings.Contains(string(entries[0].After), `"signal":"main"`) {
		t.Fatalf("audit entries %+v, want one signal.set with the signal and red", entries)
	}
	for _, state := range []string{"green", "green", "red"} {
		if r := e.as(uICTAdmin, "PUT", "/api/v1/cameras/"+camOwn+"/signals/main", map[string]any{"state": state}); r.status != http.StatusOK {
			t.Fatalf("PUT %s: %d %s", state, r.status, r.body)
		}
	}
	if entries := audited(); len(entries) != 3 {
		t.Errorf("%d signal.set entries after red, red…, green, green, red; want 3", len(entries))
	}

	feed.stopped[camUngranted] = true
	path := "/api/v1/cameras/" + camOwn + "/signals/"
	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		want       string
	}{
		{"unknown state", path + "main", map[string]any{"state": "blue"}, http.StatusBadRequest, `state: "blue": want red, amber, green or unknown`},
		{"unknown field", path + "main", map[string]any{"state": "red", "phase": 2}, http.StatusBadRequest, `unknown field "phase"`},
		{"stale", path + "main", map[string]any{"state": "red", "at": time.Now().Add(-time.Hour).Format(time.RFC3339)}, http.StatusBadRequest, "from the server's clock"},
		{"future", path + "main", map[string]any{"state": "red", "at": time.Now().Add(10 * time.Minute).Format(time.RFC3339)}, http.StatusBadRequest, "from the server's clock"},
		{"unknown signal", path + "north", map[string]any{"state": "red"}, http.StatusNotFound, "signal"},
		{"not running", "/api/v1/cameras/" + camUngranted + "/signals/main", map[string]any{"state": "green"}, http.StatusConflict, "not analysed"},
	} {
		before := len(feed.got)
		r := e.as(uICTAdmin, "PUT", tc.path, tc.body)
		var answer struct{ Error string }
		json.Unmarshal(r.body, &answer)
		if r.status != tc.status || !strings.Contains(answer.Error, tc.want) {
			t.Errorf("%s: %d %s, want %d naming %q", tc.name, r.status, r.body, tc.status, tc.want)
		}
		if len(feed.got) != before {
			t.Errorf("%s: a refused state was handed on", tc.name)
		}
	}

	e.srv.Signals = nil
	if r := e.as(uICTAdmin, "PUT", path+"main", body); r.status != http.StatusServiceUnavailable {
		t.Errorf("without a signal feed: %d %s", r.status, r.body)
	}
}
