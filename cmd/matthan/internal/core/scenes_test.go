package core

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/cmd/matthan/internal/conf"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/models"
)

// writeFile writes text to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadScenesPrecedence checks that a scene saved through the API is
// run over the configuration's, says so in the log, and that scenes saved
// for cameras the engine does not run are kept too.
func TestLoadScenesPrecedence(t *testing.T) {
	cfg := conf.Default()
	cfg.Data = t.TempDir()
	etc := t.TempDir()
	cfg.Cameras = []conf.Camera{
		{ID: "both", Scene: writeFile(t, etc, "both.yaml", "camera: both\nlines: [{id: config, points: [[0,0.5],[1,0.5]]}]\n")},
		{ID: "config", Scene: writeFile(t, etc, "config.yaml", "camera: config\nlines: [{id: config, points: [[0,0.5],[1,0.5]]}]\n")},
		{ID: "none"},
	}
	writeFile(t, scenesDir(cfg.Data), "both.yaml", "camera: both\nzones: [{id: saved, kind: no_parking, polygon: [[0,0],[1,0],[1,1]], dwell: 10s}]\n")
	writeFile(t, scenesDir(cfg.Data), "elsewhere.yaml", "camera: elsewhere\n")
	writeFile(t, scenesDir(cfg.Data), ".scene-123", "a temporary file of an interrupted save")
	var logs bytes.Buffer
	scenes, err := loadScenes(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if sc := scenes["both"]; sc.scene == nil || len(sc.scene.Zones) != 1 || sc.scene.Zones[0].ID != "saved" || sc.saved.IsZero() {
		t.Errorf("camera both runs %+v, want the saved scene", sc)
	}
	if sc := scenes["config"]; sc.scene == nil || sc.scene.Lines[0].ID != "config" || !sc.saved.IsZero() {
		t.Errorf("camera config runs %+v, want the configuration's scene", sc)
	}
	if _, ok := scenes["none"]; ok {
		t.Error("a camera without a scene got one")
	}
	if sc := scenes["elsewhere"]; sc.scene == nil || sc.scene.Camera != "elsewhere" {
		t.Errorf("the scene saved for a camera the engine does not run: %+v", sc)
	}
	for _, want := range []string{`msg="scene saved through the API" camera=both`, "over_config=true", `msg="scene from the configuration" camera=config`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}

	// A damaged saved scene stops the start, naming the file and the way out.
	bad := writeFile(t, scenesDir(cfg.Data), "both.yaml", "camera: both\nlines: [{id: a, points: [[0,0]]}]\n")
	if _, err := loadScenes(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), bad) ||
		!strings.Contains(err.Error(), "remove the file") {
		t.Errorf("a damaged saved scene: %v", err)
	}
	writeFile(t, scenesDir(cfg.Data), "both.yaml", "camera: other\n")
	if _, err := loadScenes(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), `its camera is "other"`) {
		t.Errorf("a saved scene of another camera: %v", err)
	}
}

