package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/sink"
)

// expected is what each fixture user may do on each camera, written out
// by hand from the regulation (not computed by store.Can): L live view,
// P playback, E events, S statistics, X export, M administer.
var expected = map[string]map[string]string{
	uICTAdmin: {camOwn: "LPESXM", camOwnSecret: "LPESXM", camGranted: "LPESXM", camSecret: "LPESXM",
		camUngranted: "LPESXM", camPublic: "LPESXM"},
	uICTAuditor:   {},                                                            // no camera data
	uPoliceAdmin:  {camOwn: "LPESXM", camOwnSecret: "LPESXM", camGranted: "LES"}, // grant
	uPoliceOp:     {camOwn: "LPESX", camOwnSecret: "LPESX", camGranted: "LES"},
	uPoliceViewer: {camOwn: "LES", camOwnSecret: "LES", camGranted: "LES"},
	uPoliceAudit:  {},
	uForestOp:     {camGranted: "LPESX", camSecret: "LPESX"}, // own system; own secret
}

func may(user, cam string, what byte) bool {
	return strings.IndexByte(expected[user][cam], what) >= 0
}

func visibleTo(user, cam string) bool { return expected[user][cam] != "" }

// TestAuthorizationMatrix checks every camera route for every role on
// every kind of camera: own, own state secret, granted, another agency's
// state secret, ungranted, public.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	now := time.Now().UTC()
	// One event and one evidence snapshot per camera.
	snap := map[string]string{}
	var evs []sink.Event
	for _, c := range allCams {
		ev := sink.NewEvent(sink.TypeViolationRedLight, c, now.Add(-time.Minute))
		evs = append(evs, ev)
		snap[c] = ev.ID
		p := filepath.Join(e.data, "evidence", c, ev.TS.Format(time.DateOnly), ev.ID+".jpg")
		os.MkdirAll(filepath.Dir(p), 0o750)
		if err := os.WriteFile(p, []byte("jpeg of "+c), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := events(t).Write(ctx, evs); err != nil {
		t.Fatal(err)
	}
	hour := now.Truncate(time.Hour)
	statsQuery := fmt.Sprintf("&from=%s&to=%s", hour.Add(-24*time.Hour).Format(time.RFC3339), hour.Add(time.Hour).Format(time.RFC3339))
	badRange := map[string]any{"from": "2025-03-14T10:00:00Z", "to": "2025-03-14T09:00:00Z",
		"purpose": "security_order", "requester": "Court"}

	type check struct {
		name string
		do   func(user, cam string) response
		want func(user, cam string) int
	}
	yes := func(what byte, ok, no int) func(string, string) int {
		return func(u, c string) int {
			if may(u, c, what) {
				return ok
			}
			return no
		}
	}
	manage := func(ok int) func(string, string) int {
		return func(u, c string) int {
			switch {
			case may(u, c, 'M'):
				return ok
			case visibleTo(u, c):
				return http.StatusForbidden
			}
			return http.StatusNotFound
		}
	}
	checks := []check{
		{"get camera", func(u, c string) response { return e.as(u, "GET", "/api/v1/cameras/"+c, nil) },
			func(u, c string) int {
				if visibleTo(u, c) {
					return 200
				}
				return 404
			}},
		{"events of camera", func(u, c string) response { return e.as(u, "GET", "/api/v1/events?camera="+c, nil) }, yes('E', 200, 404)},
		{"stats", func(u, c string) response { return e.as(u, "GET", "/api/v1/stats?camera="+c+statsQuery, nil) }, yes('S', 200, 404)},
		{"stats csv", func(u, c string) response {
			return e.as(u, "GET", "/api/v1/stats?format=csv&camera="+c+statsQuery, nil)
		}, yes('S', 200, 404)},
		{"snapshot", func(u, c string) response {
			return e.as(u, "GET", "/api/v1/events/"+snap[c]+"/snapshot.jpg", nil)
		}, yes('E', 200, 404)},
		{"evidence export", func(u, c string) response {
			b := map[string]any{"camera": c}
			for k, v := range badRange {
				b[k] = v
			}
			return e.as(u, "POST", "/api/v1/evidence", b)
		}, yes('X', 400, 404)}, // 400: allowed, then the range is refused
		{"place hold", func(u, c string) response {
			b := map[string]any{"camera": c, "from": badRange["from"], "to": badRange["to"], "reason": "case 12"}
			return e.as(u, "POST", "/api/v1/holds", b)
		}, manage(400)},
		{"update camera", func(u, c string) response {
			cam := must(e.store.Camera(ctx, c))
			return e.as(u, "PUT", "/api/v1/cameras/"+c, map[string]any{"system_id": cam.SystemID, "name": cam.Name,
				"public": cam.Public, "state_secret": cam.StateSecret, "address": cam.Address})
		}, manage(200)},
		{"set secret", func(u, c string) response {
			return e.as(u, "PUT", "/api/v1/cameras/"+c+"/secret", map[string]any{"stream_url": secretURL})
		}, manage(204)},
		{"file incident", func(u, c string) response {
			return e.as(u, "POST", "/api/v1/incidents", map[string]any{"camera_id": c, "detail": "picture black"})
		}, func(u, c string) int {
			if visibleTo(u, c) {
				return 201
			}
			return 404
		}},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			for _, u := range allUsers {
				for _, c := range allCams {
					r := ck.do(u, c)
					want := ck.want(u, c)
					if ck.name == "file incident" && r.status == 200 {
						r.status = 201 // the camera's open incident of that kind
					}
					if r.status != want {
						t.Errorf("%s on %s: %d %s, want %d", u, c, r.status, r.body, want)
					}
					if r.status == 404 && (strings.Contains(string(r.body), "forest") || strings.Contains(string(r.body), "commune")) &&
						!visibleTo(u, c) {
						t.Errorf("%s on %s: 404 names the object: %s", u, c, r.body)
					}
				}
			}
		})
	}

	t.Run("lists", func(t *testing.T) {
		for _, u := range allUsers {
			var want, wantEvents []string
			for _, c := range allCams {
				if visibleTo(u, c) {
					want = append(want, c)
				}
				if may(u, c, 'E') {
					wantEvents = append(wantEvents, c)
				}
			}
			slices.Sort(want)
			slices.Sort(wantEvents)
			var cams struct {
				Cameras []struct {
					ID           string
					Capabilities []string
					Status       *CameraStatus
				}
			}
			e.as(u, "GET", "/api/v1/cameras", nil).json(t, &cams)
			var got []string
			for _, c := range cams.Cameras {
				got = append(got, c.ID)
				if c.Status == nil || c.Status.State != "running" {
					t.Errorf("%s: camera %s without the engine's status", u, c.ID)
				}
				var caps string
				for _, cp := range c.Capabilities {
					caps += map[string]string{"live_view": "L", "playback": "P", "events": "E", "statistics": "S", "export": "X"}[cp]
				}
				if want := strings.TrimSuffix(expected[u][c.ID], "M"); caps != want {
					t.Errorf("%s: camera %s capabilities %q, want %q", u, c.ID, caps, want)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: cameras %v, want %v", u, got, want)
			}
			var evs struct{ Events []sink.Event }
			e.as(u, "GET", "/api/v1/events?limit=1000", nil).json(t, &evs)
			got = nil
			for _, ev := range evs.Events {
				if !slices.Contains(got, ev.CameraID) {
					got = append(got, ev.CameraID)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, wantEvents) {
				t.Errorf("%s: events of %v, want %v", u, got, wantEvents)
			}
		}
	})

	t.Run("live stream", func(t *testing.T) {
		for _, u := range []string{uPoliceViewer, uForestOp, uICTAuditor} {
			got := streamCameras(t, e, u, "", func() {
				for _, c := range allCams {
					e.hub.Publish(sink.NewEvent(sink.TypeAlertCrowd, c, time.Now()))
				}
			})
			var want []string
			for _, c := range allCams {
				if may(u, c, 'E') {
					want = append(want, c)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: stream showed %v, want %v", u, got, want)
			}
		}
	})

	t.Run("live stream filtered by type", func(t *testing.T) {
		got := streamCameras(t, e, uForestOp, "?type=alert.smoke,violation.", func() {
			for _, typ := range []string{sink.TypeAlertCrowd, sink.TypeAlertSmoke, sink.TypeDetectionSummary, sink.TypeViolationWrongWay} {
				for _, c := range allCams {
					e.hub.Publish(sink.NewEvent(typ, c, time.Now()))
				}
			}
		})
		var want []string
		for _, c := range allCams {
			if may(uForestOp, c, 'E') {
				want = append(want, c, c) // the smoke alert and the violation
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("stream with ?type=alert.smoke,violation. showed %v, want %v", got, want)
		}
	})
}

// streamCameras opens the live stream as user (with the query string
// query, "" or "?..."), runs publish once it is
// subscribed, and returns the cameras of the events it shows within a
// second.
func streamCameras(t *testing.T, e *env, user, query string, publish func()) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/api/v1/events/stream"+query, nil)
	req.Header.Set("Authorization", "Bearer "+e.login(user))
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("stream: %d", res.StatusCode)
	}
	sc := bufio.NewScanner(res.Body)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), ": matthan") {
		t.Fatalf("stream did not start: %q", sc.Text())
	}
	publish()
	var got []string
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var ev sink.Event
			if err := json.Unmarshal([]byte(d), &ev); err != nil {
				t.Fatal(err)
			}
			got = append(got, ev.CameraID)
		}
	}
	return got
}
