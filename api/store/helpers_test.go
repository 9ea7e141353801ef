package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/matthan/matthan/api/audit"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// testKey is a fixed camera-secret key for tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// admin is the actor of fixture changes.
var admin = audit.Actor{UserID: "setup", Address: "test"}

// openTest opens a store in a temporary folder with a test clock.
func openTest(t *testing.T) (*Store, *clock, string) {
	t.Helper()
	clk := &clock{t: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(context.Background(), path, Options{Key: testKey, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clk, path
}

// must returns v, and panics (failing the test) on err: for fixtures.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// world is the access fixture: the ICT department, the police (security
// and traffic), the forest rangers (forest fire), a commune; their systems
// and cameras, and grants to the police.
type world struct {
	ict, police, forest, commune Agency
}

// Camera ids of the fixture.
const (
	camOwn       = "police-1"      // police system
	camOwnSecret = "police-secret" // police system, state secret
	camGranted   = "forest-1"      // forest system, camera grant {live_view, events}
	camExpired   = "forest-2"      // forest system, grant that expires
	camRevoked   = "forest-3"      // forest system, revoked grant
	camUngranted = "commune-1"     // commune system, no grant
	camPublic    = "commune-pub"   // commune system, public, no grant
	camSysGrant  = "secret-open"   // secret system (forest), covered by a system grant
	camSecret    = "secret-1"      // secret system, state secret, covered by the same system grant
	camIOC       = "ioc-1"         // tier I system of the ICT department
)

func buildWorld(t *testing.T, s *Store, clk *clock) world {
	t.Helper()
	ctx := context.Background()
	var w world
	w.ict = must(s.CreateAgency(ctx, admin, Agency{ID: "ict", Name: "Sở TT&TT", ICT: true}))
	w.police = must(s.CreateAgency(ctx, admin, Agency{ID: "police", Name: "Công an tỉnh",
		Functions: []Purpose{PurposeSecurity, PurposeTraffic}}))
	w.forest = must(s.CreateAgency(ctx, admin, Agency{ID: "forest", Name: "Kiểm lâm", Functions: []Purpose{PurposeForestFire}}))
	w.commune = must(s.CreateAgency(ctx, admin, Agency{ID: "commune", Name: "UBND xã", Functions: []Purpose{PurposeUrban}}))
	for _, y := range []System{
		{ID: "ioc", Name: "IOC", Tier: TierI, ManagingAgency: "ict"},
		{ID: "police-sys", Name: "Police", Tier: TierII, ManagingAgency: "police"},
		{ID: "forest-sys", Name: "Forest", Tier: TierII, ManagingAgency: "forest", OperatingUnit: "commune"},
		{ID: "commune-sys", Name: "Commune", Tier: TierIII, ManagingAgency: "commune"},
		{ID: "secret-sys", Name: "Secret", Tier: TierII, ManagingAgency: "forest"},
	} {
		must(s.CreateSystem(ctx, admin, y))
	}
	for _, c := range []Camera{
		{ID: camOwn, SystemID: "police-sys"},
		{ID: camOwnSecret, SystemID: "police-sys", StateSecret: true},
		{ID: camGranted, SystemID: "forest-sys"},
		{ID: camExpired, SystemID: "forest-sys"},
		{ID: camRevoked, SystemID: "forest-sys"},
		{ID: camUngranted, SystemID: "commune-sys"},
		{ID: camPublic, SystemID: "commune-sys", Public: true},
		{ID: camSysGrant, SystemID: "secret-sys"},
		{ID: camSecret, SystemID: "secret-sys", StateSecret: true},
		{ID: camIOC, SystemID: "ioc"},
	} {
		c.Name, c.Lat, c.Lon = c.ID, 21.38, 103.02
		must(s.CreateCamera(ctx, admin, c, CameraSecret{}))
	}
	year := clk.Now().Add(365 * 24 * time.Hour)
	must(s.CreateGrant(ctx, admin, Grant{AgencyID: "police", CameraID: camGranted,
		Capabilities: []Capability{CapLiveView, CapEvents}, Purpose: PurposeSecurity, Expires: year}))
	must(s.CreateGrant(ctx, admin, Grant{AgencyID: "police", CameraID: camExpired,
		Capabilities: Capabilities, Purpose: PurposeTraffic, Expires: clk.Now().Add(time.Hour)}))
	r := must(s.CreateGrant(ctx, admin, Grant{AgencyID: "police", CameraID: camRevoked,
		Capabilities: Capabilities, Purpose: PurposeTraffic, Expires: year}))
	must(s.RevokeGrant(ctx, admin, r.ID))
	must(s.CreateGrant(ctx, admin, Grant{AgencyID: "police", SystemID: "secret-sys",
		Capabilities: Capabilities, Purpose: PurposeForestFire, ApprovalRef: "123/QĐ-UBND",
		ApprovalDate: clk.Now().Add(-24 * time.Hour), Expires: year}))
	clk.Add(2 * time.Hour) // the camExpired grant has expired
	return w
}
