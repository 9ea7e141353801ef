package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/matthan/matthan/api/audit"
)

// User is an account. The password hash is not part of it: see
// PasswordHash.
type User struct {
	// ID is the user's id; CreateUser makes one.
	ID string `json:"id"`
	// AgencyID is the agency the user belongs to.
	AgencyID string `json:"agency_id"`
	// Username is the login name: lower case letters, digits, '.', '_', '-'.
	Username string `json:"username"`
	// DisplayName is the person's name.
	DisplayName string `json:"display_name,omitempty"`
	// Role is what the user may do.
	Role Role `json:"role"`
	// FailedAttempts counts failed logins since the last success or lockout.
	FailedAttempts int `json:"failed_attempts"`
	// LockedUntil is when a lockout ends; zero when not locked.
	LockedUntil time.Time `json:"locked_until,omitzero"`
	// PasswordChanged is when the password was last set.
	PasswordChanged time.Time `json:"password_changed"`
	// MustChangePassword makes the next session change the password first.
	MustChangePassword bool `json:"must_change_password"`
	// LastLogin is the last successful login; zero when never.
	LastLogin time.Time `json:"last_login,omitzero"`
	// Disabled accounts cannot log in and have no access.
	Disabled bool `json:"disabled"`
	// Created is when the account was made.
	Created time.Time `json:"created"`
}

// Locked reports whether the account is locked out at now.
func (u User) Locked(now time.Time) bool { return now.Before(u.LockedUntil) }

// usernamePattern is what login names look like.
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// NormalizeUsername returns the stored form of a login name: trimmed and
// lower case. Login names compare in this form.
func NormalizeUsername(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// validate checks the fields, the agency, and that only the ICT department
// has ICT administrators.
func (u *User) validate(ctx context.Context, q querier) error {
	if !usernamePattern.MatchString(u.Username) {
		return fmt.Errorf("%w: username %q: want 3 to 64 lower case letters, digits, '.', '_' or '-', starting with a letter or digit", ErrInvalid, u.Username)
	}
	if len(u.DisplayName) > 200 {
		return fmt.Errorf("%w: display_name: longer than 200 bytes", ErrInvalid)
	}
	if !slices.Contains(Roles, u.Role) {
		return fmt.Errorf("%w: role %q: want one of %v", ErrInvalid, u.Role, Roles)
	}
	a, err := getAgency(ctx, q, u.AgencyID)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: user agency_id %q: no such agency", ErrInvalid, u.AgencyID)
	}
	if err != nil {
		return err
	}
	if u.Role == RoleICTAdmin && !a.ICT {
		return fmt.Errorf("%w: role %s: only users of the ICT department may have it (R-7.2)", ErrInvalid, u.Role)
	}
	return nil
}

const userColumns = `id, agency_id, username, display_name, role, failed_attempts, locked_until_ms,
	password_changed_ms, must_change, last_login_ms, disabled, created_ms`

func scanUser(row scanner) (User, error) {
	var u User
	var locked, lastLogin sql.NullInt64
	var changed, created int64
	var must, disabled int
	err := row.Scan(&u.ID, &u.AgencyID, &u.Username, &u.DisplayName, &u.Role, &u.FailedAttempts, &locked,
		&changed, &must, &lastLogin, &disabled, &created)
	if err != nil {
		return User{}, err
	}
	u.LockedUntil, u.LastLogin = timeOf(locked), timeOf(lastLogin)
	u.PasswordChanged, u.Created = msTime(changed), msTime(created)
	u.MustChangePassword, u.Disabled = must == 1, disabled == 1
	return u, nil
}

func getUser(ctx context.Context, q querier, where string, arg any) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user: %w", ErrNotFound)
	}
	return u, err
}

