package api

import "net/http"

// access is who may reach a route at all; handlers then apply the access
// rule to the objects asked for.
type access int

const (
	// accessAnonymous routes need no session.
	accessAnonymous access = iota
	// accessAny routes take any session, restricted ones too (the
	// password change, logout, who am I).
	accessAny
	// accessUser routes take unrestricted sessions only.
	accessUser
)

// route is one registered route.
type route struct {
	method, pattern string
	access          access
	handle          func(w http.ResponseWriter, r *http.Request, p *principal)
}

// routes lists every route of the API but /healthz and /metrics; the
// OpenAPI test checks this list against api/openapi.yaml.
func (s *Server) routes() []route {
	anon := func(h http.HandlerFunc) func(http.ResponseWriter, *http.Request, *principal) {
		return func(w http.ResponseWriter, r *http.Request, _ *principal) { h(w, r) }
	}
	return []route{
		{"GET", "/api/v1/openapi.yaml", accessAnonymous, anon(serveSpec)},
		{"POST", "/api/v1/login", accessAnonymous, anon(s.login)},
		{"POST", "/api/v1/logout", accessAny, s.logout},
		{"POST", "/api/v1/password", accessAny, s.changePassword},
		{"GET", "/api/v1/me", accessAny, s.me},

		{"GET", "/api/v1/cameras", accessUser, s.listCameras},
		{"POST", "/api/v1/cameras", accessUser, s.createCamera},
		{"GET", "/api/v1/cameras/{id}", accessUser, s.getCamera},
		{"PUT", "/api/v1/cameras/{id}", accessUser, s.updateCamera},
		{"PUT", "/api/v1/cameras/{id}/secret", accessUser, s.setCameraSecret},
		{"GET", "/api/v1/cameras/{id}/snapshot.jpg", accessUser, s.cameraSnapshot},
		{"GET", "/api/v1/cameras/{id}/scene", accessUser, s.getScene},
		{"PUT", "/api/v1/cameras/{id}/scene", accessUser, s.putScene},
		{"PUT", "/api/v1/cameras/{id}/signals/{signal}", accessUser, s.putSignal},

		{"GET", "/api/v1/events", accessUser, s.listEvents},
		{"GET", "/api/v1/events/stream", accessUser, s.stream},
		{"GET", "/api/v1/events/{id}", accessUser, s.getEvent},
		{"GET", "/api/v1/events/{id}/snapshot.jpg", accessUser, s.eventSnapshot},
		{"GET", "/api/v1/events/{id}/clip.mp4", accessUser, s.eventClip},
		{"POST", "/api/v1/events/{id}/disposition", accessUser, s.setDisposition},
		{"GET", "/api/v1/stats", accessUser, s.stats},

		{"GET", "/api/v1/audit", accessUser, s.auditQuery},

		{"POST", "/api/v1/evidence", accessUser, s.exportEvidence},
		{"GET", "/api/v1/evidence/{id}", accessUser, s.downloadEvidence},
		{"GET", "/api/v1/holds", accessUser, s.listHolds},
		{"POST", "/api/v1/holds", accessUser, s.placeHold},
		{"DELETE", "/api/v1/holds/{id}", accessUser, s.releaseHold},

		{"GET", "/api/v1/agencies", accessUser, s.listAgencies},
		{"POST", "/api/v1/agencies", accessUser, s.createAgency},
		{"PUT", "/api/v1/agencies/{id}", accessUser, s.updateAgency},
		{"GET", "/api/v1/systems", accessUser, s.listSystems},
		{"POST", "/api/v1/systems", accessUser, s.createSystem},
		{"PUT", "/api/v1/systems/{id}", accessUser, s.updateSystem},
		{"GET", "/api/v1/users", accessUser, s.listUsers},
		{"POST", "/api/v1/users", accessUser, s.createUser},
		{"PUT", "/api/v1/users/{id}", accessUser, s.updateUser},
		{"POST", "/api/v1/users/{id}/password", accessUser, s.resetPassword},
		{"POST", "/api/v1/users/{id}/unlock", accessUser, s.unlockUser},
		{"GET", "/api/v1/grants", accessUser, s.listGrants},
		{"POST", "/api/v1/grants", accessUser, s.createGrant},
		{"DELETE", "/api/v1/grants/{id}", accessUser, s.revokeGrant},
		{"GET", "/api/v1/incidents", accessUser, s.listIncidents},
		{"POST", "/api/v1/incidents", accessUser, s.fileIncident},
		{"POST", "/api/v1/incidents/{id}/close", accessUser, s.closeIncident},
		{"GET", "/api/v1/reports/accounts", accessUser, s.accountsReport},
		{"GET", "/api/v1/reports/compliance", accessUser, s.complianceReport},

		{"GET", "/public/v1/cameras", accessAnonymous, anon(s.publicCameras)},
		{"GET", "/public/v1/cameras/{id}/snapshot.jpg", accessAnonymous, anon(s.publicSnapshot)},
	}
}
