package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCanMatrix checks the access rule for every role against every kind
// of camera: own system, own state-secret camera, granted camera with and
// without the capability, expired and revoked grants, ungranted camera,
// state-secret camera of another agency (even under a system grant), a
// system grant, another agency's public camera, the tier I system.
func TestCanMatrix(t *testing.T) {
	s, clk, _ := openTest(t)
	buildWorld(t, s, clk)
	ctx := context.Background()
	users := map[string]User{}
	for _, u := range []User{
		{Username: "ict-admin", AgencyID: "ict", Role: RoleICTAdmin},
		{Username: "ict-operator", AgencyID: "ict", Role: RoleOperator},
		{Username: "pol-sysadmin", AgencyID: "police", Role: RoleSystemAdmin},
		{Username: "pol-operator", AgencyID: "police", Role: RoleOperator},
		{Username: "pol-viewer", AgencyID: "police", Role: RoleViewer},
		{Username: "pol-auditor", AgencyID: "police", Role: RoleAuditor},
		{Username: "pol-disabled", AgencyID: "police", Role: RoleOperator, Disabled: true},
		{Username: "commune-op", AgencyID: "commune", Role: RoleOperator},
	} {
		users[u.Username] = must(s.CreateUser(ctx, admin, u, "hash"))
	}
	// Columns: the users in this order; Y = allowed.
	cols := []string{"ict-admin", "ict-operator", "pol-sysadmin", "pol-operator", "pol-viewer", "pol-auditor", "pol-disabled", "commune-op"}
	cases := []struct {
		name   string
		camera string
		cap    Capability
		want   string
	}{
		{"own system live", camOwn, CapLiveView, "Y.YYY..."},
		{"own system export", camOwn, CapExport, "Y.YY...."},
		{"own system playback", camOwn, CapPlayback, "Y.YY...."},
		{"own state secret", camOwnSecret, CapLiveView, "Y.YYY..."},
		{"granted camera with capability", camGranted, CapLiveView, "Y.YYY..Y"},
		{"granted camera events", camGranted, CapEvents, "Y.YYY..Y"},
		{"granted camera without capability", camGranted, CapStatistics, "Y......Y"},
		{"granted camera without playback", camGranted, CapPlayback, "Y......Y"},
		{"expired grant", camExpired, CapLiveView, "Y......Y"},
		{"revoked grant", camRevoked, CapLiveView, "Y......Y"},
		{"ungranted camera", camUngranted, CapLiveView, "Y......Y"},
		{"public camera of another agency", camPublic, CapLiveView, "Y......Y"},
		{"system grant", camSysGrant, CapStatistics, "Y.YYY..."},
		{"state secret of another agency under a system grant", camSecret, CapLiveView, "Y......."},
		{"tier I camera", camIOC, CapLiveView, "YY......"},
		{"tier I camera export", camIOC, CapExport, "YY......"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i, name := range cols {
				want := tc.want[i] == 'Y'
				ok, why, err := s.Can(ctx, users[name], tc.cap, tc.camera)
				if err != nil {
					t.Fatal(err)
				}
				if ok != want {
					t.Errorf("%s %s on %s: got %v (%s), want %v", name, tc.cap, tc.camera, ok, why, want)
				}
				if why == "" {
					t.Errorf("%s: no reason given", name)
				}
			}
		})
	}

	t.Run("reasons cite the rule", func(t *testing.T) {
		for _, tc := range []struct {
			user, camera, want string
		}{
			{"ict-admin", camSecret, "R-7.2"},
			{"pol-operator", camSecret, "R-1.1"},
			{"pol-operator", camOwn, "R-7.4"},
			{"pol-operator", camGranted, "R-8.1"},
		} {
			_, why, _ := s.Can(ctx, users[tc.user], CapLiveView, tc.camera)
			if !strings.Contains(why, tc.want) {
				t.Errorf("%s on %s: reason %q does not cite %s", tc.user, tc.camera, why, tc.want)
			}
		}
	})

	t.Run("unknown camera", func(t *testing.T) {
		if _, _, err := s.Can(ctx, users["ict-admin"], CapLiveView, "nope"); err == nil {
			t.Fatal("no error for an unknown camera")
		}
	})

	// The listing applies the same rule as Can, for every user and capability.
	t.Run("visible cameras agree with Can", func(t *testing.T) {
		all := must(s.Cameras(ctx))
		for _, name := range cols {
			for _, c := range Capabilities {
				vis := must(s.VisibleCameras(ctx, users[name], c))
				var got, want []string
				for _, v := range vis {
					got = append(got, v.ID)
				}
				for _, cam := range all {
					if ok, _, _ := s.Can(ctx, users[name], c, cam.ID); ok {
						want = append(want, cam.ID)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s %s: visible %v, Can allows %v", name, c, got, want)
				}
			}
		}
		vis := must(s.VisibleCameras(ctx, users["pol-viewer"], CapLiveView))
		if fmt.Sprint(len(vis)) != "4" { // own, own secret, granted, system grant
			t.Errorf("pol-viewer live: %d cameras, want 4: %+v", len(vis), vis)
		}
	})
}

