package track

import "errors"

// Sentinel errors of the package; callers branch on them with errors.Is.
var (
	// ErrInvalidConfig means a Config field is out of range; the error names it.
	ErrInvalidConfig = errors.New("invalid tracker config")
	// ErrTimeBackwards means Update was given a capture time before the
	// previous one; the tracker is unchanged (call Reset after a clock jump).
	ErrTimeBackwards = errors.New("capture time went backwards")
	// ErrFrameSize means Update was given a frame size that is not positive.
	ErrFrameSize = errors.New("frame size is not positive")
)
