package audit

import "errors"

// Errors callers branch on.
var (
	// ErrTampered is returned by Report.Err when the chain does not verify.
	ErrTampered = errors.New("audit log tampered")
	// ErrInvalidFilter is returned by Query for a filter it cannot run.
	ErrInvalidFilter = errors.New("invalid audit filter")
	// ErrInvalidEntry is returned by Append for an entry without an action
	// or with before/after values that are not JSON.
	ErrInvalidEntry = errors.New("invalid audit entry")
)
