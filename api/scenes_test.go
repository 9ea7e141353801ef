package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/api/audit"
)

// memScenes stands in for the engine's scene store (core keeps them as
// files and hands them to the pipelines): scenes by camera in memory.
type memScenes struct {
	mu     sync.Mutex
	scenes map[string]*scene.Scene
	saved  map[string]time.Time
	fail   error // SetScene's answer to a valid scene when set (the pipeline refused it)
}

func (m *memScenes) Scene(camera string) (*scene.Scene, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.scenes[camera], m.saved[camera], nil
}

func (m *memScenes) SetScene(_ context.Context, camera string, sc *scene.Scene) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.scenes[camera] = sc
	m.saved[camera] = time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	return nil
}

// pictures is the engine's latest pictures: some cameras have none yet.
type pictures map[string][]byte

func (p pictures) Latest(camera string) ([]byte, time.Time, bool) {
	b, ok := p[camera]
	return b, time.Date(2025, 3, 14, 9, 30, 0, 500_000_000, time.UTC), ok
}

// TestCameraSnapshot checks the latest picture of every camera for every
// user: live_view only, never cached, with its capture time.
func TestCameraSnapshot(t *testing.T) {
	e := newEnv(t, false)
	pics := pictures{}
	for _, c := range allCams {
		pics[c] = []byte("\xff\xd8 picture of " + c + " \xff\xd9")
	}
	delete(pics, camPublic) // no frame analysed yet
	e.srv.Snapshots = pics
	for _, u := range allUsers {
		for _, c := range allCams {
			r := e.as(u, "GET", "/api/v1/cameras/"+c+"/snapshot.jpg?t=1", nil)
			want := http.StatusNotFound
			if may(u, c, 'L') && c != camPublic {
				want = http.StatusOK
			}
			if r.status != want {
				t.Errorf("%s on %s: %d %s, want %d", u, c, r.status, r.body, want)
				continue
			}
			if want != http.StatusOK {
				continue
			}
			if string(r.body) != string(pics[c]) || r.header.Get("Content-Type") != "image/jpeg" {
				t.Errorf("%s on %s: %q (%s)", u, c, r.body, r.header.Get("Content-Type"))
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			if got := r.header.Get("X-Captured-At"); got != "2025-03-14T09:30:00.5Z" {
				t.Errorf("X-Captured-At %q", got)
			}
		}
	}
	if r := e.as(uICTAdmin, "GET", "/api/v1/cameras/"+camPublic+"/snapshot.jpg", nil); !strings.Contains(string(r.body), "no picture yet") {
		t.Errorf("a camera without a picture: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/cameras/"+camOwn+"/snapshot.jpg", nil, nil); r.status != http.StatusUnauthorized {
		t.Errorf("without a session: %d", r.status)
	}
}

// sceneBody is a valid scene of camera c as the console sends it.
func sceneBody(c string) map[string]any {
	return map[string]any{
		"camera": c,
		"lines":  []any{map[string]any{"id": "street", "points": [][2]float64{{0.55, 0.6}, {0.55, 0.2}}, "classes": []string{"car", "bus"}}},
		"zones": []any{
			map[string]any{"id": "kerb", "kind": "no_parking", "polygon": [][2]float64{{0.1, 0.5}, {0.4, 0.5}, {0.4, 0.9}, {0.1, 0.9}}, "dwell": "10s"},
			map[string]any{"id": "square", "kind": "crowd", "polygon": [][2]float64{{0.5, 0.5}, {0.9, 0.5}, {0.9, 0.9}}, "threshold": 20, "hold": 30},
		},
		"lanes":   []any{},
		"signals": []any{map[string]any{"id": "main", "roi": [][2]float64{{0.45, 0.05}, {0.48, 0.15}}, "stop_line": [][2]float64{{0.1, 0.55}, {0.9, 0.55}}}},
	}
}

// TestSceneAccess checks reading and writing every camera's scene for
// every user: reading with events or live view, writing for the
// administrators of the camera's system, every write audited.
func TestSceneAccess(t *testing.T) {
	e := newEnv(t, false)
	scenes := &memScenes{scenes: map[string]*scene.Scene{}, saved: map[string]time.Time{}}
	e.srv.Scenes = scenes
	for _, u := range allUsers {
		for _, c := range allCams {
			r := e.as(u, "GET", "/api/v1/cameras/"+c+"/scene", nil)
			want := http.StatusNotFound
			if may(u, c, 'E') || may(u, c, 'L') {
				want = http.StatusOK
			}
			if r.status != want {
				t.Errorf("GET as %s on %s: %d %s, want %d", u, c, r.status, r.body, want)
			}
			if r.status == http.StatusOK && !strings.Contains(string(r.body), `"lines": []`) {
				t.Errorf("GET as %s on %s: not an empty scene: %s", u, c, r.body)
			}
		}
	}
	for _, u := range allUsers {
		for _, c := range allCams {
			r := e.as(u, "PUT", "/api/v1/cameras/"+c+"/scene", sceneBody(c))
			var want int
			switch {
			case may(u, c, 'M'):
				want = http.StatusOK
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

	// What was saved is what is read, durations as text.
	var got scene.Scene
	r := e.as(uPoliceViewer, "GET", "/api/v1/cameras/"+camOwn+"/scene", nil)
	r.json(t, &got)
	if len(got.Lines) != 1 || len(got.Zones) != 2 || got.Zones[0].Dwell.D() != 10*time.Second || got.Zones[1].Hold.D() != 30*time.Second {
		t.Errorf("scene read back: %+v", got)
	}
	if !strings.Contains(string(r.body), `"dwell": "10s"`) || r.header.Get("Last-Modified") == "" {
		t.Errorf("scene answer %s, Last-Modified %q", r.body, r.header.Get("Last-Modified"))
	}

	// One audit entry per save, with the acting user and a summary.
	entries, err := e.store.Audit().Query(context.Background(), audit.Filter{Action: ActionSceneUpdate, Object: "camera:" + camOwn})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 { // the ICT administrator's and the police administrator's
		t.Fatalf("%d scene.update entries for %s, want 2", len(entries), camOwn)
	}
	var after struct {
		Camera                       string
		Lines, Zones, Lanes, Signals int
		Items                        []string
	}
	if err := json.Unmarshal(entries[1].After, &after); err != nil {
		t.Fatal(err)
	}
	if entries[1].Actor.UserID != e.ids[uPoliceAdmin] || after.Camera != camOwn || after.Lines != 1 || after.Zones != 2 ||
		after.Signals != 1 || !strings.Contains(strings.Join(after.Items, ","), "kerb (no_parking)") {
		t.Errorf("audit entry %+v, after %+v", entries[1], after)
	}
	if !strings.Contains(string(entries[1].Before), `"zones":2`) {
		t.Errorf("audit before %s, want the scene replaced", entries[1].Before)
	}
}

// TestSceneInvalid checks that a bad scene is refused with a message that
// names the item and the field, and changes nothing.
func TestSceneInvalid(t *testing.T) {
	e := newEnv(t, false)
	scenes := &memScenes{scenes: map[string]*scene.Scene{}, saved: map[string]time.Time{}}
	e.srv.Scenes = scenes
	path := "/api/v1/cameras/" + camOwn + "/scene"
	crossing := sceneBody(camOwn)
	crossing["zones"] = []any{map[string]any{"id": "bow", "kind": "crowd", "polygon": [][2]float64{{0, 0}, {1, 1}, {1, 0}, {0, 1}}}}
	outside := sceneBody(camOwn)
	outside["lines"] = []any{map[string]any{"id": "north", "points": [][2]float64{{0.1, 0.5}, {1.3, 0.5}}}}
	badDwell := sceneBody(camOwn)
	badDwell["zones"] = []any{map[string]any{"id": "kerb", "kind": "no_parking", "polygon": [][2]float64{{0, 0}, {1, 0}, {1, 1}}, "dwell": "soon"}}
	unknown := sceneBody(camOwn)
	unknown["cameras"] = "x"
	for _, tc := range []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"crossing polygon", crossing, 400, `zones[0] \"bow\": polygon: edges 0 and 2 cross`},
		{"point outside", outside, 400, `lines[0] \"north\": points[1]: x 1.3 is outside 0..1`},
		{"bad dwell", badDwell, 400, `zones[0] \"kerb\": dwell: invalid duration \"soon\"`},
		{"unknown field", unknown, 400, `field \"cameras\" is not a known field`},
		{"other camera", sceneBody(camGranted), 400, "camera: the body's camera \\\"" + camGranted + "\\\" differs"},
		{"no camera", `{"lines": []}`, 400, "camera is empty"},
		{"not JSON", `lines: []`, 400, "malformed JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.as(uICTAdmin, "PUT", path, tc.body)
			if r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
				t.Errorf("%d %s, want %d with %s", r.status, r.body, tc.status, tc.want)
			}
		})
	}
	if sc, _, _ := scenes.Scene(camOwn); sc != nil {
		t.Errorf("a refused scene was saved: %+v", sc)
	}
	r := e.do("PUT", path, strings.Repeat(" ", scene.MaxFileSize+1), map[string]string{
		"Authorization": "Bearer " + e.login(uICTAdmin), "Content-Type": "application/json"})
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over 1 MiB: %d %s", r.status, r.body)
	}
	entries, err := e.store.Audit().Query(context.Background(), audit.Filter{Action: ActionSceneUpdate})
	if err != nil || len(entries) != 0 {
		t.Errorf("refused scenes audited: %d entries, %v", len(entries), err)
	}

}

