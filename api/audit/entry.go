package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Actor is who does something, as the audit log records it. The HTTP
// layer fills it from the session and the request; offline tools name
// themselves in Address (e.g. "local:matthan-admin").
type Actor struct {
	// UserID is the acting user's id; empty for the system itself and for
	// failed logins of unknown users.
	UserID string `json:"user_id,omitempty"`
	// Username is the acting user's login name, kept for readability.
	Username string `json:"username,omitempty"`
	// AgencyID is the acting user's agency.
	AgencyID string `json:"agency_id,omitempty"`
	// Address is the client address (IP:port) or the local tool's name.
	Address string `json:"address,omitempty"`
	// Purpose is why the data is used, when given.
	Purpose string `json:"purpose,omitempty"`
	// Requester is the person or agency who asked for the data,
	// when given.
	Requester string `json:"requester,omitempty"`
}

// Entry is one line of the audit log.
type Entry struct {
	// Seq is the entry's position in the chain, from 1, dense.
	Seq int64 `json:"seq"`
	// Time is when the entry was written, UTC, millisecond precision.
	Time time.Time `json:"time"`
	// Actor is who did it, why and for whom.
	Actor Actor `json:"actor"`
	// Action names what was done, as "noun.verb" (e.g. "camera.update",
	// "auth.login_failed", "evidence.export").
	Action string `json:"action"`
	// Object names what it was done to, as "kind:id" (e.g. "camera:gate-1").
	Object string `json:"object,omitempty"`
	// Before is the object before the change (JSON), empty when none.
	Before json.RawMessage `json:"before,omitempty"`
	// After is the object after the change (JSON), empty when none.
	After json.RawMessage `json:"after,omitempty"`
	// PrevHash is the hash of the previous entry, hex.
	PrevHash string `json:"prev_hash"`
	// Hash is SHA-256(PrevHash || canonical entry), hex.
	Hash string `json:"hash"`
}

// zeroHash is the chain's start: the "previous hash" of entry 1.
var zeroHash = hex.EncodeToString(make([]byte, sha256.Size))

// canonicalTag starts the canonical bytes; a new encoding gets a new tag.
const canonicalTag = "matthan-audit-v1"

// canonical returns the entry's fields in a fixed order, each preceded by
// its length as 8 bytes big endian, so that the encoding is unambiguous.
// Times are Unix milliseconds in decimal.
func (e *Entry) canonical() []byte {
	var b bytes.Buffer
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		b.Write(n[:])
		b.WriteString(s)
	}
	field(canonicalTag)
	field(strconv.FormatInt(e.Seq, 10))
	field(strconv.FormatInt(e.Time.UnixMilli(), 10))
	field(e.Actor.UserID)
	field(e.Actor.Username)
	field(e.Actor.AgencyID)
	field(e.Actor.Address)
	field(e.Actor.Purpose)
	field(e.Actor.Requester)
	field(e.Action)
	field(e.Object)
	field(string(e.Before))
	field(string(e.After))
	return b.Bytes()
}

// computeHash returns SHA-256(prev || canonical) in hex; prev is the
// previous entry's hex hash.
func (e *Entry) computeHash(prev string) (string, error) {
	p, err := hex.DecodeString(prev)
	if err != nil || len(p) != sha256.Size {
		return "", fmt.Errorf("previous hash %q is not a hex SHA-256", prev)
	}
	h := sha256.New()
	h.Write(p)
	h.Write(e.canonical())
	return hex.EncodeToString(h.Sum(nil)), nil
}

// JSON encodes v for Entry.Before or After. It returns nil for nil.
func JSON(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit json: %w", err)
	}
	return b, nil
}

// compactJSON checks that raw is JSON and returns it without insignificant
// white space, so that what is hashed is what is stored, on any database.
func compactJSON(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", err
	}
	return b.String(), nil
}
