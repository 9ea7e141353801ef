package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestBadConfigs(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", "listn: :8080\n", "field listn is not a known key"},
		{"bad listen", "listen: nowhere\n", "listen: \"nowhere\" is not a host:port address"},
		{"retention under 30 days", "recording:\n  retention: 7d\n", "recording.retention: 168h0m0s is shorter than 30 days"},
		{"bad duration", "recording:\n  segment: soon\n", "invalid duration \"soon\""},
		{"fps zero", "analysis:\n  fps: 0\n", "analysis.fps"},
		{"threshold", "detector:\n  threshold: 1.5\n", "detector.threshold"},
		{"provider", "detector:\n  provider: gpu\n", "detector.provider: \"gpu\" must be cpu, cuda or tensorrt"},
		{"optimisation", "detector:\n  graph_optimization: max\n", "detector.graph_optimization"},
		{"workers", "detector:\n  workers: -1\n", "detector.workers"},
		{"camera url", "cameras:\n  - id: a\n    url: http://user:secret@x/\n", "cameras[0].url: must be an rtsp://"},
		{"camera id", "cameras:\n  - id: 'a b'\n    url: rtsp://x/\n", "cameras[0].id"},
		{"duplicate camera", "cameras:\n  - id: a\n    url: rtsp://x/\n  - id: a\n    url: rtsp://y/\n", "cameras[1].id: \"a\" is used by another camera"},
		{"transport", "cameras:\n  - id: a\n    url: rtsp://x/\n    transport: sctp\n", "cameras[0].transport"},
		{"broker", "kafka:\n  brokers: [localhost]\n", "kafka.brokers[0]"},
		{"dsn", "clickhouse:\n  dsn: mysql://x\n", "clickhouse.dsn"},
		{"sasl mechanism", "kafka:\n  sasl:\n    mechanism: kerberos\n", "kafka.sasl.mechanism"},
		{"sasl without password", "kafka:\n  sasl:\n    mechanism: plain\n    username: u\n", "kafka.sasl: mechanism plain needs a username and a password"},
		{"tls half a pair", "kafka:\n  tls:\n    enabled: true\n    cert_file: c.pem\n", "kafka.tls.cert_file"},
		{"wrong type", "analysis:\n  fps: fast\n", "cannot unmarshal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path)
			if err == nil {
				err = c.Validate()
			}
			if err == nil {
				t.Fatalf("accepted a bad config; want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks a credential: %q", err)
			}
		})
	}
}

func TestGoodConfig(t *testing.T) {
	yml := `data: /srv/matthan
listen: 127.0.0.1:9000
recording:
  segment: 30s
  retention: 90d
kafka:
  brokers: [k1:9092, k2:9092]
cameras:
  - id: cam-1
    url: rtsp://user:pw@10.0.0.5/stream1
    transport: auto
`
	c := Default()
	if err := c.parse([]byte(yml)); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Recording.Retention.D() != 90*24*time.Hour || c.Recording.Segment.D() != 30*time.Second {
		t.Fatalf("durations not parsed: %+v", c.Recording)
	}
	if len(c.Kafka.Brokers) != 2 || c.Cameras[0].Transport != "auto" || c.Analysis.FPS != 2 {
		t.Fatalf("unexpected config: %+v", c)
	}
}

func TestEnvOverrides(t *testing.T) {
	c := Default()
	env := map[string]string{"MATTHAN_KAFKA": "a:1, b:2", "MATTHAN_LISTEN": "127.0.0.1:1", "MATTHAN_ANALYSIS_FPS": "5"}
	if err := c.applyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if len(c.Kafka.Brokers) != 2 || c.Listen != "127.0.0.1:1" || c.Analysis.FPS != 5 {
		t.Fatalf("env not applied: %+v", c)
	}
	env["MATTHAN_ANALYSIS_FPS"] = "fast"
	if err := c.applyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err == nil || !strings.Contains(err.Error(), "MATTHAN_ANALYSIS_FPS") {
		t.Fatalf("bad env value not named: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"rtsp://admin:hunter2@cam.local:554/s1": "rtsp://%2A%2A%2A@cam.local:554/s1",
		"rtsp://cam.local/s1":                   "rtsp://cam.local/s1",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseCameraFlag(t *testing.T) {
	c, err := ParseCameraFlag("gate=rtsp://u:p@h/x")
	if err != nil || c.ID != "gate" || c.URL != "rtsp://u:p@h/x" {
		t.Fatalf("got %+v, %v", c, err)
	}
	if _, err := ParseCameraFlag("rtsp://u:secret@h/x"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("want an error without the credential, got %v", err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add("listen: :8080\n")
	f.Add("cameras:\n  - id: a\n    url: rtsp://x/\n")
	f.Add("recording:\n  retention: 30d\n")
	f.Fuzz(func(t *testing.T, s string) {
		c := Default()
		if err := c.parse([]byte(s)); err != nil {
			return
		}
		_ = c.Validate()
	})
}
