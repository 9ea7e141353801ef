package evidence_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/matthan/matthan/api/evidence"
	"github.com/matthan/matthan/ingest/record"
)

// request returns a valid request for 20 s of camera "cam" (09:27:01 to
// 09:27:21, over the three recorded segments).
func request() evidence.Request {
	return evidence.Request{
		Camera:      "cam",
		From:        base.Add(8 * time.Second),
		To:          base.Add(28 * time.Second),
		Purpose:     evidence.PurposeTraffic,
		PurposeText: "hồ sơ vi phạm 2025/0314-17",
		Requester:   "Đội CSGT số 1, Công an tỉnh Điện Biên",
		Operator:    evidence.Operator{UserID: "u-42", Name: "Nguyễn Văn An", Agency: "Sở TT&TT"},
		Node:        "node-test",
	}
}

// TestExportRoundTrip exports 20 s of a real recording with a snapshot,
// verifies the package as a ZIP and unzipped, and checks its manifest
// against the recording and the clip against ffprobe.
func TestExportRoundTrip(t *testing.T) {
	root := recordings(t)
	key, err := evidence.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	snap := snapshot(t)
	snapSum := sha256.Sum256(snap)
	req := request()
	req.Snapshots = []evidence.Snapshot{{Name: "ev-1.jpg", JPEG: snap, SHA256: hex.EncodeToString(snapSum[:]), Event: "ev-1"}}
	out := t.TempDir()
	pkg, err := evidence.Export(context.Background(), req, root, out, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("package %s, %d bytes", pkg.Path, pkg.Size)

	// Only the package is left in the folder, with the size and hash said.
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || filepath.Join(out, entries[0].Name()) != pkg.Path {
		t.Errorf("out folder holds %v, want only %s", entries, pkg.Path)
	}
	zb, err := os.ReadFile(pkg.Path)
	if err != nil {
		t.Fatal(err)
	}
	zsum := sha256.Sum256(zb)
	if int64(len(zb)) != pkg.Size || hex.EncodeToString(zsum[:]) != pkg.SHA256 {
		t.Errorf("package is %d bytes, sha256 %x; Export said %d, %s", len(zb), zsum, pkg.Size, pkg.SHA256)
	}

	m := pkg.Manifest
	if id, err := uuid.Parse(m.ID); err != nil || id.Version() != 7 {
		t.Errorf("id %q (%v): want a UUIDv7", m.ID, err)
	}
	if m.Schema != evidence.Schema || m.Camera != "cam" || m.Purpose != req.Purpose || m.PurposeText != req.PurposeText ||
		m.Requester != req.Requester || m.Operator != req.Operator || m.Node != "node-test" ||
		m.Signer.Fingerprint != key.Fingerprint() || time.Since(m.Created) > time.Minute {
		t.Errorf("manifest %+v does not record the request", m)
	}
	if !m.Requested.From.Equal(req.From) || !m.Requested.To.Equal(req.To) {
		t.Errorf("requested %v, want %v to %v", m.Requested, req.From, req.To)
	}
	// The clip starts at the keyframe before from (4.267 s) and covers to.
	if !m.Actual.From.Equal(base.Add(4266667*time.Microsecond)) || m.Actual.To.Before(req.To) {
		t.Errorf("actual %v does not cover %v to %v from the keyframe at 4.267 s", m.Actual, req.From, req.To)
	}
	if len(m.Gaps) != 0 || m.Frames != 713 {
		t.Errorf("gaps %v, frames %d: want none, 713", m.Gaps, m.Frames)
	}
	segs, err := record.ReadIndex(root, "cam")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(m.Sources, segs, func(s evidence.Source, g record.Segment) bool {
		return s.Path == g.Path && s.SHA256 == g.SHA256 && s.Size == g.Size
	}) {
		t.Errorf("sources %+v, index %+v", m.Sources, segs)
	}

	// The ZIP: manifest first, then its signature, then the listed files.
	files := readZip(t, pkg.Path)
	var names []string
	for _, f := range files {
		names = append(names, f.name)
	}
	want := []string{"manifest.json", "manifest.sig", "clip.mp4", "clip.mp4.manifest.json", "README.txt", "snapshots/ev-1.jpg"}
	if !slices.Equal(names, want) {
		t.Errorf("package holds %v, want %v", names, want)
	}
	var inZip evidence.Manifest
	if err := json.Unmarshal(files[0].data, &inZip); err != nil || inZip.ID != m.ID || len(inZip.Files) != 4 {
		t.Errorf("manifest.json %s (%v): want the returned manifest with 4 files", files[0].data, err)
	}
	var clipManifest record.Clip
	if err := json.Unmarshal(files[find(t, files, "clip.mp4.manifest.json")].data, &clipManifest); err != nil ||
		clipManifest.SHA256 != inZip.Files[0].SHA256 || inZip.Files[0].Kind != evidence.KindClip {
		t.Errorf("recorder manifest %+v (%v) does not match the listed clip %+v", clipManifest, err, inZip.Files[0])
	}
	readme := string(files[find(t, files, "README.txt")].data)
	for _, s := range []string{m.ID, req.Requester, key.Fingerprint(), "matthan evidence verify -pubkey"} {
		if !strings.Contains(readme, s) {
			t.Errorf("README.txt does not say %q:\n%s", s, readme)
		}
	}

	// It verifies, as a ZIP and unzipped, with and without the trusted key.
	dir := unzip(t, pkg.Path)
	for _, p := range []string{pkg.Path, dir} {
		for _, trusted := range []bool{true, false} {
			pub := key.Public()
			if !trusted {
				pub = nil
			}
			r, err := evidence.Verify(p, pub)
			if err != nil || !r.OK() || !r.SignatureValid || r.Trusted != trusted || len(r.Files) != 4 {
				t.Errorf("Verify(%s, trusted %v) = %+v, %v", p, trusted, r, err)
			}
			if trusted && r.TrustedKey != key.Fingerprint() || !trusted && r.TrustedKey != "" {
				t.Errorf("Verify(%s, trusted %v): trusted key %q", p, trusted, r.TrustedKey)
			}
		}
	}

	// The clip inside plays without errors and lasts the range.
	clip := filepath.Join(dir, "clip.mp4")
	if b, err := exec.Command("ffmpeg", "-v", "error", "-i", clip, "-f", "null", "-").CombinedOutput(); err != nil || len(b) > 0 {
		t.Errorf("ffmpeg decode: %v: %s", err, b)
	}
	b, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", clip).CombinedOutput()
	d, perr := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	if err != nil || perr != nil || d < 20 || d > m.Actual.To.Sub(m.Actual.From).Seconds()+0.1 {
		t.Errorf("ffprobe duration %q (%v, %v): want at least 20 s, at most %v", b, err, perr, m.Actual.To.Sub(m.Actual.From))
	}
}

// TestExportRefused checks the requests Export refuses, and that it leaves
// nothing behind.
func TestExportRefused(t *testing.T) {
	root := recordings(t)
	key, err := evidence.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	snap := snapshot(t)
	tests := []struct {
		name string
		edit func(*evidence.Request)
		want error
		says []string
	}{
		{"no purpose", func(r *evidence.Request) { r.Purpose = "" }, evidence.ErrInvalidRequest, []string{"purpose is required", "R-4.1", "traffic_safety"}},
		{"unknown purpose", func(r *evidence.Request) { r.Purpose = "curiosity" }, evidence.ErrInvalidRequest, []string{`purpose "curiosity"`}},
		{"other without text", func(r *evidence.Request) { r.Purpose, r.PurposeText = evidence.PurposeOther, " " }, evidence.ErrInvalidRequest, []string{"purpose_text is required"}},
		{"no requester", func(r *evidence.Request) { r.Requester = "" }, evidence.ErrInvalidRequest, []string{"requester is required", "R-16.3"}},
		{"no operator", func(r *evidence.Request) { r.Operator.Name = "" }, evidence.ErrInvalidRequest, []string{"operator.name is required"}},
		{"outside agency without approval", func(r *evidence.Request) { r.OutsideAgency = true }, evidence.ErrApprovalRequired, []string{"approval_ref", "R-18.3"}},
		{"camera outside the recordings", func(r *evidence.Request) { r.Camera = "../cam" }, evidence.ErrInvalidRequest, []string{`camera "../cam"`}},
		{"to before from", func(r *evidence.Request) { r.From, r.To = r.To, r.From }, evidence.ErrInvalidRequest, []string{"is not after from"}},
		{"terminal escape in requester", func(r *evidence.Request) { r.Requester = "x\x1b[2J" }, evidence.ErrInvalidRequest, []string{"requester", "control character"}},
		{"snapshot path", func(r *evidence.Request) { r.Snapshots = []evidence.Snapshot{{Name: "../a.jpg", JPEG: snap}} }, evidence.ErrInvalidRequest, []string{"snapshots[0]", `"../a.jpg"`}},
		{"snapshot not a JPEG", func(r *evidence.Request) { r.Snapshots = []evidence.Snapshot{{Name: "a.jpg", JPEG: []byte("GIF89a")}} }, evidence.ErrInvalidRequest, []string{"not a JPEG"}},
		{"snapshot altered", func(r *evidence.Request) {
			r.Snapshots = []evidence.Snapshot{{Name: "a.jpg", JPEG: snap, SHA256: strings.Repeat("0", 64)}}
		}, evidence.ErrInvalidRequest, []string{"a.jpg", "was recorded for it"}},
		{"snapshot twice", func(r *evidence.Request) {
			r.Snapshots = []evidence.Snapshot{{Name: "a.jpg", JPEG: snap}, {Name: "A.jpg", JPEG: snap}}
		}, evidence.ErrInvalidRequest, []string{"given twice"}},
		{"unknown camera", func(r *evidence.Request) { r.Camera = "gate-7" }, record.ErrUnknownCamera, []string{`"gate-7"`}},
		{"no recording", func(r *evidence.Request) { r.From, r.To = base.Add(time.Hour), base.Add(time.Hour+20*time.Second) }, record.ErrNoRecording, []string{"no recording"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := request()
			tc.edit(&req)
			out := t.TempDir()
			_, err := evidence.Export(context.Background(), req, root, out, key)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("left %v behind", entries)
			}
		})
	}

	t.Run("outside agency with approval", func(t *testing.T) {
		req := request()
		req.OutsideAgency, req.ApprovalRef = true, "1234/UBND-KGVX, 2025-03-10"
		pkg, err := evidence.Export(context.Background(), req, root, t.TempDir(), key)
		if err != nil || !pkg.Manifest.OutsideAgency || pkg.Manifest.ApprovalRef != req.ApprovalRef {
			t.Fatalf("Export = %+v, %v: want the approval in the manifest", pkg.Manifest, err)
		}
	})
}
