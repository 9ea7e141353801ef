package health

import "errors"

// Sentinel errors of the package; callers branch on them with errors.Is.
var (
	// ErrBadFrame means Observe was given a frame that is not BGR24 of at
	// least 8×8 pixels fitting its Pix.
	ErrBadFrame = errors.New("not a usable picture")
	// ErrClosed means Observe was called after Close.
	ErrClosed = errors.New("monitor closed")
)
