package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
)

// Environment of the recorder subprocess TestRecorderKilled kills.
const (
	crashChildEnv = "MATTHAN_RECORD_CRASH_ROOT" // the recordings root
	crashClipEnv  = "MATTHAN_RECORD_CRASH_CLIP" // the clip to stream in real time
)

// crashChild records the clip of crashClipEnv under root in real time, in
// a loop, as a camera would deliver it, until it is killed. Capture times
// are the wall clock. It returns an exit code.
func crashChild(root string) int {
	d, err := decode.OpenFile(os.Getenv(crashClipEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer d.Close()
	var pkts []decode.Packet
	for {
		p, err := d.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		pkts = append(pkts, p)
	}
	r := &Recorder{Root: root, CameraID: "cam"} // 60 s segments, 1 s parts
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	period := pkts[1].DTS - pkts[0].DTS
	loop := pkts[len(pkts)-1].DTS + period
	start := time.Now()
	for n := 0; ; n++ {
		for _, p := range pkts {
			at := start.Add(time.Duration(n)*loop + p.DTS)
			time.Sleep(time.Until(at))
			r.Push(ingest.AccessUnit{Params: d.Params(), NALUs: p.NALUs, PTS: time.Duration(n)*loop + p.PTS,
				Capture: start.Add(time.Duration(n)*loop + p.PTS), Keyframe: p.Keyframe})
		}
		select {
		case err := <-done:
			fmt.Fprintln(os.Stderr, "recorder stopped:", err)
			return 1
		default:
		}
	}
}

// TestRecorderKilled kills (SIGKILL) a recorder subprocess in the middle of
// a part, then starts a recorder on the same folder: the open segment is
// cut to its last complete part, hashed and indexed; it plays up to within
// 1 s of the kill; and the ledger holds one gap, from its end to the new
// recording, cause restart.
func TestRecorderKilled(t *testing.T) {
	f := loadClip(t, clipIntersection)
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+root, crashClipEnv+"="+clipPath(t, clipIntersection))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for three parts on disk, then kill 400 ms into the fourth.
	var file string
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the recorder subprocess wrote no three parts in 30 s")
		}
		files, _ := filepath.Glob(filepath.Join(root, "cam", "*", "*.mp4"))
		if len(files) == 1 && countMoofs(files[0]) >= 3 {
			file = files[0]
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(400 * time.Millisecond)
	killed := time.Now()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := ReadIndex(root, "cam"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("index before recovery: %v, want none: the segment was open", err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed with %d bytes in %s, %d complete parts, torn tail: %v", st.Size(), filepath.Base(file), countMoofs(file), truncated(t, file))

	var gaps []Gap
	r := &Recorder{Root: root, CameraID: "cam", QueueLength: 2000, OnGap: func(g Gap) { gaps = append(gaps, g) }}
	x := start(r)
	restart := time.Now()
	for i := range 100 {
		au := f.accessUnit(i, 0, false)
		au.Capture = restart.Add(f.packets[i].PTS)
		pushPaced(r, au)
	}
	if err := x.stop(t); err != nil {
		t.Fatal(err)
	}

	segs, err := ReadIndex(root, "cam")
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || segs[0].EndReason != EndCrash || segs[1].EndReason != EndStop {
		t.Fatalf("index %+v, want the recovered segment then the new one", segs)
	}
	rec := segs[0]
	path := filepath.Join(root, "cam", rec.Path)
	if sum, size := fileSHA256(t, path); sum != rec.SHA256 || size != rec.Size {
		t.Errorf("recovered file sha256 %s size %d, index %s %d", sum, size, rec.SHA256, rec.Size)
	}
	if truncated(t, path) {
		t.Error("the recovered file still ends in a torn box")
	}
	p := probe(t, path)
	if p.stderr != "" || p.frames != rec.Frames || p.frames == 0 {
		t.Errorf("recovered segment: ffprobe decoded %d frames, index %d; stderr %q", p.frames, rec.Frames, p.stderr)
	}
	if span := p.end() - p.packets[0].pts; absDur(span-rec.Duration) > 2*time.Millisecond {
		t.Errorf("recovered segment: ffprobe spans %v, index %v", span, rec.Duration)
	}
	lost := killed.Sub(rec.End)
	t.Logf("recovered %s: %v..%v, %d frames; plays up to %v before the kill", rec.Path,
		rec.Start.Format("15:04:05.000"), rec.End.Format("15:04:05.000"), rec.Frames, lost)
	if lost > time.Second || lost < -100*time.Millisecond {
		t.Errorf("the recovered segment ends %v before the kill, want within 1 s", lost)
	}
	ledger, err := ReadGaps(root, "cam", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := Gap{Camera: "cam", Start: rec.End, End: segs[1].Start, Cause: GapRestart}
	if len(ledger) != 1 || ledger[0] != want || len(gaps) != 1 || gaps[0] != want {
		t.Errorf("ledger %+v, told %+v; want one gap %+v", ledger, gaps, want)
	}

	// A later start finds nothing more to recover.
	r2 := &Recorder{Root: root, CameraID: "cam"}
	x2 := start(r2)
	if err := x2.stop(t); err != nil {
		t.Fatal(err)
	}
	if again, _ := ReadIndex(root, "cam"); len(again) != 2 {
		t.Errorf("%d segments after another start, want 2", len(again))
	}
}

// countMoofs counts the complete moof boxes of a file being written.
func countMoofs(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc, _ := scanSegment(b)
	return sc.parts
}
