package cpusched

import (
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestSet switches the test process to SCHED_BATCH and back: every thread
// it has, and threads started afterwards (goroutines locked to threads of
// their own), report the policy; an unknown policy is refused by name.
func TestSet(t *testing.T) {
	for _, policy := range []string{Batch, Normal} {
		if err := Set(policy); err != nil {
			t.Fatalf("Set(%s): %v", policy, err)
		}
		tids, err := threads()
		if err != nil {
			t.Fatal(err)
		}
		for _, tid := range tids {
			got, err := Of(tid)
			if err != nil {
				t.Fatal(err)
			}
			if got != policy {
				t.Errorf("after Set(%s), thread %d has policy %s", policy, tid, got)
			}
		}
		// New threads: goroutines locked to their threads, started together
		// so the runtime has to make threads for them.
		var wg sync.WaitGroup
		var mu sync.Mutex
		seen := map[string]int{}
		release := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				got, err := Of(0)
				if err != nil {
					got = err.Error()
				}
				mu.Lock()
				seen[got]++
				mu.Unlock()
				<-release
			})
		}
		close(release)
		wg.Wait()
		if seen[policy] != 4 {
			t.Errorf("after Set(%s), the policies of threads in use afterwards: %v", policy, seen)
		}
	}
	if err := Set("fifo"); err == nil || !strings.Contains(err.Error(), `"fifo"`) {
		t.Errorf("Set(fifo) = %v, want a refusal naming it", err)
	}
}
