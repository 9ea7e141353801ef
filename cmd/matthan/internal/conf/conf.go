package conf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/matthan/matthan/analyzer/cpusched"
)

// MinRetention is the shortest evidence retention the engine accepts:
// recordings are kept at least 30 days (regulation ).
const MinRetention = 30 * 24 * time.Hour

// Config is everything the engine needs to run. The zero value is not
// usable; start from Default.
type Config struct {
	// Data is the folder for recordings, the embedded analytics store and
	// other state. Defaults to ./var.
	Data string `yaml:"data"`
	// Listen is the HTTP address of the API. Defaults to :8080.
	Listen string `yaml:"listen"`
	// Node names this engine in events. Defaults to the host name.
	Node string `yaml:"node"`

	Runtime    Runtime    `yaml:"runtime"`
	Detector   Detector   `yaml:"detector"`
	Analysis   Analysis   `yaml:"analysis"`
	Recording  Recording  `yaml:"recording"`
	Health     Health     `yaml:"health"`
	API        API        `yaml:"api"`
	Sinks      Sinks      `yaml:"sinks"`
	Kafka      Kafka      `yaml:"kafka"`
	ClickHouse ClickHouse `yaml:"clickhouse"`
	Systems    []System   `yaml:"systems"`
	Cameras    []Camera   `yaml:"cameras"`
}

// Runtime locates the shared libraries loaded at run time.
type Runtime struct {
	// ONNXRuntime is the path of libonnxruntime.so. Defaults to
	// MATTHAN_ONNXRUNTIME_LIB or the copy installed by "make deps".
	ONNXRuntime string `yaml:"onnxruntime"`
	// CHDB is the path of libchdb.so. Defaults to MATTHAN_CHDB_LIB or the
	// copy installed by "make deps".
	CHDB string `yaml:"chdb"`
	// CPUPolicy is the Linux scheduling policy of the engine's threads:
	// "batch" (the default: no preemption on wake-up, 5–10 % less CPU per
	// analysed frame; see analyzer/cpusched) or "normal".
	CPUPolicy string `yaml:"cpu_policy"`
}

// Detector chooses the object detection model.
type Detector struct {
	// Model is the name of a manifest in models/zoo. Defaults to yolox_nano.
	Model string `yaml:"model"`
	// ModelsDir holds the model files. Defaults to MATTHAN_MODELS_DIR or
	// the folder filled by "make deps".
	ModelsDir string `yaml:"models_dir"`
	// Threshold is the minimum confidence kept; 0 uses the manifest's.
	Threshold float64 `yaml:"threshold"`
	// Threads is ONNX Runtime's intra-op thread count per worker. Defaults to 1.
	Threads int `yaml:"threads"`
	// Workers is the number of inference sessions shared by all cameras.
	// 0 chooses enough to fill the cores without oversubscribing them.
	Workers int `yaml:"workers"`
	// GraphOptimization is ONNX Runtime's graph optimisation level:
	// disable, basic, extended or all. Defaults to all.
	GraphOptimization string `yaml:"graph_optimization"`
	// Provider is the execution provider: cpu, cuda or tensorrt (the last
	// two only when the installed library has them). Defaults to cpu.
	Provider string `yaml:"provider"`
}

// Analysis sets how often frames are analysed.
type Analysis struct {
	// FPS is the number of frames per second of capture time analysed per
	// camera. Defaults to 2.
	FPS float64 `yaml:"fps"`
	// EventInterval is the shortest time between two detection summaries of
	// one camera. Defaults to 1s.
	EventInterval Duration `yaml:"event_interval"`
	// FireSmokeModel is the model run on cameras whose scene has a
	// smoke_watch zone. Defaults to firesmoke_416.
	FireSmokeModel string `yaml:"firesmoke_model"`
}

// Recording sets the evidence recorder.
type Recording struct {
	// Segment is the length of one recording file. Defaults to 60s.
	Segment Duration `yaml:"segment"`
	// Part is how much video is written (and synced) at a time, so a crash
	// loses at most one part. Defaults to 1s.
	Part Duration `yaml:"part"`
	// Retention is how long recordings and events are kept. Defaults to 30d
	// and may not be shorter.
	Retention Duration `yaml:"retention"`
	// MaxBytesPerCamera caps one camera's recordings; 0 = no cap. Size
	// pressure never deletes recordings younger than 30 days: it raises a
	// storage incident instead.
	MaxBytesPerCamera int64 `yaml:"max_bytes_per_camera"`
	// MaxBytesTotal caps all recordings together; 0 = no cap.
	MaxBytesTotal int64 `yaml:"max_bytes_total"`
}

