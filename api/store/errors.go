package store

import "errors"

// Errors callers branch on.
var (
	// ErrNotFound is returned when the object asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists is returned when an object with the same id or unique name
	// already exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid is returned for a field that breaks a rule; the message
	// names the field.
	ErrInvalid = errors.New("invalid")
	// ErrApprovalRequired is returned for a grant outside the grantee
	// agency's function without the People's Committee approval.
	ErrApprovalRequired = errors.New("approval reference required (R-8.2)")
	// ErrStateSecret is returned for a grant or a public flag that would
	// show a state-secret camera outside its agency.
	ErrStateSecret = errors.New("state-secret camera (R-1.1)")
	// ErrNoKey is returned when camera secrets are written or read without
	// an encryption key.
	ErrNoKey = errors.New("no secret key configured")
	// ErrSecret is returned when a sealed camera secret does not open (wrong
	// key, or the stored value was altered or moved to another camera).
	ErrSecret = errors.New("camera secret does not decrypt")
	// ErrSchemaTooNew is returned by Open for a database migrated by a
	// newer version of matthan.
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
)

// Errors of the login bookkeeping.
var (
	// ErrLocked is returned for an account locked out after failed logins.
	ErrLocked = errors.New("account locked")
	// ErrDisabled is returned for a disabled account.
	ErrDisabled = errors.New("account disabled")
)
