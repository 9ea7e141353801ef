package sink

import "errors"

// ErrInvalidEvent is returned by Event.Validate when an event lacks a field
// every consumer relies on.
var ErrInvalidEvent = errors.New("invalid event")

// ErrAlreadyRunning is returned by Fanout.Run when the fan-out is already running.
var ErrAlreadyRunning = errors.New("fan-out already running")

// ErrQueueFull is returned, per sink, by Fanout.Publish when a sink's
// in-memory queue is full and it loses the event (without SpoolDir).
var ErrQueueFull = errors.New("sink queue full")
