package main

import (
	"github.com/matthan/matthan/deploy/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRejectsBadInput checks that "matthan run" refuses bad configuration
// before starting anything, with an error that names what is wrong.
func TestRunRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing config", []string{"-config", filepath.Join(dir, "nope.yaml")}, "nope.yaml: no such file"},
		{"malformed yaml", []string{"-config", write("bad.yaml", "cameras: [\n")}, "bad.yaml"},
		{"unknown key", []string{"-config", write("typo.yaml", "recordng:\n  segment: 10s\n")}, "recordng"},
		{"short retention", []string{"-config", write("ret.yaml", "recording:\n  retention: 10d\n")}, "R-11.3"},
		{"camera flag", []string{"-camera", "no-equals-sign"}, "expected ID=RTSP_URL"},
		{"camera url", []string{"-camera", "a=http://admin:pw@x/"}, "cameras[0].url"},
		{"listen", []string{"-listen", "8080"}, "listen"},
		{"kafka", []string{"-kafka", "localhost"}, "kafka.brokers[0]"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
		{"scene flag", []string{"-scene", "nofile"}, "expected ID=FILE"},
		{"scene for unknown camera", []string{"-scene", "ghost=x.yaml"}, `no camera "ghost"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := runMain(append(tc.args, "-check-config"))
			if err == nil {
				t.Fatalf("accepted; want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "admin:pw") {
				t.Fatalf("error leaks credentials: %q", err)
			}
		})
	}
}

func TestCheckConfigAcceptsDefaults(t *testing.T) {
	if err := runMain([]string{"-check-config", "-camera", "a=rtsp://u:p@127.0.0.1/x"}); err != nil {
		t.Fatal(err)
	}
}

// TestDemoScenes checks that every scene "make run" gives the demo cameras
// loads.
func TestDemoScenes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.Root(t), "deploy", "scenes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no demo scenes found (%v)", err)
	}
	for _, f := range files {
		if err := runMain([]string{"-check-config", "-camera", "demo=rtsp://127.0.0.1/x", "-scene", "demo=" + f}); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
}
