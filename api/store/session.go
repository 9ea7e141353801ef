package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/matthan/matthan/api/audit"
)

// Session is a logged-in session. The bearer token is never stored: only
// its SHA-256 (TokenHash), computed by api/auth.
type Session struct {
	// ID names the session in audit entries and listings; it is not a
	// credential.
	ID string `json:"id"`
	// UserID is the session's user.
	UserID string `json:"user_id"`
	// TokenHash is the hex SHA-256 of the token.
	TokenHash string `json:"-"`
	// Created, Expires and LastSeen are when the session began, when it
	// ends at the latest, and when it was last used.
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	LastSeen time.Time `json:"last_seen"`
	// Client is the address the session was opened from.
	Client string `json:"client,omitempty"`
}

// LockPolicy is when failed logins lock an account.
type LockPolicy struct {
	// MaxFailures failed logins in a row lock the account; 0 = do not count
	// this failure (e.g. the account is locked already).
	MaxFailures int
	// Period is how long the lock lasts.
	Period time.Duration
}

// loginAudit is the after-state of a login audit entry.
type loginAudit struct {
	Reason         string    `json:"reason,omitempty"`
	FailedAttempts int       `json:"failed_attempts,omitempty"`
	LockedUntil    time.Time `json:"locked_until,omitzero"`
	Session        string    `json:"session,omitempty"`
	Expires        time.Time `json:"expires,omitzero"`
}

// LoginFailed records a failed login: for a known user (userID
// set) it counts the failure and locks the account when p says so; for an
// unknown user name (userID empty) it only writes the audit entry, naming
// by.Username. reason is a short code such as "bad_password"; never a
// password. It returns the user as stored after the failure.
func (s *Store) LoginFailed(ctx context.Context, by audit.Actor, userID, reason string, p LockPolicy) (User, error) {
	object := "user:" + userID
	if userID == "" {
		object = "username:" + by.Username
	}
	var out User
	err := s.change(ctx, "login failed", by, "auth.login_failed", object, func(tx *sql.Tx) (any, any, error) {
		rec := loginAudit{Reason: reason}
		if userID == "" {
			return nil, rec, nil
		}
		if p.MaxFailures > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = $1`, userID); err != nil {
				return nil, nil, err
			}
		}
		u, err := getUser(ctx, tx, "id = $1", userID)
		if err != nil {
			return nil, nil, err
		}
		rec.FailedAttempts = u.FailedAttempts
		if p.MaxFailures > 0 && u.FailedAttempts >= p.MaxFailures {
			u.LockedUntil, u.FailedAttempts = truncMS(s.now().Add(p.Period)), 0
			if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, locked_until_ms = $1 WHERE id = $2`,
				msOf(u.LockedUntil), userID); err != nil {
				return nil, nil, err
			}
			rec.LockedUntil = u.LockedUntil
		}
		out = u
		return nil, rec, nil
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// LoginSucceeded records a successful login and opens sess: it
// resets the failure count, sets the last login and stores the session,
// unless the account was locked or disabled meanwhile (ErrLocked,
// ErrDisabled).
func (s *Store) LoginSucceeded(ctx context.Context, by audit.Actor, sess Session) (Session, error) {
	now := truncMS(s.now())
	sess.ID, sess.Created, sess.LastSeen, sess.Expires = newID(), now, now, truncMS(sess.Expires)
	if sess.TokenHash == "" || !sess.Expires.After(now) {
		return Session{}, fmt.Errorf("login: %w: session without token hash or already expired", ErrInvalid)
	}
	err := s.change(ctx, "login", by, "auth.login", "user:"+sess.UserID, func(tx *sql.Tx) (any, any, error) {
		u, err := getUser(ctx, tx, "id = $1", sess.UserID)
		if err != nil {
			return nil, nil, err
		}
		if u.Disabled {
			return nil, nil, ErrDisabled
		}
		if u.Locked(now) {
			return nil, nil, ErrLocked
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, locked_until_ms = NULL, last_login_ms = $1 WHERE id = $2`,
			msOf(now), u.ID); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, id, user_id, created_ms, expires_ms, last_seen_ms, client)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			sess.TokenHash, sess.ID, sess.UserID, msOf(now), msOf(sess.Expires), msOf(now), sess.Client); err != nil {
			return nil, nil, err
		}
		return nil, loginAudit{Session: sess.ID, Expires: sess.Expires}, nil
	})
	if err != nil {
		return Session{}, err
	}
	return sess, nil
}

const sessionColumns = `token_hash, id, user_id, created_ms, expires_ms, last_seen_ms, client`

func scanSession(row scanner) (Session, error) {
	var se Session
	var created, expires, seen int64
	if err := row.Scan(&se.TokenHash, &se.ID, &se.UserID, &created, &expires, &seen, &se.Client); err != nil {
		return Session{}, err
	}
	se.Created, se.Expires, se.LastSeen = msTime(created), msTime(expires), msTime(seen)
	return se, nil
}

// Session returns the session whose token hashes to tokenHash, expired or
// not: api/auth decides.
func (s *Store) Session(ctx context.Context, tokenHash string) (Session, error) {
	se, err := scanSession(s.db.QueryRowContext(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE token_hash = $1", tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("get session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("get session: %w", err)
	}
	return se, nil
}

// Sessions returns a user's sessions, newest first.
func (s *Store) Sessions(ctx context.Context, userID string) ([]Session, error) {
	out, err := list(ctx, s.db, scanSession, "SELECT "+sessionColumns+" FROM sessions WHERE user_id = $1 ORDER BY created_ms DESC", userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// TouchSession records that a session was used at. Session bookkeeping
// is not audited: the login and logout are.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_ms = $1 WHERE token_hash = $2`, msOf(at), tokenHash); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// EndSession deletes a session (logout, or expiry noticed) and writes the
// audit entry action ("auth.logout", "auth.session_expired").
func (s *Store) EndSession(ctx context.Context, by audit.Actor, action, tokenHash string) error {
	se, err := s.Session(ctx, tokenHash)
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return s.change(ctx, "end session", by, action, "session:"+se.ID, func(tx *sql.Tx) (any, any, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
		if err != nil {
			return nil, nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return nil, nil, errors.Join(err, ErrNotFound)
		}
		return se, nil, nil
	})
}

// DeleteExpiredSessions removes sessions that expired before now and
// returns how many; housekeeping, not audited (each session's end is
// implied by its expiry, which its login entry records).
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_ms <= $1`, msOf(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}
