package evidence_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/matthan/matthan/api/evidence"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/ingest/record"
)

// intersectionClip is the footage recorded: 30.3 s, a keyframe every
// 4.267 s.
const intersectionClip = "traffic_intersection_signals_cctv_day.mp4"

// base is the capture time of the first recorded frame.
var base = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// shared is the recording every test reads (recorded once; removed by
// TestMain).
var shared struct {
	once sync.Once
	root string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.root != "" {
		os.RemoveAll(shared.root)
	}
	os.Exit(code)
}

// recordings returns the recordings root holding camera "cam": the
// intersection clip recorded by the real Recorder in 10 s segments, with
// capture times from base.
func recordings(t *testing.T) string {
	t.Helper()
	clip := testenv.Clip(t, intersectionClip)
	shared.once.Do(func() {
		shared.root, shared.err = os.MkdirTemp("", "evidence-recordings-")
		if shared.err == nil {
			shared.err = recordClip(clip, shared.root)
		}
	})
	if shared.err != nil {
		t.Fatalf("record %s: %v", intersectionClip, shared.err)
	}
	return shared.root
}

// recordClip records the clip at p as camera "cam" under root.
func recordClip(p, root string) error {
	d, err := decode.OpenFile(p)
	if err != nil {
		return err
	}
	defer d.Close()
	r := &record.Recorder{Root: root, CameraID: "cam", SegmentDuration: 10 * time.Second, QueueLength: 1000}
	for { // the queue holds the whole clip; Run records it when stopped
		pkt, err := d.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		r.Push(ingest.AccessUnit{Params: d.Params(), NALUs: pkt.NALUs, PTS: pkt.PTS,
			Capture: base.Add(pkt.PTS), Keyframe: pkt.Keyframe})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return r.Run(ctx)
}

// snapshot extracts the picture at 10 s of the footage as a JPEG.
func snapshot(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "snap.jpg")
	cmd := exec.Command("ffmpeg", "-v", "error", "-ss", "10", "-i", testenv.Clip(t, intersectionClip), "-frames:v", "1", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// zfile is a file of a ZIP package, for rewriting packages.
type zfile struct {
	name string
	data []byte
}

// readZip returns the files of the ZIP at p, in order.
func readZip(t *testing.T, p string) []zfile {
	t.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var files []zfile
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, zfile{f.Name, b})
	}
	return files
}

// writeZip writes files as a new ZIP at p.
func writeZip(t *testing.T, p string, files []zfile) {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// unzip extracts the ZIP at p into a new folder and returns it.
func unzip(t *testing.T, p string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range readZip(t, p) {
		out := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// find returns the index of the file named name.
func find(t *testing.T, files []zfile, name string) int {
	t.Helper()
	for i, f := range files {
		if f.name == name {
			return i
		}
	}
	t.Fatalf("no %s in the package", name)
	return -1
}

// privateKey reads the private key LoadOrCreateKey wrote in dir, as a
// forger who has a key of their own would use it.
func privateKey(t *testing.T, dir string) ed25519.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, evidence.PrivateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PrivateKey)
}

// resign edits the manifest of files and signs it again with priv, naming
// priv's public key as the signer.
func resign(t *testing.T, files []zfile, priv ed25519.PrivateKey, edit func(*evidence.Manifest)) {
	t.Helper()
	i := find(t, files, evidence.ManifestName)
	var m evidence.Manifest
	if err := json.Unmarshal(files[i].data, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	pub := priv.Public().(ed25519.PublicKey)
	m.Signer.PublicKey = base64.StdEncoding.EncodeToString(pub)
	m.Signer.Fingerprint = evidence.Fingerprint(pub)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	files[i].data = b
	files[find(t, files, evidence.SignatureName)].data = ed25519.Sign(priv, b)
}
