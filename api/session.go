package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/matthan/matthan/api/auth"
	"github.com/matthan/matthan/api/store"
)

// loginFailed is the one answer to every failed login: wrong name, wrong
// password, locked or disabled account alike, so that the API does not
// tell which user names exist.
const loginFailed = "login failed: wrong user name or password, or the account is locked or disabled"

// loginRequest is the body of POST /api/v1/login.
type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// sessionView is a session as /login and /me show it.
type sessionView struct {
	// Token is the bearer token (login only).
	Token string `json:"token,omitempty"`
	// CSRFToken goes in X-CSRF-Token on unsafe requests of cookie
	// sessions.
	CSRFToken string    `json:"csrf_token"`
	SessionID string    `json:"session_id"`
	Expires   time.Time `json:"expires"`
	// Restricted: change the password before anything else.
	Restricted bool         `json:"restricted"`
	User       store.User   `json:"user"`
	Agency     store.Agency `json:"agency"`
}

// login checks a user name and password, sets the session cookie and
// returns the token and CSRF token. Every attempt is audited by auth.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	sess, err := s.Auth.Login(r.Context(), req.Username, req.Password, auth.Client{Address: s.clientAddr(r)})
	switch {
	case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrLocked), errors.Is(err, auth.ErrDisabled):
		writeError(w, http.StatusUnauthorized, loginFailed)
		return
	case err != nil:
		s.fail(w, "login", err)
		return
	}
	ag, err := s.Store.Agency(r.Context(), sess.User.AgencyID)
	if err != nil {
		s.fail(w, "login", err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: sess.Token, Path: "/", Expires: sess.Session.Expires,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	writeJSON(w, http.StatusOK, sessionView{Token: sess.Token, CSRFToken: sess.CSRF, SessionID: sess.Session.ID,
		Expires: sess.Session.Expires, Restricted: sess.Restricted, User: sess.User, Agency: ag})
}

// clearCookie ends the console's cookie.
func clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// logout ends the session (audited by auth).
func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *principal) {
	err := s.Auth.Logout(r.Context(), p.sess.Token, auth.Client{Address: p.client})
	if err != nil && !errors.Is(err, auth.ErrNoSession) {
		s.fail(w, "logout", err)
		return
	}
	clearCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

// passwordRequest is the body of POST /api/v1/password.
type passwordRequest struct {
	Old string `json:"old_password"`
	New string `json:"new_password"`
}

// changePassword replaces the caller's password; every session of the
// user ends (log in again). It is all a restricted session may do.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, p *principal) {
	var req passwordRequest
	if !readJSON(w, r, &req) {
		return
	}
	err := s.Auth.ChangePassword(r.Context(), p.sess, req.Old, req.New, auth.Client{Address: p.client})
	if errors.Is(err, auth.ErrBadCredentials) {
		writeError(w, http.StatusForbidden, "old_password is wrong")
		return
	}
	if err != nil {
		s.fail(w, "change password", err)
		return
	}
	clearCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

// me returns the caller's session, user and agency.
func (s *Server) me(w http.ResponseWriter, r *http.Request, p *principal) {
	ag, err := s.Store.Agency(r.Context(), p.user().AgencyID)
	if err != nil {
		s.fail(w, "me", err)
		return
	}
	writeJSON(w, http.StatusOK, sessionView{CSRFToken: p.sess.CSRF, SessionID: p.sess.Session.ID,
		Expires: p.sess.Session.Expires, Restricted: p.sess.Restricted, User: p.user(), Agency: ag})
}
