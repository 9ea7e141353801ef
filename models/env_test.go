package models_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/matthan/matthan/models"
)

// repoRoot walks up from the test's directory to the folder holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// depPath returns $env, else <repo>/rel, and fails the test (not skips)
// when it does not exist: the real dependency is required.
func depPath(t testing.TB, env, rel string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join(repoRoot(t), rel)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s (from %s): %v; run \"make deps\"", p, env, err)
	}
	return p
}

// initRuntime loads the real ONNX Runtime library once per test binary.
func initRuntime(t testing.TB) {
	t.Helper()
	lib := depPath(t, "MATTHAN_ONNXRUNTIME_LIB", ".deps/lib/libonnxruntime.so.1")
	if err := models.InitRuntime(lib); err != nil {
		t.Fatalf("InitRuntime: %v; run \"make deps\"", err)
	}
}

func modelsDir(t testing.TB) string {
	t.Helper()
	return depPath(t, "MATTHAN_MODELS_DIR", ".deps/models")
}

func videoDir(t testing.TB) string {
	t.Helper()
	return depPath(t, "MATTHAN_VIDEO_DIR", ".deps/video")
}

// extractFrame writes the frame at second sec of a footage clip to a PNG in
// a temporary folder with the ffmpeg CLI and returns its path.
func extractFrame(t testing.TB, clip string, sec string) string {
	t.Helper()
	src := filepath.Join(videoDir(t), clip)
	if _, err := os.Stat(src); err != nil {
		t.Fatalf("footage %s: %v; run \"make deps\"", src, err)
	}
	out := filepath.Join(t.TempDir(), "frame.png")
	cmd := exec.Command("ffmpeg", "-loglevel", "error", "-ss", sec, "-i", src, "-frames:v", "1", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	return out
}
