package camsim

import "errors"

// Sentinel errors of the simulator; callers branch on them with errors.Is.
// A file in a codec other than H.264/H.265 gives an error wrapping
// decode.ErrUnsupportedCodec.
var (
	// ErrNoFiles means the Server was given no file to stream.
	ErrNoFiles = errors.New("no files to stream")
	// ErrDuplicateName means two files map to the same stream name.
	ErrDuplicateName = errors.New("two files have the same stream name")
	// ErrUnknownStream means a stream control (Pause, Resume, Freeze, Black,
	// Normal) named a stream the server does not serve.
	ErrUnknownStream = errors.New("unknown stream")
	// ErrNotRunning means a stream control was called while Run is not serving.
	ErrNotRunning = errors.New("server not running")
)
