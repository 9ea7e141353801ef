package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/auth"
	"github.com/matthan/matthan/api/evidence"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/ingest/record"
	"github.com/matthan/matthan/sink/clickhouse"
)

// SessionCookie is the console's session cookie.
const SessionCookie = "matthan_session"

// CSRFHeader carries the CSRF token of a cookie session on unsafe methods.
const CSRFHeader = "X-CSRF-Token"

// principal is who makes a request: the session, how it was presented,
// and the client address.
type principal struct {
	sess   auth.Session
	cookie bool
	client string
}

// user returns the session's user.
func (p *principal) user() store.User { return p.sess.User }

// actor returns the audit actor of the request.
func (p *principal) actor() audit.Actor {
	u := p.sess.User
	return audit.Actor{UserID: u.ID, Username: u.Username, AgencyID: u.AgencyID, Address: p.client}
}

// ictAdmin reports whether the user is the ICT department's administrator
// (the store only lets ICT users have the role, R-7.2).
func (p *principal) ictAdmin() bool { return p.sess.User.Role == store.RoleICTAdmin }

// clientAddr is the address of the request's client, for the audit log
// the peer's address and port, unless the peer is one of
// TrustedProxies; then the address X-Forwarded-For gives for the client:
// its entries are read from the last (the one the nearest proxy added) and
// the first that is not itself a trusted proxy is the client (all trusted:
// the first entry). An entry that is not an IP address stops the walk: the
// proxy that passed it on is then the client as far as anyone can tell.
func (s *Server) clientAddr(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !s.trustedProxy(peer.Addr()) {
		return r.RemoteAddr
	}
	client := peer.Addr()
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break
		}
		client = a.Unmap()
		if !s.trustedProxy(client) {
			break
		}
	}
	if client == peer.Addr() {
		return r.RemoteAddr
	}
	return client.String()
}

// clientIP is clientAddr without the port, for rate limits and /metrics.
func (s *Server) clientIP(r *http.Request) string {
	a := s.clientAddr(r)
	if h, _, err := net.SplitHostPort(a); err == nil {
		return h
	}
	return a
}

// trustedProxy reports whether a is in TrustedProxies.
func (s *Server) trustedProxy(a netip.Addr) bool {
	a = a.Unmap()
	return slices.ContainsFunc(s.TrustedProxies, func(p netip.Prefix) bool { return p.Contains(a) })
}

// forwardedFor returns the entries of every X-Forwarded-For header, in
// order, trimmed.
func forwardedFor(h http.Header) []string {
	var out []string
	for _, v := range h.Values("X-Forwarded-For") {
		for e := range strings.SplitSeq(v, ",") {
			out = append(out, strings.TrimSpace(e))
		}
	}
	return out
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true // present but not a bearer token: refused
	}
	return strings.TrimSpace(tok), true
}

