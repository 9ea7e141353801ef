package evidence_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matthan/matthan/api/evidence"
)

// TestKey checks the node key's files: made once with mode 0600, loaded
// again, refused when open to others, mismatched or garbled, and never
// printed.
func TestKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	k, err := evidence.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	priv := filepath.Join(dir, evidence.PrivateKeyFile)
	pubFile := filepath.Join(dir, evidence.PublicKeyFile)
	for p, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, priv: 0o600, pubFile: 0o644} {
		if st, err := os.Stat(p); err != nil || st.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, st.Mode(), err, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("key folder holds %v, want the two key files", entries)
	}
	again, err := evidence.LoadOrCreateKey(dir)
	if err != nil || !again.Public().Equal(k.Public()) {
		t.Fatalf("second load: %v, %v; want the same key", again, err)
	}
	pub, err := evidence.ReadPublicKey(pubFile)
	if err != nil || !pub.Equal(k.Public()) {
		t.Errorf("ReadPublicKey = %v, %v", pub, err)
	}
	if fp := k.Fingerprint(); !strings.HasPrefix(fp, "sha256:") || len(fp) != 7+64 {
		t.Errorf("fingerprint %q", fp)
	}

	// The private key never shows in fmt or slog output.
	pemBytes, _ := os.ReadFile(priv)
	secret := privateKey(t, dir).Seed()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", k)
	printed := fmt.Sprintf("%v %+v %#v %s %x %q", k, k, k, k, k, k) + logged.String()
	for _, leak := range []string{hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret), fmt.Sprint(secret), string(pemBytes[30:60])} {
		if strings.Contains(printed, leak) {
			t.Errorf("printed key %q holds the private key", printed)
		}
	}
	if !strings.Contains(printed, k.Fingerprint()) {
		t.Errorf("printed key %q does not show the fingerprint", printed)
	}

	t.Run("public key file written again", func(t *testing.T) {
		os.Remove(pubFile)
		if _, err := evidence.LoadOrCreateKey(dir); err != nil {
			t.Fatal(err)
		}
		if pub, err := evidence.ReadPublicKey(pubFile); err != nil || !pub.Equal(k.Public()) {
			t.Errorf("rewritten public key %v, %v", pub, err)
		}
	})

	otherDir := t.TempDir()
	other, err := evidence.LoadOrCreateKey(otherDir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  error
		says  string
	}{
		{"private key readable by others", func(t *testing.T, dir string) {
			os.Chmod(filepath.Join(dir, evidence.PrivateKeyFile), 0o644)
		}, evidence.ErrKeyPermissions, "chmod 600"},
		{"public key of another key", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(otherDir, evidence.PublicKeyFile))
			os.WriteFile(filepath.Join(dir, evidence.PublicKeyFile), b, 0o644)
		}, evidence.ErrKeyMismatch, other.Fingerprint()},
		{"garbled private key", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, evidence.PrivateKeyFile), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600)
		}, evidence.ErrBadKey, evidence.PrivateKeyFile},
		{"private key is a link", func(t *testing.T, dir string) {
			p := filepath.Join(dir, evidence.PrivateKeyFile)
			os.Rename(p, p+".real")
			os.Symlink(p+".real", p)
		}, evidence.ErrBadKey, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			if _, err := evidence.LoadOrCreateKey(d); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, d)
			_, err := evidence.LoadOrCreateKey(d)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("LoadOrCreateKey = %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}

	t.Run("public key formats", func(t *testing.T) {
		raw := base64.StdEncoding.EncodeToString(k.Public())
		for _, in := range []string{raw, raw + "\n", "  " + raw} {
			if pub, err := evidence.ParsePublicKey([]byte(in)); err != nil || !pub.Equal(k.Public()) {
				t.Errorf("ParsePublicKey(%q) = %v, %v", in, pub, err)
			}
		}
		for _, in := range []string{"", "AAAA", string(pemBytes)} {
			if _, err := evidence.ParsePublicKey([]byte(in)); !errors.Is(err, evidence.ErrBadKey) {
				t.Errorf("ParsePublicKey(%.20q) = %v, want ErrBadKey", in, err)
			}
		}
	})
}
