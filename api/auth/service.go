package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/store"
)

// Defaults of Config.
const (
	DefaultMaxFailures         = 5
	DefaultLockoutPeriod       = 15 * time.Minute
	DefaultAdminPasswordMaxAge = 90 * 24 * time.Hour
	DefaultSessionTTL          = 12 * time.Hour
	DefaultIdleTimeout         = time.Hour
)

// tokenBytes is the session token's length: 256 bits.
const tokenBytes = 32

// touchEvery limits how often Authenticate writes a session's last use.
const touchEvery = time.Minute

// Config tunes authentication. Zero fields take the defaults.
type Config struct {
	// MaxFailures failed logins in a row lock an account. Defaults to 5.
	MaxFailures int
	// LockoutPeriod is how long a lockout lasts. Defaults to 15 minutes.
	LockoutPeriod time.Duration
	// AdminPasswordMaxAge is when administrators' passwords expire
	// . Defaults to 90 days.
	AdminPasswordMaxAge time.Duration
	// SessionTTL is a session's longest life. Defaults to 12 hours.
	SessionTTL time.Duration
	// IdleTimeout ends a session unused for that long. Defaults to 1 hour.
	IdleTimeout time.Duration
	// Params are the argon2id costs of new hashes. Defaults to
	// DefaultParams.
	Params Params
}

// Service logs users in and out and checks sessions. It is safe for
// concurrent use.
type Service struct {
	store  *store.Store
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	dummy  string // a hash verified for unknown users, to even the timing
	dummyM sync.Once
}

// New returns a Service on st. logger defaults to discarding; now to
// time.Now.
func New(st *store.Store, cfg Config, logger *slog.Logger, now func() time.Time) *Service {
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = DefaultMaxFailures
	}
	if cfg.LockoutPeriod <= 0 {
		cfg.LockoutPeriod = DefaultLockoutPeriod
	}
	if cfg.AdminPasswordMaxAge <= 0 {
		cfg.AdminPasswordMaxAge = DefaultAdminPasswordMaxAge
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, cfg: cfg, log: logger.With("component", "auth"), now: now}
}

// Session is a logged-in session as the HTTP layer sees it.
type Session struct {
	// Token is the bearer token: give it to the client once (cookie or
	// response body), never log it.
	Token string `json:"-"`
	// CSRF is CSRFToken(Token), for the console.
	CSRF string `json:"-"`
	// Session is the stored session (its id, expiry).
	Session store.Session `json:"session"`
	// User is the session's user.
	User store.User `json:"user"`
	// Restricted is set when the password must be changed first (reset by
	// an administrator, or an administrator's password expired, R-17.4):
	// allow nothing but the password change.
	Restricted bool `json:"restricted"`
}

// Client describes where a request comes from, for the audit log.
type Client struct {
	// Address is the client's IP:port.
	Address string
}

// Login checks a user name and password. It locks the account after
// Config.MaxFailures failures in a row and audits success and failure
// alike. Wrong user names and wrong passwords are both
// ErrBadCredentials.
func (s *Service) Login(ctx context.Context, username, password string, c Client) (Session, error) {
	name := store.NormalizeUsername(username)
	if len(name) > 64 {
		name = name[:64]
	}
	by := audit.Actor{Username: name, Address: c.Address}
	now := s.now()
	u, err := s.store.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		s.verifyDummy(password)
		if _, err := s.store.LoginFailed(ctx, by, "", "unknown_user", store.LockPolicy{}); err != nil {
			return Session{}, fmt.Errorf("login: %w", err)
		}
		return Session{}, ErrBadCredentials
	}
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	by.UserID, by.AgencyID = u.ID, u.AgencyID
	if u.Disabled || u.Locked(now) {
		s.verifyDummy(password)
		reason, out := "locked", ErrLocked
		if u.Disabled {
			reason, out = "disabled", ErrDisabled
		}
		if _, err := s.store.LoginFailed(ctx, by, u.ID, reason, store.LockPolicy{}); err != nil {
			return Session{}, fmt.Errorf("login: %w", err)
		}
		return Session{}, out
	}
	hash, err := s.store.PasswordHash(ctx, u.ID)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	ok, err := VerifyPassword(hash, password)
	if err != nil {
		s.log.Error("stored password hash is malformed", "user", u.ID)
	}
	if !ok {
		after, err := s.store.LoginFailed(ctx, by, u.ID, "bad_password",
			store.LockPolicy{MaxFailures: s.cfg.MaxFailures, Period: s.cfg.LockoutPeriod})
		if err != nil {
			return Session{}, fmt.Errorf("login: %w", err)
		}
		if after.Locked(now) {
			s.log.Warn("account locked after failed logins", "user", u.ID, "until", after.LockedUntil, "client", c.Address)
		}
		return Session{}, ErrBadCredentials
	}
	token, tokenHash, err := newToken()
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	se, err := s.store.LoginSucceeded(ctx, by, store.Session{UserID: u.ID, TokenHash: tokenHash,
		Expires: now.Add(s.cfg.SessionTTL), Client: c.Address})
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	u, err = s.store.User(ctx, u.ID)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	return Session{Token: token, CSRF: CSRFToken(token), Session: se, User: u, Restricted: s.restricted(u, now)}, nil
}

