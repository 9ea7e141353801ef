package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
)

// KeyEnv is the environment variable that holds the camera-secret key
// (32 bytes, base64 or hex), e.g. from `openssl rand -base64 32`.
const KeyEnv = "MATTHAN_SECRET_KEY"

// KeySize is the AES-256 key length in bytes.
const KeySize = 32

// ParseKey decodes a 32-byte key written in base64 (standard or URL
// alphabet, padded or not) or hex. The error never contains the key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: secret key: want %d bytes in base64 or hex", ErrInvalid, KeySize)
}

// newAEAD returns AES-256-GCM with key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: secret key: want %d bytes, have %d", ErrInvalid, KeySize, len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// CameraSecret is how ingest reaches a camera: its stream URL and
// credentials. It prints, logs and marshals to JSON as
// "[redacted]" so that it cannot leak by accident.
type CameraSecret struct {
	// StreamURL is the RTSP URL, possibly with credentials in it.
	StreamURL string
	// Username and Password authenticate to the camera, when not in the URL.
	Username, Password string
	// SubStreamURL is the optional lower-resolution stream for analysis.
	SubStreamURL string
}

const redacted = "[redacted]"

// String returns "[redacted]".
func (CameraSecret) String() string { return redacted }

// GoString returns "[redacted]".
func (CameraSecret) GoString() string { return redacted }

// MarshalJSON returns "[redacted]": the secret never leaves in a response.
func (CameraSecret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// sealedSecret is what is sealed: CameraSecret's fields, which its own
// MarshalJSON hides.
type sealedSecret struct {
	URL, User, Pass, Sub string
}

// sealPrefix marks the sealing format, for a later change of scheme.
const sealPrefix = "v1:"

// aad binds a sealed secret to its camera: a sealed value copied onto
// another camera's row does not open.
func aad(cameraID string) []byte { return []byte("matthan camera secret\x00" + cameraID) }

// seal encrypts sec for camera id; the zero secret seals to "".
func (s *Store) seal(id string, sec CameraSecret) (string, error) {
	if sec == (CameraSecret{}) {
		return "", nil
	}
	if s.aead == nil {
		return "", ErrNoKey
	}
	plain, err := json.Marshal(sealedSecret{sec.StreamURL, sec.Username, sec.Password, sec.SubStreamURL})
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, plain, aad(id))
	return sealPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// open decrypts a value made by seal for camera id.
func (s *Store) open(id, sealed string) (CameraSecret, error) {
	if sealed == "" {
		return CameraSecret{}, nil
	}
	if s.aead == nil {
		return CameraSecret{}, ErrNoKey
	}
	b64, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return CameraSecret{}, ErrSecret
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	n := s.aead.NonceSize()
	if err != nil || len(raw) < n {
		return CameraSecret{}, ErrSecret
	}
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], aad(id))
	if err != nil {
		return CameraSecret{}, ErrSecret
	}
	var v sealedSecret
	if err := json.Unmarshal(plain, &v); err != nil {
		return CameraSecret{}, ErrSecret
	}
	return CameraSecret{StreamURL: v.URL, Username: v.User, Password: v.Pass, SubStreamURL: v.Sub}, nil
}

// LogValue returns "[redacted]" for log/slog.
func (CameraSecret) LogValue() slog.Value { return slog.StringValue(redacted) }
