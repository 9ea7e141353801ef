package analyzer_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

// fireSmokeModel opens the small fire/smoke model as the engine does.
func fireSmokeModel(t *testing.T) *models.Detector {
	t.Helper()
	newDetector(t, 0.1) // initialises the runtime
	m, err := models.Zoo("firesmoke_416")
	if err != nil {
		t.Fatal(err)
	}
	d, err := models.NewDetector(m, testenv.ModelsDir(t), models.Options{Threshold: analyzer.FireSmokeThreshold})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// smokeAlerts analyses a video file with the scene's fire and smoke
// analytic and returns its alert.smoke events.
func smokeAlerts(t *testing.T, path, sceneText string, fire *models.Detector) []sink.Event {
	t.Helper()
	sc := parseScene(t, sceneText)
	fs, err := analyzer.NewFireSmokeAnalytic(sc.Camera, *sc, fire, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	a, err := analyzer.NewAnalyst(analyzer.AnalystConfig{CameraID: sc.Camera, Scene: sc, Detector: newDetector(t, 0.1),
		FPS: 1, Analytics: []analyzer.Analytic{fs}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, events, offsets := runFile(t, a, path, time.Hour)
	var smoke []sink.Event
	for i, ev := range events {
		if ev.Type == sink.TypeAlertSmoke {
			t.Logf("%v: alert.smoke %s, box %v, measures %v", offsets[i], ev.Detail, ev.Object.Box, ev.Measures)
			smoke = append(smoke, ev)
		}
	}
	return smoke
}

// TestFireSmokeStills: a forest camera's 2560×1440 picture of a distant
// hillside, the wildfire clip's 400×240 frames pasted at their size into a
// dark frame (twice over, 35 s), analysed in the stills mode the scene asks
// for: the frame is cut into tiles the plume is large enough in, and the
// plume is alerted, in its place. The same scene in video mode, the whole
// frame shrunk 6× to the model's input, is logged for comparison.
func TestFireSmokeStills(t *testing.T) {
	const W, H, X, Y = 2560, 1440, 1500, 700
	big := filepath.Join(t.TempDir(), "forest.mp4")
	if out, err := exec.Command("ffmpeg", "-loglevel", "error", "-y", "-stream_loop", "1",
		"-i", testenv.Clip(t, "wildfire_smoke_hillside_dusk.mp4"),
		"-vf", fmt.Sprintf("pad=%d:%d:%d:%d:color=0x282828,fps=5", W, H, X, Y),
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", big).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	// The watched sky over the ridge, in the big frame's coordinates.
	x0, y0, x1, y1 := float64(X)/W, float64(Y)/H, float64(X+400)/W, float64(Y+160)/H
	zone := fmt.Sprintf(`
camera: forest
zones:
  - id: ridge
    kind: smoke_watch
    polygon: [[%.4f, %.4f], [%.4f, %.4f], [%.4f, %.4f], [%.4f, %.4f]]
`, x0, y0, x1, y0, x1, y1, x0, y1)
	fire := fireSmokeModel(t)

	stills := smokeAlerts(t, big, zone+"firesmoke: {mode: stills, interval: 3s}\n", fire)
	if len(stills) == 0 {
		t.Fatal("no alert.smoke from the stills of the distant plume")
	}
	b := stills[0].Object.Box
	if cx := float64(b[0]+b[2]) / 2; cx < x0 || cx > x1 || b[1] < float32(y0)-0.02 || b[3] > float32(Y+240)/H {
		t.Errorf("alert box %v outside the pasted hillside [%.3f..%.3f] × [%.3f..%.3f]", b, x0, x1, y0, float64(Y+240)/H)
	}
	video := smokeAlerts(t, big, zone, fire)
	t.Logf("video mode, whole frame only: %d alert.smoke", len(video))
}
