package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/matthan/matthan/api/store"
)

// cameraView is a registered camera as the API shows it: the registry's
// fields (never the stream URL or credentials, R-5.1), what the caller
// may do with it, and the engine's live status when it runs the camera.
type cameraView struct {
	store.Camera
	// System names the camera's system, its tier and its agencies, which
	// users outside the managing agency cannot list otherwise (the console
	// tells from them whether an export shares data outside, R-18.3).
	System       *systemRef         `json:"system,omitempty"`
	Capabilities []store.Capability `json:"capabilities"`
	Status       *CameraStatus      `json:"status,omitempty"`
}

// systemRef is what a camera's view tells of its system.
type systemRef struct {
	Name           string     `json:"name"`
	Tier           store.Tier `json:"tier"`
	ManagingAgency string     `json:"managing_agency"`
	OperatingUnit  string     `json:"operating_unit,omitempty"`
}

// systemRefs returns the name and tier of every system by id.
func (s *Server) systemRefs(r *http.Request) (map[string]systemRef, error) {
	systems, err := s.Store.Systems(r.Context())
	if err != nil {
		return nil, err
	}
	out := make(map[string]systemRef, len(systems))
	for _, y := range systems {
		out[y.ID] = systemRef{Name: y.Name, Tier: y.Tier, ManagingAgency: y.ManagingAgency, OperatingUnit: y.OperatingUnit}
	}
	return out, nil
}

// statuses returns the engine's camera status by id, with any URL in an
// error text redacted.
func (s *Server) statuses() map[string]CameraStatus {
	out := map[string]CameraStatus{}
	if s.Cameras == nil {
		return out
	}
	for _, st := range s.Cameras() {
		st.LastError = scrubURLs(st.LastError)
		out[st.ID] = st
	}
	return out
}

// view returns the view of a camera.
func view(a *camAccess, st map[string]CameraStatus, systems map[string]systemRef) cameraView {
	v := cameraView{Camera: a.camera, Capabilities: a.caps}
	if y, ok := systems[a.camera.SystemID]; ok {
		v.System = &y
	}
	if v.Capabilities == nil {
		v.Capabilities = []store.Capability{}
	}
	if s, ok := st[a.camera.ID]; ok {
		v.Status = &s
	}
	return v
}

// listCameras lists the cameras the caller may use, with any capability.
func (s *Server) listCameras(w http.ResponseWriter, r *http.Request, p *principal) {
	vis, err := s.visible(r.Context(), p)
	if err != nil {
		s.fail(w, "list cameras", err)
		return
	}
	systems, err := s.systemRefs(r)
	if err != nil {
		s.fail(w, "list cameras", err)
		return
	}
	st := s.statuses()
	out := make([]cameraView, 0, len(vis))
	for _, a := range vis {
		out = append(out, view(a, st, systems))
	}
	slices.SortFunc(out, func(a, b cameraView) int { return strings.Compare(a.ID, b.ID) })
	writeJSON(w, http.StatusOK, map[string]any{"cameras": out})
}

// getCamera returns one camera the caller may use; any other id is 404.
func (s *Server) getCamera(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	caps, err := s.capsOn(r.Context(), p, id)
	if err != nil {
		s.fail(w, "get camera", err)
		return
	}
	if len(caps) == 0 {
		notFound(w, "camera")
		return
	}
	cam, err := s.Store.Camera(r.Context(), id)
	if err != nil {
		s.fail(w, "get camera", err)
		return
	}
	systems, err := s.systemRefs(r)
	if err != nil {
		s.fail(w, "get camera", err)
		return
	}
	writeJSON(w, http.StatusOK, view(&camAccess{camera: cam, caps: caps}, s.statuses(), systems))
}

