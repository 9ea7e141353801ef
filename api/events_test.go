package api

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/sink"
)

// eventList is the answer of GET /api/v1/events.
type eventList struct {
	Events       []sink.Event
	Dispositions map[string]store.Disposition
}

// eventIDs returns the ids of events.
func eventIDs(events []sink.Event) []string {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

// saveSnapshot writes an evidence snapshot of ev where the analyzer keeps
// them.
func saveSnapshot(t *testing.T, e *env, ev sink.Event, jpeg string) {
	t.Helper()
	p := filepath.Join(e.data, "evidence", ev.CameraID, ev.TS.UTC().Format(time.DateOnly), ev.ID+".jpg")
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(jpeg), 0o640); err != nil {
		t.Fatal(err)
	}
}

// eventWorld is the events of TestEvents: three hours ago, where no other
// test writes (the event store is shared by the package's tests), one
// event a second on camOwn, mostly counts, with violations among them,
// smoke on camGranted and fire on camUngranted.
type eventWorld struct {
	base       time.Time // the newest event's ts
	all        []sink.Event
	violations []sink.Event // of camOwn, newest first
	smoke      sink.Event   // camGranted: the police see it by their grant
	fire       sink.Event   // camUngranted: the police do not see it
	count      sink.Event   // a traffic.count of camOwn
}

func newEventWorld(t *testing.T) eventWorld {
	t.Helper()
	w := eventWorld{base: time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Millisecond)}
	for i := range 400 {
		typ := sink.TypeTrafficCount
		switch i % 40 {
		case 7:
			typ = sink.TypeViolationRedLight
		case 23:
			typ = sink.TypeViolationWrongWay
		}
		ev := sink.NewEvent(typ, camOwn, w.base.Add(-time.Duration(i)*time.Second))
		if typ != sink.TypeTrafficCount {
			w.violations = append(w.violations, ev)
		}
		w.all = append(w.all, ev)
	}
	w.count = w.all[1]
	w.smoke = sink.NewEvent(sink.TypeAlertSmoke, camGranted, w.base.Add(-90*time.Second+time.Millisecond))
	w.fire = sink.NewEvent(sink.TypeAlertFire, camUngranted, w.base.Add(-30*time.Second+time.Millisecond))
	w.all = append(w.all, w.smoke, w.fire)
	if err := events(t).Write(context.Background(), w.all); err != nil {
		t.Fatal(err)
	}
	return w
}

// window returns the query that keeps the fixture's time range.
func (w eventWorld) window() string {
	return "&since=" + url.QueryEscape(w.base.Add(-time.Hour).Format(time.RFC3339Nano)) +
		"&before=" + url.QueryEscape(w.base.Add(time.Millisecond).Format(time.RFC3339Nano))
}

