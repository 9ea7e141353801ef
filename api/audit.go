package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/store"
)

// auditQuery pages through the audit log for auditors and the
// ICT department's administrator. Auditors outside the ICT department see
// the entries of their own agency's users only.
func (s *Server) auditQuery(w http.ResponseWriter, r *http.Request, p *principal) {
	u := p.user()
	if !p.ictAdmin() && u.Role != store.RoleAuditor {
		forbidden(w, "read the audit log (auditors and the ICT administrator only)")
		return
	}
	ag, err := s.Store.Agency(r.Context(), u.AgencyID)
	if err != nil {
		s.fail(w, "audit query", err)
		return
	}
	q := r.URL.Query()
	f := audit.Filter{UserID: q.Get("user"), AgencyID: q.Get("agency"), Action: q.Get("action"), Object: q.Get("object")}
	if f.From, err = parseTime("from", q.Get("from")); err == nil {
		f.To, err = parseTime("to", q.Get("to"))
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	for _, n := range []struct {
		name string
		v    *int64
	}{{"after", &f.After}, {"before", &f.Before}} {
		if v := q.Get(n.name); v != "" {
			if *n.v, err = strconv.ParseInt(v, 10, 64); err != nil || *n.v < 0 {
				writeError(w, http.StatusBadRequest, n.name+": want a sequence number")
				return
			}
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > audit.MaxLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: want a whole number from 1 to %d", audit.MaxLimit))
			return
		}
	}
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		f.Newest = true
	default:
		writeError(w, http.StatusBadRequest, "order: want asc or desc")
		return
	}
	if !ag.ICT && u.Role != store.RoleICTAdmin {
		if f.AgencyID != "" && f.AgencyID != u.AgencyID {
			writeJSON(w, http.StatusOK, map[string]any{"entries": []audit.Entry{}})
			return
		}
		f.AgencyID = u.AgencyID
	}
	entries, err := s.Store.Audit().Query(r.Context(), f)
	if err != nil {
		s.fail(w, "audit query", err)
		return
	}
	if entries == nil {
		entries = []audit.Entry{}
	}
	out := map[string]any{"entries": entries}
	if n := len(entries); n > 0 {
		// The cursor of the next page: after= (or before= newest first).
		out["next"] = entries[n-1].Seq
	}
	writeJSON(w, http.StatusOK, out)
}
