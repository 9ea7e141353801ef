// Package api is the engine's HTTP face under the provincial camera
// regulation: authentication, the one access rule on every route, the
// audit log, evidence export, administration, and the public interface.
// api/openapi.yaml (served at /api/v1/openapi.yaml) lists every route.
//
// # Authentication
//
// POST /api/v1/login gives a session: an HttpOnly, Secure,
// SameSite=Strict cookie for the console and the same token in the body
// for API clients (Authorization: Bearer), with a CSRF token. Cookie
// sessions must send it in X-CSRF-Token on POST, PUT, PATCH and DELETE,
// else 403; bearer requests need none (nothing sends them by itself).
// Every /api/v1 route but login and the spec answers 401 without a live
// session. A restricted session (password reset, or an administrator's
// expired password) may only change the password, log out and read
// /me. Failed logins answer one message whatever the cause, so that user
// names cannot be probed; auth audits each attempt and locks accounts.
// TLS is served from Server.TLSCert and TLSKey.
//
// # Who may do what
//
// Camera data follows store.Can: the capability (live_view, playback,
// events, statistics, export) on the camera, from the user's role and
// agency and the grants to it. A camera, event, package, hold or
// incident the caller may not see answers 404, exactly like one that
// does not exist. Administration follows one rule:
//
//	ICT department administrator:
//	    everything: agencies, systems, grants, every camera, account and hold
//	system administrator:
//	    cameras of the systems the agency manages or operates (register,
//	    change, set the stream secret, legal holds, close incidents), and
//	    the accounts of the agency (not ICT administrators')
//	operator, viewer: their camera capabilities; file incidents
//	auditor: the audit log (an auditor outside the ICT department sees
//	    the entries of their own agency's users only), no camera data
//
// Everyone sees their own agency, the systems it runs, the grants to it,
// and the incidents of the cameras they may use.
//
// # Audit
//
// The store writes an entry with every data change; auth one per login,
// failure and logout; this package one per evidence export (with
// purpose, operator and requester), evidence download, and legal hold
// placed or released. An export whose entry cannot be written is deleted.
//
// # Secrets
//
// Stream URLs and credentials are write-only (PUT /cameras/{id}/secret);
// no answer or log line holds one, a token, a password or a hash. The
// access log has method, path (no query), status, user, client, duration.
//
// # Reports
//
// /api/v1/reports/accounts (account review: roles, grants, last login,
// dormant accounts) and /api/v1/reports/compliance (cameras not connected
// within 5 days of installation, overdue incidents, retention, uptime per
// camera) answer ICT administrators and auditors, and system administrators
// and auditors for their own agency; every read is audited first.
//
// # Public interface
//
// /public/v1/cameras and /public/v1/cameras/{id}/snapshot.jpg serve the
// cameras flagged public (never a state-secret one), without an account,
// rate-limited per client address (429) and cached (PublicConfig).
package api
