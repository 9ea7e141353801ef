package record

import "errors"

// ErrInvalidConfig is returned by Run when a Recorder field is missing or
// out of range; the error names the field.
var ErrInvalidConfig = errors.New("invalid recorder config")

// ErrAlreadyRunning is returned by Run when the recorder is already running.
var ErrAlreadyRunning = errors.New("recorder already running")

// ErrUnsupportedCodec is returned by Run when the stream's codec is neither
// H.264 nor H.265.
var ErrUnsupportedCodec = errors.New("unsupported codec")

// ErrInvalidParams is returned by Run when the stream's parameter sets
// (VPS/SPS/PPS) are missing or cannot be parsed, so no playable file can
// be written.
var ErrInvalidParams = errors.New("invalid stream parameters")

// ErrCorruptIndex is returned by ReadIndex when a line of the index is not
// a segment record.
var ErrCorruptIndex = errors.New("corrupt segment index")
