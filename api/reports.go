package api

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/ingest/record"
)

// Audit actions of this file: reading a report is an export of personal
// data (names, roles, logins) and of the registry.
const (
	ActionReportAccounts   = "report.accounts"
	ActionReportCompliance = "report.compliance"
)

// Report limits and references of the regulation.
const (
	// DefaultDormantDays is how many days without a login make an account
	// dormant in the account review unless ?dormant_days= says.
	DefaultDormantDays = 90
	// maxDormantDays bounds ?dormant_days= (ten years).
	maxDormantDays = 3650
	// ConnectDeadline is how soon after installation or change a camera
	// must be connected to tier I.
	ConnectDeadline = 5 * 24 * time.Hour
	// MinRetentionDays is the shortest recording retention the
	// regulation accepts.
	MinRetentionDays = 30
)

// reportZone is the province's time zone, in which uptime days are cut
// (Viet Nam keeps no daylight saving time, so the fixed offset is exact).
var reportZone = time.FixedZone("Asia/Ho_Chi_Minh", 7*60*60)

// reportScope is what part of the registry a caller's reports cover: the
// ICT department's administrator and auditors everything; a
// system administrator or an auditor of another agency the cameras of the
// systems that agency runs and the accounts of that agency.
type reportScope struct {
	all    bool
	agency string
	// systems are the systems the agency manages or operates (when !all).
	systems map[string]bool
}

// reportScopeOf answers 403 and returns false for callers who may read no
// report: operators and viewers.
func (s *Server) reportScopeOf(w http.ResponseWriter, r *http.Request, p *principal) (reportScope, bool) {
	u := p.user()
	if !p.ictAdmin() && u.Role != store.RoleAuditor && u.Role != store.RoleSystemAdmin {
		forbidden(w, "read reports (administrators and auditors only)")
		return reportScope{}, false
	}
	if p.ictAdmin() {
		return reportScope{all: true}, true
	}
	ag, err := s.Store.Agency(r.Context(), u.AgencyID)
	if err != nil {
		s.fail(w, "report", err)
		return reportScope{}, false
	}
	if ag.ICT && u.Role == store.RoleAuditor {
		return reportScope{all: true}, true
	}
	systems, err := s.Store.Systems(r.Context())
	if err != nil {
		s.fail(w, "report", err)
		return reportScope{}, false
	}
	sc := reportScope{agency: u.AgencyID, systems: map[string]bool{}}
	for _, y := range systems {
		if y.Manages(u.AgencyID) {
			sc.systems[y.ID] = true
		}
	}
	return sc, true
}

func (sc reportScope) user(u store.User) bool {
	return sc.all || (u.AgencyID == sc.agency && u.Role != store.RoleICTAdmin)
}

func (sc reportScope) camera(c store.Camera) bool { return sc.all || sc.systems[c.SystemID] }

// reportFormat reads ?format=: json (default) or csv.
func reportFormat(w http.ResponseWriter, r *http.Request) (csvOut bool, ok bool) {
	switch r.URL.Query().Get("format") {
	case "", "json":
		return false, true
	case "csv":
		return true, true
	}
	writeError(w, http.StatusBadRequest, "format: want json or csv")
	return false, false
}

// auditReport writes the audit entry of a report before any of it is
// sent: a report whose entry cannot be written is not given out.
func (s *Server) auditReport(ctx context.Context, p *principal, action string, detail map[string]any) error {
	after, err := audit.JSON(detail)
	if err != nil {
		return err
	}
	_, err = s.Store.Audit().Record(ctx, audit.Entry{Actor: p.actor(), Action: action, Object: "report:" + strings.TrimPrefix(action, "report."), After: after})
	return err
}

// accountRow is one account in the account review.
type accountRow struct {
	ID               string     `json:"id"`
	Username         string     `json:"username"`
	DisplayName      string     `json:"display_name,omitempty"`
	AgencyID         string     `json:"agency_id"`
	AgencyName       string     `json:"agency_name"`
	Role             store.Role `json:"role"`
	Created          time.Time  `json:"created"`
	LastLogin        time.Time  `json:"last_login,omitzero"`
	DaysSinceLogin   *int       `json:"days_since_login"`
	Dormant          bool       `json:"dormant"`
	Disabled         bool       `json:"disabled"`
	Locked           bool       `json:"locked"`
	PasswordChanged  time.Time  `json:"password_changed"`
	PasswordAgeDays  int        `json:"password_age_days"`
	PasswordExpired  bool       `json:"password_expired"`
	MustChangePasswd bool       `json:"must_change_password"`
	// Grants are the live grants to the account's agency.
	Grants []store.Grant `json:"grants"`
}

