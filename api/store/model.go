package store

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Tier is a camera system's level in the regulation (Art. 3).
type Tier int

// The tiers.
const (
	// TierI is the provincial IOC system run by the ICT department.
	TierI Tier = 1
	// TierII are systems of provincial or district agencies.
	TierII Tier = 2
	// TierIII are commune systems and voluntarily connected private cameras.
	TierIII Tier = 3
)

// Role is what a user may do; the agency decides where (see Can).
type Role string

// The roles.
const (
	// RoleICTAdmin is the ICT department's administrator: every camera and
	// every feature. Only users of the ICT department have it.
	RoleICTAdmin Role = "ict_admin"
	// RoleSystemAdmin administers its agency's systems, with every
	// capability on the cameras it may see.
	RoleSystemAdmin Role = "system_admin"
	// RoleOperator watches, plays back, exports and reads events and
	// statistics.
	RoleOperator Role = "operator"
	// RoleViewer watches live and reads events and statistics; no playback
	// and no export.
	RoleViewer Role = "viewer"
	// RoleAuditor reads the audit log and reports, and no camera data
	// (least privilege, R-10.1).
	RoleAuditor Role = "auditor"
)

// Roles lists every role.
var Roles = []Role{RoleICTAdmin, RoleSystemAdmin, RoleOperator, RoleViewer, RoleAuditor}

// IsAdmin reports whether the role administers accounts or systems: its
// passwords expire.
func (r Role) IsAdmin() bool { return r == RoleICTAdmin || r == RoleSystemAdmin }

// Capability is one kind of use of a camera's data.
type Capability string

// The capabilities a grant can carry.
const (
	// CapLiveView is watching the live stream.
	CapLiveView Capability = "live_view"
	// CapPlayback is watching recordings.
	CapPlayback Capability = "playback"
	// CapEvents is reading events (violations, alerts).
	CapEvents Capability = "events"
	// CapStatistics is reading traffic statistics.
	CapStatistics Capability = "statistics"
	// CapExport is extracting evidence clips.
	CapExport Capability = "export"
)

// Capabilities lists every capability.
var Capabilities = []Capability{CapLiveView, CapPlayback, CapEvents, CapStatistics, CapExport}

// roleCaps is what each role may do on a camera it can reach.
var roleCaps = map[Role][]Capability{
	RoleICTAdmin:    Capabilities,
	RoleSystemAdmin: Capabilities,
	RoleOperator:    Capabilities,
	RoleViewer:      {CapLiveView, CapEvents, CapStatistics},
	RoleAuditor:     nil,
}

// Allows reports whether the role may use capability c at all.
func (r Role) Allows(c Capability) bool { return slices.Contains(roleCaps[r], c) }

// Purpose is what camera data serves.
type Purpose string

// The purposes of.
const (
	PurposeSecurity   Purpose = "security_order"    // security and order
	PurposeTraffic    Purpose = "traffic_safety"    // traffic safety
	PurposeUrban      Purpose = "urban_order"       // urban order
	PurposeRescue     Purpose = "rescue"            // rescue
	PurposeForestFire Purpose = "forest_fire"       // forest-fire monitoring
	PurposeSector     Purpose = "sector_management" // sector management
	PurposeOther      Purpose = "other"             // other, with a text
)

// Purposes lists every purpose.
var Purposes = []Purpose{PurposeSecurity, PurposeTraffic, PurposeUrban, PurposeRescue,
	PurposeForestFire, PurposeSector, PurposeOther}

// IncidentSource says who opened an incident.
type IncidentSource string

// The incident sources.
const (
	// SourceAuto is an incident opened by the engine (camera health, R-11.2).
	SourceAuto IncidentSource = "auto"
	// SourceUser is an incident filed by a user.
	SourceUser IncidentSource = "user"
)

// idPattern is what ids given by callers look like (as camera ids in the
// engine's configuration).
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// checkID checks an id given by a caller.
func checkID(field, id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%w: %s %q: want 1 to 64 letters, digits, '-' or '_'", ErrInvalid, field, id)
	}
	return nil
}

// checkText checks a required free-text field.
func checkText(field, v string, max int) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("%w: %s is required", ErrInvalid, field)
	}
	if len(v) > max {
		return fmt.Errorf("%w: %s: longer than %d bytes", ErrInvalid, field, max)
	}
	return nil
}

// checkPurposes checks a list of purposes.
func checkPurposes(field string, ps []Purpose) error {
	for _, p := range ps {
		if !slices.Contains(Purposes, p) {
			return fmt.Errorf("%w: %s %q: want one of %v", ErrInvalid, field, p, Purposes)
		}
	}
	return nil
}

// joinList stores a list as comma-separated text.
func joinList[T ~string](l []T) string {
	s := make([]string, len(l))
	for i, v := range l {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

// splitList reads a list stored by joinList.
func splitList[T ~string](s string) []T {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]T, len(parts))
	for i, p := range parts {
		out[i] = T(p)
	}
	return out
}
