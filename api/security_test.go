package api

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/store"
)

// concrete fills a route pattern's wildcards.
func concrete(pattern string) string {
	return strings.NewReplacer("{id}", "police-1").Replace(pattern)
}

func TestAnonymousIsRefused(t *testing.T) {
	e := newEnv(t, false)
	for _, rt := range e.srv.routes() {
		r := e.do(rt.method, concrete(rt.pattern), nil, nil)
		switch {
		case rt.access != accessAnonymous && r.status != http.StatusUnauthorized:
			t.Errorf("%s %s anonymous: %d, want 401", rt.method, rt.pattern, r.status)
		case rt.access == accessAnonymous && r.status == http.StatusUnauthorized && rt.pattern != "/api/v1/login":
			t.Errorf("%s %s anonymous: 401, want it open", rt.method, rt.pattern)
		}
	}
	for _, tc := range []struct{ name, method, path, auth string }{
		{"unknown route", "GET", "/api/v1/nothing-here", ""},
		{"bad token", "GET", "/api/v1/cameras", "Bearer not-a-token"},
		{"basic auth", "GET", "/api/v1/cameras", "Basic YWRtaW46YWRtaW4="},
		{"empty bearer", "GET", "/api/v1/cameras", "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.auth != "" {
				h["Authorization"] = tc.auth
			}
			if r := e.do(tc.method, tc.path, nil, h); r.status != http.StatusUnauthorized {
				t.Errorf("%d %s, want 401", r.status, r.body)
			}
		})
	}
}

func TestLoginLockout(t *testing.T) {
	e := newEnv(t, false)
	bad := map[string]string{"username": uPoliceOp, "password": "wrong password 1A!"}
	var msgs []string
	for range 5 {
		r := e.do("POST", "/api/v1/login", bad, nil)
		if r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d %s", r.status, r.body)
		}
		msgs = append(msgs, string(r.body))
	}
	// Locked now: the right password fails too, with the same answer as
	// a wrong password and as an unknown user.
	r := e.do("POST", "/api/v1/login", map[string]string{"username": uPoliceOp, "password": testPassword}, nil)
	if r.status != http.StatusUnauthorized || string(r.body) != msgs[0] {
		t.Errorf("locked account with the right password: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/login", map[string]string{"username": "nobody-here", "password": testPassword}, nil)
	if r.status != http.StatusUnauthorized || string(r.body) != msgs[0] {
		t.Errorf("unknown user: %d %s, want the same answer as a wrong password", r.status, r.body)
	}
	// Another account is not affected; the administrator can unlock.
	e.login(uPoliceAdmin)
	if r := e.as(uPoliceAdmin, "POST", "/api/v1/users/"+e.ids[uPoliceOp]+"/unlock", nil); r.status != 200 {
		t.Fatalf("unlock: %d %s", r.status, r.body)
	}
	e.login(uPoliceOp)
	entries := must(e.store.Audit().Query(context.Background(), audit.Filter{Action: "auth.*", Limit: 1000}))
	counts := map[string]int{}
	for _, en := range entries {
		counts[en.Action]++
	}
	if counts["auth.login_failed"] < 7 || counts["auth.login"] < 2 {
		t.Errorf("audit of logins: %v", counts)
	}
}

