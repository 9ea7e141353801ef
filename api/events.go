package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/auth"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/ingest/record"
	"github.com/matthan/matthan/sink"
	"github.com/matthan/matthan/sink/clickhouse"
)

// streamRecheck is how often an event stream checks its session and the
// caller's cameras again, so that a logout, an expired session or a
// revoked grant ends what it shows.
const streamRecheck = 30 * time.Second

// ActionRecordingView is the audit action of watching a recording (an
// event's clip); its object is the camera.
const ActionRecordingView = "recording.view"

// listEvents returns the newest events of the cameras the caller may read
// events of: of one camera with ?camera=, else of all of them;
// ?type= keeps some types, ?before= and ?since= bound the time (paging).
// The filter runs in the event store, so a page is full however rare the
// types asked for. The answer carries the dispositions of the listed
// events that have one.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, p *principal) {
	q := r.URL.Query()
	f, err := eventFilter(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if c := q.Get("camera"); c != "" {
		if !s.requireCamera(w, r, p, store.CapEvents, c) {
			return
		}
		f.Cameras = []string{c}
	} else {
		vis, err := s.visibleWith(r.Context(), p, store.CapEvents)
		if err != nil {
			s.fail(w, "list events", err)
			return
		}
		for id := range vis {
			f.Cameras = append(f.Cameras, id)
		}
		slices.Sort(f.Cameras)
	}
	evs := []sink.Event{}
	if len(f.Cameras) > 0 { // none would mean every camera to the store
		got, err := s.Events.Events(r.Context(), f)
		if err != nil {
			s.logger().Error("query events", "error", err)
			writeError(w, http.StatusServiceUnavailable, "the event store is not available")
			return
		}
		evs = append(evs, got...)
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	disp, err := s.Store.Dispositions(r.Context(), ids)
	if err != nil {
		s.fail(w, "list events: dispositions", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs, "dispositions": disp})
}

// eventFilter reads the query parameters of the event list: limit, type,
// before and since. The error names the parameter.
func eventFilter(q url.Values) (clickhouse.EventFilter, error) {
	f := clickhouse.EventFilter{Limit: 100}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventsLimit {
			return f, fmt.Errorf("limit: want a whole number from 1 to %d", maxEventsLimit)
		}
		f.Limit = n
	}
	for t := range strings.SplitSeq(q.Get("type"), ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if clickhouse.CheckEventType(t) != nil {
			return f, fmt.Errorf("type: %q: want event types such as violation.red_light or prefixes ending in '.' such as violation., comma-separated", t)
		}
		if !slices.Contains(f.Types, t) {
			f.Types = append(f.Types, t)
		}
	}
	if len(f.Types) > clickhouse.MaxFilterTypes {
		return f, fmt.Errorf("type: %d types, at most %d", len(f.Types), clickhouse.MaxFilterTypes)
	}
	var err error
	if f.Before, err = parseTime("before", q.Get("before")); err != nil {
		return f, err
	}
	if f.Since, err = parseTime("since", q.Get("since")); err != nil {
		return f, err
	}
	return f, nil
}

// eventView is the answer of GET /api/v1/events/{id}.
type eventView struct {
	Event sink.Event `json:"event"`
	// Disposition is the decision about the event; null when none.
	Disposition *store.Disposition `json:"disposition"`
	// Snapshot says whether the event's evidence snapshot is kept.
	Snapshot bool `json:"snapshot"`
	// Clip is the window of recording that shows the event.
	Clip clipWindowView `json:"clip"`
}

// clipWindowView is a clip window as JSON.
type clipWindowView struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// visibleEvent looks up the event named by the path's id and returns it
// when the caller may read events of its camera; otherwise it answers 404
// (an unknown id and another agency's event alike) or 503.
func (s *Server) visibleEvent(w http.ResponseWriter, r *http.Request, p *principal) (sink.Event, bool) {
	raw := r.PathValue("id")
	u, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		notFound(w, "event")
		return sink.Event{}, false
	}
	ev, err := s.Events.Event(r.Context(), u.String())
	if errors.Is(err, clickhouse.ErrNotFound) {
		notFound(w, "event")
		return sink.Event{}, false
	}
	if err != nil {
		s.logger().Error("query event", "error", err)
		writeError(w, http.StatusServiceUnavailable, "the event store is not available")
		return sink.Event{}, false
	}
	ok, err := s.can(r.Context(), p, store.CapEvents, ev.CameraID)
	if err != nil {
		s.fail(w, "event", err)
		return sink.Event{}, false
	}
	if !ok {
		notFound(w, "event")
		return sink.Event{}, false
	}
	return ev, true
}