// TestCanNeedsMatchingFacts: the pure rule refuses facts that do not fit
// together instead of guessing.
func TestCanNeedsMatchingFacts(t *testing.T) {
	u := User{ID: "u", AgencyID: "a", Role: RoleOperator}
	cam := Camera{ID: "c", SystemID: "s"}
	for _, tc := range []struct {
		name string
		f    Facts
	}{
		{"wrong agency", Facts{User: u, Agency: Agency{ID: "b"}, Camera: cam, System: System{ID: "s", ManagingAgency: "a"}}},
		{"wrong system", Facts{User: u, Agency: Agency{ID: "a"}, Camera: cam, System: System{ID: "t", ManagingAgency: "a"}}},
		{"ict admin role outside ICT", Facts{User: User{AgencyID: "a", Role: RoleICTAdmin}, Agency: Agency{ID: "a"}, Camera: cam, System: System{ID: "s", ManagingAgency: "x"}}},
	} {
		if ok, why := Can(tc.f, CapLiveView); ok {
			t.Errorf("%s: allowed (%s)", tc.name, why)
		}
	}
}

// TestCanJudgesGrants: the pure rule itself checks each grant (the store
// also pre-selects live ones, so this is tested without it).
func TestCanJudgesGrants(t *testing.T) {
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	u := User{ID: "u", AgencyID: "a", Role: RoleOperator}
	cam := Camera{ID: "c", SystemID: "s"}
	base := Facts{User: u, Agency: Agency{ID: "a"}, Camera: cam, System: System{ID: "s", ManagingAgency: "b"}, Now: now}
	live := Grant{ID: "g", AgencyID: "a", CameraID: "c", Capabilities: []Capability{CapLiveView}, Expires: now.Add(time.Hour)}
	for _, tc := range []struct {
		name string
		edit func(g *Grant)
		want bool
	}{
		{"live", func(*Grant) {}, true},
		{"system grant", func(g *Grant) { g.CameraID, g.SystemID = "", "s" }, true},
		{"expired", func(g *Grant) { g.Expires = now }, false},
		{"revoked", func(g *Grant) { g.Revoked = now.Add(-time.Minute) }, false},
		{"other agency", func(g *Grant) { g.AgencyID = "z" }, false},
		{"other camera", func(g *Grant) { g.CameraID = "d" }, false},
		{"other system", func(g *Grant) { g.CameraID, g.SystemID = "", "t" }, false},
		{"without the capability", func(g *Grant) { g.Capabilities = []Capability{CapEvents} }, false},
	} {
		g := live
		tc.edit(&g)
		f := base
		f.Grants = []Grant{g}
		if ok, why := Can(f, CapLiveView); ok != tc.want {
			t.Errorf("%s: %v (%s), want %v", tc.name, ok, why, tc.want)
		}
	}
}
