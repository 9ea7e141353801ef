package spool

import "errors"

// ErrFull is returned by Append when the record would take the spool's
// unacknowledged bytes over MaxBytes; the record is refused and counted.
var ErrFull = errors.New("spool full")

// ErrTooLarge is returned by Append for a record longer than MaxRecordBytes.
var ErrTooLarge = errors.New("spool record too large")

// ErrClosed is returned by the methods of a closed spool.
var ErrClosed = errors.New("spool closed")

// ErrLocked is returned by Open when another spool (in this process or
// another one) has the folder open.
var ErrLocked = errors.New("spool folder in use")

// ErrCorrupt is returned by Open when a file in the folder is not a spool
// segment of this version.
var ErrCorrupt = errors.New("spool corrupt")
