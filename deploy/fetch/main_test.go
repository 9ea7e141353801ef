package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	hashA = "c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d"
	hashB = "fd7193b8405bf4a5c63dea8f032ce31c69853019445d3ab0a8247f9ec9db8f38"
)

func TestParseModel(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    HashList
		wantErr string
	}{
		{"list of hashes, other fields ignored", "name: m\nfile: m.onnx\nurl: https://x/m.onnx\ninput: {w: 416}\nsha256:\n  - " + hashA + "\n  - " + hashB + "\n", HashList{hashA, hashB}, ""},
		{"one hash as a string", "name: m\nfile: m.onnx\nurl: \"\"\nsha256: " + hashA + "\n", HashList{hashA}, ""},
		{"missing name", "file: m.onnx\nsha256: [" + hashA + "]\n", nil, "name: missing"},
		{"missing file", "name: m\nsha256: [" + hashA + "]\n", nil, "file: missing"},
		{"path in file", "name: m\nfile: ../m.onnx\nsha256: [" + hashA + "]\n", nil, "plain file name"},
		{"missing hash", "name: m\nfile: m.onnx\n", nil, "sha256: missing"},
		{"short hash", "name: m\nfile: m.onnx\nsha256: [abc]\n", nil, "not 64 hex digits"},
		{"hash as a map", "name: m\nfile: m.onnx\nsha256: {a: b}\n", nil, "expected a hash or a list"},
		{"bad url", "name: m\nfile: m.onnx\nurl: ftp://x\nsha256: [" + hashA + "]\n", nil, "url:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := parseModel([]byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(a.SHA256, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("sha256 = %v, want %v", a.SHA256, tt.want)
			}
		})
	}
}

func TestParseFootage(t *testing.T) {
	clip := "  - file: a.mp4\n    url: https://x/a.mp4\n    sha256: " + hashA + "\n    codec: mpeg4\n    h264_copy: true\n"
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"one clip", "clips:\n" + clip, ""},
		{"derived clip", "clips:\n" + clip + "    upstream_sha256: " + hashB + "\n    derive: [-i, '{in}', '{out}']\n", ""},
		{"derive without upstream hash", "clips:\n" + clip + "    derive: [-i, '{in}', '{out}']\n", "needs upstream_sha256"},
		{"no clips", "clips: []\n", "clips: empty"},
		{"listed twice", "clips:\n" + clip + clip, "listed twice"},
		{"bad hash", "clips:\n  - file: a.mp4\n    sha256: zz\n", "clips[0]: sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clips, err := parseFootage([]byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(clips) != 1 || !clips[0].H264Copy || clips[0].Codec != "mpeg4" {
				t.Fatalf("clips = %+v", clips)
			}
		})
	}
}