// getEvent answers one event with its disposition, whether its snapshot
// is kept, and its clip window; events of cameras the caller may not read
// events of are 404 like unknown ones.
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request, p *principal) {
	ev, ok := s.visibleEvent(w, r, p)
	if !ok {
		return
	}
	out := eventView{Event: ev}
	d, err := s.Store.Disposition(r.Context(), ev.ID)
	switch {
	case err == nil:
		out.Disposition = &d
	case !errors.Is(err, store.ErrNotFound):
		s.fail(w, "event: disposition", err)
		return
	}
	_, out.Snapshot = s.snapshotPath(ev.CameraID, ev.ID, ev.TS)
	out.Clip.From, out.Clip.To = clipWindow(ev)
	writeJSON(w, http.StatusOK, out)
}

// stream sends live events of the cameras the caller may read events of
// as server-sent events until the client leaves or the session ends.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, p *principal) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming is not supported")
		return
	}
	filter, err := eventFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
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
			if _, ok := vis[ev.CameraID]; !ok || (camera != "" && ev.CameraID != camera) || !filter.MatchesType(ev.Type) {
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

// eventSnapshot serves the evidence snapshot of an event (a violation,
// a smoke or fire alert), kept by the analyzer at
// DataDir/evidence/<camera>/<UTC date>/<event id>.jpg. The id must be a
// UUIDv7 (events' ids): its time gives the date, and only the folders of
// cameras the caller may read events of are looked in, so nothing of the
// path comes from the client but a parsed UUID, and the event store is
// not asked.
func (s *Server) eventSnapshot(w http.ResponseWriter, r *http.Request, p *principal) {
	u, err := uuid.Parse(r.PathValue("id"))
	if err != nil || u.Version() != 7 || len(r.PathValue("id")) != 36 {
		notFound(w, "snapshot")
		return
	}
	vis, err := s.visibleWith(r.Context(), p, store.CapEvents)
	if err != nil {
		s.fail(w, "snapshot", err)
		return
	}
	for cam := range vis {
		name, ok := s.snapshotPath(cam, u.String())
		if !ok {
			continue
		}
		b, ok := readRegular(name, 32<<20)
		if !ok {
			continue
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", "private, max-age=3600")
		w.WriteHeader(http.StatusOK)
		w.Write(b)
		return
	}
	notFound(w, "snapshot")
}

// snapshotPath returns where the evidence snapshot of event id (a
// canonical UUID) of camera cam is kept, and whether a regular file is
// there. The snapshot is filed under the UTC date of the event's ts; it
// is looked for on the dates given, then on the date in the id (UUIDv7)
// and the days either side: the capture precedes the event's creation by
// seconds, and clocks may be skewed.
func (s *Server) snapshotPath(cam, id string, dates ...time.Time) (string, bool) {
	if u, err := uuid.Parse(id); err == nil && u.Version() == 7 {
		sec, nsec := u.Time().UnixTime()
		made := time.Unix(sec, nsec).UTC()
		dates = append(dates, made, made.AddDate(0, 0, -1), made.AddDate(0, 0, 1))
	}
	root := filepath.Join(s.DataDir, "evidence")
	seen := map[string]bool{}
	for _, d := range dates {
		day := d.UTC().Format(time.DateOnly)
		if seen[day] {
			continue
		}
		seen[day] = true
		name := filepath.Join(cam, day, id+".jpg")
		if !filepath.IsLocal(name) {
			continue
		}
		if fi, err := os.Lstat(filepath.Join(root, name)); err == nil && fi.Mode().IsRegular() {
			return filepath.Join(root, name), true
		}
	}
	return "", false
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

// Clip windows of events that name none in their evidence.
const (
	// clipBefore and clipAfter frame an event's ts.
	clipBefore = 10 * time.Second
	clipAfter  = 5 * time.Second
	// maxClipWindow caps an event's clip.
	maxClipWindow = 2 * time.Minute
)

// clipWindow returns the window of recording that shows ev: its evidence
// clip window when it names one, else ts−10 s to ts+5 s; at most
// maxClipWindow long, keeping the end of a longer window (where the event
// was proven) unless ev's ts lies before that.
func clipWindow(ev sink.Event) (from, to time.Time) {
	from, to = ev.TS.Add(-clipBefore), ev.TS.Add(clipAfter)
	if e := ev.Evidence; e != nil && !e.ClipFrom.IsZero() && e.ClipTo.After(e.ClipFrom) {
		from, to = e.ClipFrom, e.ClipTo
	}
	if to.Sub(from) > maxClipWindow {
		from = to.Add(-maxClipWindow)
		if ev.TS.Before(from) {
			from = ev.TS.Add(-clipBefore)
			to = from.Add(maxClipWindow)
		}
	}
	return from.UTC(), to.UTC()
}

// cutClip returns the clip of ev's window, open: the cached one (see
// clipCache), or one cut now from the recordings into a file (not straight
// into the answer: a cut can fail half-way, and the file serves the range
// requests of players), kept in the cache when the recording covers the
// window.
func (s *Server) cutClip(ctx context.Context, ev sink.Event, from, to time.Time) (*os.File, record.Clip, error) {
	if f, clip, ok := s.clips.get(ev.ID, s.now()); ok {
		return f, clip, nil
	}
	f, err := os.CreateTemp(s.DataDir, ".clip-*.mp4")
	if err != nil {
		return nil, record.Clip{}, err
	}
	defer os.Remove(f.Name()) // a no-op once the cache has it
	bw := bufio.NewWriterSize(f, 1<<20)
	clip, err := record.WriteClip(ctx, bw, s.Recordings, ev.CameraID, from, to)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Close()
		return nil, record.Clip{}, err
	}
	s.clips.keep(ev.ID, f.Name(), clip, s.now())
	return f, clip, nil
}

// eventClip serves the recording around an event as an MP4 file (moov
// before the media, as browsers play it while it loads) cut from the
// recordings over the event's clip window. It needs the events capability
// on the event's camera to see the event, and playback to watch it; every
// request is audited (ActionRecordingView, object the camera) before a
// byte is sent. 404 when no recording covers the window.
func (s *Server) eventClip(w http.ResponseWriter, r *http.Request, p *principal) {
	ev, ok := s.visibleEvent(w, r, p)
	if !ok {
		return
	}
	ctx := r.Context()
	playback, err := s.can(ctx, p, store.CapPlayback, ev.CameraID)
	if err != nil {
		s.fail(w, "event clip", err)
		return
	}
	if !playback {
		notFound(w, "clip")
		return
	}
	from, to := clipWindow(ev)
	noRecording := func() {
		writeError(w, http.StatusNotFound, fmt.Sprintf("clip: no recording of camera %s from %s to %s",
			quote(ev.CameraID), from.Format(time.RFC3339), to.Format(time.RFC3339)))
	}
	if s.Recordings == "" {
		noRecording()
		return
	}
	f, clip, err := s.cutClip(ctx, ev, from, to)
	if errors.Is(err, record.ErrUnknownCamera) || errors.Is(err, record.ErrNoRecording) {
		noRecording()
		return
	}
	if err != nil {
		s.fail(w, "event clip", err)
		return
	}
	defer f.Close()
	after, err := audit.JSON(map[string]any{"event": ev.ID, "event_type": ev.Type, "from": from, "to": to,
		"start": clip.Start, "end": clip.End, "size": clip.Size, "sha256": clip.SHA256})
	if err == nil {
		_, err = s.Store.Audit().Record(ctx, audit.Entry{Actor: p.actor(), Action: ActionRecordingView,
			Object: "camera:" + ev.CameraID, After: after})
	}
	if err != nil {
		s.fail(w, "event clip: audit", err)
		return
	}
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Content-Disposition", `inline; filename="event-`+ev.ID+`.mp4"`)
	http.ServeContent(w, r, "", time.Time{}, f)
}
