package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// PublicConfig tunes the public interface: no account, cameras
// flagged public only, rate-limited per client address, cached.
type PublicConfig struct {
	// Rate is the requests per second one client address may make on
	// average. Defaults to 2.
	Rate float64
	// Burst is how many requests a client may make at once. Defaults to 20.
	Burst int
	// CacheTTL is how long answers are reused and may be cached by
	// clients. Defaults to 5 s.
	CacheTTL time.Duration
}

// maxClients bounds the rate limiter's table; idle clients are dropped
// first when it is full.
const maxClients = 100000

// publicState is the public interface's rate limiter and cache.
type publicState struct {
	cfg PublicConfig
	now func() time.Time

	mu      sync.Mutex
	clients map[string]*bucket
	list    cached
	snaps   map[string]cached
}

// bucket is a client's token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// cached is a cached answer.
type cached struct {
	body    []byte
	at      time.Time // when the picture was taken (snapshots)
	expires time.Time
}

func newPublicState(c PublicConfig, now func() time.Time) *publicState {
	if c.Rate <= 0 {
		c.Rate = 2
	}
	if c.Burst <= 0 {
		c.Burst = 20
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = 5 * time.Second
	}
	return &publicState{cfg: c, now: now, clients: map[string]*bucket{}, snaps: map[string]cached{}}
}

// allow takes a token of client's bucket; when there is none it returns
// how long until there is.
func (ps *publicState) allow(client string) (bool, time.Duration) {
	now := ps.now()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	b := ps.clients[client]
	if b == nil {
		if len(ps.clients) >= maxClients {
			ps.prune(now)
		}
		b = &bucket{tokens: float64(ps.cfg.Burst), last: now}
		ps.clients[client] = b
	}
	b.tokens = math.Min(float64(ps.cfg.Burst), b.tokens+now.Sub(b.last).Seconds()*ps.cfg.Rate)
	b.last = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / ps.cfg.Rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// prune drops the clients whose buckets are full again (they lose
// nothing), and all of them if that is not enough. ps.mu is held.
func (ps *publicState) prune(now time.Time) {
	full := time.Duration(float64(ps.cfg.Burst) / ps.cfg.Rate * float64(time.Second))
	for k, b := range ps.clients {
		if now.Sub(b.last) >= full {
			delete(ps.clients, k)
		}
	}
	if len(ps.clients) >= maxClients {
		clear(ps.clients)
	}
}

// limited answers 429 and returns true when the client is over its rate.
func (s *Server) limited(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	ok, wait := s.public.allow(s.clientIP(r))
	if ok {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeError(w, http.StatusTooManyRequests, "too many requests: slow down")
	return true
}

// publicCamera is all the public interface shows of a camera.
type publicCamera struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Lat      float64 `json:"lat"`
	Lon      float64 `json:"lon"`
	Address  string  `json:"address,omitempty"`
	Snapshot string  `json:"snapshot"`
}

// cacheControl sets the public caching headers.
func (s *Server) cacheControl(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(s.public.cfg.CacheTTL.Seconds())))
}

// publicCameras lists the cameras flagged public, never a state-secret
// one.
func (s *Server) publicCameras(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) {
		return
	}
	ps := s.public
	now := s.now()
	ps.mu.Lock()
	c := ps.list
	ps.mu.Unlock()
	if now.After(c.expires) {
		cams, err := s.Store.Cameras(r.Context())
		if err != nil {
			s.logger().Error("public cameras", "error", err)
			writeError(w, http.StatusServiceUnavailable, "not available")
			return
		}
		out := []publicCamera{}
		for _, cam := range cams {
			if cam.Public && !cam.StateSecret {
				out = append(out, publicCamera{ID: cam.ID, Name: cam.Name, Lat: cam.Lat, Lon: cam.Lon, Address: cam.Address,
					Snapshot: "/public/v1/cameras/" + cam.ID + "/snapshot.jpg"})
			}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"cameras": out}); err != nil {
			s.fail(w, "public cameras", err)
			return
		}
		c = cached{body: buf.Bytes(), expires: now.Add(ps.cfg.CacheTTL)}
		ps.mu.Lock()
		ps.list = c
		ps.mu.Unlock()
	}
	s.cacheControl(w)
	w.Header().Set("Content-Type", "application/json")
	w.Write(c.body)
}

// publicSnapshot serves the latest analysed picture of a public camera;
// any other id is 404.
func (s *Server) publicSnapshot(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) {
		return
	}
	id := r.PathValue("id")
	cam, err := s.Store.Camera(r.Context(), id)
	if err != nil || !cam.Public || cam.StateSecret || s.Snapshots == nil {
		notFound(w, "camera")
		return
	}
	ps := s.public
	now := s.now()
	ps.mu.Lock()
	c, ok := ps.snaps[id]
	ps.mu.Unlock()
	if !ok || now.After(c.expires) {
		b, at, ok := s.Snapshots.Latest(id)
		if !ok {
			writeError(w, http.StatusNotFound, "camera: no picture yet")
			return
		}
		c = cached{body: b, at: at, expires: now.Add(ps.cfg.CacheTTL)}
		ps.mu.Lock()
		ps.snaps[id] = c
		ps.mu.Unlock()
	}
	s.cacheControl(w)
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Last-Modified", c.at.UTC().Format(http.TimeFormat))
	w.Write(c.body)
}
