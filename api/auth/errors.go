package auth

import (
	"errors"

	"github.com/matthan/matthan/api/store"
)

// Errors callers branch on. Login answers ErrBadCredentials for an unknown
// user and a wrong password alike, so that user names cannot be probed.
var (
	// ErrBadCredentials is a wrong user name or password.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrLocked is an account locked out after failed logins.
	ErrLocked = store.ErrLocked
	// ErrDisabled is a disabled account.
	ErrDisabled = store.ErrDisabled
	// ErrNoSession is an unknown, expired or ended session token.
	ErrNoSession = errors.New("no such session")
	// ErrWeakPassword is a password that breaks the rules; the message says
	// which rule, never the password.
	ErrWeakPassword = errors.New("password does not meet the rules")
	// ErrBadHash is a stored hash that is not a valid argon2id PHC string.
	ErrBadHash = errors.New("malformed password hash")
)
