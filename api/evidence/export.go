package evidence

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/matthan/matthan/ingest/record"
)

// Limits of a request.
const (
	// MaxText bounds each free-text field (purpose text, requester,
	// operator, approval reference, node): they are records, not letters.
	MaxText = 1024
	// MaxSnapshots bounds the snapshots of one package.
	MaxSnapshots = 64
	// MaxSnapshotSize bounds one snapshot: an evidence JPEG of a 4K frame
	// is a few MiB.
	MaxSnapshotSize = 16 << 20
)

// zipBuffer is the write buffer of the package file.
const zipBuffer = 1 << 20

// cameraPattern is a camera id as the engine's configuration accepts it;
// it also keeps the id from naming a folder outside the recordings.
var cameraPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// snapshotPattern is a snapshot's file name.
var snapshotPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.jpe?g$`)

// Request is what to export, why and for whom.
type Request struct {
	// Camera is the camera id.
	Camera string
	// From and To are the range to export.
	From, To time.Time
	// Purpose is what the export serves; required.
	Purpose Purpose
	// PurposeText details the purpose; required when Purpose is
	// PurposeOther.
	PurposeText string
	// Requester is the person or agency who asked for the evidence
	// required.
	Requester string
	// Operator is the user making the export; Name is required.
	Operator Operator
	// OutsideAgency says the requester is outside the operator's agency:
	// the caller, who knows the agencies, decides it.
	OutsideAgency bool
	// ApprovalRef is the reference (number, date) of the system manager's
	// written approval to share outside the agency; required when
	// OutsideAgency is set.
	ApprovalRef string
	// Snapshots are evidence snapshots to include; optional.
	Snapshots []Snapshot
	// Node names the engine in the manifest. Defaults to the host name.
	Node string
}

// Snapshot is an evidence snapshot to include in a package.
type Snapshot struct {
	// Name is the file name in the package's snapshots folder: letters,
	// digits, '.', '_', '-', ending in .jpg or .jpeg.
	Name string
	// JPEG is the image.
	JPEG []byte
	// SHA256 is the hex sha256 recorded for the snapshot when it was taken
	// (sink.Evidence.SnapshotSHA256), if any: Export refuses a snapshot
	// that does not match it.
	SHA256 string
	// Event is the id of the event the snapshot belongs to, if any.
	Event string
}

// Package is an evidence package Export wrote.
type Package struct {
	// Path is the package's ZIP file.
	Path string
	// Size is the ZIP file's size in bytes.
	Size int64
	// SHA256 is the ZIP file's hex sha256, for the audit entry.
	SHA256 string
	// Manifest is the package's manifest.
	Manifest Manifest
}

// Validate checks a request without touching the recordings: every error
// wraps ErrInvalidRequest or ErrApprovalRequired and names the field.
func (r Request) Validate() error {
	if !cameraPattern.MatchString(r.Camera) {
		return fmt.Errorf("%w: camera %q: want 1 to 64 letters, digits, '-' or '_'", ErrInvalidRequest, r.Camera)
	}
	switch {
	case r.From.IsZero():
		return fmt.Errorf("%w: from is required", ErrInvalidRequest)
	case r.To.IsZero():
		return fmt.Errorf("%w: to is required", ErrInvalidRequest)
	case !r.To.After(r.From):
		return fmt.Errorf("%w: to %s is not after from %s", ErrInvalidRequest, fmtTime(r.To), fmtTime(r.From))
	case r.To.Sub(r.From) > record.MaxClipSpan:
		return fmt.Errorf("%w: from %s to %s is longer than %s", ErrInvalidRequest, fmtTime(r.From), fmtTime(r.To), record.MaxClipSpan)
	}
	if r.Purpose == "" {
		return fmt.Errorf("%w: purpose is required (R-4.1): one of %s", ErrInvalidRequest, purposeList())
	}
	if !slices.Contains(Purposes, r.Purpose) {
		return fmt.Errorf("%w: purpose %q: want one of %s", ErrInvalidRequest, r.Purpose, purposeList())
	}
	for _, f := range []struct {
		name, value string
		required    bool
		rule        string // the requirement that makes it required
	}{
		{"purpose_text", r.PurposeText, r.Purpose == PurposeOther, "R-4.1: purpose other says what"},
		{"requester", r.Requester, true, "R-5.3, R-16.3: every export records for whom"},
		{"operator.name", r.Operator.Name, true, "R-5.3, R-16.3: every export records who made it"},
		{"operator.user_id", r.Operator.UserID, false, ""},
		{"operator.agency", r.Operator.Agency, false, ""},
		{"approval_ref", r.ApprovalRef, false, ""},
		{"node", r.Node, false, ""},
	} {
		if err := checkText(f.name, f.value, f.required); err != nil {
			if f.rule != "" && strings.TrimSpace(f.value) == "" {
				return fmt.Errorf("%w (%s)", err, f.rule)
			}
			return err
		}
	}
	if r.OutsideAgency && strings.TrimSpace(r.ApprovalRef) == "" {
		return fmt.Errorf("%w: approval_ref: the requester is outside the operator's agency, "+
			"which needs the system manager's written approval (R-18.3)", ErrApprovalRequired)
	}
	if len(r.Snapshots) > MaxSnapshots {
		return fmt.Errorf("%w: snapshots: %d, at most %d", ErrInvalidRequest, len(r.Snapshots), MaxSnapshots)
	}
	seen := make(map[string]bool, len(r.Snapshots))
	for i, s := range r.Snapshots {
		if err := s.check(); err != nil {
			return fmt.Errorf("%w: snapshots[%d]: %w", ErrInvalidRequest, i, err)
		}
		if seen[strings.ToLower(s.Name)] {
			return fmt.Errorf("%w: snapshots[%d]: name %q given twice", ErrInvalidRequest, i, s.Name)
		}
		seen[strings.ToLower(s.Name)] = true
	}
	return nil
}

// check checks a snapshot.
func (s Snapshot) check() error {
	if !snapshotPattern.MatchString(s.Name) {
		return fmt.Errorf("name %q: want letters, digits, '.', '_' or '-' ending in .jpg", s.Name)
	}
	if len(s.JPEG) > MaxSnapshotSize {
		return fmt.Errorf("%s: %d bytes, at most %d", s.Name, len(s.JPEG), MaxSnapshotSize)
	}
	if !bytes.HasPrefix(s.JPEG, []byte{0xff, 0xd8, 0xff}) {
		return fmt.Errorf("%s: not a JPEG image", s.Name)
	}
	if s.SHA256 != "" {
		sum := sha256.Sum256(s.JPEG)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, s.SHA256) {
			return fmt.Errorf("%s: sha256 %s, but %s was recorded for it", s.Name, got, s.SHA256)
		}
	}
	if err := checkText("event", s.Event, false); err != nil {
		return err
	}
	return nil
}

// checkText checks a free-text field: at most MaxText bytes of UTF-8
// without control characters (a manifest is printed on terminals), and not
// blank when required.
func checkText(field, v string, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return fmt.Errorf("%w: %s is required", ErrInvalidRequest, field)
	case len(v) > MaxText:
		return fmt.Errorf("%w: %s: longer than %d bytes", ErrInvalidRequest, field, MaxText)
	case !utf8.ValidString(v):
		return fmt.Errorf("%w: %s: not UTF-8 text", ErrInvalidRequest, field)
	case strings.ContainsFunc(v, isControl):
		return fmt.Errorf("%w: %s: contains a control character", ErrInvalidRequest, field)
	}
	return nil
}

// isControl reports whether r is a control character (C0, DEL or C1).
func isControl(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }

// purposeList lists the purposes for error messages.
func purposeList() string {
	s := make([]string, len(Purposes))
	for i, p := range Purposes {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// Export cuts the range of req from the camera's recording under
// recordingsRoot (with record.Export) and writes it, with a manifest
// signed by key, as one new ZIP file in outDir (made if missing). Nothing
// is left in outDir when it fails. A request that does not validate fails
// with ErrInvalidRequest or ErrApprovalRequired before the recordings are
// read; record's errors (ErrUnknownCamera, ErrNoRecording, …) come
// through wrapped. Exports may run at once: each works in a folder of its
// own and names its package by its id.
func Export(ctx context.Context, req Request, recordingsRoot, outDir string, key *Key) (Package, error) {
	p, err := export(ctx, req, recordingsRoot, outDir, key)
	if err != nil {
		return Package{}, fmt.Errorf("export evidence: %w", err)
	}
	return p, nil
}

// export is Export without the error context.
func export(ctx context.Context, req Request, root, outDir string, key *Key) (_ Package, err error) {
	if err := req.Validate(); err != nil {
		return Package{}, err
	}
	if key == nil {
		return Package{}, errors.New("no signing key")
	}
	if req.Node == "" {
		if req.Node, err = os.Hostname(); err != nil {
			return Package{}, fmt.Errorf("node name: %w", err)
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Package{}, err
	}
	if err := os.MkdirAll(outDir, 0o750); err != nil {
		return Package{}, err
	}
	work, err := os.MkdirTemp(outDir, ".evidence-*.tmp")
	if err != nil {
		return Package{}, err
	}
	defer os.RemoveAll(work)

	clipPath := filepath.Join(work, ClipName)
	clip, err := record.Export(ctx, root, req.Camera, req.From, req.To, clipPath)
	if err != nil {
		return Package{}, err
	}
	clipManifest, err := os.ReadFile(clipPath + record.ManifestSuffix)
	if err != nil {
		return Package{}, err
	}

	m := newManifest(id.String(), req, clip, key)
	readme := m.readme()
	m.Files = append(m.Files,
		File{Path: ClipName, Kind: KindClip, Size: clip.Size, SHA256: clip.SHA256},
		fileOf(ClipName+record.ManifestSuffix, KindClipManifest, clipManifest),
		fileOf(ReadmeName, KindReadme, readme),
	)
	for _, s := range req.Snapshots {
		f := fileOf(path.Join(SnapshotDir, s.Name), KindSnapshot, s.JPEG)
		f.Event = s.Event
		m.Files = append(m.Files, f)
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Package{}, err
	}
	mb = append(mb, '\n')

	out := filepath.Join(outDir, packageName(m))
	tmp, err := os.CreateTemp(outDir, ".evidence-*.zip.tmp")
	if err != nil {
		return Package{}, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	sum := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, sum)}
	bw := bufio.NewWriterSize(cw, zipBuffer)
	zw := zip.NewWriter(bw)
	add := func(name string, method uint16, r io.Reader) (string, int64, error) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: m.Created})
		if err != nil {
			return "", 0, err
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), r)
		return hex.EncodeToString(h.Sum(nil)), n, err
	}
	if _, _, err := add(ManifestName, zip.Deflate, bytes.NewReader(mb)); err != nil {
		return Package{}, err
	}
	if _, _, err := add(SignatureName, zip.Store, bytes.NewReader(key.sign(mb))); err != nil {
		return Package{}, err
	}
	content := map[string]func() (io.ReadCloser, error){
		ClipName:                         func() (io.ReadCloser, error) { return os.Open(clipPath) },
		ClipName + record.ManifestSuffix: bytesOpener(clipManifest),
		ReadmeName:                       bytesOpener(readme),
	}
	for _, s := range req.Snapshots {
		content[path.Join(SnapshotDir, s.Name)] = bytesOpener(s.JPEG)
	}
	for _, f := range m.Files {
		if err := ctx.Err(); err != nil {
			return Package{}, err
		}
		r, err := content[f.Path]()
		if err != nil {
			return Package{}, err
		}
		method := zip.Deflate
		if f.Kind == KindClip || f.Kind == KindSnapshot { // compressed already
			method = zip.Store
		}
		got, n, err := add(f.Path, method, r)
		r.Close()
		if err != nil {
			return Package{}, err
		}
		// The clip is read back from disk: check it is what was hashed.
		if got != f.SHA256 || n != f.Size {
			return Package{}, fmt.Errorf("%s changed while packed: %d bytes, sha256 %s; manifest says %d, %s",
				f.Path, n, got, f.Size, f.SHA256)
		}
	}
	if err := zw.Close(); err != nil {
		return Package{}, err
	}
	if err := bw.Flush(); err != nil {
		return Package{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Package{}, err
	}
	if err := tmp.Close(); err != nil {
		return Package{}, err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return Package{}, err
	}
	if err := syncDir(outDir); err != nil {
		return Package{}, err
	}
	return Package{Path: out, Size: cw.n, SHA256: hex.EncodeToString(sum.Sum(nil)), Manifest: m}, nil
}

// newManifest returns the manifest of a package of clip, without files.
func newManifest(id string, req Request, clip record.Clip, key *Key) Manifest {
	m := Manifest{
		Schema:        Schema,
		ID:            id,
		Created:       time.Now().UTC().Round(time.Millisecond),
		Node:          req.Node,
		Camera:        req.Camera,
		Requested:     Range{From: clip.From.UTC(), To: clip.To.UTC()},
		Actual:        Range{From: clip.Start.UTC(), To: clip.End.UTC()},
		Frames:        clip.Frames,
		Purpose:       req.Purpose,
		PurposeText:   req.PurposeText,
		Requester:     req.Requester,
		Operator:      req.Operator,
		OutsideAgency: req.OutsideAgency,
		ApprovalRef:   req.ApprovalRef,
		Files:         []File{},
		Sources:       make([]Source, len(clip.Sources)),
		Gaps:          make([]Range, len(clip.Gaps)),
		Signer: Signer{
			Algorithm:   SignatureAlgorithm,
			PublicKey:   base64.StdEncoding.EncodeToString(key.Public()),
			Fingerprint: key.Fingerprint(),
		},
	}
	for i, s := range clip.Sources {
		m.Sources[i] = Source{Path: s.Path, Start: s.Start.UTC(), End: s.End.UTC(), Size: s.Size, SHA256: s.SHA256, Open: s.Open}
	}
	for i, g := range clip.Gaps {
		m.Gaps[i] = Range{From: g.Start.UTC(), To: g.End.UTC()}
	}
	return m
}

// readme returns the note for the recipient of the package.
func (m Manifest) readme() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Evidence package %s\n\n", m.ID)
	fmt.Fprintf(&b, "Camera %s, requested from %s to %s (UTC).\n", m.Camera, fmtTime(m.Requested.From), fmtTime(m.Requested.To))
	fmt.Fprintf(&b, "The clip shows %s to %s, %d pictures.\n", fmtTime(m.Actual.From), fmtTime(m.Actual.To), m.Frames)
	for _, g := range m.Gaps {
		fmt.Fprintf(&b, "Not recorded: %s to %s.\n", fmtTime(g.From), fmtTime(g.To))
	}
	purpose := string(m.Purpose)
	if m.PurposeText != "" {
		purpose += ": " + m.PurposeText
	}
	fmt.Fprintf(&b, "Purpose: %s. Requested by: %s.\n", purpose, m.Requester)
	fmt.Fprintf(&b, "Exported by %s on %s at node %s.\n", operatorString(m.Operator), fmtTime(m.Created), m.Node)
	if m.ApprovalRef != "" {
		fmt.Fprintf(&b, "Approval for sharing outside the agency: %s.\n", m.ApprovalRef)
	}
	fmt.Fprintf(&b, "\n%s lists every file of this package with its size and SHA-256, the recorded\n"+
		"segments the clip was cut from, and the parts of the range with no recording.\n"+
		"%s is the Ed25519 signature of the exact bytes of %s by the node\n"+
		"key with fingerprint %s.\n\n"+
		"To check this package, as the ZIP file or unzipped, get the node's public key file\n"+
		"(%s) from its operator, compare its fingerprint with the one above, and run\n\n"+
		"    matthan evidence verify -pubkey %s PACKAGE\n",
		ManifestName, SignatureName, ManifestName, m.Signer.Fingerprint, PublicKeyFile, PublicKeyFile)
	return b.Bytes()
}

// operatorString formats an operator for people.
func operatorString(o Operator) string {
	s := o.Name
	if o.UserID != "" {
		s += " (user " + o.UserID + ")"
	}
	if o.Agency != "" {
		s += ", " + o.Agency
	}
	return s
}

// packageName returns the file name of m's package.
func packageName(m Manifest) string {
	return fmt.Sprintf("evidence-%s-%s-%s.zip", m.Camera, m.Requested.From.Format("20060102T150405Z"), m.ID)
}

// fileOf describes the file p holding b.
func fileOf(p, kind string, b []byte) File {
	sum := sha256.Sum256(b)
	return File{Path: p, Kind: kind, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
}

// bytesOpener returns an opener of b.
func bytesOpener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// countWriter counts what goes through it.
type countWriter struct {
	w io.Writer
	n int64
}

// Write writes p to the underlying writer and counts it.
func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fmtTime formats t for manifests and reports: UTC RFC 3339 with
// milliseconds.
func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// syncDir syncs a folder, so that a rename or a new file in it survives a
// crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
