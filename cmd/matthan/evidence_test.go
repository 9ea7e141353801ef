package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matthan/matthan/api/evidence"
)

// TestEvidenceCommand runs `matthan evidence` on a real recording: export
// 20 s, verify with and without the node's key, verify a package with one
// byte changed and against another node's key, show the key; then bad
// flags.
func TestEvidenceCommand(t *testing.T) {
	data := t.TempDir()
	recordIntersection(t, data)
	run := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := evidenceCmd(context.Background(), args, &stdout, &stderr)
		return stdout.String(), err
	}
	out := t.TempDir()
	stdout, err := run("export", "-data", data, "-camera", "cam", "-from", "2025-03-14T16:27:01+07:00", "-to", "2025-03-14T09:27:21Z",
		"-purpose", "traffic_safety", "-requester", "Đội CSGT số 1", "-operator", "Nguyễn Văn An", "-agency", "Sở TT&TT", "-out", out)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	t.Logf("export:\n%s", stdout)
	pkgs, _ := filepath.Glob(filepath.Join(out, "evidence-cam-20250314T092701Z-*.zip"))
	if len(pkgs) != 1 || !strings.Contains(stdout, "package   "+pkgs[0]+"\n") {
		t.Fatalf("packages %v; stdout does not name it", pkgs)
	}
	pkg := pkgs[0]
	pubkey := filepath.Join(data, "keys", evidence.PublicKeyFile)
	if st, err := os.Stat(filepath.Join(data, "keys", evidence.PrivateKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private key: %v, %v; want mode 0600", st, err)
	}
	key, err := evidence.LoadOrCreateKey(filepath.Join(data, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"actual    2025-03-14T09:26:57.266Z to 2025-03-14T09:27:21.033Z (713 frames, 3 segments)", "signer    " + key.Fingerprint()} {
		if !strings.Contains(stdout, want) {
			t.Errorf("export output does not say %q", want)
		}
	}

	stdout, err = run("key", "-data", data)
	if err != nil || !strings.Contains(stdout, "fingerprint  "+key.Fingerprint()) || !strings.Contains(stdout, pubkey) {
		t.Errorf("key: %v:\n%s", err, stdout)
	}

	otherData := t.TempDir()
	if _, err := run("key", "-data", otherData); err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(t.TempDir(), "tampered.zip")
	b, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01 // inside the clip, stored uncompressed
	os.WriteFile(tampered, b, 0o644)

	tests := []struct {
		name   string
		args   []string
		ok     bool
		output []string
	}{
		{"trusted key", []string{"-pubkey", pubkey, pkg}, true, []string{"OK, by the trusted key " + key.Fingerprint(), "OK    clip.mp4", "requester Đội CSGT số 1", "operator  Nguyễn Văn An, Sở TT&TT", "result    VERIFIED"}},
		{"no trusted key", []string{pkg}, true, []string{"SELF-CONSISTENT ONLY", "result    VERIFIED"}},
		{"one byte changed", []string{"-pubkey", pubkey, tampered}, false, []string{"FAIL  clip.mp4", "clip.mp4: sha256", "result    FAILED, problems: 1"}},
		{"another node's key", []string{"-pubkey", filepath.Join(otherData, "keys", evidence.PublicKeyFile), pkg}, false, []string{"FAIL: not by the trusted key", "result    FAILED"}},
	}
	for _, tc := range tests {
		t.Run("verify "+tc.name, func(t *testing.T) {
			stdout, err := run(append([]string{"verify"}, tc.args...)...)
			t.Logf("verify: %v\n%s", err, stdout)
			if (err == nil) != tc.ok {
				t.Errorf("verify: %v, want success %v", err, tc.ok)
			}
			for _, s := range tc.output {
				if !strings.Contains(stdout, s) {
					t.Errorf("output does not say %q:\n%s", s, stdout)
				}
			}
		})
	}

	base := []string{"-data", data, "-camera", "cam", "-from", "2025-03-14T09:27:01Z", "-to", "2025-03-14T09:27:21Z"}
	bad := []struct {
		name string
		args []string
		says []string
	}{
		{"no purpose", append([]string{"export", "-requester", "r", "-operator", "o"}, base...), []string{"-purpose is required"}},
		{"no requester", append([]string{"export", "-purpose", "rescue", "-operator", "o"}, base...), []string{"-requester is required"}},
		{"unknown purpose", append([]string{"export", "-purpose", "fun", "-requester", "r", "-operator", "o"}, base...), []string{`purpose "fun"`, "traffic_safety"}},
		{"outside agency without approval", append([]string{"export", "-purpose", "rescue", "-requester", "r", "-operator", "o", "-outside-agency"}, base...), []string{"-approval", "R-18.3"}},
		{"verify without package", []string{"verify", "-pubkey", pubkey}, []string{"want one PACKAGE"}},
		{"verify a non-package", []string{"verify", pubkey}, []string{"not an evidence package"}},
		{"unknown subcommand", []string{"sign"}, []string{`unknown subcommand "sign"`}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			o := t.TempDir()
			args := tc.args
			if args[0] == "export" {
				args = append(args, "-out", o)
			}
			stdout, err := run(args...)
			if err == nil {
				t.Fatalf("no error; stdout %s", stdout)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if entries, _ := os.ReadDir(o); len(entries) > 0 {
				t.Errorf("wrote %v despite the error", entries)
			}
		})
	}
}

// TestEvidenceReportQuotes checks that text from a manifest, which anyone
// may have written, reaches the terminal without control characters.
func TestEvidenceReportQuotes(t *testing.T) {
	tests := []struct {
		name string
		edit func(*evidence.Manifest)
	}{
		{"requester", func(m *evidence.Manifest) { m.Requester = "police\x1b[2J\x1b[1;1HVERIFIED" }},
		{"purpose text", func(m *evidence.Manifest) { m.PurposeText = "case\r\nresult    VERIFIED" }},
		{"node", func(m *evidence.Manifest) { m.Node = "n\x07" }},
		{"file path", func(m *evidence.Manifest) { m.Files = []evidence.File{{Path: "a\x1b]0;x\x07"}} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := evidence.Report{Path: "p.zip", Format: evidence.FormatZIP}
			tc.edit(&r.Manifest)
			r.Files = make([]evidence.FileCheck, len(r.Manifest.Files))
			for i, f := range r.Manifest.Files {
				r.Files[i] = evidence.FileCheck{File: f}
			}
			r.Problems = []error{errors.New("x")}
			var b bytes.Buffer
			printReport(&b, r)
			out := b.String()
			if strings.ContainsAny(out, "\x1b\x07\r") || strings.Contains(out, "VERIFIED\n") && !strings.Contains(out, "FAILED") {
				t.Errorf("report passes control characters through:\n%q", out)
			}
		})
	}
}
