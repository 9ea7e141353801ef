package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/matthan/matthan/api/store"
)

// camAccess is a camera and what the caller may do with it.
type camAccess struct {
	camera store.Camera
	caps   []store.Capability
}

// visible returns the cameras the caller may use any capability on, with
// those capabilities, by id (store.VisibleCameras per capability).
func (s *Server) visible(ctx context.Context, p *principal) (map[string]*camAccess, error) {
	out := map[string]*camAccess{}
	for _, c := range store.Capabilities {
		if !p.user().Role.Allows(c) {
			continue
		}
		cams, err := s.Store.VisibleCameras(ctx, p.user(), c)
		if err != nil {
			return nil, err
		}
		for _, cam := range cams {
			a := out[cam.ID]
			if a == nil {
				a = &camAccess{camera: cam}
				out[cam.ID] = a
			}
			a.caps = append(a.caps, c)
		}
	}
	return out, nil
}

// visibleWith returns the ids of the cameras the caller may use c on.
func (s *Server) visibleWith(ctx context.Context, p *principal, c store.Capability) (map[string]store.Camera, error) {
	cams, err := s.Store.VisibleCameras(ctx, p.user(), c)
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.Camera, len(cams))
	for _, cam := range cams {
		out[cam.ID] = cam
	}
	return out, nil
}

// can reports whether the caller may use c on camera id; an unknown camera
// is a plain no, so that the caller answers 404 for both.
func (s *Server) can(ctx context.Context, p *principal, c store.Capability, id string) (bool, error) {
	ok, _, err := s.Store.Can(ctx, p.user(), c, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return ok, err
}

// capsOn returns what the caller may do with camera id (none for an
// unknown camera).
func (s *Server) capsOn(ctx context.Context, p *principal, id string) ([]store.Capability, error) {
	var caps []store.Capability
	for _, c := range store.Capabilities {
		if !p.user().Role.Allows(c) {
			continue
		}
		ok, err := s.can(ctx, p, c, id)
		if err != nil {
			return nil, err
		}
		if ok {
			caps = append(caps, c)
		}
	}
	return caps, nil
}

// requireCamera answers 404 and returns false unless the caller may use
// c on camera id (or, with c empty, any capability).
func (s *Server) requireCamera(w http.ResponseWriter, r *http.Request, p *principal, c store.Capability, id string) bool {
	var ok bool
	var err error
	if c == "" {
		var caps []store.Capability
		caps, err = s.capsOn(r.Context(), p, id)
		ok = len(caps) > 0
	} else {
		ok, err = s.can(r.Context(), p, c, id)
	}
	if err != nil {
		s.fail(w, "access", err)
		return false
	}
	if !ok {
		notFound(w, "camera")
		return false
	}
	return true
}

// managesSystem reports whether the caller administers system id: the
// ICT department's administrator every system, a system administrator
// the systems their agency manages or operates.
func (s *Server) managesSystem(ctx context.Context, p *principal, id string) (bool, error) {
	if p.ictAdmin() {
		return true, nil
	}
	if p.user().Role != store.RoleSystemAdmin {
		return false, nil
	}
	sys, err := s.Store.System(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sys.Manages(p.user().AgencyID), nil
}

// managesCamera reports whether the caller administers camera id (its
// system, see managesSystem).
func (s *Server) managesCamera(ctx context.Context, p *principal, id string) (bool, error) {
	cam, err := s.Store.Camera(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.managesSystem(ctx, p, cam.SystemID)
}

// requireManagedCamera answers 404 for a camera the caller may not see,
// 403 for one they see but do not administer, and returns whether they
// administer it.
func (s *Server) requireManagedCamera(w http.ResponseWriter, r *http.Request, p *principal, id string) bool {
	if !s.requireCamera(w, r, p, "", id) {
		return false
	}
	ok, err := s.managesCamera(r.Context(), p, id)
	if err != nil {
		s.fail(w, "access", err)
		return false
	}
	if !ok {
		forbidden(w, "administer camera "+id)
		return false
	}
	return true
}

// forbidden answers 403 for an action on an object the caller may see.
func forbidden(w http.ResponseWriter, what string) {
	writeError(w, http.StatusForbidden, fmt.Sprintf("not allowed to %s", what))
}

// hasCap reports whether caps holds c.
func hasCap(caps []store.Capability, c store.Capability) bool { return slices.Contains(caps, c) }
