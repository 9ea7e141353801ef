package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// maxManifest bounds what Verify reads of a manifest: one of a 12-hour
// clip cut from 10-second segments with every snapshot is about 1 MiB.
const maxManifest = 8 << 20

// Package formats Verify reads.
const (
	FormatZIP    = "zip"    // the ZIP file Export writes
	FormatFolder = "folder" // a folder the ZIP was unzipped into
)

// Report is what Verify found.
type Report struct {
	// Path is the package checked.
	Path string
	// Format is FormatZIP or FormatFolder.
	Format string
	// Manifest is the manifest as read (zero when it could not be read).
	Manifest Manifest
	// SignatureValid says the signature verifies against the key the
	// manifest names. Alone it proves only that the package is unchanged
	// since someone holding that key signed it.
	SignatureValid bool
	// TrustedKey is the fingerprint of the trusted key Verify was given;
	// empty when none was, in which case only self-consistency was
	// checked.
	TrustedKey string
	// Trusted says the signature verifies against the trusted key.
	Trusted bool
	// Files are the listed files as checked, in the manifest's order.
	Files []FileCheck
	// Unlisted are files present in the package but not in the manifest.
	Unlisted []string
	// Problems is every problem found, each wrapping one of ErrSignature,
	// ErrUntrustedKey, ErrBadManifest, ErrFileMismatch, ErrMissingFile,
	// ErrUnlistedFile or ErrUnsafePath; none when the package verifies.
	Problems []error
}

// FileCheck is a listed file as Verify found it.
type FileCheck struct {
	// File is the manifest's entry.
	File File
	// Size and SHA256 are what the package holds (zero when absent).
	Size   int64
	SHA256 string
	// OK says the file is present with the listed size and sha256.
	OK bool
}

// OK reports whether the package verified.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// problem adds a problem.
func (r *Report) problem(sentinel error, format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...)))
}

// Verify checks the evidence package at path, a ZIP file or the folder it
// was unzipped into: that manifest.sig is the signature of manifest.json by
// the key the manifest names and, when trusted is not nil, by trusted; that
// every listed path is safe and every listed file is there with its size
// and sha256; and that nothing else is there. It returns the report and,
// when any check failed, an error joining the problems (errors.Is finds
// their sentinels). A path that holds no readable package gives
// ErrNotPackage.
func Verify(p string, trusted ed25519.PublicKey) (Report, error) {
	r := Report{Path: p}
	if trusted != nil {
		r.TrustedKey = Fingerprint(trusted)
	}
	if err := r.verify(p, trusted); err != nil {
		return r, fmt.Errorf("verify evidence package %s: %w", p, err)
	}
	if !r.OK() {
		return r, fmt.Errorf("verify evidence package %s: %w", p, errors.Join(r.Problems...))
	}
	return r, nil
}

// entry is a file of a package as listed by its container.
type entry struct {
	name    string
	regular bool // a regular file, not a link or device
	size    int64
}

// container is a package's ZIP file or folder.
type container struct {
	fsys    fs.FS
	entries []entry
	close   func() error
}

// verify fills r; it returns an error only when p holds no package.
func (r *Report) verify(p string, trusted ed25519.PublicKey) error {
	c, err := r.open(p)
	if err != nil {
		return err
	}
	defer c.close()

	byName := make(map[string]entry, len(c.entries))
	seen := make(map[string]string, len(c.entries)) // lower case → name
	for _, e := range c.entries {
		if !safePath(e.name) {
			r.problem(ErrUnsafePath, "package holds %q", e.name)
			continue
		}
		if prev, dup := seen[strings.ToLower(e.name)]; dup {
			if prev == e.name {
				r.problem(ErrUnsafePath, "package holds %q twice", e.name)
			} else {
				r.problem(ErrUnsafePath, "package holds %q and %q, one file on some systems", prev, e.name)
			}
			continue
		}
		seen[strings.ToLower(e.name)] = e.name
		byName[e.name] = e
	}
	mb, err := readEntry(c.fsys, byName, ManifestName, maxManifest)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotPackage, ManifestName, err)
	}
	sig, err := readEntry(c.fsys, byName, SignatureName, ed25519.SignatureSize)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotPackage, SignatureName, err)
	}
	dec := json.NewDecoder(bytes.NewReader(mb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r.Manifest); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotPackage, ManifestName, err)
	}
	if r.Manifest.Schema != Schema {
		return fmt.Errorf("%w: %s: schema %q, want %q", ErrNotPackage, ManifestName, r.Manifest.Schema, Schema)
	}

	r.checkSignature(mb, sig, trusted)
	listed := r.checkFiles(c.fsys, byName)
	for _, e := range c.entries {
		if _, ok := byName[e.name]; ok && !listed[e.name] && !reserved(e.name) {
			r.Unlisted = append(r.Unlisted, e.name)
			r.problem(ErrUnlistedFile, "%s", e.name)
		}
	}
	return nil
}

// open lists the files of the package at p.
func (r *Report) open(p string) (*container, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotPackage, err)
	}
	if st.IsDir() {
		r.Format = FormatFolder
		return openFolder(p)
	}
	r.Format = FormatZIP
	return openZIP(p)
}