// TestSceneNotApplied: a valid scene the engine then cannot apply is
// audited as an update and as its failure, answers the error, and the
// previous scene stays.
func TestSceneNotApplied(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fail   error
		status int
	}{
		{"refused by the pipeline", fmt.Errorf("%w: model firesmoke_416 not found", scene.ErrInvalidScene), http.StatusBadRequest},
		{"disk full", errors.New("write scene file: no space left on device"), http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, false)
			scenes := &memScenes{scenes: map[string]*scene.Scene{}, saved: map[string]time.Time{}, fail: tc.fail}
			e.srv.Scenes = scenes
			r := e.as(uICTAdmin, "PUT", "/api/v1/cameras/"+camOwn+"/scene", sceneBody(camOwn))
			if r.status != tc.status {
				t.Errorf("%d %s, want %d", r.status, r.body, tc.status)
			}
			if sc, _, _ := scenes.Scene(camOwn); sc != nil {
				t.Errorf("the scene was saved: %+v", sc)
			}
			for _, action := range []string{ActionSceneUpdate, ActionSceneUpdateFailed} {
				entries, err := e.store.Audit().Query(context.Background(), audit.Filter{Action: action})
				if err != nil || len(entries) != 1 || entries[0].Object != "camera:"+camOwn {
					t.Errorf("%s: %d entries, %v; want one for camera:%s", action, len(entries), err, camOwn)
				}
			}
		})
	}
}

// TestSceneWithoutStore checks the answers of an API run without the
// engine's scene store: 503, after the access checks.
func TestSceneWithoutStore(t *testing.T) {
	e := newEnv(t, false)
	path := "/api/v1/cameras/" + camOwn + "/scene"
	if r := e.as(uICTAdmin, "GET", path, nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("GET without a scene store: %d %s", r.status, r.body)
	}
	if r := e.as(uICTAdmin, "PUT", path, sceneBody(camOwn)); r.status != http.StatusServiceUnavailable {
		t.Errorf("PUT without a scene store: %d %s", r.status, r.body)
	}
	if r := e.as(uPoliceOp, "PUT", path, sceneBody(camOwn)); r.status != http.StatusForbidden {
		t.Errorf("PUT by an operator without a scene store: %d %s", r.status, r.body)
	}
	if r := e.as(uICTAdmin, "GET", "/api/v1/cameras/"+camUngranted+"/scene", nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("GET on another camera: %d %s", r.status, r.body)
	}
}
