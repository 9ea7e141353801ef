package core

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/cmd/matthan/internal/conf"
	"github.com/matthan/matthan/deploy/testenv"
)

// testConfig is a valid configuration on the real libraries and models.
func testConfig(t *testing.T) conf.Config {
	t.Helper()
	cfg := conf.Default()
	cfg.Data = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	cfg.Runtime.ONNXRuntime = testenv.ONNXRuntime(t)
	cfg.Runtime.CHDB = testenv.CHDB(t)
	cfg.Detector.ModelsDir = testenv.ModelsDir(t)
	return cfg
}

// TestStartErrors checks that what the engine cannot run without is refused
// at start with an error that says what is wrong and how to fix it.
func TestStartErrors(t *testing.T) {
	cases := []struct {
		name   string
		change func(*conf.Config)
		want   []string
	}{
		{"missing ONNX Runtime", func(c *conf.Config) { c.Runtime.ONNXRuntime = "/nonexistent/libonnxruntime.so.1" }, []string{"/nonexistent/libonnxruntime.so.1", "make deps"}},
		{"unknown model", func(c *conf.Config) { c.Detector.Model = "yolo_nowhere" }, []string{"detector.model", "yolo_nowhere"}},
		{"missing model file", func(c *conf.Config) { c.Detector.ModelsDir = t.TempDir() }, []string{"yolox_nano.onnx"}},
		{"missing chDB", func(c *conf.Config) { c.Runtime.CHDB = "/nonexistent/libchdb.so" }, []string{"/nonexistent/libchdb.so", "make deps"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			tc.change(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := (&Engine{Config: cfg}).Run(ctx)
			if err == nil {
				t.Fatal("engine started; want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestUnreachableCamera checks that a camera nobody answers for does not
// stop the engine: the API keeps serving and reports the camera offline.
func TestUnreachableCamera(t *testing.T) {
	cfg := testConfig(t)
	cfg.Health.IncidentAfter = conf.Duration(time.Second)
	addr := testenv.FreeAddr(t) // nothing listens there
	cfg.Cameras = []conf.Camera{{ID: "ghost", URL: "rtsp://admin:hunter2@" + addr + "/live"}}
	createAdmin(t, cfg.Data)
	var logs strings.Builder
	apiAddr := make(chan string, 1)
	e := &Engine{
		Config:   cfg,
		Logger:   slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, nil)),
		APIReady: func(a string) { apiAddr <- a },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	var base string
	select {
	case a := <-apiAddr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("engine stopped: %v", err)
	}
	client := login(t, base)
	var state string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var body struct {
			Cameras []struct {
				Status struct{ State, LastError string } `json:"status"`
			} `json:"cameras"`
		}
		if err := json.Unmarshal([]byte(client.get(t, "/api/v1/cameras")), &body); err != nil {
			t.Fatal(err)
		}
		state = body.Cameras[0].Status.State
		if state == "offline" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if state != "offline" {
		t.Errorf("camera state = %q, want offline", state)
	}
	// The outage is an event, stored like any other.
	var offline bool
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !offline; time.Sleep(200 * time.Millisecond) {
		offline = strings.Contains(client.get(t, "/api/v1/events?camera=ghost"), `"camera.offline"`)
	}
	if !offline {
		t.Error("no camera.offline event for the unreachable camera")
	}
	// An outage longer than health.incident_after opens one incident with a
	// 24-hour deadline.
	var incidents struct {
		Incidents []struct {
			CameraID string    `json:"camera_id"`
			Kind     string    `json:"kind"`
			Source   string    `json:"source"`
			Opened   time.Time `json:"opened"`
			Deadline time.Time `json:"deadline"`
		} `json:"incidents"`
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(incidents.Incidents) == 0; time.Sleep(200 * time.Millisecond) {
		if err := json.Unmarshal([]byte(client.get(t, "/api/v1/incidents")), &incidents); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(incidents.Incidents); n != 1 {
		t.Fatalf("%d incidents, want 1 for the offline camera", n)
	}
	if in := incidents.Incidents[0]; in.CameraID != "ghost" || in.Kind != "camera.offline" || in.Source != "auto" ||
		in.Deadline.Sub(in.Opened) != 24*time.Hour {
		t.Errorf("incident %+v, want an automatic camera.offline incident of ghost due 24 h after it opened", in)
	}
	if got := httpGet(t, base+"/healthz"); !strings.Contains(got, "ok") {
		t.Errorf("/healthz = %q", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Error("the camera password reached the logs")
	}
	if _, err := os.Stat(filepath.Join(cfg.Data, "recordings")); err != nil {
		t.Error(err)
	}
}
