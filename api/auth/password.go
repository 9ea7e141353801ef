package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password rules (see the package documentation).
const (
	// MinPasswordLength is the fewest characters a password may have.
	MinPasswordLength = 12
	// MaxPasswordBytes bounds the work one login can ask of argon2id.
	MaxPasswordBytes = 1024
	// MinPasswordClasses is how many of the 4 character classes a password
	// must use.
	MinPasswordClasses = 3
)

// Params are argon2id's cost parameters.
type Params struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the number of lanes.
	Threads uint8
}

// DefaultParams cost about 64 MiB and tens of milliseconds per hash.
var DefaultParams = Params{Memory: 64 * 1024, Time: 2, Threads: 2}

// Bounds a stored hash's parameters must keep, so that a crafted hash
// cannot make verification take unbounded memory or time.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 16
	maxThreads = 16
	saltLen    = 16
	keyLen     = 32
)

// b64 is the PHC strings' base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id PHC string of password with a fresh
// random salt.
func HashPassword(password string, p Params) (string, error) {
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads {
		return "", fmt.Errorf("hash password: argon2id parameters m=%d t=%d p=%d out of range", p.Memory, p.Time, p.Threads)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// parsedHash is a decoded PHC string.
type parsedHash struct {
	p         Params
	salt, key []byte
}

// parseHash decodes an argon2id PHC string and checks its bounds.
func parseHash(encoded string) (parsedHash, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return parsedHash{}, ErrBadHash
	}
	var h parsedHash
	seen := 0
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return parsedHash{}, ErrBadHash
		}
		switch {
		case k == "m" && seen == 0:
			h.p.Memory = uint32(n)
		case k == "t" && seen == 1:
			h.p.Time = uint32(n)
		case k == "p" && seen == 2 && n <= maxThreads:
			h.p.Threads = uint8(n)
		default:
			return parsedHash{}, ErrBadHash
		}
		seen++
	}
	if seen != 3 || h.p.Threads < 1 || h.p.Memory < 8*uint32(h.p.Threads) || h.p.Memory > maxMemory || h.p.Time < 1 || h.p.Time > maxTime {
		return parsedHash{}, ErrBadHash
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 || len(h.salt) > 64 {
		return parsedHash{}, ErrBadHash
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return parsedHash{}, ErrBadHash
	}
	return h, nil
}

// VerifyPassword reports whether password matches the PHC string
// encoded, comparing in constant time. A malformed hash is ErrBadHash.
func VerifyPassword(encoded, password string) (bool, error) {
	h, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordBytes {
		return false, nil
	}
	key := argon2.IDKey([]byte(password), h.salt, h.p.Time, h.p.Memory, h.p.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// CheckPassword checks password against the rules for the account
// username. The error names the rule broken, never the password.
func CheckPassword(username, password string) error {
	if !utf8.ValidString(password) {
		return fmt.Errorf("%w: not valid UTF-8", ErrWeakPassword)
	}
	if len(password) > MaxPasswordBytes {
		return fmt.Errorf("%w: longer than %d bytes", ErrWeakPassword, MaxPasswordBytes)
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return fmt.Errorf("%w: %d characters, at least %d needed", ErrWeakPassword, n, MinPasswordLength)
	}
	if u := strings.ToLower(strings.TrimSpace(username)); u != "" && strings.Contains(strings.ToLower(password), u) {
		return fmt.Errorf("%w: contains the user name", ErrWeakPassword)
	}
	var lower, upper, digit, other bool
	for _, r := range password {
		switch {
		case unicode.IsControl(r):
			return fmt.Errorf("%w: contains a control character", ErrWeakPassword)
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	if classes < MinPasswordClasses {
		return fmt.Errorf("%w: uses %d of the 4 character classes (lower case, upper case, digits, others), at least %d needed",
			ErrWeakPassword, classes, MinPasswordClasses)
	}
	return nil
}
