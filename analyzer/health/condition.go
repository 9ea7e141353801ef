package health

import (
	"fmt"
	"time"
)

// Condition is a fault of the picture a Monitor detects.
type Condition int

// The conditions, in the order Status lists them.
const (
	// Frozen is a picture that no longer changes while frames keep coming.
	Frozen Condition = iota + 1
	// Covered is a lens covered or blinded: a dark or uniform picture.
	Covered
	// Defocused is a picture much less sharp than the camera's own baseline.
	Defocused
	// Moved is a camera whose view no longer matches the learned one.
	Moved
)

// conditions lists every Condition in order.
var conditions = [...]Condition{Frozen, Covered, Defocused, Moved}

// String returns the condition's name: frozen, covered, defocused or moved.
func (c Condition) String() string {
	switch c {
	case Frozen:
		return "frozen"
	case Covered:
		return "covered"
	case Defocused:
		return "defocused"
	case Moved:
		return "moved"
	}
	return fmt.Sprintf("condition(%d)", int(c))
}

// MarshalText writes the condition's name, so it reads well in JSON.
func (c Condition) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Tamper reports whether the condition is a kind of tampering (covered,
// defocused, moved) rather than a stream fault (frozen).
func (c Condition) Tamper() bool { return c == Covered || c == Defocused || c == Moved }

// Change is a condition that became active or cleared.
type Change struct {
	// Camera is the Monitor's Camera.
	Camera string
	// Condition is what changed.
	Condition Condition
	// Active is true at onset, false when the condition clears.
	Active bool
	// Since is the capture time of the first sample that showed the cause
	// (onset) or its absence (clearing).
	Since time.Time
	// At is the capture time of the sample that confirmed the change.
	At time.Time
	// Detail says what was measured, for people.
	Detail string
}

// ActiveCondition is a condition in effect.
type ActiveCondition struct {
	// Condition is the condition in effect.
	Condition Condition `json:"condition"`
	// Since is the capture time the cause was first seen.
	Since time.Time `json:"since"`
	// Detail says what was measured at onset.
	Detail string `json:"detail"`
}

// Status is a snapshot of a Monitor.
type Status struct {
	// Camera is the Monitor's Camera.
	Camera string `json:"camera"`
	// Learning is true until the sharpness baseline and the reference view
	// are learned; defocused and moved are not detected before.
	Learning bool `json:"learning"`
	// LastSample is the capture time of the last frame measured; zero if none.
	LastSample time.Time `json:"last_sample,omitzero"`
	// Samples counts the frames measured.
	Samples int64 `json:"samples"`
	// Active lists the conditions in effect, in the order of the constants.
	Active []ActiveCondition `json:"active"`
}

// tracker is the onset and clearing state of one condition.
type tracker struct {
	active bool
	since  time.Time // onset time while active
	run    time.Time // first sample of the current run of cause (inactive) or of its absence (active)
	detail string    // what was measured at onset
}

// step advances the tracker with one sample at time at. cause says the
// sample shows the condition by its onset threshold, clear that it shows its
// absence by its clearing threshold (a sample may show neither: the band
// between the thresholds, or a masked condition). It returns true when the
// state changed.
func (t *tracker) step(at time.Time, cause, clear bool, onset, clearAfter time.Duration, detail string) bool {
	if !t.active {
		if !cause {
			t.run = time.Time{}
			return false
		}
		if t.run.IsZero() {
			t.run = at
		}
		if at.Sub(t.run) < onset {
			return false
		}
		t.active, t.since, t.run, t.detail = true, t.run, time.Time{}, detail
		return true
	}
	if !clear {
		t.run = time.Time{}
		return false
	}
	if t.run.IsZero() {
		t.run = at
	}
	if at.Sub(t.run) < clearAfter {
		return false
	}
	t.active, t.since = false, t.run
	t.run = time.Time{}
	return true
}

// pending reports whether the cause is building up towards onset.
func (t *tracker) pending() bool { return !t.active && !t.run.IsZero() }

// restart forgets a run in progress (after a gap in the samples).
func (t *tracker) restart() { t.run = time.Time{} }
