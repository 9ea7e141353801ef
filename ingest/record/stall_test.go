package record

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// TestRecorderFlushesStalledPart checks that a part is written after
// PartDuration of wall time even when the stream stalls before the part is
// full, so a stalled camera does not keep video in memory.
func TestRecorderFlushesStalledPart(t *testing.T) {
	f := loadClip(t, clipIntersection)
	snapshot := filepath.Join(t.TempDir(), "stalled.mp4")
	synctest.Test(t, func(t *testing.T) {
		root := t.TempDir()
		r := &Recorder{Root: root, CameraID: "cam"} // parts of 1 s = 30 frames
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		for i := range 10 {
			r.Push(f.accessUnit(i, 0, true))
		}
		synctest.Wait()
		files, _ := filepath.Glob(filepath.Join(root, "cam", "*", "*.mp4"))
		if len(files) != 1 {
			t.Fatalf("segment files %v, want one", files)
		}
		if n := countBoxes(t, files[0], "moof"); n != 0 {
			t.Fatalf("%d parts written before PartDuration passed", n)
		}
		time.Sleep(1500 * time.Millisecond) // the stream stalls
		synctest.Wait()
		if n := countBoxes(t, files[0], "moof"); n != 1 {
			t.Fatalf("%d parts written after the stall, want 1", n)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(snapshot, b, 0o644); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	// The last frame waits for its successor to know its duration.
	if p := probe(t, snapshot); p.stderr != "" || p.frames != 9 {
		t.Errorf("stalled part: ffprobe decoded %d frames, want 9; stderr %q", p.frames, p.stderr)
	}
}
