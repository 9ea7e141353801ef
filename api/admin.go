package api

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/matthan/matthan/api/auth"
	"github.com/matthan/matthan/api/store"
)

// requireICTAdmin answers 403 and returns false unless the caller is the
// ICT department's administrator.
func requireICTAdmin(w http.ResponseWriter, p *principal, what string) bool {
	if !p.ictAdmin() {
		forbidden(w, what+" (ICT department administrator only)")
		return false
	}
	return true
}

// listAgencies lists every agency for the ICT administrator, the
// caller's own agency for everyone else.
func (s *Server) listAgencies(w http.ResponseWriter, r *http.Request, p *principal) {
	var out []store.Agency
	var err error
	if p.ictAdmin() {
		out, err = s.Store.Agencies(r.Context())
	} else {
		var a store.Agency
		a, err = s.Store.Agency(r.Context(), p.user().AgencyID)
		out = []store.Agency{a}
	}
	if err != nil {
		s.fail(w, "list agencies", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"agencies": out})
}

// agencyBody is an agency a client sends.
type agencyBody struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Functions []store.Purpose `json:"functions"`
}

// createAgency registers an agency (ICT administrator). The ICT
// department itself is created with `matthan admin`.
func (s *Server) createAgency(w http.ResponseWriter, r *http.Request, p *principal) {
	if !requireICTAdmin(w, p, "create agencies") {
		return
	}
	var b agencyBody
	if !readJSON(w, r, &b) {
		return
	}
	a, err := s.Store.CreateAgency(r.Context(), p.actor(), store.Agency{ID: b.ID, Name: b.Name, Functions: b.Functions})
	if err != nil {
		s.fail(w, "create agency", err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// updateAgency changes an agency's name and functions (ICT
// administrator); other agencies' ids are 404 to everyone else.
func (s *Server) updateAgency(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	if !p.ictAdmin() {
		if id != p.user().AgencyID {
			notFound(w, "agency")
		} else {
			forbidden(w, "change agencies (ICT department administrator only)")
		}
		return
	}
	var b agencyBody
	if !readJSON(w, r, &b) {
		return
	}
	a, err := s.Store.UpdateAgency(r.Context(), p.actor(), store.Agency{ID: id, Name: b.Name, Functions: b.Functions})
	if err != nil {
		s.fail(w, "update agency", err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// listSystems lists every system for the ICT administrator, else the
// systems the caller's agency manages or operates.
func (s *Server) listSystems(w http.ResponseWriter, r *http.Request, p *principal) {
	all, err := s.Store.Systems(r.Context())
	if err != nil {
		s.fail(w, "list systems", err)
		return
	}
	out := []store.System{}
	for _, y := range all {
		if p.ictAdmin() || y.Manages(p.user().AgencyID) {
			out = append(out, y)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"systems": out})
}

// systemBody is a system a client sends.
type systemBody struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Tier           store.Tier `json:"tier"`
	ManagingAgency string     `json:"managing_agency"`
	OperatingUnit  string     `json:"operating_unit"`
}

func (b systemBody) system() store.System {
	return store.System{ID: b.ID, Name: b.Name, Tier: b.Tier, ManagingAgency: b.ManagingAgency, OperatingUnit: b.OperatingUnit}
}

// createSystem registers a camera system (ICT administrator).
func (s *Server) createSystem(w http.ResponseWriter, r *http.Request, p *principal) {
	if !requireICTAdmin(w, p, "create systems") {
		return
	}
	var b systemBody
	if !readJSON(w, r, &b) {
		return
	}
	y, err := s.Store.CreateSystem(r.Context(), p.actor(), b.system())
	if err != nil {
		s.fail(w, "create system", err)
		return
	}
	writeJSON(w, http.StatusCreated, y)
}

// updateSystem changes a system (ICT administrator); systems the caller's
// agency does not run are 404 to everyone else.
func (s *Server) updateSystem(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	if !p.ictAdmin() {
		y, err := s.Store.System(r.Context(), id)
		s.refuseChange(w, "update system", "system", err, err == nil && y.Manages(p.user().AgencyID),
			"change systems (ICT department administrator only)")
		return
	}
	var b systemBody
	if !readJSON(w, r, &b) {
		return
	}
	y := b.system()
	y.ID = id
	out, err := s.Store.UpdateSystem(r.Context(), p.actor(), y)
	if err != nil {
		s.fail(w, "update system", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// managesUser reports whether the caller administers account u: the ICT
// administrator every account, a system administrator the accounts of
// their own agency but ICT administrators'.
func managesUser(p *principal, u store.User) bool {
	if p.ictAdmin() {
		return true
	}
	return p.user().Role == store.RoleSystemAdmin && u.AgencyID == p.user().AgencyID && u.Role != store.RoleICTAdmin
}

// listUsers lists the accounts the caller administers.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p *principal) {
	if !p.ictAdmin() && p.user().Role != store.RoleSystemAdmin {
		forbidden(w, "list accounts (administrators only)")
		return
	}
	all, err := s.Store.Users(r.Context())
	if err != nil {
		s.fail(w, "list users", err)
		return
	}
	out := []store.User{}
	for _, u := range all {
		if managesUser(p, u) {
			out = append(out, u)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// userBody is an account a client sends.
type userBody struct {
	AgencyID    string     `json:"agency_id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	Role        store.Role `json:"role"`
	Disabled    bool       `json:"disabled"`
	// Password is the first password (create only); the user must change
	// it at the first login.
	Password string `json:"password,omitempty"`
}

// createUser makes an account in an agency the caller administers, with
// a first password the user must change.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, p *principal) {
	var b userBody
	if !readJSON(w, r, &b) {
		return
	}
	u := store.User{AgencyID: b.AgencyID, Username: store.NormalizeUsername(b.Username), DisplayName: b.DisplayName,
		Role: b.Role, Disabled: b.Disabled, MustChangePassword: true}
	if !managesUser(p, u) {
		forbidden(w, "create accounts outside your agency or with that role")
		return
	}
	if err := auth.CheckPassword(u.Username, b.Password); err != nil {
		s.fail(w, "create user", err)
		return
	}
	// The account starts with an unusable hash of a random secret, then
	// auth sets the real one with its own costs.
	placeholder, err := placeholderHash()
	if err != nil {
		s.fail(w, "create user", err)
		return
	}
	created, err := s.Store.CreateUser(r.Context(), p.actor(), u, placeholder)
	if err != nil {
		s.fail(w, "create user", err)
		return
	}
	if err := s.Auth.SetPassword(r.Context(), p.actor(), created.ID, b.Password); err != nil {
		s.fail(w, "create user", err)
		return
	}
	if created, err = s.Store.User(r.Context(), created.ID); err != nil {
		s.fail(w, "create user", err)
		return
	}
	writeJSON(w, http.StatusCreated, created)
}

// placeholderHash is an argon2id hash of 32 random bytes nobody knows.
func placeholderHash() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return auth.HashPassword(base64.RawURLEncoding.EncodeToString(b), auth.Params{Memory: 8, Time: 1, Threads: 1})
}

// targetUser finds account id among those the caller administers:
// others are 404.
func (s *Server) targetUser(w http.ResponseWriter, r *http.Request, p *principal) (store.User, bool) {
	u, err := s.Store.User(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !managesUser(p, u)) {
		notFound(w, "user")
		return store.User{}, false
	}
	if err != nil {
		s.fail(w, "user", err)
		return store.User{}, false
	}
	return u, true
}

// updateUser changes an account's display name, role, agency and
// disabled flag.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, p *principal) {
	old, ok := s.targetUser(w, r, p)
	if !ok {
		return
	}
	var b userBody
	if !readJSON(w, r, &b) {
		return
	}
	if b.Password != "" {
		writeError(w, http.StatusBadRequest, "password: set it with POST /api/v1/users/{id}/password")
		return
	}
	if b.AgencyID == "" {
		b.AgencyID = old.AgencyID
	}
	u := old
	u.AgencyID, u.DisplayName, u.Role, u.Disabled = b.AgencyID, b.DisplayName, b.Role, b.Disabled
	if !managesUser(p, u) {
		forbidden(w, "move accounts outside your agency or give that role")
		return
	}
	out, err := s.Store.UpdateUser(r.Context(), p.actor(), u)
	if err != nil {
		s.fail(w, "update user", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// resetPassword sets another user's password; they must change it at the
// next login.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request, p *principal) {
	u, ok := s.targetUser(w, r, p)
	if !ok {
		return
	}
	var b struct {
		Password string `json:"password"`
	}
	if !readJSON(w, r, &b) {
		return
	}
	if err := s.Auth.SetPassword(r.Context(), p.actor(), u.ID, b.Password); err != nil {
		s.fail(w, "reset password", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// unlockUser ends a lockout.
func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request, p *principal) {
	u, ok := s.targetUser(w, r, p)
	if !ok {
		return
	}
	out, err := s.Store.Unlock(r.Context(), p.actor(), u.ID)
	if err != nil {
		s.fail(w, "unlock user", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// listGrants lists every grant for the ICT administrator, the grants to
// the caller's agency for everyone else.
func (s *Server) listGrants(w http.ResponseWriter, r *http.Request, p *principal) {
	f := store.GrantFilter{}
	if !p.ictAdmin() {
		f.AgencyID = p.user().AgencyID
	}
	if r.URL.Query().Get("live") == "true" {
		f.LiveAt = s.now()
	}
	out, err := s.Store.Grants(r.Context(), f)
	if err != nil {
		s.fail(w, "list grants", err)
		return
	}
	if out == nil {
		out = []store.Grant{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"grants": out})
}

// grantBody is a grant a client sends.
type grantBody struct {
	AgencyID     string             `json:"agency_id"`
	CameraID     string             `json:"camera_id"`
	SystemID     string             `json:"system_id"`
	Capabilities []store.Capability `json:"capabilities"`
	Purpose      store.Purpose      `json:"purpose"`
	PurposeText  string             `json:"purpose_text"`
	ApprovalRef  string             `json:"approval_ref"`
	ApprovalDate time.Time          `json:"approval_date"`
	Expires      time.Time          `json:"expires"`
}

// createGrant grants an agency access (ICT administrator, R-7.3); the
// store refuses a grant outside the agency's function without the
// approval and a state-secret camera.
func (s *Server) createGrant(w http.ResponseWriter, r *http.Request, p *principal) {
	if !requireICTAdmin(w, p, "grant access") {
		return
	}
	var b grantBody
	if !readJSON(w, r, &b) {
		return
	}
	g, err := s.Store.CreateGrant(r.Context(), p.actor(), store.Grant{AgencyID: b.AgencyID, CameraID: b.CameraID,
		SystemID: b.SystemID, Capabilities: b.Capabilities, Purpose: b.Purpose, PurposeText: b.PurposeText,
		ApprovalRef: b.ApprovalRef, ApprovalDate: b.ApprovalDate, Expires: b.Expires})
	if err != nil {
		s.fail(w, "create grant", err)
		return
	}
	writeJSON(w, http.StatusCreated, g)
}

// revokeGrant ends a grant (ICT administrator); grants to other agencies
// are 404 to everyone else.
func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	if !p.ictAdmin() {
		g, err := s.Store.Grant(r.Context(), id)
		s.refuseChange(w, "revoke grant", "grant", err, err == nil && g.AgencyID == p.user().AgencyID,
			"revoke grants (ICT department administrator only)")
		return
	}
	g, err := s.Store.RevokeGrant(r.Context(), p.actor(), id)
	if err != nil {
		s.fail(w, "revoke grant", err)
		return
	}
	writeJSON(w, http.StatusOK, g)
}

// incidentView is an incident with its overdue flag.
type incidentView struct {
	store.Incident
	Overdue bool `json:"overdue"`
}

// listIncidents lists the incidents of the cameras the caller may use
// (?camera=, ?open=true, ?overdue=true narrow it).
func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request, p *principal) {
	q := r.URL.Query()
	now := s.now()
	f := store.IncidentFilter{CameraID: q.Get("camera"), OpenOnly: q.Get("open") == "true"}
	if q.Get("overdue") == "true" {
		f.OverdueAt = now
	}
	if f.CameraID != "" && !s.requireCamera(w, r, p, "", f.CameraID) {
		return
	}
	vis, err := s.visible(r.Context(), p)
	if err != nil {
		s.fail(w, "list incidents", err)
		return
	}
	all, err := s.Store.Incidents(r.Context(), f)
	if err != nil {
		s.fail(w, "list incidents", err)
		return
	}
	out := []incidentView{}
	for _, in := range all {
		if vis[in.CameraID] != nil {
			out = append(out, incidentView{Incident: in, Overdue: in.Overdue(now)})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": out})
}

// incidentBody is an incident a user files.
type incidentBody struct {
	CameraID string `json:"camera_id"`
	Kind     string `json:"kind"`
	Detail   string `json:"detail"`
}

// fileIncident opens an incident about a camera the caller may use
// with a 24-hour deadline.
func (s *Server) fileIncident(w http.ResponseWriter, r *http.Request, p *principal) {
	var b incidentBody
	if !readJSON(w, r, &b) {
		return
	}
	if !s.requireCamera(w, r, p, "", b.CameraID) {
		return
	}
	if b.Kind == "" {
		b.Kind = "user.report"
	}
	in, opened, err := s.Store.OpenIncident(r.Context(), p.actor(),
		store.Incident{CameraID: b.CameraID, Kind: b.Kind, Detail: b.Detail, Source: store.SourceUser})
	if err != nil {
		s.fail(w, "file incident", err)
		return
	}
	status := http.StatusCreated
	if !opened {
		status = http.StatusOK // the camera's open incident of that kind
	}
	w.Header().Set("X-Incident-Opened", strconv.FormatBool(opened))
	writeJSON(w, status, incidentView{Incident: in, Overdue: in.Overdue(s.now())})
}

// closeIncident closes an incident of a camera the caller administers
// (the operating unit handles incidents, R-11.1).
func (s *Server) closeIncident(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	all, err := s.Store.Incidents(r.Context(), store.IncidentFilter{})
	if err != nil {
		s.fail(w, "close incident", err)
		return
	}
	var found *store.Incident
	for i := range all {
		if all[i].ID == id {
			found = &all[i]
		}
	}
	if found == nil {
		notFound(w, "incident")
		return
	}
	caps, err := s.capsOn(r.Context(), p, found.CameraID)
	if err != nil {
		s.fail(w, "close incident", err)
		return
	}
	if len(caps) == 0 {
		notFound(w, "incident")
		return
	}
	if ok, err := s.managesCamera(r.Context(), p, found.CameraID); err != nil || !ok {
		if err != nil {
			s.fail(w, "close incident", err)
		} else {
			forbidden(w, "close incidents of camera "+found.CameraID)
		}
		return
	}
	var b struct {
		Resolution string `json:"resolution"`
	}
	if !readJSON(w, r, &b) {
		return
	}
	in, err := s.Store.CloseIncident(r.Context(), p.actor(), id, b.Resolution)
	if err != nil {
		s.fail(w, "close incident", err)
		return
	}
	writeJSON(w, http.StatusOK, incidentView{Incident: in, Overdue: false})
}

// refuseChange answers a caller who may not change an object it looked up
// (err from the look-up): 404 when the object does not exist or is not
// visible to the caller, so ids of others' objects reveal nothing; 403 with
// the rule when the caller sees it but may not change it.
func (s *Server) refuseChange(w http.ResponseWriter, op, what string, err error, visible bool, rule string) {
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		s.fail(w, op, err)
	case !visible:
		notFound(w, what)
	default:
		forbidden(w, rule)
	}
}
