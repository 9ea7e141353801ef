package track

import (
	"fmt"
	"time"
)

// Config tunes a Tracker. The zero value gives the defaults. The defaults
// are first choices argued from the sampling rates and the physics of the
// scenes, not yet measured against ground truth (the accuracy harness of
// issue #5 does that).
type Config struct {
	// MaxAge is how long a track lives without a matching detection.
	// Defaults to 2 s: four missed frames at 2 fps, long enough for a car
	// passing behind a pole or a bus, short enough that a new vehicle in
	// the same place does not inherit the id.
	MaxAge time.Duration
	// ConfirmHits is the least number of matches that confirm a track.
	// Defaults to 2: the evidence is measured in time by ConfirmAge, which
	// takes 3 matches at 5 fps and 5 at 10 fps, while at 2 fps two matches
	// already span 0.5 s (three would ask a fast car for a whole second in
	// view before it may count).
	ConfirmHits int
	// ConfirmAge is the least time between a track's first and last match
	// for it to confirm, so that at 10 fps three frames of a reflection
	// (0.2 s) do not confirm. Defaults to 0.4 s.
	ConfirmAge time.Duration
	// ConfirmWindow is the time from its birth within which a tentative
	// track must confirm or be dropped. Defaults to 2.5 s: three matches of
	// an object detected on every other frame at 2 fps take 2 s.
	ConfirmWindow time.Duration
	// HighScore is the score from which a detection may start a track and
	// is matched in the first pass. Defaults to 0.45.
	HighScore float32
	// LowScore is the least score a detection needs to be used at all; a
	// detection between LowScore and HighScore may only extend a confirmed
	// track. Defaults to 0.1.
	LowScore float32
	// MinIoU is the least overlap of a predicted track box with a detection
	// for them to match in the first pass. Defaults to 0.1: at 2 fps a
	// velocity error of a few percent already halves the overlap.
	MinIoU float64
	// LowMinIoU is the least overlap for the second pass (low-score
	// detections), stricter because those boxes are less trustworthy.
	// Defaults to 0.3.
	LowMinIoU float64
	// MaxSpeed bounds, in box lengths per second, how far a track seen once
	// (no velocity yet) may have moved to its second detection. Defaults to
	// 6: a car at 60 km/h covers about 4 of its lengths a second.
	MaxSpeed float64
	// ClassGroups lists classes a detector confuses on the same object;
	// a detection of a class in a group may match a track of any class in
	// the same group. Defaults to [[car, truck, bus]].
	ClassGroups [][]string
	// MergeIoU is the overlap from which two detections of one class group
	// are taken for the same object: the weaker is dropped before
	// association, so that one vehicle scored both car and truck (the
	// detector's non-maximum suppression works per class) cannot start a
	// second track. Defaults to 0.5, the suppression overlap of the
	// detectors in the model zoo.
	MergeIoU float64
	// Trail is how many past observations each Track carries (for drawing
	// and for rules that look at the path). Defaults to 16.
	Trail int
}

// withDefaults returns c with zero fields set to their defaults, or an
// error naming the first field out of range.

// DefaultLowScore is the least detection score the tracker uses by default:
// detectors feeding a tracker must report down to it.
const DefaultLowScore float32 = 0.1

func (c Config) withDefaults() (Config, error) {
	if c.MaxAge == 0 {
		c.MaxAge = 2 * time.Second
	}
	if c.ConfirmHits == 0 {
		c.ConfirmHits = 2
	}
	if c.ConfirmAge == 0 {
		c.ConfirmAge = 400 * time.Millisecond
	}
	if c.ConfirmWindow == 0 {
		c.ConfirmWindow = 2500 * time.Millisecond
	}
	if c.HighScore == 0 {
		c.HighScore = 0.45
	}
	if c.LowScore == 0 {
		c.LowScore = DefaultLowScore
	}
	if c.MinIoU == 0 {
		c.MinIoU = 0.1
	}
	if c.LowMinIoU == 0 {
		c.LowMinIoU = 0.3
	}
	if c.MaxSpeed == 0 {
		c.MaxSpeed = 6
	}
	if c.ClassGroups == nil {
		c.ClassGroups = [][]string{{"car", "truck", "bus"}}
	}
	if c.Trail == 0 {
		c.Trail = 16
	}
	if c.MergeIoU == 0 {
		c.MergeIoU = 0.5
	}
	switch {
	case c.MaxAge < 0:
		return c, fmt.Errorf("%w: MaxAge %v is negative", ErrInvalidConfig, c.MaxAge)
	case c.ConfirmHits < 1:
		return c, fmt.Errorf("%w: ConfirmHits %d is less than 1", ErrInvalidConfig, c.ConfirmHits)
	case c.ConfirmAge < 0:
		return c, fmt.Errorf("%w: ConfirmAge %v is negative", ErrInvalidConfig, c.ConfirmAge)
	case c.ConfirmWindow < c.ConfirmAge:
		return c, fmt.Errorf("%w: ConfirmWindow %v is shorter than ConfirmAge %v", ErrInvalidConfig, c.ConfirmWindow, c.ConfirmAge)
	case !(c.LowScore > 0 && c.LowScore <= c.HighScore && c.HighScore <= 1):
		return c, fmt.Errorf("%w: expected 0 < LowScore (%g) ≤ HighScore (%g) ≤ 1", ErrInvalidConfig, c.LowScore, c.HighScore)
	case !(c.MinIoU > 0 && c.MinIoU < 1):
		return c, fmt.Errorf("%w: MinIoU %g is outside (0, 1)", ErrInvalidConfig, c.MinIoU)
	case !(c.LowMinIoU > 0 && c.LowMinIoU < 1):
		return c, fmt.Errorf("%w: LowMinIoU %g is outside (0, 1)", ErrInvalidConfig, c.LowMinIoU)
	case !(c.MaxSpeed > 0):
		return c, fmt.Errorf("%w: MaxSpeed %g is not positive", ErrInvalidConfig, c.MaxSpeed)
	case !(c.MergeIoU > 0 && c.MergeIoU <= 1):
		return c, fmt.Errorf("%w: MergeIoU %g is outside (0, 1]", ErrInvalidConfig, c.MergeIoU)
	case c.Trail < 1:
		return c, fmt.Errorf("%w: Trail %d is less than 1", ErrInvalidConfig, c.Trail)
	}
	return c, nil
}
