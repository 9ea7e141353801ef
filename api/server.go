package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/matthan/matthan/api/auth"
	"github.com/matthan/matthan/api/console"
	"github.com/matthan/matthan/api/evidence"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/ingest/record"
	"github.com/matthan/matthan/sink"
	"github.com/matthan/matthan/sink/clickhouse"
)

// CameraStatus is the engine's live view of a camera, merged into the
// registry's cameras by id. It never carries the stream URL or
// credentials.
type CameraStatus struct {
	ID          string    `json:"id"`
	Name        string    `json:"name,omitempty"`
	SystemID    string    `json:"system_id,omitempty"`
	State       string    `json:"state"`
	LastError   string    `json:"last_error,omitempty"`
	LastFrame   time.Time `json:"last_frame,omitzero"`
	FPS         float64   `json:"fps"`
	BitrateBPS  float64   `json:"bitrate_bps"`
	Uptime      float64   `json:"uptime"`       // share of the time online since the engine started
	UptimeToday float64   `json:"uptime_today"` // share of today (UTC) online
	PacketLoss  float64   `json:"packet_loss"`  // share of RTP packets lost over the last seconds
	Degraded    string    `json:"degraded,omitempty"`
	Reconnects  int64     `json:"reconnects"`
	// AnalysisFPS is the rate the camera is analysed at (frames per second
	// of capture time); 0 before its analysis starts.
	AnalysisFPS    float64   `json:"analysis_fps"`
	FramesDecoded  int64     `json:"frames_decoded"`
	FramesAnalysed int64     `json:"frames_analysed"`
	FramesDropped  int64     `json:"frames_dropped"`
	LastAnalysed   time.Time `json:"last_analysed,omitzero"`
	// Picture lists the picture conditions now active: frozen, covered,
	// defocused, moved.
	Picture []string `json:"picture,omitempty"`
}

// EventStore answers queries for stored events (clickhouse.Store).
type EventStore interface {
	// Events returns the newest events matching the filter.
	Events(ctx context.Context, f clickhouse.EventFilter) ([]sink.Event, error)
	// Event returns one event by id, or an error wrapping
	// clickhouse.ErrNotFound.
	Event(ctx context.Context, id string) (sink.Event, error)
}

// StatsStore answers traffic-flow statistics (clickhouse.Store).
type StatsStore interface {
	Stats(ctx context.Context, q clickhouse.Query) (clickhouse.Result, error)
}

// LiveEvents is the live hub the event stream subscribes to (sink.Hub).
type LiveEvents interface {
	Subscribe(buf int) (<-chan sink.Event, func())
}

// Snapshots gives the latest analysed frame of a camera as a JPEG, for the
// public interface. Latest must be safe for concurrent use and
// return quickly; ok is false when the camera has no frame yet.
type Snapshots interface {
	Latest(camera string) (jpeg []byte, at time.Time, ok bool)
}

// Server serves the HTTP API until its context ends. Set the fields, then
// call Run (or use Handler). Every /api/v1 route but login and the OpenAPI
// spec needs a session; see doc.go for who may do what.
type Server struct {
	// Listen is the address to listen on. Required by Run.
	Listen string
	// TLSCert and TLSKey are PEM certificate and key files; when both are
	// set, Run serves HTTPS only.
	TLSCert, TLSKey string

	// Store is the metadata store: accounts, cameras, grants, the audit
	// log. Required.
	Store *store.Store
	// Auth logs users in and checks sessions. Required.
	Auth *auth.Service
	// Cameras reports the engine's status of its cameras; nil shows none.
	Cameras func() []CameraStatus
	// Events answers /api/v1/events. Required.
	Events EventStore
	// Stats answers /api/v1/stats. Required.
	Stats StatsStore
	// Live feeds /api/v1/events/stream. Required.
	Live LiveEvents
	// Snapshots feeds the public snapshots and the cameras' latest
	// pictures; nil answers 404 for them.
	Snapshots Snapshots
	// Scenes keeps the cameras' scenes; nil answers 503 for the scene
	// routes.
	Scenes SceneStore
	// Signals takes the signal-phase feeds of the cameras' signal heads;
	// nil answers 503 for the signal route.
	Signals SignalFeed
	// Retention places and releases legal holds; nil answers 503 for the
	// hold routes.
	Retention *record.Retention
	// Recordings is the recordings root evidence is cut from, and whose
	// index and gap ledger give the compliance report's uptime.
	Recordings string
	// RetentionDays is how many days the engine keeps recordings, shown in
	// the compliance report against the regulation's 30 (0: not set, which
	// the report flags).
	RetentionDays int
	// EvidenceKey signs evidence packages; nil answers 503 for exports.
	EvidenceKey *evidence.Key
	// DataDir is the engine's data folder: violation snapshots are read
	// from DataDir/evidence, packages are written to DataDir/evidence-packages.
	// Required.
	DataDir string
	// Node names the engine in evidence manifests. Defaults to the host
	// name.
	Node string
	// Public tunes the public interface.
	Public PublicConfig
	// Gatherer serves /metrics. Defaults to an empty registry.
	Gatherer prometheus.Gatherer
	// MetricsFrom are the networks besides the loopback that may read
	// /metrics (a Prometheus server); the metrics name cameras and their
	// activity, so they are not for everyone who reaches the API.
	MetricsFrom []netip.Prefix
	// TrustedProxies are the networks of the reverse proxies in front of
	// the API. A request whose peer is in one is taken to come from the
	// client its X-Forwarded-For header names (see clientAddr); without
	// any, the header is ignored: a client could write it.
	TrustedProxies []netip.Prefix
	// Logger defaults to discarding. Lines never hold a token, a password,
	// a stream URL or a credential.
	Logger *slog.Logger
	// Ready, when set, receives the bound address once the server listens.
	Ready func(addr string)
	// Now defaults to time.Now.
	Now func() time.Time

	initOnce sync.Once
	handler  http.Handler
	public   *publicState
	clips    *clipCache
	signals  signalStates
}