// TestCommittedManifests parses the manifests of this repository.
func TestCommittedManifests(t *testing.T) {
	zoo, err := filepath.Glob("../../models/zoo/*.yaml")
	if err != nil || len(zoo) == 0 {
		t.Fatalf("no model manifests: %v", err)
	}
	for _, path := range zoo {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseModel(data); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	data, err := os.ReadFile("../footage.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseFootage(data); err != nil {
		t.Errorf("footage.yaml: %v", err)
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestFetch(t *testing.T) {
	content := []byte("weights")
	good := sum(content)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/m.onnx" {
			http.NotFound(w, r)
			return
		}
		w.Write(content)
	}))
	defer srv.Close()

	mirror := t.TempDir()
	if err := os.WriteFile(filepath.Join(mirror, "m.onnx"), content, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mirror, "bad.onnx"), []byte("other"), 0o444); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		mirror   string
		present  []byte // content already at the destination, nil for none
		asset    Asset
		wantFrom string
		wantErr  string
	}{
		{"from the mirror", mirror, nil, Asset{File: "m.onnx", SHA256: HashList{hashA, good}}, "mirror", ""},
		{"already present", mirror, content, Asset{File: "m.onnx", SHA256: HashList{good}}, "present", ""},
		{"wrong copy present is replaced", "", []byte("stale"), Asset{File: "m.onnx", URL: srv.URL + "/m.onnx", SHA256: HashList{good}}, "upstream", ""},
		{"from upstream", "", nil, Asset{File: "m.onnx", URL: srv.URL + "/m.onnx", SHA256: HashList{good}}, "upstream", ""},
		{"upstream hash mismatch", "", nil, Asset{File: "m.onnx", URL: srv.URL + "/m.onnx", SHA256: HashList{hashA}}, "", "m.onnx: sha256 " + good + ", expected " + hashA},
		{"mirror hash mismatch", mirror, nil, Asset{File: "bad.onnx", SHA256: HashList{good}}, "", "expected " + good},
		{"upstream 404", "", nil, Asset{File: "x.onnx", URL: srv.URL + "/x.onnx", SHA256: HashList{good}}, "", "404"},
		{"mirror only", mirror, nil, Asset{File: "fs.onnx", SHA256: HashList{good}}, "", "only available from the team's mirror"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := t.TempDir()
			if tt.present != nil {
				if err := os.WriteFile(filepath.Join(dest, tt.asset.File), tt.present, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f := &Fetcher{Mirror: tt.mirror, Dest: dest, Client: srv.Client(), Log: io.Discard}
			from, err := f.Fetch(context.Background(), tt.asset)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if _, err := os.Stat(filepath.Join(dest, tt.asset.File)); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("a failed fetch left %s behind (%v)", tt.asset.File, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if from != tt.wantFrom {
				t.Fatalf("from = %q, want %q", from, tt.wantFrom)
			}
			if err := checkFile(filepath.Join(dest, tt.asset.File), tt.asset.SHA256); err != nil {
				t.Fatal(err)
			}
			left, _ := filepath.Glob(filepath.Join(dest, ".*"))
			if len(left) > 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"24/1", 24, false},
		{"30000/1001", 30, false},
		{"25", 25, false},
		{"1/2", 1, false},
		{"0/0", 0, true},
		{"n/a", 0, true},
	}
	for _, tt := range tests {
		got, err := parseRate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseRate(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestFetchDerived cuts a clip from a served "upstream" file with the real ffmpeg and makes its H.264 copy.
func TestFetchDerived(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is required (deploy/deps.sh installs it)")
	}
	src := filepath.Join(t.TempDir(), "src.mp4")
	gen := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x96:rate=10:duration=3",
		"-c:v", "mpeg4", "-g", "10", src)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("make test clip: %v: %s", err, out)
	}
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(orig) }))
	defer srv.Close()

	dest := t.TempDir()
	var log strings.Builder
	f := &Fetcher{Dest: dest, Client: srv.Client(), Log: &log}
	a := Asset{
		File: "cut.mp4", URL: srv.URL + "/src.mp4", SHA256: HashList{hashA}, H264Copy: true,
		UpstreamSHA256: sum(orig),
		Derive:         []string{"-ss", "1", "-i", "{in}", "-c", "copy", "-f", "mp4", "{out}"},
	}
	from, err := f.Fetch(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if from != "upstream, derived" || !strings.Contains(log.String(), "note: cut.mp4: sha256") {
		t.Fatalf("from = %q, log:\n%s", from, log.String())
	}
	for _, name := range []string{"cut.mp4", "cut.h264.mp4"} {
		if st, err := os.Stat(filepath.Join(dest, name)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", name, err)
		}
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name",
		"-of", "default=noprint_wrappers=1:nokey=1", filepath.Join(dest, "cut.h264.mp4")).Output()
	if err != nil || strings.TrimSpace(string(out)) != "h264" {
		t.Fatalf("codec of the copy = %q, %v", out, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dest, "*.upstream")); len(left) > 0 {
		t.Fatalf("upstream original left behind: %v", left)
	}
}