// secretBody is a camera's stream URL and credentials as a client sends
// them: write-only.
type secretBody struct {
	StreamURL    string `json:"stream_url"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	SubStreamURL string `json:"sub_stream_url"`
}

func (b *secretBody) secret() store.CameraSecret {
	if b == nil {
		return store.CameraSecret{}
	}
	return store.CameraSecret{StreamURL: b.StreamURL, Username: b.Username, Password: b.Password, SubStreamURL: b.SubStreamURL}
}

// cameraBody is the registry part of a camera a client sends.
type cameraBody struct {
	ID          string          `json:"id"`
	SystemID    string          `json:"system_id"`
	Name        string          `json:"name"`
	Lat         float64         `json:"lat"`
	Lon         float64         `json:"lon"`
	Address     string          `json:"address"`
	District    string          `json:"district"`
	Installed   time.Time       `json:"installed"`
	ApprovalRef string          `json:"approval_ref"`
	Public      bool            `json:"public"`
	StateSecret bool            `json:"state_secret"`
	Purposes    []store.Purpose `json:"purposes"`
	// Secret is accepted on create only.
	Secret *secretBody `json:"secret,omitempty"`
}

func (b cameraBody) camera() store.Camera {
	return store.Camera{ID: b.ID, SystemID: b.SystemID, Name: b.Name, Lat: b.Lat, Lon: b.Lon, Address: b.Address,
		District: b.District, Installed: b.Installed, ApprovalRef: b.ApprovalRef, Public: b.Public,
		StateSecret: b.StateSecret, Purposes: b.Purposes}
}

// requireSystem answers 400 unless the caller administers system id
// (unknown and not administered alike).
func (s *Server) requireSystem(w http.ResponseWriter, r *http.Request, p *principal, id string) bool {
	ok, err := s.managesSystem(r.Context(), p, id)
	if err != nil {
		s.fail(w, "access", err)
		return false
	}
	if !ok {
		writeError(w, http.StatusBadRequest, "system_id "+quote(id)+": no such system that you administer")
		return false
	}
	return true
}

// createCamera registers a camera in a system the caller administers.
func (s *Server) createCamera(w http.ResponseWriter, r *http.Request, p *principal) {
	var b cameraBody
	if !readJSON(w, r, &b) {
		return
	}
	if !s.requireSystem(w, r, p, b.SystemID) {
		return
	}
	cam, err := s.Store.CreateCamera(r.Context(), p.actor(), b.camera(), b.Secret.secret())
	if err != nil {
		s.fail(w, "create camera", err)
		return
	}
	writeJSON(w, http.StatusCreated, cam)
}

// updateCamera changes a camera's registry fields; the caller must
// administer its system, and the new one when it moves.
func (s *Server) updateCamera(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	if !s.requireManagedCamera(w, r, p, id) {
		return
	}
	var b cameraBody
	if !readJSON(w, r, &b) {
		return
	}
	if b.Secret != nil {
		writeError(w, http.StatusBadRequest, "secret: set it with PUT /api/v1/cameras/{id}/secret")
		return
	}
	if b.ID != "" && b.ID != id {
		writeError(w, http.StatusBadRequest, "id: the body's id differs from the path's")
		return
	}
	if !s.requireSystem(w, r, p, b.SystemID) {
		return
	}
	c := b.camera()
	c.ID = id
	cam, err := s.Store.UpdateCamera(r.Context(), p.actor(), c)
	if err != nil {
		s.fail(w, "update camera", err)
		return
	}
	writeJSON(w, http.StatusOK, cam)
}

// setCameraSecret replaces a camera's stream URL and credentials. They
// are write-only: the answer is 204 and says nothing of them.
func (s *Server) setCameraSecret(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	if !s.requireManagedCamera(w, r, p, id) {
		return
	}
	var b secretBody
	if !readJSON(w, r, &b) {
		return
	}
	if err := s.Store.SetCameraSecret(r.Context(), p.actor(), id, b.secret()); err != nil {
		s.fail(w, "set camera secret", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// quote quotes an id for a message.
func quote(s string) string { return strconv.Quote(s) }
