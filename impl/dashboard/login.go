package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"net/url"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/session"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

// loginCookie holds a login in progress: its state, its PKCE verifier and
// where it returns to. Only this browser has it, which binds Discord's
// answer to the browser that asked: a callback with another state, or in
// a browser that did not start the login, is refused.
const loginCookie = "apikeyd_login"

// loginTimeout is how long a login may take at Discord.
const loginTimeout = 10 * time.Minute

// loginCookiePath sends the login cookie to the callback alone.
const loginCookiePath = BasePath + "/callback"

// login is what the login cookie holds.
type login struct {
	state, verifier, next string
}

func (l login) encode() string {
	return url.Values{"s": {l.state}, "v": {l.verifier}, "n": {l.next}}.Encode()
}

func decodeLogin(value string) (login, bool) {
	v, err := url.ParseQuery(value)
	if err != nil {
		return login{}, false
	}
	l := login{state: v.Get("s"), verifier: v.Get("v"), next: v.Get("n")}
	return l, l.state != "" && l.verifier != ""
}

// serveLogin starts a login: a fresh state and PKCE verifier go into this
// browser's login cookie, and the browser to Discord's authorize page.
func (h *Handler) serveLogin(w http.ResponseWriter, r *http.Request) {
	l := login{state: rand.Text(), verifier: discord.NewVerifier(), next: BasePath + "/"}
	if next := r.URL.Query().Get("next"); nextPattern.MatchString(next) {
		l.next = next
	}
	h.setCookie(w, loginCookie, l.encode(), loginCookiePath, loginTimeout)
	http.Redirect(w, r, h.cfg.OAuth.AuthCodeURL(l.state, l.verifier), http.StatusFound)
}

// serveCallback finishes a login with Discord's answer: the code is
// exchanged for tokens, the user learnt, and a session started. Every
// failure is a page that says what happened, and starts no session.
func (h *Handler) serveCallback(w http.ResponseWriter, r *http.Request) {
	// The login cookie is good for one answer, whatever it is.
	h.clearCookie(w, loginCookie, loginCookiePath)
	q := r.URL.Query()
	c, err := r.Cookie(loginCookie)
	var l login
	ok := err == nil
	if ok {
		l, ok = decodeLogin(c.Value)
	}
	if !ok {
		h.renderError(w, http.StatusBadRequest, "This login was not started in this browser, or took longer than 10 minutes; log in again.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(l.state)) != 1 {
		h.renderError(w, http.StatusBadRequest, "Discord's answer does not belong to the login this browser started; log in again.")
		return
	}
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			h.renderError(w, http.StatusForbidden, "You did not allow apikeyd to know who you are at Discord, so you are not logged in.")
			return
		}
		h.renderError(w, http.StatusBadRequest, "Discord refused the login ("+e+"); log in again.")
		return
	}
	code := q.Get("code")
	if code == "" {
		h.renderError(w, http.StatusBadRequest, "Discord's answer carries no code; log in again.")
		return
	}
	tok, err := h.cfg.OAuth.Exchange(r.Context(), code, l.verifier)
	if apierr.CodeOf(err) == apierr.Unauthorized {
		h.renderError(w, http.StatusBadRequest, "Discord did not accept this login's code: it was used already or has expired. Log in again.")
		return
	}
	if err != nil {
		h.failed(w, "finish your login", err)
		return
	}
	user, err := h.userOf(r, tok.AccessToken)
	if err != nil {
		h.failed(w, "learn who you are", err)
		return
	}
	id, err := h.cfg.Sessions.Start(r.Context(), user, tok)
	if err != nil {
		h.failed(w, "start your session", err)
		return
	}
	_, absolute := h.cfg.Sessions.Limits()
	h.setCookie(w, session.CookieName, id, "/", absolute)
	http.Redirect(w, r, l.next, http.StatusSeeOther)
}

func (h *Handler) userOf(r *http.Request, token string) (snowflake.ID, error) {
	id, err := h.cfg.Identity.UserID(r.Context(), token)
	if err != nil {
		return 0, err
	}
	user, err := snowflake.Parse(id)
	if err != nil {
		return 0, apierr.New(apierr.Unavailable, "Discord answered with an invalid user id.")
	}
	return user, nil
}

// serveLogout ends the session, from the dashboard's own pages only: a
// form of another site must not log the user out.
func (h *Handler) serveLogout(w http.ResponseWriter, r *http.Request) {
	if err := h.crossOrigin.Check(r); err != nil {
		h.renderError(w, http.StatusForbidden, "Logging out is accepted only from apikeyd's own pages, and this request came from another site.")
		return
	}
	if c, err := r.Cookie(session.CookieName); err == nil {
		if _, err := h.cfg.Sessions.End(r.Context(), c.Value); err != nil {
			h.failed(w, "end your session", err)
			return
		}
	}
	h.clearCookie(w, session.CookieName, "/")
	http.Redirect(w, r, BasePath+"/", http.StatusSeeOther)
}
