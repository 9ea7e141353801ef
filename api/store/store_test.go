package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matthan/matthan/api/audit"
)

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	s, _, path := openTest(t)
	if v, ms := must(s.SchemaVersion(ctx)), must(loadMigrations()); v != len(ms) || v < 2 {
		t.Fatalf("schema version %d, want the %d migrations applied", v, len(ms))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	must(s.CreateAgency(ctx, admin, Agency{ID: "a", Name: "A"}))
	s.Close()

	// Reopening applies nothing again and keeps the data.
	s2, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Agency(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	// A database from a newer program is refused.
	if _, err := s2.db.Exec(`INSERT INTO schema_migrations (version, name, applied_ms) VALUES (99, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if _, err := Open(ctx, path, Options{}); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("open newer schema: %v, want ErrSchemaTooNew", err)
	}
}

// TestMigrationsArePortable keeps SQLite-only syntax out of the migrations,
// which must also run on PostgreSQL.
func TestMigrationsArePortable(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		up := strings.ToUpper(m.sql)
		for _, bad := range []string{"AUTOINCREMENT", "PRAGMA", "INSERT OR", "REPLACE INTO", "BLOB", "DATETIME", "WITHOUT ROWID", "STRICT", "GLOB"} {
			// Whole words: a column named district is no STRICT table.
			if regexp.MustCompile(`\b` + bad + `\b`).MatchString(up) {
				t.Errorf("migration %d uses %q, which PostgreSQL does not run", m.version, bad)
			}
		}
	}
}

func TestCameraSecret(t *testing.T) {
	ctx := context.Background()
	s, clk, path := openTest(t)
	buildWorld(t, s, clk)
	secret := CameraSecret{StreamURL: "rtsp://admin:Hunter2-secret@10.1.2.3:554/main", Username: "admin",
		Password: "Hunter2-secret", SubStreamURL: "rtsp://10.1.2.3:554/sub"}
	cam := must(s.CreateCamera(ctx, admin, Camera{ID: "cam-s", SystemID: "police-sys", Name: "Secret stream"}, secret))
	if !cam.HasStream {
		t.Error("HasStream false after a secret was set")
	}
	if got := must(s.CameraSecret(ctx, "cam-s")); got != secret {
		t.Fatalf("CameraSecret = %#v, want the stored one", got.StreamURL)
	}
	must(s.CreateCamera(ctx, admin, Camera{ID: "cam-t", SystemID: "police-sys", Name: "Other"}, CameraSecret{StreamURL: "rtsp://other"}))

	t.Run("never in the clear", func(t *testing.T) {
		// Checkpoint the WAL so the whole database is in the file, then
		// read every byte: no part of the secret may be there.
		if _, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
		var raw []byte
		for _, p := range []string{path, path + "-wal"} {
			b, _ := os.ReadFile(p)
			raw = append(raw, b...)
		}
		for _, needle := range []string{"Hunter2-secret", "10.1.2.3", "rtsp://"} {
			if bytes.Contains(raw, []byte(needle)) {
				t.Errorf("database file holds %q in the clear", needle)
			}
		}
		entries := must(s.Audit().Query(ctx, audit.Filter{Object: "camera:cam-s", Limit: 10}))
		if len(entries) != 1 || !strings.Contains(string(entries[0].After), `"has_stream":true`) {
			t.Errorf("camera.create audit entry %+v", entries)
		}
	})

	t.Run("redacted when printed", func(t *testing.T) {
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "secret", secret)
		slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "secret", secret)
		js, _ := json.Marshal(struct{ S CameraSecret }{secret})
		out := logs.String() + fmt.Sprintf("%v %+v %#v %s", secret, secret, secret, secret) + string(js) +
			fmt.Sprintf("%+v", cam) + string(must(json.Marshal(cam)))
		if strings.Contains(out, "Hunter2") || strings.Contains(out, "10.1.2.3") {
			t.Errorf("secret leaked: %s", out)
		}
	})

	t.Run("bound to its camera", func(t *testing.T) {
		// Copy cam-s's sealed value onto cam-t: it must not open there.
		if _, err := s.db.Exec(`UPDATE cameras SET secret_enc = (SELECT secret_enc FROM cameras WHERE id = 'cam-s') WHERE id = 'cam-t'`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CameraSecret(ctx, "cam-t"); !errors.Is(err, ErrSecret) {
			t.Fatalf("moved secret: %v, want ErrSecret", err)
		}
	})

	t.Run("wrong or no key", func(t *testing.T) {
		other, err := Open(ctx, path, Options{Key: bytes.Repeat([]byte{7}, KeySize)})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if _, err := other.CameraSecret(ctx, "cam-s"); !errors.Is(err, ErrSecret) {
			t.Errorf("wrong key: %v, want ErrSecret", err)
		}
		none, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer none.Close()
		if _, err := none.CameraSecret(ctx, "cam-s"); !errors.Is(err, ErrNoKey) {
			t.Errorf("no key: %v, want ErrNoKey", err)
		}
		if err := none.SetCameraSecret(ctx, admin, "cam-s", secret); !errors.Is(err, ErrNoKey) {
			t.Errorf("set without key: %v, want ErrNoKey", err)
		}
	})

	t.Run("replace and clear", func(t *testing.T) {
		next := CameraSecret{StreamURL: "rtsp://new"}
		if err := s.SetCameraSecret(ctx, admin, "cam-s", next); err != nil {
			t.Fatal(err)
		}
		if got := must(s.CameraSecret(ctx, "cam-s")); got != next {
			t.Error("secret not replaced")
		}
		if err := s.SetCameraSecret(ctx, admin, "cam-s", CameraSecret{}); err != nil {
			t.Fatal(err)
		}
		if c := must(s.Camera(ctx, "cam-s")); c.HasStream {
			t.Error("HasStream after clearing")
		}
		e := must(s.Audit().Query(ctx, audit.Filter{Action: "camera.set_secret", Newest: true, Limit: 1}))
		if len(e) != 1 || strings.Contains(string(e[0].Before)+string(e[0].After), "rtsp") {
			t.Errorf("set_secret audit entry %+v", e)
		}
	})
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", true},
		{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY", true},
		{"3031323334353637383961626364656630313233343536373839616263646566", true},
		{"c2hvcnQ=", false},
		{"not a key at all!", false},
		{"", false},
	} {
		k, err := ParseKey(tc.in)
		if (err == nil) != tc.ok || (tc.ok && string(k) != string(testKey)) {
			t.Errorf("ParseKey(%q) = %q, %v", tc.in, k, err)
		}
		if err != nil && strings.Contains(err.Error(), tc.in) && tc.in != "" {
			t.Errorf("error %q repeats the key", err)
		}
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	buildWorld(t, s, clk)
	year := clk.Now().Add(365 * 24 * time.Hour)
	for _, tc := range []struct {
		name string
		do   func() error
		want error
	}{
		{"second ICT department", func() error { _, err := s.CreateAgency(ctx, admin, Agency{Name: "ICT 2", ICT: true}); return err }, ErrExists},
		{"agency name taken", func() error { _, err := s.CreateAgency(ctx, admin, Agency{Name: "Kiểm lâm"}); return err }, ErrExists},
		{"agency bad function", func() error {
			_, err := s.CreateAgency(ctx, admin, Agency{Name: "X", Functions: []Purpose{"spying"}})
			return err
		}, ErrInvalid},
		{"system bad tier", func() error {
			_, err := s.CreateSystem(ctx, admin, System{Name: "S", Tier: 4, ManagingAgency: "police"})
			return err
		}, ErrInvalid},
		{"system unknown agency", func() error {
			_, err := s.CreateSystem(ctx, admin, System{Name: "S", Tier: 2, ManagingAgency: "nope"})
			return err
		}, ErrInvalid},
		{"camera public and secret", func() error {
			_, err := s.CreateCamera(ctx, admin, Camera{ID: "x", SystemID: "ioc", Name: "x", Public: true, StateSecret: true}, CameraSecret{})
			return err
		}, ErrStateSecret},
		{"camera bad id", func() error {
			_, err := s.CreateCamera(ctx, admin, Camera{ID: "../x", SystemID: "ioc", Name: "x"}, CameraSecret{})
			return err
		}, ErrInvalid},
		{"camera bad location", func() error {
			_, err := s.CreateCamera(ctx, admin, Camera{ID: "x", SystemID: "ioc", Name: "x", Lat: 91}, CameraSecret{})
			return err
		}, ErrInvalid},
		{"camera exists", func() error {
			_, err := s.CreateCamera(ctx, admin, Camera{ID: camOwn, SystemID: "ioc", Name: "x"}, CameraSecret{})
			return err
		}, ErrExists},
		{"ict_admin outside ICT", func() error {
			_, err := s.CreateUser(ctx, admin, User{Username: "bad-admin", AgencyID: "police", Role: RoleICTAdmin}, "h")
			return err
		}, ErrInvalid},
		{"username taken, other case", func() error {
			if _, err := s.CreateUser(ctx, admin, User{Username: "nam", AgencyID: "police", Role: RoleViewer}, "h"); err != nil {
				return err
			}
			_, err := s.CreateUser(ctx, admin, User{Username: " NAM ", AgencyID: "police", Role: RoleViewer}, "h")
			return err
		}, ErrExists},
		{"username with quote", func() error {
			_, err := s.CreateUser(ctx, admin, User{Username: "x' OR '1'='1", AgencyID: "police", Role: RoleViewer}, "h")
			return err
		}, ErrInvalid},
		// outside the function only with the approval.
		{"grant outside function without approval", func() error {
			_, err := s.CreateGrant(ctx, admin, Grant{AgencyID: "forest", CameraID: camOwn, Capabilities: []Capability{CapLiveView},
				Purpose: PurposeTraffic, Expires: year})
			return err
		}, ErrApprovalRequired},
		{"grant outside function with a reference but no date", func() error {
			_, err := s.CreateGrant(ctx, admin, Grant{AgencyID: "forest", CameraID: camOwn, Capabilities: []Capability{CapLiveView},
				Purpose: PurposeTraffic, ApprovalRef: "12/UBND", Expires: year})
			return err
		}, ErrApprovalRequired},
		{"grant for other purpose without approval", func() error {
			_, err := s.CreateGrant(ctx, admin, Grant{AgencyID: "police", CameraID: camUngranted, Capabilities: []Capability{CapLiveView},
				Purpose: PurposeOther, PurposeText: "festival", Expires: year})
			return err
		}, ErrApprovalRequired},
		{"grant other purpose without text", func() error {
			_, err := s.CreateGrant(ctx, admin, Grant{AgencyID: "police", CameraID: camUngranted, Capabilities: []Capability{CapLiveView},
				Purpose: PurposeOther, ApprovalRef: "1", ApprovalDate: year, Expires: year})
			return err
		}, ErrInvalid},
		{"grant of another agency's state secret", func() error {
			_, err := s.CreateGrant(ctx, admin, Grant{AgencyID: "police", CameraID: camSecret, Capabilities: []Capability{CapLiveView},
				Purpose: PurposeForestFire, ApprovalRef: "1", ApprovalDate: year, Expires: year})
			return err
		}, ErrStateSecret},
		{"grant already expired", func() error {
			_, err := s.CreateGrant(ctx, admin, Grant{AgencyID: "police", CameraID: camUngranted, Capabilities: []Capability{CapLiveView},
				Purpose: PurposeSecurity, Expires: clk.Now().Add(-time.Second)})
			return err
		}, ErrInvalid},
		{"grant without capability", func() error {
			_, err := s.CreateGrant(ctx, admin, Grant{AgencyID: "police", CameraID: camUngranted, Purpose: PurposeSecurity, Expires: year})
			return err
		}, ErrInvalid},
		{"grant of camera and system", func() error {
			_, err := s.CreateGrant(ctx, admin, Grant{AgencyID: "police", CameraID: camUngranted, SystemID: "ioc",
				Capabilities: []Capability{CapLiveView}, Purpose: PurposeSecurity, Expires: year})
			return err
		}, ErrInvalid},
		{"grant unknown camera", func() error {
			_, err := s.CreateGrant(ctx, admin, Grant{AgencyID: "police", CameraID: "nope",
				Capabilities: []Capability{CapLiveView}, Purpose: PurposeSecurity, Expires: year})
			return err
		}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := must(s.Audit().Verify(ctx)).Entries
			err := tc.do()
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			// A refused change leaves no audit entry (only "username taken" made one user).
			after := must(s.Audit().Verify(ctx)).Entries
			if after-before > 1 || (after != before && tc.name != "username taken, other case") {
				t.Errorf("audit entries %d → %d for a refused change", before, after)
			}
		})
	}
	// Inside the function, no approval is needed; outside, the approval makes it.
	if _, err := s.CreateGrant(ctx, admin, Grant{AgencyID: "police", CameraID: camUngranted, Capabilities: []Capability{CapEvents},
		Purpose: PurposeTraffic, Expires: year}); err != nil {
		t.Errorf("grant inside the function: %v", err)
	}
	if _, err := s.CreateGrant(ctx, admin, Grant{AgencyID: "forest", CameraID: camOwn, Capabilities: []Capability{CapLiveView},
		Purpose: PurposeTraffic, ApprovalRef: "45/QĐ-UBND", ApprovalDate: clk.Now(), Expires: year}); err != nil {
		t.Errorf("grant outside the function with approval: %v", err)
	}
}

// TestChangesAreAudited: each change writes one entry with before and
// after; no password hash reaches the log.
func TestChangesAreAudited(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	buildWorld(t, s, clk)
	by := audit.Actor{UserID: "u1", Username: "lan", AgencyID: "ict", Address: "192.0.2.7:5000"}
	c := must(s.Camera(ctx, camOwn))
	c.Name, c.Address = "Ngã tư Mường Thanh", "Điện Biên Phủ"
	must(s.UpdateCamera(ctx, by, c))
	e := must(s.Audit().Query(ctx, audit.Filter{Object: "camera:" + camOwn, Action: "camera.update"}))
	if len(e) != 1 {
		t.Fatalf("%d camera.update entries, want 1", len(e))
	}
	if e[0].Actor != by || !strings.Contains(string(e[0].Before), `"name":"police-1"`) ||
		!strings.Contains(string(e[0].After), `"name":"Ngã tư Mường Thanh"`) {
		t.Errorf("entry %+v %s %s", e[0].Actor, e[0].Before, e[0].After)
	}

	u := must(s.CreateUser(ctx, by, User{Username: "hoa", AgencyID: "police", Role: RoleOperator}, "$argon2id$SECRETHASH"))
	must(s.SetPassword(ctx, by, u.ID, "$argon2id$OTHERHASH", true))
	u.Role = RoleViewer
	must(s.UpdateUser(ctx, by, u))
	all := must(s.Audit().Query(ctx, audit.Filter{Limit: audit.MaxLimit}))
	for _, e := range all {
		if strings.Contains(string(e.Before)+string(e.After), "HASH") {
			t.Errorf("entry %d (%s) holds a password hash", e.Seq, e.Action)
		}
	}
	if h := must(s.PasswordHash(ctx, u.ID)); h != "$argon2id$OTHERHASH" {
		t.Errorf("PasswordHash = %q", h)
	}
	if r := must(s.Audit().Verify(ctx)); !r.OK() {
		t.Fatal(r.Err())
	}
}

func TestIncidents(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	buildWorld(t, s, clk)
	opened := clk.Now().Add(-time.Hour)
	in, created, err := s.OpenIncident(ctx, audit.Actor{Address: "engine"}, Incident{CameraID: camOwn, Kind: "camera.offline", Source: SourceAuto, Opened: opened})
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if !in.Deadline.Equal(opened.Add(24 * time.Hour)) {
		t.Errorf("deadline %v, want opened + 24 h (R-11.2)", in.Deadline)
	}
	// The same fault again while open: the same incident.
	again, created, err := s.OpenIncident(ctx, audit.Actor{}, Incident{CameraID: camOwn, Kind: "camera.offline", Source: SourceAuto})
	if err != nil || created || again.ID != in.ID {
		t.Errorf("reopen: %v %v %v", again.ID, created, err)
	}
	user, _, err := s.OpenIncident(ctx, audit.Actor{UserID: "u9"}, Incident{CameraID: camOwn, Kind: "user.report", Detail: "lens dirty", Source: SourceUser})
	if err != nil || user.ReportedBy != "u9" {
		t.Fatalf("user incident %+v %v", user, err)
	}
	if _, _, err := s.OpenIncident(ctx, audit.Actor{}, Incident{CameraID: camOwn, Kind: "x", Source: "robot"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad source: %v", err)
	}
	clk.Add(23*time.Hour + time.Minute) // 24 h 1 min after the first opened
	over := must(s.Incidents(ctx, IncidentFilter{OverdueAt: clk.Now()}))
	if len(over) != 1 || over[0].ID != in.ID || !over[0].Overdue(clk.Now()) {
		t.Errorf("overdue %+v, want only %s", over, in.ID)
	}
	must(s.CloseIncident(ctx, admin, in.ID, "power restored"))
	if _, err := s.CloseIncident(ctx, admin, in.ID, "again"); !errors.Is(err, ErrInvalid) {
		t.Errorf("close twice: %v", err)
	}
	if open := must(s.Incidents(ctx, IncidentFilter{OpenOnly: true})); len(open) != 1 || open[0].ID != user.ID {
		t.Errorf("open incidents %+v", open)
	}
}

func TestLoginBookkeeping(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	buildWorld(t, s, clk)
	u := must(s.CreateUser(ctx, admin, User{Username: "minh", AgencyID: "police", Role: RoleOperator}, "h"))
	p := LockPolicy{MaxFailures: 3, Period: 15 * time.Minute}
	for i := 1; i <= 3; i++ {
		got := must(s.LoginFailed(ctx, audit.Actor{Username: "minh", Address: "198.51.100.1:1"}, u.ID, "bad_password", p))
		if i < 3 && (got.FailedAttempts != i || got.Locked(clk.Now())) {
			t.Fatalf("after %d failures: %+v", i, got)
		}
		if i == 3 && !got.Locked(clk.Now()) {
			t.Fatalf("not locked after 3 failures: %+v", got)
		}
	}
	tok := Session{UserID: u.ID, TokenHash: "ab", Expires: clk.Now().Add(time.Hour)}
	if _, err := s.LoginSucceeded(ctx, audit.Actor{}, tok); !errors.Is(err, ErrLocked) {
		t.Fatalf("login while locked: %v", err)
	}
	clk.Add(16 * time.Minute)
	se, err := s.LoginSucceeded(ctx, audit.Actor{UserID: u.ID}, tok)
	if err != nil {
		t.Fatal(err)
	}
	if got := must(s.User(ctx, u.ID)); !got.LastLogin.Equal(clk.Now()) || got.FailedAttempts != 0 {
		t.Errorf("after login %+v", got)
	}
	if got := must(s.Session(ctx, "ab")); got.ID != se.ID {
		t.Errorf("session %+v", got)
	}
	// Unknown user: audited by name, nothing counted.
	must(s.LoginFailed(ctx, audit.Actor{Username: "ghost"}, "", "unknown_user", p))
	if e := must(s.Audit().Query(ctx, audit.Filter{Object: "username:ghost"})); len(e) != 1 || e[0].Action != "auth.login_failed" {
		t.Errorf("unknown-user entry %+v", e)
	}
	if err := s.EndSession(ctx, audit.Actor{UserID: u.ID}, "auth.logout", "ab"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "ab"); !errors.Is(err, ErrNotFound) {
		t.Errorf("session after logout: %v", err)
	}
	if err := s.EndSession(ctx, audit.Actor{}, "auth.logout", "ab"); !errors.Is(err, ErrNotFound) {
		t.Errorf("logout twice: %v", err)
	}
}

// TestConcurrentChanges: writers in parallel keep the audit chain linear.
func TestConcurrentChanges(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.CreateAgency(ctx, admin, Agency{Name: fmt.Sprintf("agency %d", i)}); err != nil {
				errs <- err
			}
			if _, err := s.Audit().Record(ctx, audit.Entry{Action: "camera.live_view", Object: fmt.Sprintf("camera:%d", i)}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r := must(s.Audit().Verify(ctx))
	if !r.OK() || r.Entries != 2*n {
		t.Fatalf("report %+v, want %d intact entries", r, 2*n)
	}
}

// TestOpenBadPath refuses DSN metacharacters in the path.
func TestOpenBadPath(t *testing.T) {
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "x?mode=ro"), Options{}); err == nil {
		t.Fatal("path with '?' accepted")
	}
}
