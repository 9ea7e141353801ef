package api

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/store"
)

func TestAdministration(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	forestGrant := must(e.store.CreateGrant(ctx, setupActor, store.Grant{AgencyID: "forest", CameraID: camUngranted,
		Capabilities: []store.Capability{store.CapEvents}, Purpose: store.PurposeForestFire, Expires: time.Now().Add(time.Hour)}))
	commIncident, _ := must2(e.store.OpenIncident(ctx, setupActor, store.Incident{CameraID: camUngranted, Kind: "camera.offline", Source: store.SourceAuto}))
	ownIncident, _ := must2(e.store.OpenIncident(ctx, setupActor, store.Incident{CameraID: camOwn, Kind: "camera.offline", Source: store.SourceAuto}))
	expires := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name, user, method, path string
		body                     any
		want                     int
	}{
		// Agencies and systems: the ICT administrator's.
		{"ict creates agency", uICTAdmin, "POST", "/api/v1/agencies", map[string]any{"id": "fire", "name": "Fire brigade", "functions": []string{"rescue"}}, 201},
		{"system admin cannot create agency", uPoliceAdmin, "POST", "/api/v1/agencies", map[string]any{"name": "X"}, 403},
		{"other agency is 404", uPoliceAdmin, "PUT", "/api/v1/agencies/forest", map[string]any{"name": "X"}, 404},
		{"own agency is 403", uPoliceAdmin, "PUT", "/api/v1/agencies/police", map[string]any{"name": "X"}, 403},
		{"ict creates system", uICTAdmin, "POST", "/api/v1/systems", map[string]any{"id": "fire-sys", "name": "Fire", "tier": 2, "managing_agency": "fire"}, 201},
		{"other system is 404", uPoliceAdmin, "PUT", "/api/v1/systems/forest-sys", map[string]any{"name": "X"}, 404},
		{"own system is 403", uPoliceAdmin, "PUT", "/api/v1/systems/police-sys", map[string]any{"name": "X"}, 403},
		// Cameras: administrators of the system.
		{"system admin registers camera", uPoliceAdmin, "POST", "/api/v1/cameras", map[string]any{"id": "police-2", "system_id": "police-sys",
			"name": "Police 2", "secret": map[string]string{"stream_url": secretURL, "password": "S3cr3t-Cam-Pass"}}, 201},
		{"not in another agency's system", uPoliceAdmin, "POST", "/api/v1/cameras", map[string]any{"id": "x-1", "system_id": "forest-sys", "name": "X"}, 400},
		{"operator cannot register", uPoliceOp, "POST", "/api/v1/cameras", map[string]any{"id": "x-2", "system_id": "police-sys", "name": "X"}, 400},
		{"public state secret refused", uPoliceAdmin, "PUT", "/api/v1/cameras/" + camOwnSecret, map[string]any{"system_id": "police-sys", "name": "Yard", "public": true, "state_secret": true}, 400},
		{"cannot move camera away", uPoliceAdmin, "PUT", "/api/v1/cameras/" + camOwn, map[string]any{"system_id": "forest-sys", "name": "Gate"}, 400},
		// Users: the ICT administrator all, a system administrator their agency's.
		{"system admin creates user", uPoliceAdmin, "POST", "/api/v1/users", map[string]any{"agency_id": "police", "username": "police-new",
			"role": "viewer", "password": "Brand-New-Password-7"}, 201},
		{"weak first password", uPoliceAdmin, "POST", "/api/v1/users", map[string]any{"agency_id": "police", "username": "police-weak",
			"role": "viewer", "password": "short"}, 400},
		{"not in another agency", uPoliceAdmin, "POST", "/api/v1/users", map[string]any{"agency_id": "forest", "username": "forest-new",
			"role": "viewer", "password": "Brand-New-Password-7"}, 403},
		{"no ICT admin outside ICT", uICTAdmin, "POST", "/api/v1/users", map[string]any{"agency_id": "police", "username": "police-boss",
			"role": "ict_admin", "password": "Brand-New-Password-7"}, 400},
		{"other agency's user is 404", uPoliceAdmin, "PUT", "/api/v1/users/" + e.ids[uForestOp], map[string]any{"role": "viewer"}, 404},
		{"other agency's reset is 404", uPoliceAdmin, "POST", "/api/v1/users/" + e.ids[uForestOp] + "/password", map[string]any{"password": "Wrong-Secret-Pass-9"}, 404},
		{"operator cannot list users", uPoliceOp, "GET", "/api/v1/users", nil, 403},
		{"system admin disables own user", uPoliceAdmin, "PUT", "/api/v1/users/" + e.ids[uPoliceViewer], map[string]any{"role": "viewer", "disabled": true}, 200},
		// Grants: the ICT administrator's; enforced.
		{"grant outside function needs approval", uICTAdmin, "POST", "/api/v1/grants", map[string]any{"agency_id": "forest", "camera_id": camOwn,
			"capabilities": []string{"events"}, "purpose": "traffic_safety", "expires": expires}, 400},
		{"grant with approval", uICTAdmin, "POST", "/api/v1/grants", map[string]any{"agency_id": "forest", "camera_id": camOwn,
			"capabilities": []string{"events"}, "purpose": "traffic_safety", "approval_ref": "123/QĐ-UBND", "approval_date": "2025-03-01T00:00:00Z", "expires": expires}, 201},
		{"state secret never granted", uICTAdmin, "POST", "/api/v1/grants", map[string]any{"agency_id": "forest", "camera_id": camOwnSecret,
			"capabilities": []string{"events"}, "purpose": "forest_fire", "expires": expires}, 400},
		{"system admin cannot grant", uPoliceAdmin, "POST", "/api/v1/grants", map[string]any{"agency_id": "police", "camera_id": camUngranted,
			"capabilities": []string{"events"}, "purpose": "security_order", "expires": expires}, 403},
		{"other agency's grant is 404", uPoliceAdmin, "DELETE", "/api/v1/grants/" + forestGrant.ID, nil, 404},
		{"ict revokes", uICTAdmin, "DELETE", "/api/v1/grants/" + forestGrant.ID, nil, 200},
		// Incidents.
		{"other agency's incident is 404", uPoliceAdmin, "POST", "/api/v1/incidents/" + commIncident.ID + "/close", map[string]any{"resolution": "x"}, 404},
		{"operator cannot close", uPoliceOp, "POST", "/api/v1/incidents/" + ownIncident.ID + "/close", map[string]any{"resolution": "x"}, 403},
		{"system admin closes", uPoliceAdmin, "POST", "/api/v1/incidents/" + ownIncident.ID + "/close", map[string]any{"resolution": "cable fixed"}, 200},
		// Bad bodies.
		{"unknown field", uICTAdmin, "POST", "/api/v1/agencies", map[string]any{"name": "Y", "ict": true}, 400},
		{"malformed JSON", uICTAdmin, "POST", "/api/v1/agencies", "{", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.as(tc.user, tc.method, tc.path, tc.body); r.status != tc.want {
				t.Errorf("%d %s, want %d", r.status, r.body, tc.want)
			}
		})
	}
	// Listings show one's own only.
	var users struct{ Users []store.User }
	e.as(uPoliceAdmin, "GET", "/api/v1/users", nil).json(t, &users)
	for _, u := range users.Users {
		if u.AgencyID != "police" {
			t.Errorf("system admin lists user %s of %s", u.Username, u.AgencyID)
		}
	}
	var grants struct{ Grants []store.Grant }
	e.as(uForestOp, "GET", "/api/v1/grants", nil).json(t, &grants)
	for _, g := range grants.Grants {
		if g.AgencyID != "forest" {
			t.Errorf("forest operator lists grant to %s", g.AgencyID)
		}
	}
	var incidents struct{ Incidents []store.Incident }
	e.as(uPoliceOp, "GET", "/api/v1/incidents", nil).json(t, &incidents)
	for _, in := range incidents.Incidents {
		if in.CameraID == camUngranted {
			t.Errorf("police operator lists an incident of %s", in.CameraID)
		}
	}
	// Every change is in the audit log with its actor, and the secret
	// never reached it (checkNoSecrets greps the answers).
	got := map[string]bool{}
	for _, en := range must(e.store.Audit().Query(ctx, audit.Filter{Limit: 1000})) {
		if en.Actor.Username != "" {
			got[en.Action+" by "+en.Actor.Username] = true
		}
	}
	for _, want := range []string{"agency.create by " + uICTAdmin, "camera.create by " + uPoliceAdmin, "user.create by " + uPoliceAdmin,
		"grant.create by " + uICTAdmin, "grant.revoke by " + uICTAdmin, "incident.close by " + uPoliceAdmin, "user.update by " + uPoliceAdmin} {
		if !got[want] {
			t.Errorf("no audit entry %q", want)
		}
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

func TestAuditQuery(t *testing.T) {
	e := newEnv(t, false)
	e.login(uPoliceOp)
	e.login(uForestOp)
	for _, tc := range []struct {
		user     string
		query    string
		want     int
		agencies []string // the only actor agencies allowed in the answer
	}{
		{uICTAdmin, "?action=auth.*", 200, nil},
		{uICTAuditor, "?action=auth.login", 200, nil},
		{uPoliceAudit, "?action=auth.login", 200, []string{"police"}},
		{uPoliceAudit, "?agency=forest", 200, []string{"none"}},
		{uPoliceOp, "", http.StatusForbidden, nil},
		{uPoliceAdmin, "", http.StatusForbidden, nil},
		{uICTAdmin, "?limit=0", 400, nil},
		{uICTAdmin, "?from=yesterday", 400, nil},
	} {
		r := e.as(tc.user, "GET", "/api/v1/audit"+tc.query, nil)
		if r.status != tc.want {
			t.Errorf("%s %s: %d %s, want %d", tc.user, tc.query, r.status, r.body, tc.want)
			continue
		}
		if r.status != 200 {
			continue
		}
		var page struct {
			Entries []audit.Entry
			Next    int64
		}
		r.json(t, &page)
		if tc.agencies == nil && len(page.Entries) == 0 {
			t.Errorf("%s %s: no entries", tc.user, tc.query)
		}
		for _, en := range page.Entries {
			if tc.agencies != nil && en.Actor.AgencyID != tc.agencies[0] {
				t.Errorf("%s %s: entry of agency %q", tc.user, tc.query, en.Actor.AgencyID)
			}
		}
	}
	// Paging: two pages of one entry follow each other.
	var p1, p2 struct {
		Entries []audit.Entry
		Next    int64
	}
	e.as(uICTAdmin, "GET", "/api/v1/audit?limit=1", nil).json(t, &p1)
	e.as(uICTAdmin, "GET", "/api/v1/audit?limit=1&after="+strconv.FormatInt(p1.Next, 10), nil).json(t, &p2)
	if len(p1.Entries) != 1 || len(p2.Entries) != 1 || p2.Entries[0].Seq != p1.Entries[0].Seq+1 {
		t.Errorf("paging: %+v then %+v", p1, p2)
	}
}
