package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// Key file names inside the key folder.
const (
	// PrivateKeyFile holds the node's private key, PKCS #8 in PEM, mode 0600.
	PrivateKeyFile = "node_ed25519"
	// PublicKeyFile holds the node's public key, PKIX in PEM: the file to
	// hand to whoever checks packages (matthan evidence verify -pubkey).
	PublicKeyFile = PrivateKeyFile + ".pub"
)

// maxKeyFile bounds what is read of a key file: a PEM Ed25519 key is
// about 120 bytes.
const maxKeyFile = 16 << 10

// KeyDir returns the key folder under the engine's data folder.
func KeyDir(data string) string { return filepath.Join(data, "keys") }

// Key is a node's Ed25519 signing key. Printing it with fmt or log/slog
// shows only its fingerprint.
type Key struct {
	priv ed25519.PrivateKey
}

// LoadOrCreateKey returns the key kept in dir (see PrivateKeyFile and
// PublicKeyFile), making the folder (0700) and a new key pair when there is
// none. It refuses a private key file that others may read or write
// (ErrKeyPermissions) and a public key file that belongs to another key
// (ErrKeyMismatch); a missing public key file is written again.
func LoadOrCreateKey(dir string) (*Key, error) {
	k, err := loadOrCreateKey(dir)
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	return k, nil
}

// loadOrCreateKey is LoadOrCreateKey without the error context.
func loadOrCreateKey(dir string) (*Key, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	privPath := filepath.Join(dir, PrivateKeyFile)
	k, err := readPrivateKey(privPath)
	if errors.Is(err, fs.ErrNotExist) {
		k, err = createPrivateKey(dir, privPath)
	}
	if err != nil {
		return nil, err
	}
	pubPath := filepath.Join(dir, PublicKeyFile)
	pub, err := ReadPublicKey(pubPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return k, writePublicKey(dir, pubPath, k.Public())
	case err != nil:
		return nil, err
	case !pub.Equal(k.Public()):
		return nil, fmt.Errorf("%w: %s is key %s, %s is key %s", ErrKeyMismatch,
			pubPath, Fingerprint(pub), privPath, k.Fingerprint())
	}
	return k, nil
}

// readPrivateKey reads the private key file at name.
func readPrivateKey(name string) (*Key, error) {
	st, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrBadKey, name)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v; run chmod 600 %s", ErrKeyPermissions, name, st.Mode().Perm(), name)
	}
	b, err := readSmall(name)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: %s: want a PEM \"PRIVATE KEY\" block", ErrBadKey, name)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadKey, name, err)
	}
	priv, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s: a %T, want an Ed25519 key", ErrBadKey, name, parsed)
	}
	return &Key{priv: priv}, nil
}

// createPrivateKey makes a key pair and writes its private key to name,
// unless another process got there first, in which case it reads that key.
func createPrivateKey(dir, name string) (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	tmp, err := writeTemp(dir, b) // 0600
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	// A hard link never replaces an existing file: of two processes
	// creating a key at once, one wins and the other reads its key.
	if err := os.Link(tmp, name); errors.Is(err, fs.ErrExist) {
		return readPrivateKey(name)
	} else if err != nil {
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return &Key{priv: priv}, nil
}

// writePublicKey writes pub to name (0644), replacing it atomically.
func writePublicKey(dir, name string, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(dir, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// writeTemp writes b to a new temporary file (mode 0600) in dir, synced,
// and returns its name.
func writeTemp(dir string, b []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".key-*.tmp")
	if err != nil {
		return "", err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// ReadPublicKey reads an Ed25519 public key from a file holding either a
// PEM "PUBLIC KEY" block (as PublicKeyFile) or the base64 of the 32 raw
// key bytes (as a manifest's signer.public_key).
func ReadPublicKey(name string) (ed25519.PublicKey, error) {
	b, err := readSmall(name)
	if err != nil {
		return nil, err
	}
	pub, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return pub, nil
}

// ParsePublicKey parses what ReadPublicKey reads from a file.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	b = bytes.TrimSpace(b)
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("%w: PEM %q block, want \"PUBLIC KEY\"", ErrBadKey, blk.Type)
		}
		parsed, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		pub, ok := parsed.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: a %T, want an Ed25519 key", ErrBadKey, parsed)
		}
		return pub, nil
	}
	raw, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: want a PEM public key or the base64 of %d key bytes", ErrBadKey, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// readSmall reads a file of at most maxKeyFile bytes.
func readSmall(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBadKey, name, maxKeyFile)
	}
	return b, nil
}

// Public returns the key's public half.
func (k *Key) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// Fingerprint returns the public key's fingerprint (see Fingerprint).
func (k *Key) Fingerprint() string { return Fingerprint(k.Public()) }

// sign signs b.
func (k *Key) sign(b []byte) []byte { return ed25519.Sign(k.priv, b) }

// Format prints the key as "ed25519 " and its fingerprint, whatever the
// verb, so that the private key never reaches a log by accident.
func (k *Key) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "ed25519 %s", k.Fingerprint()) }

// LogValue logs the key as its fingerprint.
func (k *Key) LogValue() slog.Value { return slog.StringValue(k.Fingerprint()) }

// Fingerprint returns "sha256:" followed by the hex sha256 of the 32 raw
// bytes of pub.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "sha256:" + hex.EncodeToString(sum[:])
}
