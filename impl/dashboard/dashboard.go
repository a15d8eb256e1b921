// Package dashboard serves the API-keys dashboard under /dashboard/: a
// guild's administrators log in with Discord, pick a server, and see,
// copy, create and delete its keys.
//
//	GET  /dashboard/                    signed out: log in; signed in: the server picker
//	GET  /dashboard/login               to Discord's authorize page (PKCE S256, state)
//	GET  /dashboard/callback            Discord's answer: starts the session
//	POST /dashboard/logout              ends the session (same origin only)
//	GET  /dashboard/guilds/{guild_id}   that guild's keys
//	GET  /dashboard/assets/{file}       the page's script and style sheet
//
// The pages are a client of the documented /v1 API, authenticated by the
// session cookie (cookieAuth in openapi/v1.yaml): this package renders
// their frame and runs the sign-in, and every key is listed, created and
// deleted through /v1, so that the dashboard takes the same path as any
// client (validation, authorization, the audit log). Everything is
// embedded in the binary and nothing is loaded from another origin.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/session"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

// BasePath is where the dashboard is mounted.
const BasePath = "/dashboard"

//go:embed assets templates
var embedded embed.FS

// OAuth is what the sign-in needs of Discord's OAuth2 endpoints.
type OAuth interface {
	// AuthCodeURL is Discord's authorize page for a login with state and
	// the PKCE verifier's S256 challenge.
	AuthCodeURL(state, verifier string) string
	Exchange(ctx context.Context, code, verifier string) (discord.Token, error)
}

// Identity says which Discord user an access token belongs to.
type Identity interface {
	UserID(ctx context.Context, token string) (string, error)
}

// Config is what the dashboard is built from. Without OAuth the dashboard
// is off, and each of its pages says how to turn it on.
type Config struct {
	OAuth    OAuth
	Identity Identity
	Sessions *session.Manager
	// PublicURL is where browsers reach apikeyd; its scheme decides
	// whether cookies are Secure.
	PublicURL *url.URL
	Log       *slog.Logger
}

// Handler serves every /dashboard route.
type Handler struct {
	cfg         Config
	secure      bool
	pages       func() (*template.Template, error)
	crossOrigin *http.CrossOriginProtection
	mux         *http.ServeMux
}

// New builds the dashboard.
func New(cfg Config) (*Handler, error) {
	h := &Handler{
		cfg:    cfg,
		secure: cfg.PublicURL != nil && cfg.PublicURL.Scheme == "https",
		// Parsed at the first page, not at start: a server whose dashboard
		// is off or never opened runs none of html/template's parser and
		// keeps no parsed trees (issue #15, idle memory).
		pages: sync.OnceValues(func() (*template.Template, error) {
			return template.ParseFS(embedded, "templates/*.html")
		}),
		crossOrigin: http.NewCrossOriginProtection(),
		mux:         http.NewServeMux(),
	}
	assets, err := fs.Sub(embedded, "assets")
	if err != nil {
		return nil, err
	}
	h.mux.Handle("GET "+BasePath+"/assets/", http.StripPrefix(BasePath+"/assets/", http.FileServerFS(assets)))
	if cfg.OAuth == nil {
		h.mux.HandleFunc(BasePath+"/", h.serveOff)
		return h, nil
	}
	h.mux.HandleFunc("GET "+BasePath+"/{$}", h.serveHome)
	h.mux.HandleFunc("GET "+BasePath+"/login", h.serveLogin)
	h.mux.HandleFunc("GET "+BasePath+"/callback", h.serveCallback)
	h.mux.HandleFunc("POST "+BasePath+"/logout", h.serveLogout)
	h.mux.HandleFunc("GET "+BasePath+"/guilds/{guild_id}", h.serveGuild)
	h.mux.HandleFunc(BasePath+"/", h.serveNotFound)
	return h, nil
}