// openZIP lists the files of a ZIP package. Directory entries, which
// zipping a folder adds, are not files and are left out.
func openZIP(p string) (*container, error) {
	zr, err := zip.OpenReader(p)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("%w: %w", ErrNotPackage, err)
	}
	c := &container{fsys: zr, close: zr.Close}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") && f.Mode().IsDir() && f.UncompressedSize64 == 0 {
			continue
		}
		c.entries = append(c.entries, entry{
			name:    f.Name,
			regular: f.Mode().IsRegular(),
			size:    int64(min(f.UncompressedSize64, 1<<62)),
		})
	}
	return c, nil
}

// openFolder lists the files of an unzipped package. The folder is opened
// as an os.Root, so that no path read leaves it, links included.
func openFolder(p string) (*container, error) {
	root, err := os.OpenRoot(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotPackage, err)
	}
	c := &container{fsys: root.FS(), close: root.Close}
	err = fs.WalkDir(c.fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		e := entry{name: name, regular: d.Type().IsRegular()}
		if e.regular {
			info, err := d.Info()
			if err != nil {
				return err
			}
			e.size = info.Size()
		}
		c.entries = append(c.entries, e)
		return nil
	})
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("%w: %w", ErrNotPackage, err)
	}
	return c, nil
}

// readEntry reads the regular file name of at most limit bytes.
func readEntry(fsys fs.FS, byName map[string]entry, name string, limit int64) ([]byte, error) {
	e, ok := byName[name]
	switch {
	case !ok:
		return nil, fs.ErrNotExist
	case !e.regular:
		return nil, errors.New("not a regular file")
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// checkSignature checks the manifest's signer and the signature sig of
// the manifest bytes mb.
func (r *Report) checkSignature(mb, sig []byte, trusted ed25519.PublicKey) {
	s := r.Manifest.Signer
	raw, err := base64.StdEncoding.DecodeString(s.PublicKey)
	switch {
	case s.Algorithm != SignatureAlgorithm:
		r.problem(ErrBadManifest, "signer algorithm %q, want %q", s.Algorithm, SignatureAlgorithm)
	case err != nil || len(raw) != ed25519.PublicKeySize:
		r.problem(ErrBadManifest, "signer public key is not the base64 of %d bytes", ed25519.PublicKeySize)
	default:
		pub := ed25519.PublicKey(raw)
		if fp := Fingerprint(pub); fp != s.Fingerprint {
			r.problem(ErrBadManifest, "signer fingerprint %q is not the key's, %s", s.Fingerprint, fp)
		}
		r.SignatureValid = len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, mb, sig)
		if !r.SignatureValid {
			r.problem(ErrSignature, "%s is not the signature of %s by key %s named in it",
				SignatureName, ManifestName, Fingerprint(pub))
		}
		if trusted != nil && !pub.Equal(trusted) {
			r.problem(ErrUntrustedKey, "%s names key %s, not the trusted key %s", ManifestName, Fingerprint(pub), Fingerprint(trusted))
		}
	}
	if trusted != nil {
		// A failure here was reported above: the manifest names another
		// key, or the signature is bad.
		r.Trusted = len(sig) == ed25519.SignatureSize && ed25519.Verify(trusted, mb, sig)
	}
}

// checkFiles checks the listed files and returns the set of listed paths
// present in byName.
func (r *Report) checkFiles(fsys fs.FS, byName map[string]entry) map[string]bool {
	listed := make(map[string]bool, len(r.Manifest.Files))
	seen := make(map[string]bool, len(r.Manifest.Files))
	for _, f := range r.Manifest.Files {
		fc := FileCheck{File: f}
		r.Files = append(r.Files, fc)
		i := len(r.Files) - 1
		if !safePath(f.Path) || reserved(f.Path) {
			r.problem(ErrUnsafePath, "%s lists %q", ManifestName, f.Path)
			continue
		}
		if seen[strings.ToLower(f.Path)] {
			r.problem(ErrUnsafePath, "%s lists %q twice", ManifestName, f.Path)
			continue
		}
		seen[strings.ToLower(f.Path)] = true
		e, ok := byName[f.Path]
		if !ok {
			r.problem(ErrMissingFile, "%s", f.Path)
			continue
		}
		listed[f.Path] = true
		if !e.regular {
			r.problem(ErrFileMismatch, "%s is not a regular file", f.Path)
			continue
		}
		size, sum, err := hashFile(fsys, f.Path, f.Size)
		switch {
		case err != nil:
			r.problem(ErrFileMismatch, "%s: %v", f.Path, err)
		case size > f.Size:
			r.problem(ErrFileMismatch, "%s: longer than the %d bytes the manifest says", f.Path, f.Size)
		case size < f.Size:
			r.problem(ErrFileMismatch, "%s: %d bytes, manifest says %d", f.Path, size, f.Size)
		case !strings.EqualFold(sum, f.SHA256):
			r.problem(ErrFileMismatch, "%s: sha256 %s, manifest says %s", f.Path, sum, f.SHA256)
		default:
			r.Files[i].OK = true
		}
		r.Files[i].Size, r.Files[i].SHA256 = size, sum
	}
	return listed
}

// hashFile returns the size and hex sha256 of the file name, reading at
// most one byte more than want: a file longer than listed is not read to
// its end (nor is a ZIP bomb).
func hashFile(fsys fs.FS, name string, want int64) (int64, string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, max(want, 0)+1))
	// A changed byte of a ZIP entry also breaks its CRC-32; the sha256
	// says more, so that one is reported.
	if err != nil && !errors.Is(err, zip.ErrChecksum) {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
