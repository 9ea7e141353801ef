package cvthreads

import (
	"image"
	"runtime"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"
	"golang.org/x/sys/unix"
)

// TestSerial checks that after Set(1) OpenCV does a large resize on the
// calling thread alone: the process spends no more CPU than that thread.
func TestSerial(t *testing.T) {
	defer Set(-1)
	if got := Set(1); got != 1 {
		t.Fatalf("Set(1) = %d threads, want 1", got)
	}
	src := gocv.NewMatWithSize(2160, 3840, gocv.MatTypeCV8UC3)
	defer src.Close()
	dst := gocv.NewMat()
	defer dst.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	thread0, proc0 := clock(t, unix.CLOCK_THREAD_CPUTIME_ID), processCPU()
	for range 20 {
		gocv.Resize(src, &dst, image.Pt(1000, 700), 0, 0, gocv.InterpolationLinear)
	}
	thread, proc := clock(t, unix.CLOCK_THREAD_CPUTIME_ID)-thread0, processCPU()-proc0
	t.Logf("20 resizes: calling thread %v CPU, process %v", thread, proc)
	if thread <= 0 || proc > thread+thread/4+10*time.Millisecond {
		t.Errorf("the process used %v of CPU for %v on the calling thread: OpenCV still runs other threads", proc, thread)
	}
	if got := Set(-1); got < 1 {
		t.Errorf("Set(-1) (OpenCV's default) = %d threads, want at least 1", got)
	}
}

func clock(t *testing.T, id int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