// restricted reports whether u must change the password before anything
// else.
func (s *Service) restricted(u store.User, now time.Time) bool {
	return u.MustChangePassword || (u.Role.IsAdmin() && now.Sub(u.PasswordChanged) >= s.cfg.AdminPasswordMaxAge)
}

// PasswordExpired reports whether u's password is past its maximum age:
// only administrators' passwords expire.
func (s *Service) PasswordExpired(u store.User, now time.Time) bool {
	return u.Role.IsAdmin() && now.Sub(u.PasswordChanged) >= s.cfg.AdminPasswordMaxAge
}

// verifyDummy spends the time of a real verification, so that a missing
// or locked account answers as slowly as a wrong password.
func (s *Service) verifyDummy(password string) {
	s.dummyM.Do(func() {
		h, err := HashPassword("dummy password for timing", s.cfg.Params)
		if err == nil {
			s.dummy = h
		}
	})
	if s.dummy != "" {
		VerifyPassword(s.dummy, password)
	}
}

// Authenticate returns the session of a token, with its user read afresh.
// Expired, idle, unknown tokens and sessions of disabled accounts are
// ErrNoSession; an expired or idle session is deleted and audited.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 128 {
		return Session{}, ErrNoSession
	}
	h := hashToken(token)
	se, err := s.store.Session(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("authenticate: %w", err)
	}
	now := s.now()
	if !now.Before(se.Expires) || now.Sub(se.LastSeen) >= s.cfg.IdleTimeout {
		err := s.store.EndSession(ctx, audit.Actor{UserID: se.UserID, Address: se.Client}, "auth.session_expired", h)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Session{}, fmt.Errorf("authenticate: %w", err)
		}
		return Session{}, ErrNoSession
	}
	u, err := s.store.User(ctx, se.UserID)
	if err != nil {
		return Session{}, fmt.Errorf("authenticate: %w", err)
	}
	if u.Disabled {
		return Session{}, ErrNoSession
	}
	if now.Sub(se.LastSeen) >= touchEvery {
		if err := s.store.TouchSession(ctx, h, now); err != nil {
			return Session{}, fmt.Errorf("authenticate: %w", err)
		}
		se.LastSeen = now
	}
	return Session{Token: token, CSRF: CSRFToken(token), Session: se, User: u, Restricted: s.restricted(u, now)}, nil
}

// Logout ends the token's session (audited as auth.logout).
func (s *Service) Logout(ctx context.Context, token string, c Client) error {
	sess, err := s.Authenticate(ctx, token)
	if err != nil {
		return err
	}
	u := sess.User
	err = s.store.EndSession(ctx, audit.Actor{UserID: u.ID, Username: u.Username, AgencyID: u.AgencyID, Address: c.Address},
		"auth.logout", hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSession
	}
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// ChangePassword lets a logged-in user replace their password: the old
// one must match, the new one must follow the rules and differ. It ends
// every session of the user (log in again) and clears the must-change
// flag.
func (s *Service) ChangePassword(ctx context.Context, sess Session, oldPassword, newPassword string, c Client) error {
	u := sess.User
	hash, err := s.store.PasswordHash(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if ok, _ := VerifyPassword(hash, oldPassword); !ok {
		return ErrBadCredentials
	}
	if oldPassword == newPassword {
		return fmt.Errorf("%w: same as the old password", ErrWeakPassword)
	}
	return s.setPassword(ctx, audit.Actor{UserID: u.ID, Username: u.Username, AgencyID: u.AgencyID, Address: c.Address},
		u, newPassword, false)
}

// SetPassword is an administrator setting another user's password (a new
// account, a reset): the rules apply, and the user must change it at the
// next login.
func (s *Service) SetPassword(ctx context.Context, by audit.Actor, userID, password string) error {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return s.setPassword(ctx, by, u, password, true)
}

func (s *Service) setPassword(ctx context.Context, by audit.Actor, u store.User, password string, mustChange bool) error {
	if err := CheckPassword(u.Username, password); err != nil {
		return err
	}
	h, err := HashPassword(password, s.cfg.Params)
	if err != nil {
		return err
	}
	if _, err := s.store.SetPassword(ctx, by, u.ID, h, mustChange); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

// newToken returns a fresh session token and its stored hash.
func newToken() (token, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

// hashToken is what the store keeps of a token: hex SHA-256. A fast hash
// suffices: the token has 256 random bits.
func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// csrfLabel is the message of the CSRF HMAC.
const csrfLabel = "matthan csrf v1"

// CSRFToken returns the CSRF token of a session token: HMAC-SHA256 of a
// fixed label keyed by the session token, base64url. It differs from the
// stored token hash, so a copy of the database does not yield it.
func CSRFToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte(csrfLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports, in constant time, whether csrf is the CSRF token of
// sessionToken. The HTTP layer calls it on unsafe methods (POST, PUT,
// PATCH, DELETE) of cookie sessions.
func CheckCSRF(sessionToken, csrf string) bool {
	if sessionToken == "" || csrf == "" {
		return false
	}
	return hmac.Equal([]byte(CSRFToken(sessionToken)), []byte(csrf))
}