// accountReport is the account review.
type accountReport struct {
	Generated   time.Time    `json:"generated"`
	DormantDays int          `json:"dormant_days"`
	Accounts    []accountRow `json:"accounts"`
	// Dormant are the usernames of the dormant accounts.
	Dormant []string `json:"dormant"`
}

// accountsReport is the account review: every account the caller
// may review with its agency, role, the live grants to its agency, last
// login, lock and disabled state and password age; dormant accounts (no
// login for ?dormant_days=, default 90; an account never used counts from
// its creation) are flagged and listed.
func (s *Server) accountsReport(w http.ResponseWriter, r *http.Request, p *principal) {
	sc, ok := s.reportScopeOf(w, r, p)
	if !ok {
		return
	}
	csvOut, ok := reportFormat(w, r)
	if !ok {
		return
	}
	days := DefaultDormantDays
	if v := r.URL.Query().Get("dormant_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDormantDays {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("dormant_days: want a whole number from 1 to %d", maxDormantDays))
			return
		}
		days = n
	}
	ctx, now := r.Context(), s.now()
	users, err := s.Store.Users(ctx)
	if err != nil {
		s.fail(w, "accounts report", err)
		return
	}
	agencies, err := s.Store.Agencies(ctx)
	if err != nil {
		s.fail(w, "accounts report", err)
		return
	}
	names := map[string]string{}
	for _, a := range agencies {
		names[a.ID] = a.Name
	}
	live, err := s.Store.Grants(ctx, store.GrantFilter{LiveAt: now})
	if err != nil {
		s.fail(w, "accounts report", err)
		return
	}
	byAgency := map[string][]store.Grant{}
	for _, g := range live {
		byAgency[g.AgencyID] = append(byAgency[g.AgencyID], g)
	}
	rep := accountReport{Generated: now.UTC(), DormantDays: days, Accounts: []accountRow{}, Dormant: []string{}}
	dormantAfter := time.Duration(days) * 24 * time.Hour
	for _, u := range users {
		if !sc.user(u) {
			continue
		}
		row := accountRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, AgencyID: u.AgencyID,
			AgencyName: names[u.AgencyID], Role: u.Role, Created: u.Created, LastLogin: u.LastLogin,
			Disabled: u.Disabled, Locked: u.Locked(now), PasswordChanged: u.PasswordChanged,
			PasswordAgeDays: wholeDays(now.Sub(u.PasswordChanged)), PasswordExpired: s.Auth.PasswordExpired(u, now),
			MustChangePasswd: u.MustChangePassword, Grants: byAgency[u.AgencyID]}
		if row.Grants == nil {
			row.Grants = []store.Grant{}
		}
		since := u.Created
		if !u.LastLogin.IsZero() {
			d := wholeDays(now.Sub(u.LastLogin))
			row.DaysSinceLogin, since = &d, u.LastLogin
		}
		row.Dormant = now.Sub(since) >= dormantAfter
		if row.Dormant {
			rep.Dormant = append(rep.Dormant, u.Username)
		}
		rep.Accounts = append(rep.Accounts, row)
	}
	if err := s.auditReport(ctx, p, ActionReportAccounts, map[string]any{"format": formatName(csvOut),
		"dormant_days": days, "accounts": len(rep.Accounts), "dormant": len(rep.Dormant)}); err != nil {
		s.fail(w, "accounts report: audit", err)
		return
	}
	if !csvOut {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	writeCSV(w, "accounts", [][]string{{"id", "username", "display_name", "agency_id", "agency_name", "role", "created",
		"last_login", "days_since_login", "dormant", "disabled", "locked", "password_changed", "password_age_days",
		"password_expired", "must_change_password", "grants"}}, func(out [][]string) [][]string {
		for _, a := range rep.Accounts {
			since := ""
			if a.DaysSinceLogin != nil {
				since = strconv.Itoa(*a.DaysSinceLogin)
			}
			out = append(out, []string{a.ID, a.Username, a.DisplayName, a.AgencyID, a.AgencyName, string(a.Role),
				csvTime(a.Created), csvTime(a.LastLogin), since, strconv.FormatBool(a.Dormant), strconv.FormatBool(a.Disabled),
				strconv.FormatBool(a.Locked), csvTime(a.PasswordChanged), strconv.Itoa(a.PasswordAgeDays),
				strconv.FormatBool(a.PasswordExpired), strconv.FormatBool(a.MustChangePasswd), grantsText(a.Grants)})
		}
		return out
	})
}