// TestSceneStoreSave saves scenes for a camera the engine runs and one it
// does not: both are written (0600) and read back at the next start; the
// running camera's pipeline is handed the scene.
func TestSceneStoreSave(t *testing.T) {
	data := t.TempDir()
	run := &camera{conf: conf.Camera{ID: "run"}, pipeline: &analyzer.Pipeline{CameraID: "run"}}
	defer run.pipeline.Close()
	rules := &ruleBuilder{
		evidence: &analyzer.EvidenceDir{Root: filepath.Join(data, "evidence")},
		log:      slog.New(slog.DiscardHandler),
		openModel: func() (*models.Scheduler, error) {
			t.Fatal("no scene here needs the fire/smoke model")
			return nil, nil
		},
	}
	s := newSceneStore(data, map[string]savedScene{}, []*camera{run}, rules, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	for _, id := range []string{"run", "idle"} {
		sc, err := scene.Parse([]byte("camera: " + id + "\nzones: [{id: kerb, kind: no_parking, polygon: [[0,0],[1,0],[1,1]], dwell: 10s}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetScene(ctx, id, &sc); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		got, saved, err := s.Scene(id)
		if err != nil || got == nil || got.Zones[0].Dwell.D() != 10*time.Second || saved.IsZero() {
			t.Errorf("%s: read back %+v at %v (%v)", id, got, saved, err)
		}
		fi, err := os.Stat(filepath.Join(scenesDir(data), id+".yaml"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: scene file %v (%v), want mode 0600", id, fi, err)
		}
	}
	if err := s.SetScene(ctx, "run", &scene.Scene{Camera: "other"}); err == nil {
		t.Error("saved another camera's scene")
	}
	cfg := conf.Default()
	cfg.Data = data
	cfg.Cameras = []conf.Camera{{ID: "run"}}
	scenes, err := loadScenes(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"run", "idle"} {
		if sc := scenes[id].scene; sc == nil || len(sc.Zones) != 1 || sc.Zones[0].Kind != scene.ZoneNoParking {
			t.Errorf("%s at the next start: %+v", id, sc)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(scenesDir(data), ".scene-*")); len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

// put sends body as JSON with the bearer token and returns the status and
// the answer.
func (c *apiClient) put(t *testing.T, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, c.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEngineScenes starts the engine with a camera whose scene was saved
// through the API before: the saved scene is the one served; a scene PUT
// through the API is saved, audited and served.
func TestEngineScenes(t *testing.T) {
	cfg := testConfig(t)
	cfg.Cameras = []conf.Camera{{ID: "ghost", URL: "rtsp://" + testenv.FreeAddr(t) + "/live", Name: "Hồ Xuân Hương",
		Lat: 11.9404, Lon: 108.4419, District: "Thành phố Đà Lạt", Purposes: []string{"traffic_safety"},
		Scene: writeFile(t, t.TempDir(), "ghost.yaml", "camera: ghost\nlines: [{id: config, points: [[0,0.5],[1,0.5]]}]\n")}}
	writeFile(t, scenesDir(cfg.Data), "ghost.yaml", "camera: ghost\nlines: [{id: saved, points: [[0.5,0],[0.5,1]]}]\n")
	createAdmin(t, cfg.Data)
	var logs bytes.Buffer
	apiAddr := make(chan string, 1)
	e := &Engine{Config: cfg, Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, nil)), APIReady: func(a string) { apiAddr <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var client *apiClient
	select {
	case a := <-apiAddr:
		client = login(t, "http://"+a)
	case err := <-done:
		t.Fatalf("engine stopped: %v", err)
	}

	var cam store.Camera
	if err := json.Unmarshal([]byte(client.get(t, "/api/v1/cameras/ghost")), &cam); err != nil {
		t.Fatal(err)
	}
	if cam.Name != "Hồ Xuân Hương" || cam.Lat != 11.9404 || cam.District != "Thành phố Đà Lạt" || !slices.Equal(cam.Purposes, []store.Purpose{"traffic_safety"}) {
		t.Errorf("registered %+v, want the configuration's registry fields", cam)
	}
	if got := client.get(t, "/api/v1/cameras/ghost/scene"); !strings.Contains(got, `"id": "saved"`) {
		t.Errorf("served scene %s, want the one saved through the API", got)
	}
	status, body := client.put(t, "/api/v1/cameras/ghost/scene",
		`{"camera": "ghost", "zones": [{"id": "kerb", "kind": "no_parking", "polygon": [[0.1,0.5],[0.4,0.5],[0.4,0.9]], "dwell": "10s"}]}`)
	if status != http.StatusOK {
		t.Fatalf("PUT scene: %d %s", status, body)
	}
	if got := client.get(t, "/api/v1/cameras/ghost/scene"); !strings.Contains(got, `"dwell": "10s"`) {
		t.Errorf("served scene after PUT %s", got)
	}
	saved, err := scene.Load(filepath.Join(scenesDir(cfg.Data), "ghost.yaml"))
	if err != nil || len(saved.Zones) != 1 || len(saved.Lines) != 0 {
		t.Errorf("saved file %+v (%v)", saved, err)
	}
	if got := client.get(t, "/api/v1/audit?action=scene.update"); !strings.Contains(got, `"object": "camera:ghost"`) {
		t.Errorf("audit %s", got)
	}
	// The signal-phase feed reaches the camera's red-light rule: none
	// before the scene has the signal, taken once it has.
	if status, body := client.put(t, "/api/v1/cameras/ghost/signals/main", `{"state": "red"}`); status != http.StatusNotFound {
		t.Errorf("signal before the scene has it: %d %s", status, body)
	}
	if status, body := client.put(t, "/api/v1/cameras/ghost/scene", `{"camera": "ghost", "signals": [{"id": "main",
		"roi": [[0.05,0.05],[0.1,0.3]], "stop_line": [[0.1,0.6],[0.9,0.6]]}]}`); status != http.StatusOK {
		t.Fatalf("PUT scene with a signal: %d %s", status, body)
	}
	if status, body := client.put(t, "/api/v1/cameras/ghost/signals/main", `{"state": "red"}`); status != http.StatusOK || !strings.Contains(body, `"state": "red"`) {
		t.Errorf("signal: %d %s", status, body)
	}
	if got := client.get(t, "/api/v1/audit?action=signal.set"); !strings.Contains(got, `"object": "camera:ghost"`) {
		t.Errorf("audit %s", got)
	}
	status, body = client.put(t, "/api/v1/cameras/ghost/scene", `{"camera": "ghost", "lines": [{"id": "x", "points": [[0,0]]}]}`)
	if status != http.StatusBadRequest || !strings.Contains(body, `lines[0] \"x\": points: expected 2 points`) {
		t.Errorf("bad scene: %d %s", status, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil // for the deferred stop
	if !strings.Contains(logs.String(), `msg="scene saved through the API" camera=ghost`) {
		t.Errorf("the log does not say which scene runs:\n%s", logs.String())
	}
}

// TestRegisterCameras checks that configured systems and cameras are
// registered with their registry fields, and that those already
// registered keep what the register has.
func TestRegisterCameras(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Path(t.TempDir()), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	systems := []conf.System{{ID: "traffic", Name: "Hệ thống camera giao thông", Tier: 2}}
	cameras := []conf.Camera{
		{ID: "a", Name: "Ngã tư Trần Phú", SystemID: "traffic", Lat: 11.94, Lon: 108.43, District: "Thành phố Đà Lạt",
			Address: "Đường Trần Phú", Purposes: []string{"traffic_safety", "urban_order"}},
		{ID: "b"},
	}
	if err := registerCameras(ctx, st, systems, cameras); err != nil {
		t.Fatal(err)
	}
	if y, err := st.System(ctx, "traffic"); err != nil || y.Name != "Hệ thống camera giao thông" || y.Tier != store.TierII {
		t.Errorf("system %+v (%v)", y, err)
	}
	a, err := st.Camera(ctx, "a")
	if err != nil || a.Name != "Ngã tư Trần Phú" || a.Lat != 11.94 || a.Lon != 108.43 || a.District != "Thành phố Đà Lạt" ||
		a.Address != "Đường Trần Phú" || len(a.Purposes) != 2 || a.SystemID != "traffic" {
		t.Errorf("camera a %+v (%v)", a, err)
	}
	if b, err := st.Camera(ctx, "b"); err != nil || b.Name != "b" || b.SystemID != defaultSystem {
		t.Errorf("camera b %+v (%v)", b, err)
	}
	// What the API changed stays.
	a.District = "Huyện Lạc Dương"
	if _, err := st.UpdateCamera(ctx, audit.Actor{Username: "test"}, a); err != nil {
		t.Fatal(err)
	}
	if err := registerCameras(ctx, st, systems, cameras); err != nil {
		t.Fatal(err)
	}
	if a, _ := st.Camera(ctx, "a"); a.District != "Huyện Lạc Dương" {
		t.Errorf("registering again changed the district to %q", a.District)
	}
}

// TestPurposesMatchStore keeps the configuration's purposes the register's.
func TestPurposesMatchStore(t *testing.T) {
	want := make([]string, len(store.Purposes))
	for i, p := range store.Purposes {
		want[i] = string(p)
	}
	if !slices.Equal(conf.Purposes, want) {
		t.Errorf("conf.Purposes %v, store.Purposes %v", conf.Purposes, want)
	}
}
