package store

import (
	"context"
	"fmt"
	"time"
)

// Facts are what the access rule looks at: the user, the user's agency,
// the camera, the camera's system, and the grants to the user's agency.
type Facts struct {
	// User is who asks; Agency is the user's agency.
	User   User
	Agency Agency
	// Camera is what is asked about; System is the camera's system.
	Camera Camera
	System System
	// Grants to the user's agency; Can itself keeps the live ones that
	// cover the camera.
	Grants []Grant
	// Now is the time grants are judged at.
	Now time.Time
}

// Can is the design's one access rule: whether the user may use
// capability c on the camera, and why. In order:
//
//  1. a disabled account, or a role that never has c, may not;
//  2. the ICT department's administrator may;
//  3. a state-secret camera is shown to no agency but its managing agency
//     and the ICT department; other users of the ICT department
//     still need rule 4 or 5;
//  4. the managing agency and the operating unit of the camera's system
//     may;
//  5. a live grant to the user's agency that covers the camera or its
//     system and carries c allows it;
//  6. nothing else does.
func Can(f Facts, c Capability) (bool, string) {
	u := f.User
	switch {
	case u.Disabled:
		return false, "account disabled"
	case u.AgencyID != f.Agency.ID:
		return false, "user's agency not given"
	case !u.Role.Allows(c):
		return false, fmt.Sprintf("role %s does not include %s", u.Role, c)
	case u.Role == RoleICTAdmin && f.Agency.ICT:
		return true, "ICT department administrator sees every camera (R-7.2)"
	case f.System.ID != f.Camera.SystemID:
		return false, "camera's system not given"
	case f.Camera.StateSecret && u.AgencyID != f.System.ManagingAgency && !f.Agency.ICT:
		return false, "state-secret camera of another agency (R-1.1)"
	case f.System.Manages(u.AgencyID):
		return true, fmt.Sprintf("the user's agency manages or operates system %s (R-7.4, R-8.3)", f.System.ID)
	}
	for _, g := range f.Grants {
		if g.AgencyID == u.AgencyID && g.Live(f.Now) && g.Covers(f.Camera) && g.Allows(c) {
			return true, fmt.Sprintf("grant %s for %s until %s (R-8.1)", g.ID, g.Purpose, g.Expires.Format(time.RFC3339))
		}
	}
	return false, fmt.Sprintf("no live grant of %s on camera %s to agency %s", c, f.Camera.ID, u.AgencyID)
}

// Can applies the access rule (the function Can) to a stored camera. An
// unknown camera is ErrNotFound; the HTTP layer answers 404 for it and
// for a denial alike, so that ids of other agencies' cameras reveal
// nothing.
func (s *Store) Can(ctx context.Context, u User, c Capability, cameraID string) (bool, string, error) {
	ag, err := getAgency(ctx, s.db, u.AgencyID)
	if err != nil {
		return false, "", fmt.Errorf("access: %w", err)
	}
	cam, err := getCamera(ctx, s.db, cameraID)
	if err != nil {
		return false, "", fmt.Errorf("access: %w", err)
	}
	sys, err := getSystem(ctx, s.db, cam.SystemID)
	if err != nil {
		return false, "", fmt.Errorf("access: %w", err)
	}
	now := s.now()
	gs, err := grants(ctx, s.db, GrantFilter{AgencyID: u.AgencyID, LiveAt: now})
	if err != nil {
		return false, "", fmt.Errorf("access: %w", err)
	}
	ok, why := Can(Facts{User: u, Agency: ag, Camera: cam, System: sys, Grants: gs, Now: now}, c)
	return ok, why, nil
}

// VisibleCameras returns the cameras the user may use capability c on, by
// id: the same rule as Can, applied to every camera.
func (s *Store) VisibleCameras(ctx context.Context, u User, c Capability) ([]Camera, error) {
	ag, err := getAgency(ctx, s.db, u.AgencyID)
	if err != nil {
		return nil, fmt.Errorf("visible cameras: %w", err)
	}
	cams, err := list(ctx, s.db, scanCamera, "SELECT "+cameraColumns+" FROM cameras ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("visible cameras: %w", err)
	}
	systems, err := list(ctx, s.db, scanSystem, "SELECT "+systemColumns+" FROM systems")
	if err != nil {
		return nil, fmt.Errorf("visible cameras: %w", err)
	}
	now := s.now()
	gs, err := grants(ctx, s.db, GrantFilter{AgencyID: u.AgencyID, LiveAt: now})
	if err != nil {
		return nil, fmt.Errorf("visible cameras: %w", err)
	}
	byID := make(map[string]System, len(systems))
	for _, y := range systems {
		byID[y.ID] = y
	}
	out := make([]Camera, 0, len(cams))
	for _, cam := range cams {
		if ok, _ := Can(Facts{User: u, Agency: ag, Camera: cam, System: byID[cam.SystemID], Grants: gs, Now: now}, c); ok {
			out = append(out, cam)
		}
	}
	return out, nil
}
