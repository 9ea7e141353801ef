package models

import "errors"

// Errors callers may branch on with errors.Is. They are always wrapped with
// context naming the file or field concerned.
var (
	// ErrRuntimeNotFound means the ONNX Runtime shared library is not at the
	// path given to InitRuntime.
	ErrRuntimeNotFound = errors.New("ONNX Runtime library not found")

	// ErrRuntimeNotInitialized means a Detector was requested before
	// InitRuntime succeeded.
	ErrRuntimeNotInitialized = errors.New("ONNX Runtime not initialised (call models.InitRuntime)")

	// ErrInvalidManifest means a manifest is malformed or fails Validate.
	ErrInvalidManifest = errors.New("invalid model manifest")

	// ErrUnknownModel means no manifest of that name is in the zoo.
	ErrUnknownModel = errors.New("unknown model")

	// ErrModelMissing means the weights file named by a manifest does not exist.
	ErrModelMissing = errors.New("model file not found")

	// ErrChecksum means the weights file's sha256 is not one the manifest accepts.
	ErrChecksum = errors.New("model file sha256 mismatch")

	// ErrCorruptModel means ONNX Runtime could not parse the weights file.
	ErrCorruptModel = errors.New("model file is not a loadable ONNX model")

	// ErrShapeMismatch means the model's input or output names, types or
	// shapes differ from what the manifest says.
	ErrShapeMismatch = errors.New("model does not match its manifest")

	// ErrInputSize means a tensor passed to Detect has the wrong length.
	ErrInputSize = errors.New("input tensor has the wrong size")

	// ErrClosed is returned by Detect after Close.
	ErrClosed = errors.New("detector closed")

	// ErrInvalidOptions means a SessionOptions or SchedulerOptions field is
	// out of range; the message names the field and the accepted values.
	ErrInvalidOptions = errors.New("invalid inference options")

	// ErrProviderUnavailable means the execution provider asked for is not
	// in the loaded ONNX Runtime library; the message names it and lists
	// the ones that are.
	ErrProviderUnavailable = errors.New("execution provider not available")
)