// cookieSession logs in and returns the session cookie and CSRF token.
func cookieSession(t *testing.T, e *env, user string) (*http.Cookie, string) {
	t.Helper()
	r := e.do("POST", "/api/v1/login", map[string]string{"username": user, "password": testPassword}, nil)
	res := http.Response{Header: r.header}
	var c *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == SessionCookie {
			c = ck
		}
	}
	if c == nil {
		t.Fatalf("no session cookie: %v", r.header)
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie %+v: want HttpOnly, Secure, SameSite=Strict", c)
	}
	var s struct {
		CSRFToken string `json:"csrf_token"`
	}
	r.json(t, &s)
	return c, s.CSRFToken
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, false)
	c, csrf := cookieSession(t, e, uPoliceOp)
	cookie := c.Name + "=" + c.Value
	body := map[string]any{"camera_id": camOwn, "detail": "lens cracked"}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		hdr    map[string]string
		want   int
	}{
		{"read needs no token", "GET", "/api/v1/cameras", nil, map[string]string{"Cookie": cookie}, 200},
		{"post without token", "POST", "/api/v1/incidents", body, map[string]string{"Cookie": cookie}, 403},
		{"post with wrong token", "POST", "/api/v1/incidents", body, map[string]string{"Cookie": cookie, CSRFHeader: "x" + csrf}, 403},
		{"post with another session's token", "POST", "/api/v1/incidents", body,
			map[string]string{"Cookie": cookie, CSRFHeader: func() string { _, o := cookieSession(t, e, uPoliceAdmin); return o }()}, 403},
		{"logout without token", "POST", "/api/v1/logout", nil, map[string]string{"Cookie": cookie}, 403},
		{"put without token", "PUT", "/api/v1/cameras/" + camOwn + "/secret", map[string]any{"stream_url": secretURL},
			map[string]string{"Cookie": cookie}, 403},
		{"form post refused", "POST", "/api/v1/incidents", "camera_id=police-1",
			map[string]string{"Cookie": cookie, CSRFHeader: csrf, "Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"post with token", "POST", "/api/v1/incidents", body, map[string]string{"Cookie": cookie, CSRFHeader: csrf}, 201},
		{"bearer needs no token", "POST", "/api/v1/incidents", map[string]any{"camera_id": camOwn, "kind": "other.kind"},
			map[string]string{"Authorization": "Bearer " + e.login(uPoliceOp)}, 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do(tc.method, tc.path, tc.body, tc.hdr); r.status != tc.want {
				t.Errorf("%d %s, want %d", r.status, r.body, tc.want)
			}
		})
	}
	if r := e.do("POST", "/api/v1/logout", nil, map[string]string{"Cookie": cookie, CSRFHeader: csrf}); r.status != 204 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/me", nil, map[string]string{"Cookie": cookie}); r.status != 401 {
		t.Errorf("after logout: %d, want 401", r.status)
	}
}