// CreateUser makes an account with a password hash from api/auth and
// returns it as stored. The hash is not checked here and never appears in
// the audit entry.
func (s *Store) CreateUser(ctx context.Context, by audit.Actor, u User, passwordHash string) (User, error) {
	u.ID = newID()
	u.Username = NormalizeUsername(u.Username)
	now := truncMS(s.now())
	u.Created, u.PasswordChanged = now, now
	u.FailedAttempts, u.LockedUntil, u.LastLogin = 0, time.Time{}, time.Time{}
	if passwordHash == "" {
		return User{}, fmt.Errorf("create user: %w: no password hash", ErrInvalid)
	}
	err := s.change(ctx, "create user", by, "user.create", "user:"+u.ID, func(tx *sql.Tx) (any, any, error) {
		if err := u.validate(ctx, tx); err != nil {
			return nil, nil, err
		}
		if _, err := getUser(ctx, tx, "username = $1", u.Username); err == nil {
			return nil, nil, fmt.Errorf("username %q: %w", u.Username, ErrExists)
		} else if !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, agency_id, username, display_name, role, password_hash,
			password_changed_ms, must_change, disabled, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			u.ID, u.AgencyID, u.Username, u.DisplayName, string(u.Role), passwordHash, msOf(now),
			boolInt(u.MustChangePassword), boolInt(u.Disabled), msOf(now))
		return nil, u, err
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// UpdateUser changes an account's agency, display name, role and disabled
// flag. Disabling an account ends its sessions.
func (s *Store) UpdateUser(ctx context.Context, by audit.Actor, u User) (User, error) {
	var out User
	err := s.change(ctx, "update user", by, "user.update", "user:"+u.ID, func(tx *sql.Tx) (any, any, error) {
		old, err := getUser(ctx, tx, "id = $1", u.ID)
		if err != nil {
			return nil, nil, err
		}
		out = old
		out.AgencyID, out.DisplayName, out.Role, out.Disabled = u.AgencyID, u.DisplayName, u.Role, u.Disabled
		if err := out.validate(ctx, tx); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET agency_id = $1, display_name = $2, role = $3, disabled = $4 WHERE id = $5`,
			out.AgencyID, out.DisplayName, string(out.Role), boolInt(out.Disabled), out.ID); err != nil {
			return nil, nil, err
		}
		if out.Disabled || out.AgencyID != old.AgencyID || out.Role != old.Role {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, out.ID); err != nil {
				return nil, nil, err
			}
		}
		return old, out, nil
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// SetPassword stores a new password hash from api/auth, sets or clears the
// must-change flag, clears a lockout and ends the user's sessions.
func (s *Store) SetPassword(ctx context.Context, by audit.Actor, userID, passwordHash string, mustChange bool) (User, error) {
	if passwordHash == "" {
		return User{}, fmt.Errorf("set password: %w: no password hash", ErrInvalid)
	}
	var out User
	err := s.change(ctx, "set password", by, "user.set_password", "user:"+userID, func(tx *sql.Tx) (any, any, error) {
		old, err := getUser(ctx, tx, "id = $1", userID)
		if err != nil {
			return nil, nil, err
		}
		out = old
		out.PasswordChanged, out.MustChangePassword = truncMS(s.now()), mustChange
		out.FailedAttempts, out.LockedUntil = 0, time.Time{}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, password_changed_ms = $2, must_change = $3,
			failed_attempts = 0, locked_until_ms = NULL WHERE id = $4`,
			passwordHash, msOf(out.PasswordChanged), boolInt(mustChange), userID); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
			return nil, nil, err
		}
		return old, out, nil
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// Unlock ends a lockout and resets the failed-login count.
func (s *Store) Unlock(ctx context.Context, by audit.Actor, userID string) (User, error) {
	var out User
	err := s.change(ctx, "unlock user", by, "user.unlock", "user:"+userID, func(tx *sql.Tx) (any, any, error) {
		old, err := getUser(ctx, tx, "id = $1", userID)
		if err != nil {
			return nil, nil, err
		}
		out = old
		out.FailedAttempts, out.LockedUntil = 0, time.Time{}
		_, err = tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, locked_until_ms = NULL WHERE id = $1`, userID)
		return old, out, err
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// User returns one account by id.
func (s *Store) User(ctx context.Context, id string) (User, error) {
	u, err := getUser(ctx, s.db, "id = $1", id)
	if err != nil {
		return User{}, fmt.Errorf("get user %q: %w", id, err)
	}
	return u, nil
}

// UserByName returns one account by login name (compared normalised).
func (s *Store) UserByName(ctx context.Context, username string) (User, error) {
	u, err := getUser(ctx, s.db, "username = $1", NormalizeUsername(username))
	if err != nil {
		return User{}, fmt.Errorf("get user by name: %w", err)
	}
	return u, nil
}

// Users returns every account by login name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	out, err := list(ctx, s.db, scanUser, "SELECT "+userColumns+" FROM users ORDER BY username")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// PasswordHash returns a user's password hash, for api/auth to verify a
// login. Never return or log it.
func (s *Store) PasswordHash(ctx context.Context, userID string) (string, error) {
	var h string
	err := s.db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("password hash: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("password hash: %w", err)
	}
	return h, nil
}