func TestEventList(t *testing.T) {
	e := newEnv(t, false)
	w := newEventWorld(t)
	since := "&since=" + url.QueryEscape(w.base.Add(-time.Hour).Format(time.RFC3339Nano))
	before := func(ev sink.Event) string {
		return since + "&before=" + url.QueryEscape(ev.TS.Format(time.RFC3339Nano))
	}
	tests := []struct {
		name  string
		user  string
		query string
		want  []sink.Event
	}{
		{"violations by prefix fill the page", uPoliceOp, "type=violation.&limit=5" + w.window(), w.violations[:5]},
		{"the next page", uPoliceOp, "type=violation.&limit=5" + before(w.violations[4]), w.violations[5:10]},
		{"the last page is short", uPoliceOp, "type=violation.&limit=5" + before(w.violations[17]), w.violations[18:]},
		{"one exact type", uPoliceOp, "type=violation.wrong_way&limit=3" + w.window(),
			[]sink.Event{w.violations[1], w.violations[3], w.violations[5]}},
		{"alerts of visible cameras only", uPoliceOp, "type=alert.smoke,alert.fire" + w.window(), []sink.Event{w.smoke}},
		{"alerts of every camera for the ICT", uICTAdmin, "type=alert.smoke,+alert.fire" + w.window(), []sink.Event{w.fire, w.smoke}},
		{"the forest sees its own camera only", uForestOp, "type=alert.,violation." + w.window(), []sink.Event{w.smoke}},
		{"one camera", uPoliceOp, "camera=" + camGranted + w.window(), []sink.Event{w.smoke}},
		{"since bounds the start", uPoliceOp, "since=" + url.QueryEscape(w.all[2].TS.Format(time.RFC3339Nano)) +
			"&before=" + url.QueryEscape(w.base.Add(time.Millisecond).Format(time.RFC3339Nano)), w.all[:3]},
		{"auditors see no events", uICTAuditor, "type=violation." + w.window(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.as(tt.user, "GET", "/api/v1/events?"+tt.query, nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var got eventList
			r.json(t, &got)
			if g, w := eventIDs(got.Events), eventIDs(tt.want); !slices.Equal(g, w) {
				t.Errorf("got %d events %v\nwant %d %v", len(g), g, len(w), w)
			}
			if got.Dispositions == nil {
				t.Error("no dispositions object")
			}
		})
	}

	for _, tc := range []struct{ name, query, want string }{
		{"a type without a dot", "type=violation", `type: \"violation\"`},
		{"an injection", "type=violation.red_light'--", "type: "},
		{"too many types", "type=" + manyTypes(33), "type: 33 types"},
		{"a bad before", "before=yesterday", "before: want an RFC 3339 time"},
		{"a bad since", "since=2025-13-01T00:00:00Z", "since: want an RFC 3339 time"},
		{"a limit of 0", "limit=0", "limit: "},
		{"a limit of 1001", "limit=1001", "limit: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.as(uPoliceOp, "GET", "/api/v1/events?"+tc.query, nil)
			if r.status != 400 || !strings.Contains(string(r.body), tc.want) {
				t.Errorf("%d %s, want 400 saying %q", r.status, r.body, tc.want)
			}
		})
	}
	if r := e.as(uPoliceOp, "GET", "/api/v1/events?camera="+camUngranted, nil); r.status != 404 {
		t.Errorf("events of an ungranted camera: %d, want 404", r.status)
	}

	t.Run("dispositions of listed events", func(t *testing.T) {
		v := w.violations[2]
		r := e.as(uPoliceOp, "POST", "/api/v1/events/"+v.ID+"/disposition", map[string]string{"decision": "confirmed", "reason": "rõ biển số"})
		if r.status != 200 {
			t.Fatalf("decide: %d %s", r.status, r.body)
		}
		var got, page eventList
		e.as(uPoliceViewer, "GET", "/api/v1/events?type=violation.&limit=5"+w.window(), nil).json(t, &got)
		if len(got.Dispositions) != 1 || got.Dispositions[v.ID].Decision != store.DecisionConfirmed ||
			got.Dispositions[v.ID].Username != uPoliceOp {
			t.Errorf("dispositions %+v", got.Dispositions)
		}
		e.as(uPoliceViewer, "GET", "/api/v1/events?type=violation.&limit=2"+w.window(), nil).json(t, &page)
		if len(page.Events) != 2 || len(page.Dispositions) != 0 {
			t.Errorf("%d events, dispositions of events not listed: %+v", len(page.Events), page.Dispositions)
		}
	})
}

// manyTypes returns n distinct event types, comma-separated.
func manyTypes(n int) string {
	var ts []string
	for i := range n {
		ts = append(ts, fmt.Sprintf("alert.kind_%d", i))
	}
	return strings.Join(ts, ",")
}

// eventDetail is the answer of GET /api/v1/events/{id}.
type eventDetail struct {
	Event       sink.Event
	Disposition *store.Disposition
	Snapshot    bool
	Clip        struct{ From, To time.Time }
}

