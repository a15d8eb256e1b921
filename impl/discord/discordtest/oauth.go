package discordtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	// authorizePath is Discord's authorize page, on its web root.
	authorizePath = "/oauth2/authorize"
	// CodeLifetime is how long an authorization code can be exchanged.
	CodeLifetime = 10 * time.Minute
	// TokenLifetime is the expires_in of the access tokens the fake issues:
	// Discord's, a week.
	TokenLifetime = 7 * 24 * time.Hour
)

// knownScopes are the OAuth2 scopes of Discord's that the authorize page
// accepts; any other is refused as invalid_scope.
var knownScopes = []string{"identify", "email", "connections", "guilds", "guilds.join", "guilds.members.read"}

// oauth is the fake's OAuth2 state; Server.mu guards it.
type oauth struct {
	apps      map[string]*app // client id -> app
	loginAs   string          // user the authorize page logs in; "" none
	denyNext  bool
	codes     map[string]*authCode
	access    map[string]*grant // access token -> grant
	refresh   map[string]*grant // refresh token -> grant
	guilds    map[string][]Guild
	usernames map[string]string // user id -> username, from LoginAs
	offset    time.Duration     // Advance's shift of the fake's clock

	exchanges, refreshes, revocations int
	guildCalls                        map[string]int // token -> requests to /users/@me/guilds
}

type app struct {
	secret      string
	redirectURI string
}

// authCode is an authorization code the authorize page handed out.
type authCode struct {
	clientID, redirectURI, challenge, userID string
	scopes                                   []string
	expires                                  time.Time
	used                                     bool
}

// grant is one live pair of tokens (or a token added by hand, without
// refresh token or expiry).
type grant struct {
	clientID         string
	userID, username string
	rawUser          string // verbatim /users/@me body; "" for userObject
	scopes           []string
	access, refresh  string
	expires          time.Time // zero: never
	revoked          bool
}

func (g *grant) has(scope string) bool { return slices.Contains(g.scopes, scope) }

func newOAuth() oauth {
	o := oauth{apps: make(map[string]*app)}
	o.reset()
	return o
}

// reset forgets all but the apps.
func (o *oauth) reset() {
	o.loginAs, o.denyNext = "", false
	o.codes = make(map[string]*authCode)
	o.access = make(map[string]*grant)
	o.refresh = make(map[string]*grant)
	o.guilds = make(map[string][]Guild)
	o.usernames = make(map[string]string)
	o.offset = 0
	o.exchanges, o.refreshes, o.revocations = 0, 0, 0
	o.guildCalls = make(map[string]int)
}

func (o *oauth) now() time.Time { return time.Now().Add(o.offset) }

func (o *oauth) addGrantLocked(g *grant) {
	o.access[g.access] = g
	if g.refresh != "" {
		o.refresh[g.refresh] = g
	}
}

// liveGrantLocked is the grant of access token, nil when it is unknown,
// revoked or expired.
func (o *oauth) liveGrantLocked(token string) *grant {
	g := o.access[token]
	if g == nil || g.revoked || (!g.expires.IsZero() && !o.now().Before(g.expires)) {
		return nil
	}
	return g
}

// AddApp registers an OAuth2 application with its secret and its one
// redirect URI, as in Discord's developer portal.
func (s *Server) AddApp(clientID, secret, redirectURI string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[clientID] = &app{secret: secret, redirectURI: redirectURI}
}

// LoginAs makes the authorize page act for the user with that id, who
// allows every app at once (until DenyNextLogin). Its tokens name it
// "user<id>" on /users/@me.
func (s *Server) LoginAs(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loginAs = userID
	s.usernames[userID] = "user" + userID
}

// DenyNextLogin makes the next visit to the authorize page answer as
// Discord does when the user presses Cancel: error=access_denied.
func (s *Server) DenyNextLogin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyNext = true
}

// Advance moves the fake's clock on by d: codes and tokens expire by it.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// Exchanges is how many requests reached the token endpoint with
// grant_type authorization_code, whatever they were answered.
func (s *Server) Exchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges
}

// Refreshes is how many requests reached the token endpoint with
// grant_type refresh_token.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// Revocations is how many requests reached the revocation endpoint.
func (s *Server) Revocations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revocations
}

// serveAuthorize answers the authorize page as Discord does for a user who
// is logged in and allows the app: a redirect to the redirect URI with a
// code and the state. A client or redirect URI Discord does not know is
// answered 400 without redirect: sending the user to an unregistered URI
// would leak the code; other mistakes are redirected as OAuth2 errors.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "405: Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[q.Get("client_id")]
	if a == nil {
		http.Error(w, "Unknown Application", http.StatusBadRequest)
		return
	}
	if q.Get("redirect_uri") != a.redirectURI {
		http.Error(w, "Invalid OAuth2 redirect_uri", http.StatusBadRequest)
		return
	}
	back := func(v url.Values) {
		if state := q.Get("state"); state != "" {
			v.Set("state", state)
		}
		http.Redirect(w, r, a.redirectURI+"?"+v.Encode(), http.StatusFound)
	}
	refuse := func(code, description string) {
		back(url.Values{"error": {code}, "error_description": {description}})
	}
	scopes := strings.Fields(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code":
		refuse("unsupported_response_type", "The authorization server does not support obtaining an authorization code using this method")
	case len(scopes) == 0 || slices.ContainsFunc(scopes, func(sc string) bool { return !slices.Contains(knownScopes, sc) }):
		refuse("invalid_scope", "The requested scope is invalid, unknown, or malformed")
	case q.Get("code_challenge_method") != "S256" || !isChallenge(q.Get("code_challenge")):
		refuse("invalid_request", `Invalid "code_challenge" in request.`)
	case s.denyNext:
		s.denyNext = false
		refuse("access_denied", "The resource owner or authorization server denied the request")
	case s.loginAs == "":
		http.Error(w, "discordtest: no user is logged in: call LoginAs", http.StatusBadRequest)
	default:
		code := rand.Text()
		s.codes[code] = &authCode{
			clientID: q.Get("client_id"), redirectURI: a.redirectURI, challenge: q.Get("code_challenge"),
			userID: s.loginAs, scopes: scopes, expires: s.now().Add(CodeLifetime),
		}
		back(url.Values{"code": {code}})
	}
}