// lateCamera is a camera not connected to tier I within 5 days of its
// installation or change.
type lateCamera struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	SystemID       string    `json:"system_id"`
	Installed      time.Time `json:"installed"`
	Deadline       time.Time `json:"deadline"`
	FirstConnected time.Time `json:"first_connected,omitzero"`
	// Connected says whether it was connected since, too late.
	Connected bool `json:"connected"`
}

// uptimeDay is a camera's recording on one day in the province's zone
//
type uptimeDay struct {
	Day             string  `json:"day"`
	RecordedSeconds float64 `json:"recorded_seconds"`
	GapSeconds      float64 `json:"gap_seconds"`
	// Uptime is recorded ÷ (recorded + gaps): the share of the accounted
	// time that was recorded; null when nothing is accounted yet.
	Uptime *float64 `json:"uptime"`
}

// cameraUptime is a camera's uptime yesterday and today.
type cameraUptime struct {
	CameraID  string    `json:"camera_id"`
	SystemID  string    `json:"system_id"`
	Yesterday uptimeDay `json:"yesterday"`
	Today     uptimeDay `json:"today"`
}

// retentionReport is the recording retention against the regulation.
type retentionReport struct {
	RecordingDays int  `json:"recording_days"`
	MinimumDays   int  `json:"minimum_days"`
	Compliant     bool `json:"compliant"`
}

// complianceReport is the compliance report.
type complianceReport struct {
	Generated        time.Time       `json:"generated"`
	Zone             string          `json:"zone"`
	LateConnections  []lateCamera    `json:"late_connections"`
	OverdueIncidents []incidentView  `json:"overdue_incidents"`
	Retention        retentionReport `json:"retention"`
	Uptime           []cameraUptime  `json:"uptime"`
}

