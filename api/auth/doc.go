// Package auth is authentication: argon2id password hashes, password
// rules, login with lockout, sessions and CSRF tokens. The accounts and
// sessions live in api/store; every login, failed login and logout is an
// audit entry.
//
// # Passwords
//
// Hashes are argon2id in the PHC string form
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), 16-byte salt, 32-byte key;
// DefaultParams follow RFC 9106's second recommendation scaled to the
// engine's machine (64 MiB, 2 passes, 2 lanes). A password is never
// logged, returned or put in an error.
//
// Rules (CheckPassword): at least MinPasswordLength (12) characters and
// at most MaxPasswordBytes bytes; not containing the user name (any case);
// characters from at least 3 of 4 classes: lower case letters, upper case
// letters, digits, anything else (symbols, spaces, letters without case).
// Vietnamese letters count by their case (ư is lower, Ư upper).
//
// # Lockout and expiry
//
// Config.MaxFailures failed logins in a row (default 5) lock the account
// for Config.LockoutPeriod (default 15 minutes); a success resets the
// count. Administrators' passwords (roles ict_admin and system_admin)
// expire after Config.AdminPasswordMaxAge: the regulation (Art. 17.4,
// ) says administrator passwords are "changed regularly" without a
// period, so the default is 90 days. An expired or reset password still
// logs in, but the session is Restricted: the HTTP layer allows nothing
// but changing the password.
//
// # Sessions and CSRF
//
// A session token is 32 random bytes (256 bits), base64url; the store
// keeps only its SHA-256. Sessions end at Config.SessionTTL after login
// (default 12 h) or after Config.IdleTimeout without use (default 1 h).
// The console carries the token in an HttpOnly, Secure, SameSite=Strict
// cookie; API clients send it as a bearer token. For cookie sessions, the
// HTTP layer must check CSRF on every unsafe method: CSRFToken(token) is
// an HMAC-SHA256 of a fixed label keyed by the session token (a
// synchronizer token that needs no storage: only the holder of the
// session can compute it), given to the console at login and sent back
// in a header; CheckCSRF compares in constant time.
package auth
