package evidence_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matthan/matthan/api/evidence"
)

// exported makes a package of 20 s with a snapshot, signed by a new node
// key, and returns it with the folder of that key.
func exported(t *testing.T) (pkg evidence.Package, keyDir string) {
	t.Helper()
	keyDir = t.TempDir()
	key, err := evidence.LoadOrCreateKey(keyDir)
	if err != nil {
		t.Fatal(err)
	}
	req := request()
	req.Snapshots = []evidence.Snapshot{{Name: "ev-1.jpg", JPEG: snapshot(t)}}
	pkg, err = evidence.Export(context.Background(), req, recordings(t), t.TempDir(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pkg, keyDir
}

// TestVerifyTampered changes a real package in the ways a forger or an
// accident would, and checks what Verify says with the node's key and
// without a trusted key.
func TestVerifyTampered(t *testing.T) {
	pkg, keyDir := exported(t)
	node := privateKey(t, keyDir)
	nodePub := node.Public().(ed25519.PublicKey)
	other, err := evidence.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	otherDir := t.TempDir()
	if _, err := evidence.LoadOrCreateKey(otherDir); err != nil {
		t.Fatal(err)
	}
	forger := privateKey(t, otherDir)

	flip := func(b []byte, i int) { b[i] ^= 0x01 }
	tests := []struct {
		name    string
		tamper  func(t *testing.T, files []zfile) []zfile
		trusted ed25519.PublicKey // the node's key when nil
		want    error             // with the trusted key
		says    []string
		selfOK  bool // verifies without a trusted key
	}{
		{"untouched", func(_ *testing.T, f []zfile) []zfile { return f }, nil, nil, nil, true},
		{"one byte of the clip", func(t *testing.T, f []zfile) []zfile {
			c := f[find(t, f, "clip.mp4")].data
			flip(c, len(c)/2)
			return f
		}, nil, evidence.ErrFileMismatch, []string{"clip.mp4: sha256"}, false},
		{"clip cut short", func(t *testing.T, f []zfile) []zfile {
			i := find(t, f, "clip.mp4")
			f[i].data = f[i].data[:len(f[i].data)-100]
			return f
		}, nil, evidence.ErrFileMismatch, []string{"clip.mp4:", "bytes, manifest says"}, false},
		{"one byte of the snapshot", func(t *testing.T, f []zfile) []zfile {
			flip(f[find(t, f, "snapshots/ev-1.jpg")].data, 1000)
			return f
		}, nil, evidence.ErrFileMismatch, []string{"snapshots/ev-1.jpg"}, false},
		{"one byte of the manifest", func(t *testing.T, f []zfile) []zfile {
			m := f[find(t, f, "manifest.json")].data
			i := strings.Index(string(m), `"requester": "`) + len(`"requester": "`)
			m[i] = 'X'
			return f
		}, nil, evidence.ErrSignature, []string{"manifest.sig is not the signature"}, false},
		{"extra file", func(_ *testing.T, f []zfile) []zfile {
			return append(f, zfile{"notes.txt", []byte("later")})
		}, nil, evidence.ErrUnlistedFile, []string{"notes.txt"}, false},
		{"file removed", func(t *testing.T, f []zfile) []zfile {
			i := find(t, f, "snapshots/ev-1.jpg")
			return append(f[:i], f[i+1:]...)
		}, nil, evidence.ErrMissingFile, []string{"snapshots/ev-1.jpg"}, false},
		{"signature by another key", func(t *testing.T, f []zfile) []zfile {
			f[find(t, f, "manifest.sig")].data = ed25519.Sign(forger, f[find(t, f, "manifest.json")].data)
			return f
		}, nil, evidence.ErrSignature, nil, false},
		{"clip replaced and re-signed by another key", func(t *testing.T, f []zfile) []zfile {
			c := f[find(t, f, "clip.mp4")].data
			flip(c, len(c)/2)
			sum := sha256.Sum256(c)
			resign(t, f, forger, func(m *evidence.Manifest) { m.Files[0].SHA256 = hex.EncodeToString(sum[:]) })
			return f
		}, nil, evidence.ErrUntrustedKey, []string{"not the trusted key " + evidence.Fingerprint(nodePub)}, true},
		{"verified against another key", func(_ *testing.T, f []zfile) []zfile { return f },
			other.Public(), evidence.ErrUntrustedKey, []string{"not the trusted key " + other.Fingerprint()}, true},
		{"listed path leaves the package", func(t *testing.T, f []zfile) []zfile {
			resign(t, f, node, func(m *evidence.Manifest) { m.Files[0].Path = "../clip.mp4" })
			return f
		}, nil, evidence.ErrUnsafePath, []string{`lists "../clip.mp4"`}, false},
		{"entry leaves the package", func(_ *testing.T, f []zfile) []zfile {
			return append(f, zfile{"../evil.sh", []byte("#!/bin/sh")})
		}, nil, evidence.ErrUnsafePath, []string{`"../evil.sh"`}, false},
		{"entry twice", func(t *testing.T, f []zfile) []zfile {
			return append(f, zfile{"clip.mp4", []byte("another clip")})
		}, nil, evidence.ErrUnsafePath, []string{`"clip.mp4" twice`}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "package.zip")
			writeZip(t, p, tc.tamper(t, readZip(t, pkg.Path)))
			trusted := tc.trusted
			if trusted == nil {
				trusted = nodePub
			}
			r, err := evidence.Verify(p, trusted)
			if tc.want == nil {
				if err != nil || !r.OK() || !r.Trusted {
					t.Fatalf("Verify = %v, trusted %v; want verified", err, r.Trusted)
				}
			} else {
				if !errors.Is(err, tc.want) || r.OK() {
					t.Fatalf("Verify error %v; want %v", err, tc.want)
				}
				// Trusted speaks of the signature alone.
				sigBad := errors.Is(err, evidence.ErrSignature) || errors.Is(err, evidence.ErrUntrustedKey)
				if r.Trusted == sigBad {
					t.Errorf("trusted %v with error %v", r.Trusted, err)
				}
				if errors.Is(err, evidence.ErrNotPackage) {
					t.Errorf("error %v: the package was readable", err)
				}
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			self, err := evidence.Verify(p, nil)
			if (err == nil) != tc.selfOK || self.OK() != tc.selfOK || self.Trusted || self.TrustedKey != "" {
				t.Errorf("Verify without a trusted key = %v, %+v; want verified %v, not trusted", err, self, tc.selfOK)
			}
		})
	}
}

// TestVerifyFolder checks an unzipped package: files added, replaced by a
// link, changed.
func TestVerifyFolder(t *testing.T) {
	pkg, _ := exported(t)
	pub, err := evidence.ParsePublicKey([]byte(pkg.Manifest.Signer.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   error
		says   string
	}{
		{"file in a new folder", func(t *testing.T, dir string) {
			os.Mkdir(filepath.Join(dir, "extra"), 0o755)
			os.WriteFile(filepath.Join(dir, "extra", "a.txt"), nil, 0o644)
		}, evidence.ErrUnlistedFile, "extra/a.txt"},
		{"snapshot replaced by a link to an identical file outside", func(t *testing.T, dir string) {
			snap := filepath.Join(dir, "snapshots", "ev-1.jpg")
			b, _ := os.ReadFile(snap)
			outside := filepath.Join(t.TempDir(), "ev-1.jpg")
			os.WriteFile(outside, b, 0o644)
			os.Remove(snap)
			if err := os.Symlink(outside, snap); err != nil {
				t.Fatal(err)
			}
		}, evidence.ErrFileMismatch, "snapshots/ev-1.jpg is not a regular file"},
		{"one byte of the clip", func(t *testing.T, dir string) {
			f, err := os.OpenFile(filepath.Join(dir, "clip.mp4"), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte{0}, 5000)
			f.Close()
		}, evidence.ErrFileMismatch, "clip.mp4: sha256"},
		{"manifest missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "manifest.json")) }, evidence.ErrNotPackage, "manifest.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := unzip(t, pkg.Path)
			tc.tamper(t, dir)
			r, err := evidence.Verify(dir, pub)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) || r.Format != evidence.FormatFolder {
				t.Errorf("Verify = %v (format %q), want %v saying %q", err, r.Format, tc.want, tc.says)
			}
		})
	}

	t.Run("not a package", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.zip")
		os.WriteFile(p, []byte("not a zip"), 0o644)
		if _, err := evidence.Verify(p, nil); !errors.Is(err, evidence.ErrNotPackage) {
			t.Errorf("Verify = %v, want ErrNotPackage", err)
		}
	})
}
