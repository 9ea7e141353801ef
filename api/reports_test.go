package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/deploy/testenv"
)

// TestReports builds the cases of issue 7 into the fixture: a camera
// installed 6 days ago and never connected (one installed 2 days ago,
// one connected in time), an incident open for 25 hours (one for 2
// hours), an account last used 100 days ago (one used yesterday); and 30 s
// of footage recorded yesterday as camOwn.
func TestReports(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	now := time.Now()

	for _, c := range []struct {
		id, system string
		installed  time.Duration // ago
		connected  time.Duration // after installation; 0: never
	}{
		{"police-late", "police-sys", 6 * 24 * time.Hour, 0},
		{"police-new", "police-sys", 2 * 24 * time.Hour, 0},
		{"police-ok", "police-sys", 10 * 24 * time.Hour, 24 * time.Hour},
		{"police-slow", "police-sys", 20 * 24 * time.Hour, 8 * 24 * time.Hour},
		{"forest-late", "forest-sys", 7 * 24 * time.Hour, 0},
	} {
		cam := must(e.store.CreateCamera(ctx, setupActor, store.Camera{ID: c.id, SystemID: c.system, Name: c.id,
			Installed: now.Add(-c.installed)}, store.CameraSecret{}))
		if c.connected > 0 {
			if err := e.store.MarkConnected(ctx, setupActor, c.id, cam.Installed.Add(c.connected)); err != nil {
				t.Fatal(err)
			}
		}
	}
	open := func(cam string, ago time.Duration) store.Incident {
		in, _ := must2(e.store.OpenIncident(ctx, setupActor, store.Incident{CameraID: cam, Kind: "camera.offline",
			Source: store.SourceAuto, Opened: now.Add(-ago)}))
		return in
	}
	overdueOwn, _, overdueCommune := open(camOwn, 25*time.Hour), open(camGranted, 2*time.Hour), open(camUngranted, 30*time.Hour)

	// Logins in the past, through a second handle on the same database
	// whose clock is set back.
	for user, ago := range map[string]time.Duration{uPoliceOp: 100 * 24 * time.Hour, uPoliceViewer: 24 * time.Hour} {
		then := now.Add(-ago)
		past := must(store.Open(ctx, store.Path(e.data), store.Options{Now: func() time.Time { return then }}))
		_, err := past.LoginSucceeded(ctx, setupActor, store.Session{UserID: e.ids[user], TokenHash: "past-" + user,
			Expires: then.Add(time.Hour)})
		past.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Every other account was created just now: not dormant, though
	// never used.

	// Footage recorded yesterday (province time) as camOwn.
	root := t.TempDir()
	yesterday := now.In(reportZone).AddDate(0, 0, -1)
	start := time.Date(yesterday.Year(), yesterday.Month(), yesterday.Day(), 10, 0, 0, 0, reportZone)
	if err := recordClipAt(testenv.Clip(t, footage), root, camOwn, start); err != nil {
		t.Fatal(err)
	}
	// Set before the first request, which orders it before the handlers.
	e.srv.Recordings, e.srv.RetentionDays = root, 30

	type accounts struct {
		DormantDays int `json:"dormant_days"`
		Dormant     []string
		Accounts    []accountRow
	}
	type compliance struct {
		LateConnections  []lateCamera    `json:"late_connections"`
		OverdueIncidents []incidentView  `json:"overdue_incidents"`
		Retention        retentionReport `json:"retention"`
		Uptime           []cameraUptime  `json:"uptime"`
	}
	for _, tc := range []struct {
		user     string
		agencies []string // whose accounts the review lists; nil: all
		late     []string
		overdue  []string
	}{
		{uICTAdmin, nil, []string{"forest-late", "police-late", "police-slow"}, []string{overdueCommune.ID, overdueOwn.ID}},
		{uICTAuditor, nil, []string{"forest-late", "police-late", "police-slow"}, []string{overdueCommune.ID, overdueOwn.ID}},
		{uPoliceAdmin, []string{"police"}, []string{"police-late", "police-slow"}, []string{overdueOwn.ID}},
		{uPoliceAudit, []string{"police"}, []string{"police-late", "police-slow"}, []string{overdueOwn.ID}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			r := e.as(tc.user, "GET", "/api/v1/reports/accounts", nil)
			if r.status != http.StatusOK {
				t.Fatalf("accounts: %d %s", r.status, r.body)
			}
			var acc accounts
			r.json(t, &acc)
			if acc.DormantDays != DefaultDormantDays || !slices.Equal(acc.Dormant, []string{uPoliceOp}) {
				t.Errorf("dormant after %d days: %v, want [%s]", acc.DormantDays, acc.Dormant, uPoliceOp)
			}
			seen := map[string]accountRow{}
			for _, a := range acc.Accounts {
				seen[a.Username] = a
				if tc.agencies != nil && !slices.Contains(tc.agencies, a.AgencyID) {
					t.Errorf("lists account %s of %s", a.Username, a.AgencyID)
				}
			}
			for _, u := range allUsers {
				want := tc.agencies == nil || slices.Contains(tc.agencies, agencyOf(u))
				if _, ok := seen[u]; ok != want {
					t.Errorf("account %s listed %v, want %v", u, ok, want)
				}
			}
			op, viewer := seen[uPoliceOp], seen[uPoliceViewer]
			if op.DaysSinceLogin == nil || *op.DaysSinceLogin != 100 || !op.Dormant || op.AgencyName != "Công an tỉnh" {
				t.Errorf("police operator: %+v", op)
			}
			if viewer.DaysSinceLogin == nil || *viewer.DaysSinceLogin != 1 || viewer.Dormant {
				t.Errorf("police viewer: %+v", viewer)
			}
			// The police's live grant on the forest camera is shown with
			// every police account.
			if len(op.Grants) != 1 || op.Grants[0].CameraID != camGranted {
				t.Errorf("police grants: %+v", op.Grants)
			}

			r = e.as(tc.user, "GET", "/api/v1/reports/compliance", nil)
			if r.status != http.StatusOK {
				t.Fatalf("compliance: %d %s", r.status, r.body)
			}
			var c compliance
			r.json(t, &c)
			var late, overdue []string
			for _, l := range c.LateConnections {
				late = append(late, l.ID)
				if l.ID == "police-slow" && (!l.Connected || l.FirstConnected.IsZero()) {
					t.Errorf("late but connected camera: %+v", l)
				}
			}
			for _, in := range c.OverdueIncidents {
				overdue = append(overdue, in.ID)
			}
			slices.Sort(late)
			slices.Sort(overdue)
			want := slices.Clone(tc.overdue)
			slices.Sort(want)
			if !slices.Equal(late, tc.late) {
				t.Errorf("late connections %v, want %v", late, tc.late)
			}
			if !slices.Equal(overdue, want) {
				t.Errorf("overdue incidents %v, want %v", overdue, want)
			}
			if c.Retention != (retentionReport{RecordingDays: 30, MinimumDays: 30, Compliant: true}) {
				t.Errorf("retention %+v", c.Retention)
			}
			for _, u := range c.Uptime {
				if u.CameraID != camOwn {
					if u.Yesterday.RecordedSeconds != 0 || u.Today.RecordedSeconds != 0 {
						t.Errorf("uptime of %s: %+v", u.CameraID, u)
					}
					continue
				}
				y := u.Yesterday
				if y.Day != start.Format(time.DateOnly) || y.RecordedSeconds < 25 || y.RecordedSeconds > 35 ||
					y.Uptime == nil || *y.Uptime != 1 || u.Today.RecordedSeconds != 0 {
					t.Errorf("uptime of %s: %+v (yesterday %+v)", camOwn, u, y)
				}
			}
			if n := len(c.Uptime); (tc.agencies == nil && n != len(allCams)+5) || (tc.agencies != nil && n != 6) {
				t.Errorf("uptime of %d cameras", n)
			}
		})
	}

	t.Run("dormant days", func(t *testing.T) {
		var acc accounts
		e.as(uICTAdmin, "GET", "/api/v1/reports/accounts?dormant_days=1", nil).json(t, &acc)
		slices.Sort(acc.Dormant)
		if !slices.Equal(acc.Dormant, []string{uPoliceOp, uPoliceViewer}) {
			t.Errorf("dormant after 1 day: %v", acc.Dormant)
		}
		for _, q := range []string{"dormant_days=0", "dormant_days=abc", "dormant_days=99999", "format=xml"} {
			if r := e.as(uICTAdmin, "GET", "/api/v1/reports/accounts?"+q, nil); r.status != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", q, r.status)
			}
		}
	})

	t.Run("csv", func(t *testing.T) {
		r := e.as(uICTAdmin, "GET", "/api/v1/reports/accounts?format=csv", nil)
		rows := readCSV(t, r)
		col := slices.Index(rows[0], "dormant")
		var dormant []string
		for _, row := range rows[1:] {
			if row[col] == "true" {
				dormant = append(dormant, row[1])
			}
		}
		if len(rows) != len(allUsers)+1 || !slices.Equal(dormant, []string{uPoliceOp}) {
			t.Errorf("accounts CSV: %d rows, dormant %v", len(rows), dormant)
		}
		r = e.as(uPoliceAdmin, "GET", "/api/v1/reports/compliance?format=csv", nil)
		got := map[string][]string{}
		for _, row := range readCSV(t, r)[1:] {
			got[row[1]] = append(got[row[1]], row[3])
		}
		slices.Sort(got["connection"])
		if !slices.Equal(got["connection"], []string{"police-late", "police-slow"}) ||
			!slices.Equal(got["incident"], []string{overdueOwn.ID}) || len(got["retention"]) != 1 || len(got["uptime"]) != 12 {
			t.Errorf("compliance CSV: %v", got)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, u := range []string{uPoliceOp, uPoliceViewer, uForestOp} {
			for _, path := range []string{"/api/v1/reports/accounts", "/api/v1/reports/compliance?format=csv"} {
				if r := e.as(u, "GET", path, nil); r.status != http.StatusForbidden {
					t.Errorf("%s %s: %d %s, want 403", u, path, r.status, r.body)
				}
			}
		}
	})

	// Each report read is in the audit log with its reader; refusals are
	// not.
	n := map[string]int{}
	for _, en := range must(e.store.Audit().Query(ctx, audit.Filter{Action: "report.*", Limit: 1000})) {
		n[en.Action+" by "+en.Actor.Username]++
	}
	for k, want := range map[string]int{
		ActionReportAccounts + " by " + uICTAdmin: 3, ActionReportCompliance + " by " + uICTAdmin: 1,
		ActionReportAccounts + " by " + uPoliceAdmin: 1, ActionReportCompliance + " by " + uPoliceAdmin: 2,
		ActionReportAccounts + " by " + uPoliceOp: 0, ActionReportCompliance + " by " + uPoliceOp: 0,
	} {
		if n[k] != want {
			t.Errorf("%d audit entries %q, want %d (all: %v)", n[k], k, want, n)
		}
	}
}

// agencyOf is the agency of a fixture user.
func agencyOf(user string) string {
	switch user {
	case uICTAdmin, uICTAuditor:
		return "ict"
	case uForestOp:
		return "forest"
	}
	return "police"
}

func readCSV(t *testing.T, r response) [][]string {
	t.Helper()
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("%d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) < 1 {
		t.Fatalf("CSV: %v %s", err, r.body)
	}
	return rows
}