// complianceReport lists, for the cameras the caller may review: cameras
// not connected within 5 days of installation, incidents open past
// their 24-hour deadline, the recording retention, and each
// camera's recorded uptime yesterday and today.
func (s *Server) complianceReport(w http.ResponseWriter, r *http.Request, p *principal) {
	sc, ok := s.reportScopeOf(w, r, p)
	if !ok {
		return
	}
	csvOut, ok := reportFormat(w, r)
	if !ok {
		return
	}
	ctx, now := r.Context(), s.now()
	cams, err := s.Store.Cameras(ctx)
	if err != nil {
		s.fail(w, "compliance report", err)
		return
	}
	rep := complianceReport{Generated: now.UTC(), Zone: reportZone.String(), LateConnections: []lateCamera{},
		OverdueIncidents: []incidentView{}, Uptime: []cameraUptime{},
		Retention: retentionReport{RecordingDays: s.RetentionDays, MinimumDays: MinRetentionDays, Compliant: s.RetentionDays >= MinRetentionDays}}
	inScope := map[string]bool{}
	today := now.In(reportZone)
	yesterday := today.AddDate(0, 0, -1)
	for _, c := range cams {
		if !sc.camera(c) {
			continue
		}
		inScope[c.ID] = true
		if !c.Installed.IsZero() {
			deadline := c.Installed.Add(ConnectDeadline)
			if (c.FirstConnected.IsZero() && now.After(deadline)) || c.FirstConnected.After(deadline) {
				rep.LateConnections = append(rep.LateConnections, lateCamera{ID: c.ID, Name: c.Name, SystemID: c.SystemID,
					Installed: c.Installed, Deadline: deadline, FirstConnected: c.FirstConnected, Connected: !c.FirstConnected.IsZero()})
			}
		}
		u := cameraUptime{CameraID: c.ID, SystemID: c.SystemID}
		for _, d := range []struct {
			at  time.Time
			out *uptimeDay
		}{{yesterday, &u.Yesterday}, {today, &u.Today}} {
			if *d.out, err = s.uptime(c.ID, d.at); err != nil {
				s.fail(w, "compliance report", err)
				return
			}
		}
		rep.Uptime = append(rep.Uptime, u)
	}
	overdue, err := s.Store.Incidents(ctx, store.IncidentFilter{OverdueAt: now})
	if err != nil {
		s.fail(w, "compliance report", err)
		return
	}
	for _, in := range overdue {
		if inScope[in.CameraID] {
			rep.OverdueIncidents = append(rep.OverdueIncidents, incidentView{Incident: in, Overdue: true})
		}
	}
	if err := s.auditReport(ctx, p, ActionReportCompliance, map[string]any{"format": formatName(csvOut),
		"cameras": len(rep.Uptime), "late_connections": len(rep.LateConnections), "overdue_incidents": len(rep.OverdueIncidents)}); err != nil {
		s.fail(w, "compliance report: audit", err)
		return
	}
	if !csvOut {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	// One row per finding: rule, check, the camera and object, the
	// period or deadline, the value, and whether it complies.
	writeCSV(w, "compliance", [][]string{{"rule", "check", "camera_id", "object_id", "since", "until", "value", "compliant"}},
		func(out [][]string) [][]string {
			for _, c := range rep.LateConnections {
				out = append(out, []string{"R-7.5", "connection", c.ID, c.ID, csvTime(c.Installed), csvTime(c.Deadline),
					csvTime(c.FirstConnected), "false"})
			}
			for _, in := range rep.OverdueIncidents {
				out = append(out, []string{"R-11.2", "incident", in.CameraID, in.ID, csvTime(in.Opened), csvTime(in.Deadline),
					in.Kind, "false"})
			}
			out = append(out, []string{"R-16.2", "retention", "", "", "", "", strconv.Itoa(rep.Retention.RecordingDays),
				strconv.FormatBool(rep.Retention.Compliant)})
			for _, u := range rep.Uptime {
				for _, d := range []uptimeDay{u.Yesterday, u.Today} {
					v := ""
					if d.Uptime != nil {
						v = strconv.FormatFloat(*d.Uptime, 'f', 4, 64)
					}
					out = append(out, []string{"R-16.2", "uptime", u.CameraID, d.Day, strconv.FormatFloat(d.RecordedSeconds, 'f', 0, 64),
						strconv.FormatFloat(d.GapSeconds, 'f', 0, 64), v, ""})
				}
			}
			return out
		})
}

// uptime reads a camera's recording of the day of at (reportZone) from the
// recordings' index and gap ledger; no recordings root reports nothing.
func (s *Server) uptime(camera string, at time.Time) (uptimeDay, error) {
	d := uptimeDay{Day: at.Format(time.DateOnly)}
	if s.Recordings == "" {
		return d, nil
	}
	rec, gaps, err := record.Uptime(s.Recordings, camera, at, reportZone)
	if err != nil {
		return d, err
	}
	d.RecordedSeconds, d.GapSeconds = rec.Seconds(), gaps.Seconds()
	if total := rec + gaps; total > 0 {
		v := float64(rec) / float64(total)
		d.Uptime = &v
	}
	return d, nil
}

// wholeDays is d in whole days, never negative.
func wholeDays(d time.Duration) int { return max(0, int(d/(24*time.Hour))) }

func formatName(csvOut bool) string {
	if csvOut {
		return "csv"
	}
	return "json"
}

// csvTime is t in RFC 3339, empty for the zero time.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// grantsText is grants as "camera:id(cap+cap) purpose until" joined by "; ".
func grantsText(gs []store.Grant) string {
	parts := make([]string, 0, len(gs))
	for _, g := range gs {
		what := "camera:" + g.CameraID
		if g.SystemID != "" {
			what = "system:" + g.SystemID
		}
		caps := make([]string, len(g.Capabilities))
		for i, c := range g.Capabilities {
			caps[i] = string(c)
		}
		slices.Sort(caps)
		parts = append(parts, fmt.Sprintf("%s(%s) %s until %s", what, strings.Join(caps, "+"), g.Purpose, csvTime(g.Expires)))
	}
	return strings.Join(parts, "; ")
}

// writeCSV answers a CSV attachment named name.csv: the header rows, then
// the rows rows appends. Cells that a spreadsheet would run as a formula
// are quoted with a leading apostrophe.
func writeCSV(w http.ResponseWriter, name string, header [][]string, rows func([][]string) [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	cw := csv.NewWriter(w)
	for _, rec := range rows(header) {
		for i, v := range rec {
			if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
				rec[i] = "'" + v
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
}