// RecordingsDir is the folder of the evidence recordings under Data.
func (c Config) RecordingsDir() string { return filepath.Join(c.Data, "recordings") }

// Health sets when a camera fault becomes an incident.
type Health struct {
	// IncidentAfter is how long a camera may be offline, or its picture
	// frozen, before an incident with a 24-hour deadline is opened
	// . Defaults to 5m.
	IncidentAfter Duration `yaml:"incident_after"`
}

// API configures the HTTP API.
type API struct {
	// TLSCert and TLSKey are PEM files; both set serves HTTPS.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// MetricsFrom are the addresses or networks (CIDR) besides the loopback
	// that may read /metrics, e.g. the Prometheus server's.
	MetricsFrom []string `yaml:"metrics_from"`
	// TrustedProxies are the addresses or networks (CIDR) of the reverse
	// proxies in front of the API: a request from one of them is taken to
	// come from the client its X-Forwarded-For header names (audit
	// addresses, the public interface's rate limit, /metrics). Empty: the
	// header is ignored and the peer is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// MetricsNetworks returns MetricsFrom as networks (an address is a
// network of one); the entries that do not parse, which Validate reports,
// are left out.
func (a API) MetricsNetworks() []netip.Prefix { return networks(a.MetricsFrom) }

// ProxyNetworks returns TrustedProxies as networks, as MetricsNetworks.
func (a API) ProxyNetworks() []netip.Prefix { return networks(a.TrustedProxies) }

func networks(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := parseNetwork(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parseNetwork parses a CIDR network or a single address.
func parseNetwork(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Sinks configures the delivery of events to Kafka and the store.
type Sinks struct {
	// SpoolMaxBytes bounds each sink's disk spool under Data/spool, which
	// holds events until the sink has them. Defaults to 1 GiB; when full,
	// new events for that sink are refused and counted, never silently lost.
	SpoolMaxBytes int64 `yaml:"spool_max_bytes"`
}

// Kafka configures the event stream. No brokers means Kafka is off.
type Kafka struct {
	Brokers []string `yaml:"brokers"`
	// TLS connects to the brokers over TLS when enabled.
	TLS KafkaTLS `yaml:"tls"`
	// SASL authenticates to the brokers; no mechanism means none.
	SASL KafkaSASL `yaml:"sasl"`
}

// KafkaTLS are the TLS settings of a production broker.
type KafkaTLS struct {
	Enabled bool `yaml:"enabled"`
	// CAFile is the PEM bundle the brokers' certificates are checked
	// against; empty uses the system's.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client certificate, for brokers that
	// require one.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// KafkaSASL are the SASL settings of a production broker.
type KafkaSASL struct {
	// Mechanism is plain, scram-sha-256 or scram-sha-512.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	// Password is a secret: never logged. MATTHAN_KAFKA_PASSWORD overrides.
	Password string `yaml:"password"`
}

// ClickHouse configures the analytics store. No DSN means the embedded
// engine (chDB) with its data under Data.
type ClickHouse struct {
	DSN string `yaml:"dsn"`
}

// System is a camera system the engine registers, under the ICT
// department, when the register lacks it. Once registered it is the
// API's to change.
type System struct {
	// ID names the system (letters, digits, '-', '_').
	ID string `yaml:"id"`
	// Name is the human-readable name. Defaults to the id.
	Name string `yaml:"name"`
	// Tier is the system's level: 1 (the provincial IOC, the default), 2
	// (provincial or district agencies) or 3 (communes, private cameras).
	Tier int `yaml:"tier"`
}

// Camera is one camera the engine pulls.
type Camera struct {
	// ID names the camera in events, recordings and the API
	// (letters, digits, '-', '_').
	ID string `yaml:"id"`
	// Name is the human-readable name.
	Name string `yaml:"name"`
	// Lat and Lon are the WGS 84 position in degrees, District the
	// district (quận, huyện) and Address the street address, and Purposes
	// what the camera serves (R-4.1: security_order, traffic_safety,
	// urban_order, rescue, forest_fire, sector_management, other). With
	// Name and SystemID they are copied into the camera register when the
	// engine registers the camera; a camera already registered keeps what
	// the register has.
	Lat      float64  `yaml:"lat"`
	Lon      float64  `yaml:"lon"`
	District string   `yaml:"district"`
	Address  string   `yaml:"address"`
	Purposes []string `yaml:"purposes"`
	// URL is the RTSP address, possibly with credentials. It is a secret:
	// never logged or returned by the API.
	URL string `yaml:"url"`
	// SubURL is an optional second, lower-resolution stream of the same
	// camera used for analysis only (the main stream is recorded). A secret
	// like URL.
	SubURL string `yaml:"sub_url"`
	// Transport is "tcp" (default), "udp" or "auto" (UDP, falling back to
	// TCP when no UDP packet arrives).
	Transport string `yaml:"transport"`
	// SystemID is the camera system the camera belongs to.
	SystemID string `yaml:"system"`
	// Scene is the path of the camera's scene file (counting lines, zones,
	// lanes, signals; see analyzer/scene). None: detection summaries only.
	Scene string `yaml:"scene"`
	// FPS is the rate of the camera's detector, tracker and track rules in
	// frames per second of capture time: 5 for counting and violations at
	// a junction, 1 for a square watched for crowds. 0 takes
	// analysis.fps. The fire and smoke analysis has its own rate (the
	// scene's firesmoke settings).
	FPS float64 `yaml:"fps"`
}

// AnalysisFPS is the camera's analysis rate: its own, else analysis.fps.
func (c Config) AnalysisFPS(cam Camera) float64 {
	if cam.FPS > 0 {
		return cam.FPS
	}
	return c.Analysis.FPS
}

// Default returns the embedded defaults: everything under ./var, API on
// :8080, YOLOX-Nano at 2 fps, embedded ClickHouse, Kafka off, no cameras.
func Default() Config {
	node, _ := os.Hostname()
	if node == "" {
		node = "matthan"
	}
	return Config{
		Data:    "var",
		Listen:  ":8080",
		Node:    node,
		Runtime: Runtime{CPUPolicy: cpusched.Batch},
		Detector: Detector{
			Model:   "yolox_nano",
			Threads: 1,
		},
		Analysis: Analysis{
			FPS:            2,
			EventInterval:  Duration(time.Second),
			FireSmokeModel: "firesmoke_416",
		},
		Health: Health{IncidentAfter: Duration(5 * time.Minute)},
		Recording: Recording{
			Segment:   Duration(60 * time.Second),
			Part:      Duration(time.Second),
			Retention: Duration(MinRetention),
		},
	}
}

// Load reads a YAML file over the defaults, then applies MATTHAN_* environment
// variables. Unknown keys are errors. It does not validate; call Validate.
func Load(path string) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		if err := c.parse(b); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := c.applyEnv(os.LookupEnv); err != nil {
		return c, err
	}
	return c, nil
}

func (c *Config) parse(b []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return explainYAML(err)
	}
	return nil
}

// explainYAML turns the YAML decoder's messages into ones that name the key.
func explainYAML(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			m = strings.Replace(m, "not found in type conf.", "is not a known key in ", 1)
			msgs[i] = m
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	return err
}

// applyEnv overrides settings from the environment (lookup is os.LookupEnv
// in production; tests pass their own).
func (c *Config) applyEnv(lookup func(string) (string, bool)) error {
	str := map[string]*string{
		"MATTHAN_DATA":            &c.Data,
		"MATTHAN_LISTEN":          &c.Listen,
		"MATTHAN_NODE":            &c.Node,
		"MATTHAN_ONNXRUNTIME_LIB": &c.Runtime.ONNXRuntime,
		"MATTHAN_CHDB_LIB":        &c.Runtime.CHDB,
		"MATTHAN_MODELS_DIR":      &c.Detector.ModelsDir,
		"MATTHAN_MODEL":           &c.Detector.Model,
	}
	for k, p := range str {
		if v, ok := lookup(k); ok && v != "" {
			*p = v
		}
	}
	if v, ok := lookup("MATTHAN_KAFKA_PASSWORD"); ok && v != "" {
		c.Kafka.SASL.Password = v
	}
	if v, ok := lookup("MATTHAN_KAFKA"); ok && v != "" {
		c.Kafka.Brokers = SplitList(v)
	}
	if v, ok := lookup("MATTHAN_ANALYSIS_FPS"); ok && v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("MATTHAN_ANALYSIS_FPS: %q is not a number", v)
		}
		c.Analysis.FPS = f
	}
	return nil
}

// SplitList splits a comma-separated list, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseCameraFlag parses the -camera flag's "ID=RTSP_URL".
func ParseCameraFlag(s string) (Camera, error) {
	id, u, ok := strings.Cut(s, "=")
	if !ok || id == "" || u == "" {
		return Camera{}, errors.New("-camera: expected ID=RTSP_URL")
	}
	return Camera{ID: id, URL: u}, nil
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// Validate checks every setting; the error lists each problem with its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if c.Data == "" {
		bad("data", "must name a folder")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "%q is not a host:port address", c.Listen)
	}
	if c.Detector.Model == "" {
		bad("detector.model", "must name a model manifest (e.g. yolox_nano)")
	}
	if c.Detector.Threshold < 0 || c.Detector.Threshold >= 1 {
		bad("detector.threshold", "%v is outside [0, 1)", c.Detector.Threshold)
	}
	if c.Detector.Threads < 1 || c.Detector.Threads > 64 {
		bad("detector.threads", "%d is outside 1..64", c.Detector.Threads)
	}
	if c.Detector.Workers < 0 || c.Detector.Workers > 64 {
		bad("detector.workers", "%d is outside 0..64 (0 = automatic)", c.Detector.Workers)
	}
	switch c.Runtime.CPUPolicy {
	case cpusched.Batch, cpusched.Normal:
	default:
		bad("runtime.cpu_policy", "%q must be %s or %s", c.Runtime.CPUPolicy, cpusched.Batch, cpusched.Normal)
	}
	switch c.Detector.GraphOptimization {
	case "", "disable", "basic", "extended", "all":
	default:
		bad("detector.graph_optimization", "%q must be disable, basic, extended or all", c.Detector.GraphOptimization)
	}
	switch c.Detector.Provider {
	case "", "cpu", "cuda", "tensorrt":
	default:
		bad("detector.provider", "%q must be cpu, cuda or tensorrt", c.Detector.Provider)
	}
	if c.Analysis.FPS <= 0 || c.Analysis.FPS > 60 {
		bad("analysis.fps", "%v is outside (0, 60]", c.Analysis.FPS)
	}
	if c.Analysis.EventInterval.D() < 0 {
		bad("analysis.event_interval", "must not be negative")
	}
	if c.Recording.Segment.D() < time.Second || c.Recording.Segment.D() > time.Hour {
		bad("recording.segment", "%v is outside 1s..1h", c.Recording.Segment.D())
	}
	if c.Recording.Part.D() < 100*time.Millisecond || c.Recording.Part.D() > c.Recording.Segment.D() {
		bad("recording.part", "%v must be between 100ms and recording.segment", c.Recording.Part.D())
	}
	if c.Recording.Retention.D() < MinRetention {
		bad("recording.retention", "%v is shorter than 30 days: the regulation requires recordings to be kept at least 30 days (R-11.3)", c.Recording.Retention.D())
	}
	if c.Recording.MaxBytesPerCamera < 0 {
		bad("recording.max_bytes_per_camera", "must not be negative (0 = no cap)")
	}
	if c.Recording.MaxBytesTotal < 0 {
		bad("recording.max_bytes_total", "must not be negative (0 = no cap)")
	}
	if c.Health.IncidentAfter.D() < 0 {
		bad("health.incident_after", "must not be negative")
	}
	if (c.API.TLSCert == "") != (c.API.TLSKey == "") {
		bad("api.tls_cert", "tls_cert and tls_key go together")
	}
	for _, f := range []struct {
		key  string
		list []string
	}{{"metrics_from", c.API.MetricsFrom}, {"trusted_proxies", c.API.TrustedProxies}} {
		for i, s := range f.list {
			if _, err := parseNetwork(s); err != nil {
				bad(fmt.Sprintf("api.%s[%d]", f.key, i), "%q is neither an address nor a network such as 10.0.0.0/24", s)
			}
		}
	}
	if c.Sinks.SpoolMaxBytes < 0 {
		bad("sinks.spool_max_bytes", "must not be negative (0 = the 1 GiB default)")
	}
	switch c.Kafka.SASL.Mechanism {
	case "":
	case "plain", "scram-sha-256", "scram-sha-512":
		if c.Kafka.SASL.Username == "" || c.Kafka.SASL.Password == "" {
			bad("kafka.sasl", "mechanism %s needs a username and a password", c.Kafka.SASL.Mechanism)
		}
	default:
		bad("kafka.sasl.mechanism", "%q must be plain, scram-sha-256 or scram-sha-512", c.Kafka.SASL.Mechanism)
	}
	if (c.Kafka.TLS.CertFile == "") != (c.Kafka.TLS.KeyFile == "") {
		bad("kafka.tls.cert_file", "cert_file and key_file go together")
	}
	for i, b := range c.Kafka.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			bad(fmt.Sprintf("kafka.brokers[%d]", i), "%q is not a host:port address", b)
		}
	}
	if c.ClickHouse.DSN != "" {
		if u, err := url.Parse(c.ClickHouse.DSN); err != nil || (u.Scheme != "clickhouse" && u.Scheme != "tcp") {
			bad("clickhouse.dsn", "expected clickhouse://user:password@host:9000/database")
		}
	}
	systems := map[string]bool{}
	for i, y := range c.Systems {
		key := fmt.Sprintf("systems[%d]", i)
		if !idPattern.MatchString(y.ID) {
			bad(key+".id", "%q must be 1-64 letters, digits, '-' or '_'", y.ID)
		} else if systems[y.ID] {
			bad(key+".id", "%q is used by another system", y.ID)
		}
		systems[y.ID] = true
		if len(y.Name) > 200 {
			bad(key+".name", "longer than 200 bytes")
		}
		if y.Tier < 0 || y.Tier > 3 {
			bad(key+".tier", "%d must be 1, 2 or 3 (0 = 1)", y.Tier)
		}
	}
	seen := map[string]bool{}
	for i, cam := range c.Cameras {
		key := fmt.Sprintf("cameras[%d]", i)
		if !idPattern.MatchString(cam.ID) {
			bad(key+".id", "%q must be 1-64 letters, digits, '-' or '_'", cam.ID)
		} else if seen[cam.ID] {
			bad(key+".id", "%q is used by another camera", cam.ID)
		}
		seen[cam.ID] = true
		if u, err := url.Parse(cam.URL); err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
			// Never echo the URL: it may hold credentials.
			bad(key+".url", "must be an rtsp:// or rtsps:// URL with a host")
		}
		if cam.SubURL != "" {
			if u, err := url.Parse(cam.SubURL); err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
				bad(key+".sub_url", "must be an rtsp:// or rtsps:// URL with a host")
			}
		}
		switch cam.Transport {
		case "", "tcp", "udp", "auto":
		default:
			bad(key+".transport", "%q must be tcp, udp or auto", cam.Transport)
		}
		if !(cam.FPS >= 0 && cam.FPS <= 60) { // also catches NaN
			bad(key+".fps", "%v is outside (0, 60] (0 takes analysis.fps)", cam.FPS)
		}
		cam.validateRegistry(key, bad)
	}
	return errors.Join(errs...)
}