func TestEventByID(t *testing.T) {
	e := newEnv(t, false)
	w := newEventWorld(t)
	v := w.violations[0]
	saveSnapshot(t, e, v, "jpeg of a red light")
	saveSnapshot(t, e, w.smoke, "jpeg of smoke")
	// A link where the snapshot of the count would be: never followed.
	link := filepath.Join(e.data, "evidence", camOwn, w.count.TS.Format(time.DateOnly), w.count.ID+".jpg")
	if err := os.Symlink(filepath.Join(e.data, store.FileName), link); err != nil {
		t.Fatal(err)
	}
	unknown := newEventID()
	notFoundBody := string(e.as(uICTAdmin, "GET", "/api/v1/events/"+unknown, nil).body)

	tests := []struct {
		name     string
		user     string
		ev       sink.Event
		want     int
		snapshot bool
	}{
		{"own violation with its snapshot", uPoliceOp, v, 200, true},
		{"viewers read events", uPoliceViewer, v, 200, true},
		{"a granted camera's alert with its snapshot", uPoliceViewer, w.smoke, 200, true},
		{"the alert to its own agency", uForestOp, w.smoke, 200, true},
		{"a count: no snapshot, a link is not one", uPoliceOp, w.count, 200, false},
		{"another agency's violation", uForestOp, v, 404, false},
		{"an ungranted camera's alert", uPoliceOp, w.fire, 404, false},
		{"the ICT sees it", uICTAdmin, w.fire, 200, false},
		{"auditors see no events", uPoliceAudit, v, 404, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.as(tt.user, "GET", "/api/v1/events/"+tt.ev.ID, nil)
			if r.status != tt.want {
				t.Fatalf("%d %s, want %d", r.status, r.body, tt.want)
			}
			if r.status == 404 {
				if string(r.body) != notFoundBody {
					t.Errorf("404 %s differs from an unknown id's %s", r.body, notFoundBody)
				}
				return
			}
			var got eventDetail
			r.json(t, &got)
			if got.Event.ID != tt.ev.ID || got.Event.CameraID != tt.ev.CameraID || !got.Event.TS.Equal(tt.ev.TS) {
				t.Errorf("event %+v, want %+v", got.Event, tt.ev)
			}
			if got.Snapshot != tt.snapshot || got.Disposition != nil {
				t.Errorf("snapshot %v disposition %+v, want %v and none", got.Snapshot, got.Disposition, tt.snapshot)
			}
			if !got.Clip.From.Equal(tt.ev.TS.Add(-10*time.Second)) || !got.Clip.To.Equal(tt.ev.TS.Add(5*time.Second)) {
				t.Errorf("clip %v to %v, want ts-10 s to ts+5 s", got.Clip.From, got.Clip.To)
			}
			if !strings.Contains(string(r.body), `"disposition": null`) {
				t.Errorf("no disposition: want null in %s", r.body)
			}
		})
	}
	for _, id := range []string{"not-a-uuid", strings.ToUpper(unknown), "{" + unknown + "}", "00000000-0000-0000-0000-000000000000"} {
		if r := e.as(uICTAdmin, "GET", "/api/v1/events/"+url.PathEscape(id), nil); r.status != 404 {
			t.Errorf("GET event %q: %d, want 404", id, r.status)
		}
	}

	t.Run("snapshots", func(t *testing.T) {
		for _, tc := range []struct {
			user string
			ev   sink.Event
			want string // "" = 404
		}{
			{uPoliceOp, v, "jpeg of a red light"},
			{uForestOp, w.smoke, "jpeg of smoke"},
			{uPoliceViewer, w.smoke, "jpeg of smoke"},
			{uForestOp, v, ""},
			{uICTAdmin, w.count, ""}, // the link
		} {
			r := e.as(tc.user, "GET", "/api/v1/events/"+tc.ev.ID+"/snapshot.jpg", nil)
			switch {
			case tc.want == "" && r.status != 404:
				t.Errorf("%s: snapshot of %s: %d, want 404", tc.user, tc.ev.Type, r.status)
			case tc.want != "" && (r.status != 200 || string(r.body) != tc.want || r.header.Get("Content-Type") != "image/jpeg"):
				t.Errorf("%s: snapshot of %s: %d %q", tc.user, tc.ev.Type, r.status, r.body)
			}
		}
	})
}

