package record

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/matthan/matthan/ingest"
)

// smallDisk mounts a fresh 8 MiB ext4 filesystem (no reserved blocks) on a
// temporary folder and returns the folder. It skips the test when the
// machine does not allow loop mounts.
func smallDisk(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("disk-full test needs root to loop-mount a small filesystem")
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	dir := t.TempDir()
	for _, c := range [][]string{
		{"fallocate", "-l", "8M", img},
		{"mkfs.ext4", "-q", "-F", "-m", "0", img},
		{"mount", "-o", "loop", img, dir},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Skipf("disk-full test: %s failed (%v: %s): loop mounts are not permitted here", c[0], err, out)
		}
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill allocates a ballast file that leaves about keep bytes free on the
// filesystem of dir.
func fill(t *testing.T, dir string, keep int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	name := filepath.Join(dir, "ballast")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, free-keep); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestRecorderDiskFull records onto a small filesystem until it is full:
// the recorder raises a disk incident and keeps running, and once space is
// freed it indexes what it had written, resumes at a keyframe, reports the
// incident resolved and puts the outage in the ledger with cause disk.
func TestRecorderDiskFull(t *testing.T) {
	f := loadClip(t, clipIntersection)
	root := smallDisk(t)
	ballast := fill(t, root, 300<<10) // about 3 s of this clip

	var (
		mu        sync.Mutex
		incidents []Incident
		gaps      []Gap
		failed    = make(chan struct{})
	)
	r := &Recorder{Root: root, CameraID: "cam", QueueLength: 30, DiskRetry: 100 * time.Millisecond,
		OnIncident: func(in Incident) {
			mu.Lock()
			defer mu.Unlock()
			incidents = append(incidents, in)
			if len(incidents) == 1 {
				close(failed)
			}
		},
		OnGap: func(g Gap) {
			mu.Lock()
			defer mu.Unlock()
			gaps = append(gaps, g)
		}}
	x := start(r)
	clipLen := f.duration + f.period
	n := 0 // access units pushed, over loops of the clip
	au := func(i int) ingest.AccessUnit {
		return f.accessUnit(i%len(f.packets), time.Duration(i/len(f.packets))*clipLen, false)
	}
	push := func() {
		pushPaced(r, au(n))
		n++
	}
	for full := false; !full; {
		push()
		select {
		case <-failed:
			full = true
		default:
			if n > 20*len(f.packets) {
				t.Fatal("the disk never filled up")
			}
		}
	}
	failedAt := n
	// Keep the camera streaming a while on the full disk, then free space.
	for range 60 {
		push()
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	freedAt := n
	time.Sleep(150 * time.Millisecond) // more than DiskRetry
	for range 2*128 + 10 {             // past the next keyframes
		push()
	}
	if err := x.stop(t); err != nil {
		t.Fatalf("Run: %v, want nil after a disk failure it recovered from", err)
	}
	t.Logf("disk full at access unit %d, space freed at %d, %d pushed", failedAt, freedAt, n)

	mu.Lock()
	defer mu.Unlock()
	if len(incidents) != 2 || incidents[0].Kind != IncidentDisk || incidents[0].Resolved || !incidents[1].Resolved {
		t.Fatalf("incidents %+v, want a disk incident then its resolution", incidents)
	}
	if msg := incidents[0].Message; !strings.Contains(msg, "no space left on device") || !strings.Contains(msg, "not being recorded") {
		t.Errorf("incident message %q does not say the disk is full and the camera not recorded", msg)
	}
	t.Logf("incident: %s", incidents[0].Message)
	segs, err := ReadIndex(root, "cam")
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || segs[0].EndReason != EndError || segs[1].EndReason != EndStop {
		t.Fatalf("index %+v, want the segment cut by the full disk, then the resumed one", segs)
	}
	for _, s := range segs {
		path := filepath.Join(root, "cam", s.Path)
		if sum, _ := fileSHA256(t, path); sum != s.SHA256 {
			t.Errorf("%s: sha256 %s, index %s", s.Path, sum, s.SHA256)
		}
		if p := probe(t, path); p.stderr != "" || p.frames != s.Frames || p.frames == 0 {
			t.Errorf("%s: ffprobe decoded %d frames, index %d; stderr %q", s.Path, p.frames, s.Frames, p.stderr)
		}
	}
	// What is lost: the part being written (up to 1 s) and the queue (30
	// access units, 1 s) between the failing write and the last push.
	if lastOK := au(failedAt - 1).Capture; segs[0].End.After(lastOK) || segs[0].End.Before(lastOK.Add(-2500*time.Millisecond)) {
		t.Errorf("first segment ends %v; the disk filled up at the access unit captured %v", segs[0].End, lastOK)
	}
	ledger, err := ReadGaps(root, "cam", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := Gap{Camera: "cam", Start: segs[0].End, End: segs[1].Start, Cause: GapDisk}
	if len(ledger) != 1 || ledger[0] != want || len(gaps) != 1 || gaps[0] != want {
		t.Fatalf("ledger %+v, told %+v; want %+v", ledger, gaps, want)
	}
}
