package api

import (
	"net/http"

	"github.com/matthan/matthan/api/store"
)

// dispositionRequest is the body of POST /api/v1/events/{id}/disposition.
type dispositionRequest struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

// mayDecide reports whether a role may confirm, reject or acknowledge
// events: the ones that act on them, not viewers or auditors.
func mayDecide(r store.Role) bool {
	return r == store.RoleICTAdmin || r == store.RoleSystemAdmin || r == store.RoleOperator
}

// setDisposition records the decision about an event: a violation
// confirmed or rejected (with a reason), an alert acknowledged. The
// caller needs the events capability on the event's camera (else 404, as
// for an unknown event) and an acting role (else 403); the decision must
// fit the event's type (else 400). The store audits it (event.review,
// event.acknowledge).
func (s *Server) setDisposition(w http.ResponseWriter, r *http.Request, p *principal) {
	ev, ok := s.visibleEvent(w, r, p)
	if !ok {
		return
	}
	if !mayDecide(p.user().Role) {
		s.refuseChange(w, "set disposition", "event", nil, true,
			"confirm, reject or acknowledge events (operators and administrators only)")
		return
	}
	var req dispositionRequest
	if !readJSON(w, r, &req) {
		return
	}
	d, err := s.Store.SetDisposition(r.Context(), p.actor(), store.Disposition{EventID: ev.ID, CameraID: ev.CameraID,
		EventType: ev.Type, Decision: store.Decision(req.Decision), Reason: req.Reason})
	if err != nil {
		s.fail(w, "set disposition", err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