// Purposes are the purposes a camera may serve, as the register
// names them.
var Purposes = []string{"security_order", "traffic_safety", "urban_order", "rescue", "forest_fire", "sector_management", "other"}

// validateRegistry checks the fields copied into the camera register.
func (cam Camera) validateRegistry(key string, bad func(key, format string, args ...any)) {
	if !(cam.Lat >= -90 && cam.Lat <= 90) { // also catches NaN
		bad(key+".lat", "%v is outside -90..90", cam.Lat)
	}
	if !(cam.Lon >= -180 && cam.Lon <= 180) {
		bad(key+".lon", "%v is outside -180..180", cam.Lon)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"name", cam.Name, 200}, {"district", cam.District, 100}, {"address", cam.Address, 500}} {
		if len(f.v) > f.max {
			bad(key+"."+f.name, "longer than %d bytes", f.max)
		}
	}
	for j, p := range cam.Purposes {
		if !slices.Contains(Purposes, p) {
			bad(fmt.Sprintf("%s.purposes[%d]", key, j), "%q must be one of %s", p, strings.Join(Purposes, ", "))
		} else if slices.Contains(cam.Purposes[:j], p) {
			bad(fmt.Sprintf("%s.purposes[%d]", key, j), "%q is listed twice", p)
		}
	}
}

// RedactURL removes the user information from a URL so it can be shown.
// Text that does not parse as a URL is replaced entirely.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid url>"
	}
	if u.User != nil {
		u.User = url.User("***")
	}
	return u.String()
}