// contentSecurityPolicy lets the pages load their script, style sheet and
// /v1's answers from this server and nothing else: no inline script or
// style, no eval, no images from elsewhere (a guild shows its initials,
// not Discord's icon), no frames. Forms post to this server only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// ServeHTTP serves the dashboard, /dashboard itself by a redirect to
// /dashboard/.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	// The callback's URL carries Discord's code and state: no page sends
	// its address anywhere.
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	if r.URL.Path == BasePath {
		http.Redirect(w, r, BasePath+"/", http.StatusMovedPermanently)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// page is what a page's template is given.
type page struct {
	Title string
	// UserID is the signed-in user; zero when signed out.
	UserID snowflake.ID
	// GuildID is the guild of a keys page.
	GuildID snowflake.ID
	// Status and Message are an error page's.
	Status  int
	Message string
	// Next is where a login returns to.
	Next string
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, p page) {
	pages, err := h.pages()
	if err != nil {
		h.cfg.Log.Error("parse dashboard pages", "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, p); err != nil {
		h.cfg.Log.Error("render dashboard page", "page", name, "err", err)
	}
}

// renderError is a page that says what went wrong, in a sentence.
func (h *Handler) renderError(w http.ResponseWriter, status int, message string) {
	h.render(w, status, "error.html", page{Title: http.StatusText(status), Status: status, Message: message})
}

func (h *Handler) serveOff(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusNotFound, "off.html", page{Title: "The dashboard is off"})
}

func (h *Handler) serveNotFound(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, http.StatusNotFound, "There is no such page in the dashboard.")
}

// signedIn is the user of the request's session, or zero when it has
// none (or it ended). ok is false when the session could not be checked,
// and the page that says why has been written.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request) (user snowflake.ID, ok bool) {
	c, err := r.Cookie(session.CookieName)
	if err != nil {
		return 0, true
	}
	sess, err := h.cfg.Sessions.Resolve(r.Context(), c.Value)
	switch apierr.CodeOf(err) {
	case "":
		return sess.UserID, true
	case apierr.Unauthorized:
		h.clearCookie(w, session.CookieName, "/")
		return 0, true
	}
	h.failed(w, "check your session", err)
	return 0, false
}

func (h *Handler) serveHome(w http.ResponseWriter, r *http.Request) {
	user, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	if user == 0 {
		h.render(w, http.StatusOK, "login.html", page{Title: "Log in"})
		return
	}
	h.render(w, http.StatusOK, "picker.html", page{Title: "Your servers", UserID: user})
}

func (h *Handler) serveGuild(w http.ResponseWriter, r *http.Request) {
	guild, err := snowflake.Parse(r.PathValue("guild_id"))
	if err != nil {
		h.renderError(w, http.StatusNotFound, "A server's address ends in its Discord id, in digits.")
		return
	}
	user, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	if user == 0 {
		h.render(w, http.StatusOK, "login.html", page{Title: "Log in", Next: guildPath(guild)})
		return
	}
	h.render(w, http.StatusOK, "guild.html", page{Title: "API keys", UserID: user, GuildID: guild})
}

func guildPath(g snowflake.ID) string { return BasePath + "/guilds/" + g.String() }

// failed writes the page of an error that is not the browser's doing:
// Discord or the database failing (503), else ours (500), its cause
// logged.
func (h *Handler) failed(w http.ResponseWriter, doing string, err error) {
	e := apierr.From(err)
	if e.Code == apierr.Unavailable {
		apierr.SetRetryAfter(w.Header(), e)
		h.renderError(w, http.StatusServiceUnavailable, "Discord could not be reached to "+doing+"; try again in a moment.")
		return
	}
	if errors.Is(err, store.ErrDatabase) {
		h.cfg.Log.Warn("dashboard: "+doing, "err", err)
		h.renderError(w, http.StatusServiceUnavailable, "The database could not be reached to "+doing+"; try again in a moment.")
		return
	}
	h.cfg.Log.Error("dashboard: "+doing, "err", err)
	h.renderError(w, http.StatusInternalServerError, "Something failed on our side while trying to "+doing+"; try again later.")
}

// setCookie sets a cookie that scripts cannot read and that other sites'
// requests carry only on top-level navigations (SameSite=Lax: the
// redirect back from Discord is one).
func (h *Handler) setCookie(w http.ResponseWriter, name, value, path string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (h *Handler) clearCookie(w http.ResponseWriter, name, path string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

// nextPattern is where a login may return to: the dashboard's own pages,
// never another site.
var nextPattern = regexp.MustCompile(`^/dashboard/(guilds/[1-9][0-9]{0,18})?$`)
