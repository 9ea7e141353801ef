package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/matthan/matthan/sink"
)

// CameraStatus is what the API shows of a camera. It never carries the
// stream URL or credentials.
type CameraStatus struct {
	ID             string    `json:"id"`
	Name           string    `json:"name,omitempty"`
	SystemID       string    `json:"system_id,omitempty"`
	State          string    `json:"state"`
	LastError      string    `json:"last_error,omitempty"`
	LastFrame      time.Time `json:"last_frame,omitzero"`
	FPS            float64   `json:"fps"`
	Reconnects     int64     `json:"reconnects"`
	FramesDecoded  int64     `json:"frames_decoded"`
	FramesAnalysed int64     `json:"frames_analysed"`
	FramesDropped  int64     `json:"frames_dropped"`
	LastAnalysed   time.Time `json:"last_analysed,omitzero"`
	// Picture lists the picture conditions now active: frozen, covered,
	// defocused, moved.
	Picture []string `json:"picture,omitempty"`
}

// EventStore answers queries for stored events.
type EventStore interface {
	Recent(ctx context.Context, camera string, limit int) ([]sink.Event, error)
}

// LiveEvents is the live hub the event stream subscribes to.
type LiveEvents interface {
	Subscribe(buf int) (<-chan sink.Event, func())
}

// Server serves the HTTP API until its context ends.
type Server struct {
	// Listen is the address to listen on. Required.
	Listen string
	// Cameras reports the status of every camera. Required.
	Cameras func() []CameraStatus
	// Events answers /api/v1/events. Required.
	Events EventStore
	// Live feeds /api/v1/events/stream. Required.
	Live LiveEvents
	// Gatherer serves /metrics. Defaults to an empty registry.
	Gatherer prometheus.Gatherer
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Ready, when set, receives the bound address once the server listens.
	Ready func(addr string)
}

// maxEventsLimit caps how many events one request may ask for.
const maxEventsLimit = 1000

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	g := s.Gatherer
	if g == nil {
		g = prometheus.NewRegistry()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/v1/cameras", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"cameras": s.Cameras()})
	})
	mux.HandleFunc("GET /api/v1/events", s.events)
	mux.HandleFunc("GET /api/v1/events/stream", s.stream)
	return mux
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventsLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: expected a whole number from 1 to %d", maxEventsLimit))
			return
		}
		limit = n
	}
	camera := q.Get("camera")
	if camera != "" && !s.knownCamera(camera) {
		writeError(w, http.StatusNotFound, "camera: no such camera")
		return
	}
	evs, err := s.Events.Recent(r.Context(), camera, limit)
	if err != nil {
		s.logger().Error("query events", "error", err)
		writeError(w, http.StatusServiceUnavailable, "the event store is not available")
		return
	}
	if evs == nil {
		evs = []sink.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

func (s *Server) knownCamera(id string) bool {
	for _, c := range s.Cameras() {
		if c.ID == id {
			return true
		}
	}
	return false
}

// stream sends live events as server-sent events until the client leaves.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming is not supported")
		return
	}
	camera := r.URL.Query().Get("camera")
	events, unsubscribe := s.Live.Subscribe(256)
	defer unsubscribe()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": matthan event stream\n\n")
	flusher.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
		case ev, ok := <-events:
			if !ok {
				return
			}
			if camera != "" && ev.CameraID != camera {
				continue
			}
			b, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, b)
		}
		flusher.Flush()
	}
}

// Run listens and serves until ctx ends, then shuts down gracefully
// (5 s for requests in flight; event streams are cut).
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return fmt.Errorf("api: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.logger().Handler(), slog.LevelWarn),
	}
	if s.Ready != nil {
		s.Ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
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

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