// safeMethod reports whether m changes nothing (no CSRF check).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// wrap authenticates (unless anonymous), checks CSRF on cookie sessions,
// keeps restricted sessions to their routes, then calls the handler.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("Cache-Control", "no-store")
		}
		if rt.access == accessAnonymous {
			rt.handle(w, r, nil)
			return
		}
		p, status, msg := s.authenticate(r)
		if p == nil {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="matthan"`)
			}
			writeError(w, status, msg)
			return
		}
		setUser(r, p)
		if p.cookie && !safeMethod(r.Method) && !auth.CheckCSRF(p.sess.Token, r.Header.Get(CSRFHeader)) {
			writeError(w, http.StatusForbidden, "CSRF token missing or wrong: send the "+CSRFHeader+" header given at login")
			return
		}
		if p.sess.Restricted && rt.access != accessAny {
			writeError(w, http.StatusForbidden, "the password must be changed first (POST /api/v1/password)")
			return
		}
		rt.handle(w, r, p)
	})
}

// authenticate finds the request's session: a bearer token, else the
// session cookie. It returns nil with the status and message to answer.
func (s *Server) authenticate(r *http.Request) (*principal, int, string) {
	tok, isBearer := bearer(r)
	cookie := false
	if !isBearer {
		c, err := r.Cookie(SessionCookie)
		if err != nil || c.Value == "" {
			return nil, http.StatusUnauthorized, "authentication required"
		}
		tok, cookie = c.Value, true
	}
	sess, err := s.Auth.Authenticate(r.Context(), tok)
	if errors.Is(err, auth.ErrNoSession) {
		return nil, http.StatusUnauthorized, "session expired or unknown: log in again"
	}
	if err != nil {
		s.logger().Error("authenticate", "error", err)
		return nil, http.StatusServiceUnavailable, "the metadata store is not available"
	}
	return &principal{sess: sess, cookie: cookie, client: s.clientAddr(r)}, 0, ""
}

// userKey carries the request's user name to the access log.
type userKey struct{}

// logInfo is what the access log learns from the handlers.
type logInfo struct{ user string }

func setUser(r *http.Request, p *principal) {
	if li, ok := r.Context().Value(userKey{}).(*logInfo); ok {
		li.user = p.sess.User.Username
	}
}

// statusWriter records the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushing).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush flushes the underlying writer (server-sent events).
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// logged writes one access log line per API request (path only: no query
// string, no header, no body) and answers 500 for a handler that panics.
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		li := &logInfo{}
		r = r.WithContext(context.WithValue(r.Context(), userKey{}, li))
		sw := &statusWriter{ResponseWriter: w}
		sw.Header().Set("X-Content-Type-Options", "nosniff")
		sw.Header().Set("X-Frame-Options", "DENY")
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger().Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				if sw.status == 0 {
					writeError(sw, http.StatusInternalServerError, "internal error")
				}
			}
			if r.URL.Path == "/healthz" || r.URL.Path == "/metrics" {
				return
			}
			s.logger().Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"user", li.user, "client", s.clientAddr(r), "duration", time.Since(start).Round(time.Microsecond))
		}()
		next.ServeHTTP(sw, r)
	})
}

// writeJSON writes v as the response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// notFound is the answer for objects that do not exist and for those the
// caller may not see alike.
func notFound(w http.ResponseWriter, kind string) {
	writeError(w, http.StatusNotFound, kind+": not found")
}

// readJSON decodes a JSON request body into v: application/json only (a
// cross-site form cannot send it without a preflight), at most maxBody,
// no unknown fields.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "send the body as application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxBody))
			return false
		}
		writeError(w, http.StatusBadRequest, "body: "+jsonError(err))
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "body: more than one JSON value")
		return false
	}
	return true
}

// jsonError describes a decoding error without echoing the body.
func jsonError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: want %s", te.Field, te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	case errors.Is(err, io.EOF):
		return "empty"
	}
	return "malformed JSON"
}

// fail answers an error from a lower layer: the client's mistakes with
// their message (which names the field), everything else as 500/503
// with the detail in the log only.
func (s *Server) fail(w http.ResponseWriter, op string, err error) {
	status := 0
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, record.ErrUnknownHold),
		errors.Is(err, record.ErrUnknownCamera), errors.Is(err, record.ErrNoRecording):
		status = http.StatusNotFound
	case errors.Is(err, store.ErrExists):
		status = http.StatusConflict
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrApprovalRequired), errors.Is(err, store.ErrStateSecret),
		errors.Is(err, evidence.ErrInvalidRequest), errors.Is(err, evidence.ErrApprovalRequired),
		errors.Is(err, record.ErrInvalidHold), errors.Is(err, record.ErrInvalidRange), errors.Is(err, record.ErrClipTooLarge),
		errors.Is(err, clickhouse.ErrBadArgument), errors.Is(err, audit.ErrInvalidFilter),
		errors.Is(err, auth.ErrWeakPassword):
		status = http.StatusBadRequest
	}
	if errors.Is(err, store.ErrNoKey) {
		status = http.StatusServiceUnavailable
		err = fmt.Errorf("%s: camera secrets cannot be stored: the engine has no secret key (set %s)", op, store.KeyEnv)
	}
	if status != 0 {
		writeError(w, status, err.Error())
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	s.logger().Error(op, "error", err)
	writeError(w, http.StatusInternalServerError, op+": internal error")
}

// urlPattern finds URLs in status text, which must never show one.
var urlPattern = regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://\S+`)

// scrubURLs replaces any URL in s.
func scrubURLs(s string) string { return urlPattern.ReplaceAllString(s, "[redacted]") }

// parseTime parses an RFC 3339 query parameter; empty is zero.
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: want an RFC 3339 time such as 2025-03-14T09:00:00+07:00", field)
	}
	return t, nil
}
