package cpusched

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Scheduling policies of sched(7) this package sets or reports.
const (
	policyNormal = 0 // SCHED_OTHER
	policyBatch  = 3 // SCHED_BATCH
)

// Policy names, as the configuration and the reports spell them.
const (
	Batch  = "batch"
	Normal = "normal"
)

// Set puts every thread of the process under policy (Batch or Normal),
// keeping their nice values; threads started afterwards inherit it. It
// goes over the process's threads until a pass finds none it had not
// seen, since a thread not yet switched may start another meanwhile.
func Set(policy string) error {
	var p int
	switch policy {
	case Batch:
		p = policyBatch
	case Normal:
		p = policyNormal
	default:
		return fmt.Errorf("cpu policy %q: want %s or %s", policy, Batch, Normal)
	}
	done := map[int]bool{}
	for {
		tids, err := threads()
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			fresh++
			if err := setScheduler(tid, p); err != nil && !errors.Is(err, unix.ESRCH) { // ESRCH: the thread ended
				return fmt.Errorf("cpu policy %s for thread %d: %w", policy, tid, err)
			}
			done[tid] = true
		}
		if fresh == 0 {
			return nil
		}
	}
}

// Of returns the policy of thread tid (0: the calling thread): Batch,
// Normal, or the number sched_getscheduler gives for another.
func Of(tid int) (string, error) {
	r, _, e := unix.Syscall(unix.SYS_SCHED_GETSCHEDULER, uintptr(tid), 0, 0)
	if e != 0 {
		return "", fmt.Errorf("cpu policy of thread %d: %w", tid, e)
	}
	switch int(r) &^ unix.SCHED_RESET_ON_FORK {
	case policyBatch:
		return Batch, nil
	case policyNormal:
		return Normal, nil
	}
	return strconv.Itoa(int(r)), nil
}

// threads lists the ids of the process's threads.
func threads() ([]int, error) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("cpu policy: %w", err)
	}
	tids := make([]int, 0, len(entries))
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// setScheduler is sched_setscheduler(2) with priority 0, which the policies
// set here require; unlike sched_setattr it leaves the nice value alone.
func setScheduler(tid, policy int) error {
	param := struct{ priority int32 }{0}
	_, _, e := unix.Syscall(unix.SYS_SCHED_SETSCHEDULER, uintptr(tid), uintptr(policy), uintptr(unsafe.Pointer(&param)))
	if e != 0 {
		return e
	}
	return nil
}
