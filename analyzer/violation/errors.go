package violation

import "errors"

// ErrInvalidConfig means a Config field is out of range; the error names it.
var ErrInvalidConfig = errors.New("invalid violation config")

// ErrUnknownSignal is returned by SetSignal for an id the scene has no
// signal head for.
var ErrUnknownSignal = errors.New("unknown signal")

// ErrInvalidSignalState is returned by SetSignal for a state other than
// the SignalState constants.
var ErrInvalidSignalState = errors.New("invalid signal state")

// ErrTimeBackwards is returned by Observe for a frame captured before the
// previous one.
var ErrTimeBackwards = errors.New("frame time went backwards")

// ErrSnapshot is returned by Observe, with the violations it found, when
// an evidence snapshot could not be made (a malformed frame, a failed JPEG
// encoding); those violations carry no snapshot.
var ErrSnapshot = errors.New("evidence snapshot failed")