// Limits of requests.
const (
	// maxEventsLimit caps how many events one request may ask for.
	maxEventsLimit = 1000
	// maxBody caps a JSON request body: the largest (a camera with its
	// secret) is a few KiB.
	maxBody = 64 << 10
	// shutdownGrace is how long requests in flight get at shutdown.
	shutdownGrace = 5 * time.Second
)

// Handler returns the routes, wrapped in the access log and panic guard.
func (s *Server) Handler() http.Handler {
	s.init()
	return s.handler
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.public = newPublicState(s.Public, s.now)
		cacheDir := ""
		if s.DataDir != "" {
			cacheDir = filepath.Join(s.DataDir, "clip-cache")
		}
		s.clips = newClipCache(cacheDir)
		mux := http.NewServeMux()
		g := s.Gatherer
		if g == nil {
			g = prometheus.NewRegistry()
		}
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "ok")
		})
		mux.Handle("GET /metrics", s.metricsGuard(promhttp.HandlerFor(g, promhttp.HandlerOpts{})))
		for _, rt := range s.routes() {
			mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt))
		}
		// Unknown /api/v1 paths: 401 for strangers, 404 for users.
		mux.Handle("/api/v1/", s.wrap(route{access: accessUser, handle: func(w http.ResponseWriter, r *http.Request, _ *principal) {
			writeError(w, http.StatusNotFound, "no such route")
		}}))
		// The web console: its files are anonymous (the data comes only from
		// the API calls it makes, checked like any other), and the root
		// opens it.
		mux.Handle("GET "+console.Prefix, console.Handler())
		mux.Handle("GET /{$}", http.RedirectHandler(console.Prefix, http.StatusFound))
		mux.HandleFunc("/public/", func(w http.ResponseWriter, r *http.Request) {
			if !s.limited(w, r) {
				writeError(w, http.StatusNotFound, "no such route")
			}
		})
		s.handler = s.logged(mux)
	})
}

// Run listens and serves until ctx ends, then shuts down gracefully
// (5 s for requests in flight; event streams are cut).
func (s *Server) Run(ctx context.Context) error {
	if err := s.Validate(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return fmt.Errorf("api: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.logger().Handler(), slog.LevelWarn),
	}
	if s.Ready != nil {
		s.Ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() {
		if s.TLSCert != "" {
			errc <- srv.ServeTLS(ln, s.TLSCert, s.TLSKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("api: shutdown: %w", err)
	}
	return nil
}

// Validate checks that the required fields are set; errors name the
// field.
func (s *Server) Validate() error {
	for _, f := range []struct {
		name  string
		unset bool
	}{
		{"Listen", s.Listen == ""}, {"Store", s.Store == nil}, {"Auth", s.Auth == nil}, {"Events", s.Events == nil},
		{"Stats", s.Stats == nil}, {"Live", s.Live == nil}, {"DataDir", s.DataDir == ""},
	} {
		if f.unset {
			return fmt.Errorf("api: %s is required", f.name)
		}
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return errors.New("api: TLSCert and TLSKey: set both or neither")
	}
	return nil
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// metricsGuard answers 403 to a client outside the loopback and
// MetricsFrom.
func (s *Server) metricsGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, err := netip.ParseAddr(s.clientIP(r))
		ip = ip.Unmap()
		ok := err == nil && (ip.IsLoopback() || slices.ContainsFunc(s.MetricsFrom, func(p netip.Prefix) bool { return p.Contains(ip) }))
		if !ok {
			writeError(w, http.StatusForbidden, "metrics are served to the loopback and the networks of api.metrics_from only")
			return
		}
		next.ServeHTTP(w, r)
	})
}
