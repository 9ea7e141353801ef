package record

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/camsim"
)

// TestRecorderCameraOutageRTSP records the camera simulator over loopback
// RTSP, stops its stream for 15 s and restarts it: the source reconnects,
// the recording resumes, the ledger holds one gap within 1 s of the truth,
// and the segments on each side play.
func TestRecorderCameraOutageRTSP(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time outage of 15 s")
	}
	clip := clipPath(t, clipWildfire) // a keyframe every second
	srv := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip}}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		if err := srv.Run(ctx); err != nil {
			t.Errorf("camsim: %v", err)
		}
	})
	select {
	case <-srv.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("camsim not ready in 10 s")
	}

	var (
		mu   sync.Mutex
		told []Gap
	)
	root := t.TempDir()
	rec := &Recorder{Root: root, CameraID: "cam", OnGap: func(g Gap) { mu.Lock(); told = append(told, g); mu.Unlock() }}
	src := &ingest.Source{CameraID: "cam", URL: srv.URLs()[0], OnAccessUnit: rec.Push}
	recCtx, stopRec := context.WithCancel(context.Background())
	srcCtx, stopSrc := context.WithCancel(context.Background())
	recDone, srcDone := make(chan error, 1), make(chan error, 1)
	go func() { recDone <- rec.Run(recCtx) }()
	go func() { srcDone <- src.Run(srcCtx) }()

	name := camsim.StreamName(clip)
	time.Sleep(4 * time.Second)
	if err := srv.Pause(name); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	time.Sleep(15 * time.Second)
	if err := srv.Resume(name); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(told)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no gap reported 10 s after the camera came back; source %+v", src.Status())
		}
		time.Sleep(50 * time.Millisecond)
	}
	back := time.Since(resumed)
	time.Sleep(3 * time.Second)
	stopSrc()
	if err := <-srcDone; err != nil {
		t.Errorf("source: %v", err)
	}
	stopRec()
	if err := <-recDone; err != nil {
		t.Errorf("recorder: %v", err)
	}
	t.Logf("recording resumed %v after the camera came back; source reconnected %d times", back, src.Status().Reconnects)

	gaps, err := ReadGaps(root, "cam", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(gaps) != 1 || len(told) != 1 || gaps[0] != told[0] || gaps[0].Cause != GapStream {
		t.Fatalf("ledger %+v, told %+v; want one stream gap", gaps, told)
	}
	g := gaps[0]
	t.Logf("gap %v .. %v (%v); paused %v, resumed %v", g.Start.Format("15:04:05.000"), g.End.Format("15:04:05.000"),
		g.Duration(), paused.Format("15:04:05.000"), resumed.Format("15:04:05.000"))
	if d := absDur(g.Start.Sub(paused)); d > time.Second {
		t.Errorf("gap starts %v off the pause", d)
	}
	// Recording resumes at the first keyframe after the camera returns: at
	// most one GOP (1 s here) later, plus delivery before the first RTCP
	// sender report gives capture times.
	if d := g.End.Sub(resumed); d < -100*time.Millisecond || d > time.Second+250*time.Millisecond {
		t.Errorf("gap ends %v after the resume, want within the next keyframe (1 s)", d)
	}
	segs, err := ReadIndex(root, "cam")
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || !segs[0].End.Equal(g.Start) || !segs[1].Start.Equal(g.End) {
		t.Fatalf("segments %+v, want two around the gap", segs)
	}
	for _, s := range segs {
		p := probe(t, filepath.Join(root, "cam", s.Path))
		if p.stderr != "" || p.frames != s.Frames || s.Duration < 2*time.Second {
			t.Errorf("%s: ffprobe decoded %d frames, index %d (%v); stderr %q", s.Path, p.frames, s.Frames, s.Duration, p.stderr)
		}
	}
}
