package ingest

import (
	"sync"
	"time"
)

// State is where a camera connection stands.
type State int

// The states of a Source. A Source starts in StateConnecting.
const (
	// StateConnecting: dialling, negotiating, or playing while waiting for the first RTP packet.
	StateConnecting State = iota
	// StateOnline: RTP is flowing.
	StateOnline
	// StateOffline: the camera is unreachable, went silent or dropped the
	// connection; the Source retries with exponential backoff.
	StateOffline
	// StateError: the camera answers but cannot be used as configured (wrong
	// credentials, unknown path, unsupported codec); the Source retries
	// slowly, at the longest backoff.
	StateError
)

// states lists every State, for metrics.
var states = [...]State{StateConnecting, StateOnline, StateOffline, StateError}

// String returns the lower-case name of the state.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateOnline:
		return "online"
	case StateOffline:
		return "offline"
	case StateError:
		return "error"
	}
	return "unknown"
}

// Status is a snapshot of a Source's health.
type Status struct {
	State State
	// LastError is the last connection error, without the camera URL or
	// credentials; empty when the last connection ended cleanly.
	LastError string
	// LastFrame is the arrival time of the last access unit; zero before the first.
	LastFrame time.Time
	// Frames counts the access units delivered since Run started.
	Frames uint64
	// Reconnects counts connection attempts after the first.
	Reconnects uint64
	// FPS is the access unit rate over the last fpsWindow.
	FPS float64
	// NextAttempt is when the next connection attempt is due, while the state
	// is offline or error; zero otherwise.
	NextAttempt time.Time
}

// fpsWindow is how far back Status.FPS looks: long enough to smooth the
// jitter of a few seconds of network, short enough to show a stall quickly.
const fpsWindow = 5 * time.Second

// rateRing is how many arrival times rateWindow keeps: fpsWindow at 100 fps.
const rateRing = 512

// rateWindow measures an event rate from the arrival times of the last events.
type rateWindow struct {
	times [rateRing]int64 // UnixNano, a ring
	next  int             // where the next time goes
	count int             // how many times are stored, up to rateRing
}

// add records an event at t.
func (w *rateWindow) add(t time.Time) {
	w.times[w.next] = t.UnixNano()
	w.next = (w.next + 1) % rateRing
	w.count = min(w.count+1, rateRing)
}

// rate returns the events per second over the fpsWindow before now: the
// events in the window, from the first of them to now. A stall brings it
// down at once; it is 0 with fewer than two events in the window.
func (w *rateWindow) rate(now time.Time) float64 {
	from := now.Add(-fpsWindow).UnixNano()
	n, first := 0, int64(0)
	for i := 1; i <= w.count; i++ {
		t := w.times[(w.next-i+rateRing)%rateRing]
		if t < from {
			break
		}
		n, first = n+1, t
	}
	if n < 2 {
		return 0
	}
	return float64(n-1) / now.Sub(time.Unix(0, first)).Seconds()
}

// statusBox guards a Status shared between the source's goroutines and readers.
type statusBox struct {
	mu     sync.Mutex
	status Status
	fps    rateWindow
}
