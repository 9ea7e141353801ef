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

// ErrRetentionTooShort is returned by Retention.Validate, Run and Sweep
// when MaxAge is under 30 days: recordings must be kept at least 30 days
// (regulation ).
var ErrRetentionTooShort = errors.New("retention shorter than 30 days")

// ErrInvalidHold is returned by Retention.Hold and Release when an argument
// is missing or out of range; the error names it.
var ErrInvalidHold = errors.New("invalid legal hold")

// ErrUnknownHold is returned by Retention.Release when the id is not an
// active legal hold.
var ErrUnknownHold = errors.New("no such active legal hold")

// Clip export errors.
var (
	// ErrUnknownCamera is returned by Export when the root holds no
	// recordings folder for the camera.
	ErrUnknownCamera = errors.New("unknown camera")
	// ErrInvalidRange is returned by Export when the requested range is
	// unset, empty, reversed or longer than MaxClipSpan.
	ErrInvalidRange = errors.New("invalid clip range")
	// ErrNoRecording is returned by Export when nothing was recorded in the
	// requested range.
	ErrNoRecording = errors.New("no recording")
	// ErrParamsChange is returned by Export when the stream parameters
	// (codec, picture size…) change inside the range: one MP4 track cannot
	// hold both; export the parts before and after the change separately.
	ErrParamsChange = errors.New("stream parameters change inside the range")
	// ErrSegmentChanged is returned by Export when a segment file no longer
	// has the size and sha256 its index line records: the evidence was
	// altered or damaged after it was written.
	ErrSegmentChanged = errors.New("segment does not match its index record")
	// ErrCorruptSegment is returned by Export when a segment file is not an
	// fMP4 file as the recorder writes them.
	ErrCorruptSegment = errors.New("corrupt segment")
	// ErrClipTooLarge is returned by Export when the clip would not fit in
	// a progressive MP4 with 32-bit offsets (4 GiB).
	ErrClipTooLarge = errors.New("clip too large")
)