func TestDisposition(t *testing.T) {
	e := newEnv(t, false)
	w := newEventWorld(t)
	ctx := context.Background()
	tests := []struct {
		name string
		user string
		ev   sink.Event
		body any
		want int
		say  string // part of the answer
	}{
		{"viewers may not decide", uPoliceViewer, w.violations[0], map[string]string{"decision": "confirmed", "reason": "x"},
			403, "not allowed to confirm, reject or acknowledge events (operators and administrators only)"},
		{"auditors do not see it", uPoliceAudit, w.violations[0], map[string]string{"decision": "confirmed", "reason": "x"}, 404, "event: not found"},
		{"another agency does not see it", uForestOp, w.violations[0], map[string]string{"decision": "confirmed", "reason": "x"}, 404, "event: not found"},
		{"nor an ungranted camera's", uPoliceOp, w.fire, map[string]string{"decision": "acknowledged"}, 404, "event: not found"},
		{"a violation is not acknowledged", uPoliceOp, w.violations[0], map[string]string{"decision": "acknowledged", "reason": "x"},
			400, `decision \"acknowledged\" does not apply to violation.red_light events: want confirmed or rejected`},
		{"an alert is not confirmed", uPoliceOp, w.smoke, map[string]string{"decision": "confirmed", "reason": "x"},
			400, `want acknowledged`},
		{"a count takes no decision", uPoliceOp, w.count, map[string]string{"decision": "confirmed", "reason": "x"},
			400, `event type \"traffic.count\" takes no decision`},
		{"a reason is required", uPoliceOp, w.violations[0], map[string]string{"decision": "rejected", "reason": "   "},
			400, "reason is required to reject a violation"},
		{"a reason of 1001 characters", uPoliceOp, w.violations[0], map[string]string{"decision": "rejected", "reason": strings.Repeat("đ", 1001)},
			400, "reason: 1001 characters, at most 1000"},
		{"an unknown decision", uPoliceOp, w.violations[0], map[string]string{"decision": "maybe", "reason": "x"}, 400, `decision \"maybe\"`},
		{"an unknown field", uPoliceOp, w.violations[0], map[string]string{"decision": "confirmed", "reason": "x", "by": "me"}, 400, `unknown field \"by\"`},
		{"an operator confirms", uPoliceOp, w.violations[0], map[string]string{"decision": "confirmed", "reason": "  vượt đèn đỏ rõ ràng "},
			200, `"reason": "vượt đèn đỏ rõ ràng"`},
		{"an administrator rejects", uPoliceAdmin, w.violations[1], map[string]string{"decision": "rejected", "reason": "xe ưu tiên"}, 200, `"decision": "rejected"`},
		{"the ICT confirms", uICTAdmin, w.violations[2], map[string]string{"decision": "confirmed", "reason": "ok"}, 200, `"decision": "confirmed"`},
		{"the forest acknowledges its alert", uForestOp, w.smoke, map[string]string{"decision": "acknowledged"}, 200, `"decision": "acknowledged"`},
		{"the police by their grant too", uPoliceOp, w.smoke, map[string]string{"decision": "acknowledged", "reason": "đã báo kiểm lâm"},
			200, `"reason": "đã báo kiểm lâm"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := len(must(e.store.Audit().Query(ctx, audit.Filter{Object: "event:" + tt.ev.ID, Limit: audit.MaxLimit})))
			r := e.as(tt.user, "POST", "/api/v1/events/"+tt.ev.ID+"/disposition", tt.body)
			if r.status != tt.want || !strings.Contains(string(r.body), tt.say) {
				t.Fatalf("%d %s, want %d saying %s", r.status, r.body, tt.want, tt.say)
			}
			entries := must(e.store.Audit().Query(ctx, audit.Filter{Object: "event:" + tt.ev.ID, Limit: audit.MaxLimit}))
			if tt.want != 200 {
				if len(entries) != seen {
					t.Errorf("refused, yet audited: %+v", entries[len(entries)-1])
				}
				return
			}
			if len(entries) != seen+1 {
				t.Fatalf("%d audit entries, want %d", len(entries), seen+1)
			}
			var d store.Disposition
			r.json(t, &d)
			body := tt.body.(map[string]string)
			if d.EventID != tt.ev.ID || d.CameraID != tt.ev.CameraID || d.EventType != tt.ev.Type || string(d.Decision) != body["decision"] ||
				d.Username != tt.user || d.UserID != e.ids[tt.user] || d.At.IsZero() {
				t.Errorf("disposition %+v", d)
			}
			last := entries[len(entries)-1]
			action := store.ActionEventReview
			if d.Decision == store.DecisionAcknowledged {
				action = store.ActionEventAcknowledge
			}
			var after store.Disposition
			if err := json.Unmarshal(last.After, &after); err != nil {
				t.Fatal(err)
			}
			if last.Action != action || last.Actor.UserID != e.ids[tt.user] || after.Decision != d.Decision || after.Reason != d.Reason {
				t.Errorf("audit entry %s by %s: %s", last.Action, last.Actor.Username, last.After)
			}
			var got eventDetail
			e.as(tt.user, "GET", "/api/v1/events/"+tt.ev.ID, nil).json(t, &got)
			if got.Disposition == nil || *got.Disposition != d {
				t.Errorf("GET event: disposition %+v, want %+v", got.Disposition, d)
			}
		})
	}
	// The second decision on the smoke alert replaced the first; the log
	// has both.
	if n := len(must(e.store.Audit().Query(ctx, audit.Filter{Object: "event:" + w.smoke.ID, Action: store.ActionEventAcknowledge}))); n != 2 {
		t.Errorf("%d acknowledgements audited, want 2", n)
	}
	if rep := must(e.store.Audit().Verify(ctx)); !rep.OK() {
		t.Error(rep.Err())
	}
}

func TestEventClip(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	// Footage recorded an hour ago as camOwn (recent, or the event store's
	// 30-day TTL could drop the events about it).
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	root := t.TempDir()
	if err := recordClipAt(testenv.Clip(t, footage), root, camOwn, start); err != nil {
		t.Fatal(err)
	}
	e.srv.Recordings = root // before the first request, which orders it before the handlers

	withWindow := sink.NewEvent(sink.TypeViolationRedLight, camOwn, start.Add(15*time.Second))
	withWindow.Evidence = &sink.Evidence{ClipFrom: start.Add(10 * time.Second), ClipTo: start.Add(20 * time.Second)}
	plain := sink.NewEvent(sink.TypeViolationWrongWay, camOwn, start.Add(20*time.Second))
	long := sink.NewEvent(sink.TypeAlertSmoke, camOwn, start.Add(25*time.Second))
	long.Evidence = &sink.Evidence{ClipFrom: start.Add(-10 * time.Minute), ClipTo: start.Add(28 * time.Second)}
	unrecorded := sink.NewEvent(sink.TypeViolationRedLight, camOwn, start.Add(-20*time.Minute))
	granted := sink.NewEvent(sink.TypeViolationRedLight, camGranted, start.Add(15*time.Second))
	pastEnd := sink.NewEvent(sink.TypeViolationWrongWay, camOwn, start.Add(28*time.Second))
	if err := events(t).Write(ctx, []sink.Event{withWindow, plain, long, unrecorded, granted, pastEnd}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		user     string
		ev       sink.Event
		want     int
		from, to time.Time     // the window audited
		length   time.Duration // of the clip: the recording covers only start to start+30 s
	}{
		{"the evidence window", uPoliceOp, withWindow, 200, start.Add(10 * time.Second), start.Add(20 * time.Second), 10 * time.Second},
		{"ts-10 s to ts+5 s", uPoliceAdmin, plain, 200, start.Add(10 * time.Second), start.Add(25 * time.Second), 15 * time.Second},
		{"at most two minutes", uICTAdmin, long, 200, start.Add(28*time.Second - 2*time.Minute), start.Add(28 * time.Second), 28 * time.Second},
		{"no recording", uPoliceOp, unrecorded, 404, time.Time{}, time.Time{}, 0},
		{"no recordings of the camera", uICTAdmin, granted, 404, time.Time{}, time.Time{}, 0},
		{"viewers may not play back", uPoliceViewer, withWindow, 404, time.Time{}, time.Time{}, 0},
		{"nor another agency", uForestOp, withWindow, 404, time.Time{}, time.Time{}, 0},
		{"the police have no playback by their grant", uPoliceOp, granted, 404, time.Time{}, time.Time{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := len(must(e.store.Audit().Query(ctx, audit.Filter{Action: ActionRecordingView, Limit: audit.MaxLimit})))
			r := e.as(tt.user, "GET", "/api/v1/events/"+tt.ev.ID+"/clip.mp4", nil)
			if r.status != tt.want {
				t.Fatalf("%d %.200s, want %d", r.status, r.body, tt.want)
			}
			entries := must(e.store.Audit().Query(ctx, audit.Filter{Action: ActionRecordingView, Limit: audit.MaxLimit}))
			if tt.want != 200 {
				if len(entries) != seen {
					t.Errorf("refused, yet audited")
				}
				return
			}
			if ct := r.header.Get("Content-Type"); ct != "video/mp4" {
				t.Errorf("Content-Type %q", ct)
			}
			checkProgressiveMP4(t, r.body, tt.length)
			if len(entries) != seen+1 {
				t.Fatalf("%d recording.view entries, want %d", len(entries), seen+1)
			}
			en := entries[len(entries)-1]
			var after struct {
				Event    string
				From, To time.Time
			}
			if err := json.Unmarshal(en.After, &after); err != nil {
				t.Fatal(err)
			}
			if en.Object != "camera:"+camOwn || en.Actor.UserID != e.ids[tt.user] || after.Event != tt.ev.ID ||
				!after.From.Equal(tt.from) || !after.To.Equal(tt.to) {
				t.Errorf("audit entry %s by %s: %s; want the window %v to %v", en.Object, en.Actor.Username, en.After, tt.from, tt.to)
			}
		})
	}

	t.Run("range requests", func(t *testing.T) {
		whole := e.as(uPoliceOp, "GET", "/api/v1/events/"+withWindow.ID+"/clip.mp4", nil)
		hits := e.srv.clips.hits.Load()
		r := e.do("GET", "/api/v1/events/"+withWindow.ID+"/clip.mp4", nil,
			map[string]string{"Authorization": "Bearer " + e.login(uPoliceOp), "Range": "bytes=100-199"})
		if r.status != 206 || string(r.body) != string(whole.body[100:200]) {
			t.Errorf("range: %d, %d bytes", r.status, len(r.body))
		}
		if e.srv.clips.hits.Load() != hits+1 {
			t.Error("the range request cut the clip again: want it from the cache")
		}
	})

	t.Run("a window past the recording is cut each time", func(t *testing.T) {
		// ts+5 s lies after the recording's end (start+30 s): a later cut
		// may hold more, so the clip is not kept.
		hits := e.srv.clips.hits.Load()
		var bodies []string
		for range 2 {
			r := e.as(uPoliceOp, "GET", "/api/v1/events/"+pastEnd.ID+"/clip.mp4", nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			bodies = append(bodies, string(r.body))
		}
		if e.srv.clips.hits.Load() != hits || bodies[0] != bodies[1] {
			t.Errorf("cache hits %d → %d (want none), clips equal %v", hits, e.srv.clips.hits.Load(), bodies[0] == bodies[1])
		}
	})
}

// checkProgressiveMP4 checks that b is an MP4 file with its moov box
// before its media, which the recorder's own demuxer reads whole, and
// which plays about as long as want (from the keyframe before).
func checkProgressiveMP4(t *testing.T, b []byte, want time.Duration) {
	t.Helper()
	var boxes []string
	for pos := 0; pos+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[pos:]))
		boxes = append(boxes, string(b[pos+4:pos+8]))
		if size < 8 {
			break
		}
		pos += size
	}
	moov, mdat := slices.Index(boxes, "moov"), slices.Index(boxes, "mdat")
	if len(boxes) == 0 || boxes[0] != "ftyp" || moov < 0 || mdat < 0 || moov > mdat {
		t.Fatalf("top-level boxes %v: want ftyp, then moov before mdat", boxes)
	}
	p := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := decode.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var last time.Duration
	frames := 0
	for {
		pkt, err := d.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("frame %d: %v", frames, err)
		}
		if frames == 0 && !pkt.Keyframe {
			t.Error("the clip does not start on a keyframe")
		}
		frames++
		last = max(last, pkt.PTS)
	}
	if last < want-time.Second || last > want+10*time.Second {
		t.Errorf("%d frames over %v, want about %v", frames, last, want)
	}
	t.Logf("clip: %d bytes, %d frames, %v", len(b), frames, last)
}
