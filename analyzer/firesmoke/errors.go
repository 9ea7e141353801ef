package firesmoke

import "errors"

var (
	// ErrInvalidConfig means a Config or StillConfig field is out of range;
	// the error names it.
	ErrInvalidConfig = errors.New("invalid fire/smoke config")
	// ErrBadFrame means a frame's geometry does not match its pixels.
	ErrBadFrame = errors.New("bad frame")
	// ErrDataset means the labelled image set could not be read.
	ErrDataset = errors.New("fire/smoke dataset")
)
