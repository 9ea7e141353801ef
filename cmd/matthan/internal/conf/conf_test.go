package conf

import (
	"fmt"
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
		{"metrics network", "api:\n  metrics_from: [10.0.0.0/24, prometheus.local]\n", "api.metrics_from[1]: \"prometheus.local\" is neither an address nor a network"},
		{"proxy network", "api:\n  trusted_proxies: [10.0.0.1, 300.1.1.1]\n", "api.trusted_proxies[1]: \"300.1.1.1\" is neither an address nor a network"},
		{"retention under 30 days", "recording:\n  retention: 7d\n", "recording.retention: 168h0m0s is shorter than 30 days"},
		{"bad duration", "recording:\n  segment: soon\n", "invalid duration \"soon\""},
		{"fps zero", "analysis:\n  fps: 0\n", "analysis.fps"},
		{"threshold", "detector:\n  threshold: 1.5\n", "detector.threshold"},
		{"provider", "detector:\n  provider: gpu\n", "detector.provider: \"gpu\" must be cpu, cuda or tensorrt"},
		{"optimisation", "detector:\n  graph_optimization: max\n", "detector.graph_optimization"},
		{"cpu policy", "runtime:\n  cpu_policy: fifo\n", "runtime.cpu_policy"},
		{"workers", "detector:\n  workers: -1\n", "detector.workers"},
		{"camera url", "cameras:\n  - id: a\n    url: http://user:secret@x/\n", "cameras[0].url: must be an rtsp://"},
		{"camera id", "cameras:\n  - id: 'a b'\n    url: rtsp://x/\n", "cameras[0].id"},
		{"duplicate camera", "cameras:\n  - id: a\n    url: rtsp://x/\n  - id: a\n    url: rtsp://y/\n", "cameras[1].id: \"a\" is used by another camera"},
		{"transport", "cameras:\n  - id: a\n    url: rtsp://x/\n    transport: sctp\n", "cameras[0].transport"},
		{"camera fps", "cameras:\n  - id: a\n    url: rtsp://x/\n    fps: 90\n", "cameras[0].fps: 90 is outside (0, 60]"},
		{"camera fps negative", "cameras:\n  - id: a\n    url: rtsp://x/\n    fps: -1\n", "cameras[0].fps: -1 is outside"},
		{"broker", "kafka:\n  brokers: [localhost]\n", "kafka.brokers[0]"},
		{"dsn", "clickhouse:\n  dsn: mysql://x\n", "clickhouse.dsn"},
		{"sasl mechanism", "kafka:\n  sasl:\n    mechanism: kerberos\n", "kafka.sasl.mechanism"},
		{"sasl without password", "kafka:\n  sasl:\n    mechanism: plain\n    username: u\n", "kafka.sasl: mechanism plain needs a username and a password"},
		{"tls half a pair", "kafka:\n  tls:\n    enabled: true\n    cert_file: c.pem\n", "kafka.tls.cert_file"},
		{"wrong type", "analysis:\n  fps: fast\n", "cannot unmarshal"},
		{"latitude", "cameras:\n  - id: a\n    url: rtsp://x/\n    lat: 91\n", "cameras[0].lat: 91 is outside -90..90"},
		{"longitude", "cameras:\n  - id: a\n    url: rtsp://x/\n    lon: -180.5\n", "cameras[0].lon: -180.5 is outside -180..180"},
		{"latitude NaN", "cameras:\n  - id: a\n    url: rtsp://x/\n    lat: .nan\n", "cameras[0].lat: NaN is outside"},
		{"unknown purpose", "cameras:\n  - id: a\n    url: rtsp://x/\n    purposes: [traffic_safety, spying]\n", "cameras[0].purposes[1]: \"spying\" must be one of"},
		{"purpose twice", "cameras:\n  - id: a\n    url: rtsp://x/\n    purposes: [rescue, rescue]\n", "cameras[0].purposes[1]: \"rescue\" is listed twice"},
		{"long district", "cameras:\n  - id: a\n    url: rtsp://x/\n    district: " + strings.Repeat("x", 101) + "\n", "cameras[0].district: longer than 100 bytes"},
		{"system tier", "systems:\n  - id: s\n    tier: 4\n", "systems[0].tier: 4 must be 1, 2 or 3"},
		{"system id", "systems:\n  - id: 's s'\n", "systems[0].id"},
		{"duplicate system", "systems:\n  - id: s\n  - id: s\n", "systems[1].id: \"s\" is used by another system"},
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
api:
  metrics_from: [10.20.0.7, 10.30.0.0/16, "fd00::/8"]
  trusted_proxies: [127.0.0.1, 10.40.0.0/24]
systems:
  - id: traffic
    name: Hệ thống camera giao thông
    tier: 2
cameras:
  - id: cam-1
    url: rtsp://user:pw@10.0.0.5/stream1
    transport: auto
    name: Ngã tư Trần Phú – 3 Tháng 2
    system: traffic
    lat: 11.9405
    lon: 108.4346
    district: Thành phố Đà Lạt
    address: Đường Trần Phú, Phường 3
    purposes: [traffic_safety, security_order]
  - id: square
    url: rtsp://10.0.0.6/stream1
    fps: 1
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
	if got := fmt.Sprint(c.API.MetricsNetworks()); got != "[10.20.0.7/32 10.30.0.0/16 fd00::/8]" {
		t.Errorf("metrics networks %s", got)
	}
	if got := fmt.Sprint(c.API.ProxyNetworks()); got != "[127.0.0.1/32 10.40.0.0/24]" {
		t.Errorf("proxy networks %s", got)
	}
	if len(c.Kafka.Brokers) != 2 || c.Cameras[0].Transport != "auto" || c.Analysis.FPS != 2 {
		t.Fatalf("unexpected config: %+v", c)
	}
	if a, b := c.AnalysisFPS(c.Cameras[0]), c.AnalysisFPS(c.Cameras[1]); a != 2 || b != 1 {
		t.Errorf("analysis rates %v and %v, want analysis.fps 2 and the square's own 1", a, b)
	}
	if cam := c.Cameras[0]; cam.Lat != 11.9405 || cam.Lon != 108.4346 || cam.District != "Thành phố Đà Lạt" ||
		len(cam.Purposes) != 2 || c.Systems[0].Tier != 2 || c.Systems[0].Name != "Hệ thống camera giao thông" {
		t.Fatalf("registry fields not parsed: %+v %+v", cam, c.Systems)
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