func TestRestrictedSession(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	// An administrator resets the operator's password: it must be changed.
	const reset = "Reset-Password-2025!"
	if r := e.as(uPoliceAdmin, "POST", "/api/v1/users/"+e.ids[uPoliceOp]+"/password", map[string]string{"password": reset}); r.status != 204 {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	r := e.do("POST", "/api/v1/login", map[string]string{"username": uPoliceOp, "password": reset}, nil)
	var s struct {
		Token      string
		Restricted bool
	}
	r.json(t, &s)
	if !s.Restricted {
		t.Fatalf("login after reset not restricted: %s", r.body)
	}
	h := map[string]string{"Authorization": "Bearer " + s.Token}
	for _, path := range []string{"/api/v1/cameras", "/api/v1/events", "/api/v1/incidents"} {
		if r := e.do("GET", path, nil, h); r.status != 403 {
			t.Errorf("restricted GET %s: %d, want 403", path, r.status)
		}
	}
	if r := e.do("GET", "/api/v1/me", nil, h); r.status != 200 {
		t.Errorf("restricted /me: %d", r.status)
	}
	for _, tc := range []struct {
		old, new string
		want     int
	}{
		{"wrong old one", "Brand-New-Password-7", 403},
		{reset, "short", 400},
		{reset, "Brand-New-Password-7", 204},
	} {
		if r := e.do("POST", "/api/v1/password", map[string]string{"old_password": tc.old, "new_password": tc.new}, h); r.status != tc.want {
			t.Errorf("change %q→%q: %d %s, want %d", tc.old, tc.new, r.status, r.body, tc.want)
		}
	}
	r = e.do("POST", "/api/v1/login", map[string]string{"username": uPoliceOp, "password": "Brand-New-Password-7"}, nil)
	r.json(t, &s)
	if r.status != 200 || s.Restricted {
		t.Fatalf("login after change: %d %s", r.status, r.body)
	}
	if u := must(e.store.User(ctx, e.ids[uPoliceOp])); u.MustChangePassword {
		t.Error("must-change flag still set")
	}
}

// injections are hostile strings for every query parameter.
var injections = []string{
	`' OR '1'='1`, `1; DROP TABLE users; --`, `"); DROP TABLE events; --`, `police-1' UNION SELECT password_hash FROM users --`,
	`\' OR 1=1 --`, "x\x00y", `%27%20OR%201%3D1`, `../../../../etc/passwd`, strings.Repeat("A", 5000), `{{7*7}}`,
	`1 OR sleep(5)`, `*`, `camera.*' OR action LIKE '%`,
}

func TestSQLInjection(t *testing.T) {
	e := newEnv(t, false)
	params := map[string][]string{
		"/api/v1/events":    {"camera", "limit"},
		"/api/v1/stats":     {"camera", "line", "direction", "class", "from", "to", "bucket", "format"},
		"/api/v1/audit":     {"user", "agency", "action", "object", "from", "to", "after", "before", "order", "limit"},
		"/api/v1/holds":     {"camera"},
		"/api/v1/incidents": {"camera", "open", "overdue"},
		"/api/v1/grants":    {"live"},
	}
	for path, names := range params {
		for _, name := range names {
			for _, inj := range injections {
				q := url.Values{name: {inj}}
				if path == "/api/v1/stats" && name != "camera" {
					q.Set("camera", camOwn)
				}
				r := e.as(uICTAdmin, "GET", path+"?"+q.Encode(), nil)
				if r.status >= 500 {
					t.Errorf("%s?%s=%q: %d %s", path, name, inj, r.status, r.body)
				}
				if strings.Contains(string(r.body), "$argon2id") {
					t.Errorf("%s?%s=%q: a password hash in the answer", path, name, inj)
				}
			}
		}
	}
	// Everything is still there.
	var cams struct{ Cameras []any }
	e.as(uICTAdmin, "GET", "/api/v1/cameras", nil).json(t, &cams)
	if len(cams.Cameras) != len(allCams) {
		t.Errorf("%d cameras after the attack, want %d", len(cams.Cameras), len(allCams))
	}
	if _, err := e.store.Users(context.Background()); err != nil {
		t.Errorf("users table: %v", err)
	}
	rep := must(e.store.Audit().Verify(context.Background()))
	if !rep.OK() {
		t.Errorf("audit chain after the attack: %v", rep.Err())
	}
}

func TestPathTraversal(t *testing.T) {
	e := newEnv(t, false)
	// A file outside the packages folder that must never be served, and a
	// link inside the snapshots folder that points at it.
	secretFile := filepath.Join(e.data, store.FileName)
	id := newEventID()
	dir := filepath.Join(e.data, "evidence", camOwn, idDate(id))
	os.MkdirAll(dir, 0o750)
	if err := os.Symlink(secretFile, filepath.Join(dir, id+".jpg")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(e.data, PackagesDir), 0o750)
	for _, p := range []string{
		"/api/v1/evidence/..%2F" + store.FileName,
		"/api/v1/evidence/..%2F..%2Fkeys%2Fnode_ed25519",
		"/api/v1/evidence/%2e%2e%2fmetadata.db",
		"/api/v1/evidence/" + strings.Repeat("..%2F", 8) + "etc%2Fpasswd",
		"/api/v1/evidence/00000000-0000-0000-0000-000000000000",
		"/api/v1/evidence/{00000000-0000-7000-8000-000000000000}",
		"/api/v1/evidence/urn:uuid:00000000-0000-7000-8000-000000000000",
		"/api/v1/events/..%2F..%2Fmetadata/snapshot.jpg",
		"/api/v1/events/" + id + "/snapshot.jpg",
		"/api/v1/events/%2e%2e/snapshot.jpg",
		"/public/v1/cameras/..%2F..%2Fmetadata.db/snapshot.jpg",
	} {
		r := e.as(uICTAdmin, "GET", p, nil)
		if r.status == 200 || strings.Contains(string(r.body), "SQLite") || strings.Contains(string(r.body), "PRIVATE KEY") {
			t.Errorf("GET %s: %d %.80q", p, r.status, r.body)
		}
	}
}

// idDate is the UTC date of a UUIDv7.
func idDate(id string) string {
	sec, nsec := uuid.MustParse(id).Time().UnixTime()
	return time.Unix(sec, nsec).UTC().Format(time.DateOnly)
}