// isChallenge is the shape of an S256 challenge: a SHA-256 in unpadded
// base64url.
func isChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// serveToken answers POST /oauth2/token for the authorization_code and
// refresh_token grants, in OAuth2's JSON as Discord writes it.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, _ string) {
	if !isForm(r) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Invalid content type.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	clientID, ok := s.clientLocked(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client"})
		return
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case "authorization_code":
		s.exchangeLocked(w, clientID, f)
	case "refresh_token":
		s.refreshLocked(w, clientID, f)
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", `Missing "grant_type" in request.`)
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", `Unsupported "grant_type".`)
	}
}

func (s *Server) exchangeLocked(w http.ResponseWriter, clientID string, f url.Values) {
	c := s.codes[f.Get("code")]
	if c == nil || c.used || c.clientID != clientID || !s.now().Before(c.expires) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", `Invalid "code" in request.`)
		return
	}
	// Single use: an attempt that fails below spends the code too.
	c.used = true
	if f.Get("redirect_uri") != c.redirectURI {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", `Invalid "redirect_uri" in request.`)
		return
	}
	verifier := f.Get("code_verifier")
	if verifier == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", `Missing "code_verifier"`)
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	if !isVerifier(verifier) || subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.challenge)) != 1 {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", `Invalid "code_verifier" in request.`)
		return
	}
	g := &grant{clientID: clientID, userID: c.userID, username: s.usernames[c.userID], scopes: c.scopes}
	s.issueLocked(w, g)
}

// refreshLocked rotates a grant's tokens: the old refresh token and the
// old access token stop working, so that one grant has one live pair.
func (s *Server) refreshLocked(w http.ResponseWriter, clientID string, f url.Values) {
	old := s.refresh[f.Get("refresh_token")]
	if old == nil || old.revoked || old.clientID != clientID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", `Invalid "refresh_token" in request.`)
		return
	}
	old.revoked = true
	g := &grant{clientID: clientID, userID: old.userID, username: old.username, scopes: old.scopes}
	s.issueLocked(w, g)
}

func (s *Server) issueLocked(w http.ResponseWriter, g *grant) {
	g.access, g.refresh = rand.Text(), rand.Text()
	g.expires = s.now().Add(TokenLifetime)
	s.addGrantLocked(g)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  g.access,
		"token_type":    "Bearer",
		"expires_in":    int(TokenLifetime.Seconds()),
		"refresh_token": g.refresh,
		"scope":         strings.Join(g.scopes, " "),
	})
}

// serveRevoke answers POST /oauth2/token/revoke: the grant of an access or
// refresh token of that client stops working, both of its tokens. As RFC
// 7009 says, an unknown or already revoked token is answered 200 too.
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request, _ string) {
	if !isForm(r) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Invalid content type.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	clientID, ok := s.clientLocked(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client"})
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", `Missing "token" in request.`)
		return
	}
	for _, g := range []*grant{s.access[token], s.refresh[token]} {
		if g != nil && g.clientID == clientID {
			g.revoked = true
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// serveAuthorization answers GET /oauth2/@me: what a live access token was
// granted, and its user when that includes "identify".
func (s *Server) serveAuthorization(w http.ResponseWriter, _ *http.Request, token string) {
	s.mu.Lock()
	g := s.liveGrantLocked(token)
	var expires time.Time
	if g != nil {
		expires = g.expires
		if expires.IsZero() {
			expires = s.now().Add(TokenLifetime)
		}
	}
	s.mu.Unlock()
	if g == nil {
		writeUnauthorized(w)
		return
	}
	info := map[string]any{
		"application": map[string]any{"id": g.clientID, "name": "apikeyd", "icon": nil, "description": "", "bot_public": true, "bot_require_code_grant": false},
		"scopes":      g.scopes,
		"expires":     expires.UTC().Format(time.RFC3339Nano),
	}
	if g.has("identify") && g.rawUser == "" {
		info["user"] = userObject(g.userID, g.username)
	}
	writeJSON(w, http.StatusOK, info)
}

// clientLocked authenticates the client as Discord accepts it: HTTP Basic
// (each part form-encoded first, as RFC 6749 says) or client_id and
// client_secret in the body.
func (s *Server) clientLocked(r *http.Request) (string, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return "", false
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	a := s.apps[id]
	if a == nil || subtle.ConstantTimeCompare([]byte(secret), []byte(a.secret)) != 1 {
		return "", false
	}
	return id, true
}

func isForm(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded")
}

// isVerifier is RFC 7636's code_verifier: 43 to 128 unreserved characters.
func isVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}

// writeOAuthError answers in OAuth2's error JSON, as Discord's token
// endpoint does.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": description})
}
