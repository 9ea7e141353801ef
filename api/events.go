package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/matthan/matthan/api/auth"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/sink"
	"github.com/matthan/matthan/sink/clickhouse"
)

// streamRecheck is how often an event stream checks its session and the
// caller's cameras again, so that a logout, an expired session or a
// revoked grant ends what it shows.
const streamRecheck = 30 * time.Second

// listEvents returns the newest events of the cameras the caller may read
// events of: of one camera with ?camera=, else of all of them.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, p *principal) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventsLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: want a whole number from 1 to %d", maxEventsLimit))
			return
		}
		limit = n
	}
	var cams []string
	if c := q.Get("camera"); c != "" {
		if !s.requireCamera(w, r, p, store.CapEvents, c) {
			return
		}
		cams = []string{c}
	} else {
		vis, err := s.visibleWith(r.Context(), p, store.CapEvents)
		if err != nil {
			s.fail(w, "list events", err)
			return
		}
		for id := range vis {
			cams = append(cams, id)
		}
		slices.Sort(cams)
	}
	// One query per camera, merged: the store's Recent filters by one
	// camera, and the caller's cameras are a short list.
	evs := []sink.Event{}
	for _, c := range cams {
		got, err := s.Events.Recent(r.Context(), c, limit)
		if err != nil {
			s.logger().Error("query events", "error", err)
			writeError(w, http.StatusServiceUnavailable, "the event store is not available")
			return
		}
		evs = append(evs, got...)
	}
	slices.SortStableFunc(evs, func(a, b sink.Event) int {
		if c := b.TS.Compare(a.TS); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if len(evs) > limit {
		evs = evs[:limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

// stream sends live events of the cameras the caller may read events of
// as server-sent events until the client leaves or the session ends.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, p *principal) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming is not supported")
		return
	}
	camera := r.URL.Query().Get("camera")
	if camera != "" && !s.requireCamera(w, r, p, store.CapEvents, camera) {
		return
	}
	vis, err := s.visibleWith(r.Context(), p, store.CapEvents)
	if err != nil {
		s.fail(w, "event stream", err)
		return
	}
	events, unsubscribe := s.Live.Subscribe(256)
	defer unsubscribe()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": matthan event stream\n\n")
	flusher.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	recheck := time.NewTicker(streamRecheck)
	defer recheck.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
		case <-recheck.C:
			if _, err := s.Auth.Authenticate(r.Context(), p.sess.Token); err != nil {
				if !errors.Is(err, auth.ErrNoSession) {
					s.logger().Error("event stream: authenticate", "error", err)
				}
				return
			}
			if vis, err = s.visibleWith(r.Context(), p, store.CapEvents); err != nil {
				s.logger().Error("event stream: access", "error", err)
				return
			}
			continue
		case ev, ok := <-events:
			if !ok {
				return
			}
			if _, ok := vis[ev.CameraID]; !ok || (camera != "" && ev.CameraID != camera) {
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

// eventSnapshot serves the evidence snapshot of a violation event, kept by
// the analyzer at DataDir/evidence/<camera>/<UTC date>/<event id>.jpg. The
// id must be a UUIDv7 (events' ids): its time gives the date, and only
// the folders of cameras the caller may read events of are looked in, so
// nothing of the path comes from the client but a parsed UUID.
func (s *Server) eventSnapshot(w http.ResponseWriter, r *http.Request, p *principal) {
	u, err := uuid.Parse(r.PathValue("id"))
	if err != nil || u.Version() != 7 || len(r.PathValue("id")) != 36 {
		notFound(w, "snapshot")
		return
	}
	id := u.String()
	sec, nsec := u.Time().UnixTime()
	made := time.Unix(sec, nsec).UTC()
	vis, err := s.visibleWith(r.Context(), p, store.CapEvents)
	if err != nil {
		s.fail(w, "snapshot", err)
		return
	}
	root := filepath.Join(s.DataDir, "evidence")
	for cam := range vis {
		// The capture time precedes the event's creation by seconds; look
		// on the day before too, and the next for clock skew.
		for _, d := range []int{0, -1, 1} {
			name := filepath.Join(cam, made.AddDate(0, 0, d).Format(time.DateOnly), id+".jpg")
			if !filepath.IsLocal(name) {
				continue
			}
			b, ok := readRegular(filepath.Join(root, name), 32<<20)
			if !ok {
				continue
			}
			w.Header().Set("Content-Type", "image/jpeg")
			w.Header().Set("Cache-Control", "private, max-age=3600")
			w.WriteHeader(http.StatusOK)
			w.Write(b)
			return
		}
	}
	notFound(w, "snapshot")
}

// readRegular reads a regular file (not a link) of at most max bytes.
func readRegular(name string, max int64) ([]byte, bool) {
	fi, err := os.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > max {
		return nil, false
	}
	b, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	return b, err == nil
}

// statsJSON is a clickhouse.Result as JSON.
type statsJSON struct {
	Camera    string    `json:"camera"`
	Line      string    `json:"line,omitempty"`
	Direction string    `json:"direction,omitempty"`
	Class     string    `json:"class,omitempty"`
	Bucket    string    `json:"bucket"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Zone      string    `json:"zone"`
	Classes   []string  `json:"classes"`
	Rows      []rowJSON `json:"rows"`
	Total     rowJSON   `json:"total"`
	Peak      *rowJSON  `json:"peak,omitempty"`
}

// rowJSON is a clickhouse.Row as JSON.
type rowJSON struct {
	Start   time.Time        `json:"start"`
	End     time.Time        `json:"end"`
	In      int64            `json:"in"`
	Out     int64            `json:"out"`
	Total   int64            `json:"total"`
	ByClass map[string]int64 `json:"by_class"`
}

func rowOf(r clickhouse.Row, classes []string) rowJSON {
	out := rowJSON{Start: r.Start, End: r.End, In: r.In, Out: r.Out, Total: r.Total(), ByClass: map[string]int64{}}
	for i, n := range r.ByClass {
		if i < len(classes) {
			out.ByClass[classes[i]] = n
		}
	}
	return out
}

// stats answers traffic-flow statistics of one camera the caller may read
// statistics of; ?format=csv gives CSV.
func (s *Server) stats(w http.ResponseWriter, r *http.Request, p *principal) {
	q := r.URL.Query()
	camera := q.Get("camera")
	if camera == "" {
		writeError(w, http.StatusBadRequest, "camera: required")
		return
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		writeError(w, http.StatusBadRequest, "format: want json or csv")
		return
	}
	if !s.requireCamera(w, r, p, store.CapStatistics, camera) {
		return
	}
	from, err := parseTime("from", q.Get("from"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	to, err := parseTime("to", q.Get("to"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.Stats.Stats(r.Context(), clickhouse.Query{Camera: camera, Line: q.Get("line"), Direction: q.Get("direction"),
		Class: q.Get("class"), From: from, To: to, Bucket: clickhouse.Bucket(q.Get("bucket"))})
	if err != nil {
		if errors.Is(err, clickhouse.ErrBadArgument) {
			s.fail(w, "stats", err)
			return
		}
		s.logger().Error("query stats", "error", err)
		writeError(w, http.StatusServiceUnavailable, "the statistics store is not available")
		return
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="stats-`+camera+`.csv"`)
		if err := res.WriteCSV(w); err != nil {
			s.logger().Warn("write stats CSV", "error", err)
		}
		return
	}
	out := statsJSON{Camera: res.Query.Camera, Line: res.Query.Line, Direction: res.Query.Direction, Class: res.Query.Class,
		Bucket: string(res.Query.Bucket), From: res.Query.From, To: res.Query.To, Zone: clickhouse.StatsZone,
		Classes: res.Classes, Rows: make([]rowJSON, 0, len(res.Rows)), Total: rowOf(res.Total, res.Classes)}
	if out.Classes == nil {
		out.Classes = []string{}
	}
	for _, row := range res.Rows {
		out.Rows = append(out.Rows, rowOf(row, res.Classes))
	}
	if !res.Peak.Start.IsZero() {
		pk := rowOf(res.Peak, res.Classes)
		out.Peak = &pk
	}
	writeJSON(w, http.StatusOK, out)
}
