// Package discordtest is a small fake of Discord for tests, in Discord's
// real wire format (user and partial guild objects, JSON error bodies,
// OAuth2's token and error JSON, rate-limit answers), so that code talking
// to Discord is tested over real HTTP instead of against mocks. It serves
//
//   - GET /oauth2/authorize on its web root (AuthorizeURL), as Discord's
//     authorize page answers a user who allows the app at once;
//   - under /api/v10 (URL): POST /oauth2/token (authorization code with
//     PKCE, refresh token), POST /oauth2/token/revoke, GET /oauth2/@me,
//     GET /users/@me and GET /users/@me/guilds; and to a bot (AddBot),
//     GET /guilds/{id}/roles, /channels, /members and /emojis (bot.go).
//
// Tokens come from AddUser (added by hand) or from the OAuth flow (LoginAs,
// then authorize and exchange); both identify their user on every endpoint.
package discordtest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// APIPrefix is the path of the API version the fake serves; URL ends in it.
const APIPrefix = "/api/v10"

// Server is a fake Discord. All methods are safe for concurrent use.
type Server struct {
	srv       *httptest.Server
	closeOnce sync.Once
	closed    chan struct{} // closed on Close: unblocks delayed/held requests

	mu     sync.Mutex
	calls  map[string]int // token -> requests to /users/@me
	fail   int            // status every API request answers with; 0: none
	delay  time.Duration
	hold   chan struct{}   // non-nil while held; closed on release
	served int             // all requests to /users/@me, any token
	last   http.Header     // headers of the latest request to /users/@me
	tokens map[string]bool // every token sent in an Authorization header, any route

	// limited, when set, answers every API request 429 as Discord does.
	limited *rateLimit
	// routeLimit, when set, is the per-token bucket of /users/@me.
	routeLimit *routeLimit
	// guildLimit, when set, is the per-token bucket of each guild route.
	guildLimit *routeLimit

	oauth    // apps, codes, grants, guilds: see oauth.go
	bots     // bot tokens and the guilds a bot is in: see bot.go
	messages // messages posted to channels: see messages.go
}

// rateLimit is a 429 to answer: its scope ("" sends none) and wait.
type rateLimit struct {
	scope      string
	retryAfter time.Duration
}

// routeLimit is a bucket of limit requests per window for each token,
// announced in X-RateLimit-* headers as Discord does.
type routeLimit struct {
	limit  int
	window time.Duration
	used   map[string][]time.Time // token -> times of its requests
}

// TB is the part of testing.TB that NewServer uses. The package does not
// import testing, so that apikeyd serve --fake-discord can run the fake
// (Start) without linking the test framework into the binary.
type TB interface {
	Helper()
	Cleanup(func())
}

// NewServer starts a fake Discord; it is closed when the test ends.
func NewServer(t TB) *Server {
	t.Helper()
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake Discord outside a test, such as for a load or
// benchmark command or apikeyd serve --fake-discord, on a loopback port;
// Close stops it.
func Start() *Server {
	s := &Server{
		closed:   make(chan struct{}),
		calls:    make(map[string]int),
		tokens:   make(map[string]bool),
		oauth:    newOAuth(),
		bots:     newBots(),
		messages: newMessages(),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the API base, like "https://discord.com/api/v10", e.g.
// "http://127.0.0.1:PORT/api/v10".
func (s *Server) URL() string { return s.srv.URL + APIPrefix }

// AuthorizeURL is the authorize page, like
// "https://discord.com/oauth2/authorize": on the web root, outside the API.
func (s *Server) AuthorizeURL() string { return s.srv.URL + authorizePath }

// Close stops the server, making its URL unreachable; requests still
// waiting in Delay or Hold are released first. Safe to call twice.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// AddUser makes token identify a user with that id and username, answered
// as Discord answers a token granted the scopes apikeyd asks for,
// "identify guilds": /users/@me/guilds lists what AddGuilds gave that user.
// It never expires.
func (s *Server) AddUser(token, id, username string) {
	s.AddUserWithScopes(token, id, username, "identify", "guilds")
}

// AddUserWithScopes is AddUser for a token granted only scopes: without
// "identify" /users/@me refuses it, without "guilds" /users/@me/guilds.
func (s *Server) AddUserWithScopes(token, id, username string, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addGrantLocked(&grant{access: token, userID: id, username: username, scopes: scopes})
}

// AddRawUser makes /users/@me answer 200 with body verbatim for token, to
// test malformed, incomplete or oversized answers. The token has no
// "guilds" scope.
func (s *Server) AddRawUser(token, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addGrantLocked(&grant{access: token, rawUser: body, scopes: []string{"identify"}})
}

// Calls is how many requests reached /users/@me with "Bearer token",
// whatever they were answered.
func (s *Server) Calls(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[token]
}

// Tokens is every token sent to any route in an Authorization header
// (what followed "Bearer ", or the whole header without it), in no order,
// so that a test can check that none is a secret that must never leave the
// caller.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tokens := make([]string, 0, len(s.tokens))
	for token := range s.tokens {
		tokens = append(tokens, token)
	}
	return tokens
}

// TotalCalls is how many requests reached /users/@me, with any token.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served
}

// LastHeader is a copy of the headers of the latest request to /users/@me
// (nil before any), to check what a client sends.
func (s *Server) LastHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last.Clone()
}

// FailWith makes every API request answer status, with the body Discord
// sends for it: 429 a rate-limit object and Retry-After header, other 4xx
// a JSON error object, 5xx a plain-text body as from Discord's edge. 0
// stops it. The authorize page is not affected.
func (s *Server) FailWith(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = status
}

// RateLimit makes every API request answer 429 as Discord does when a
// limit of that scope ("user", "shared" or "global"; "" sends no
// X-RateLimit-Scope) is exceeded, asking to retry after retryAfter; a zero
// retryAfter stops it.
func (s *Server) RateLimit(scope string, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited = nil
	if retryAfter > 0 {
		s.limited = &rateLimit{scope: scope, retryAfter: retryAfter}
	}
}

// LimitRoute gives /users/@me a bucket of limit requests per window for
// each token, announced in Discord's X-RateLimit-* headers on every answer;
// a request over it is answered 429 with scope "user". limit 0 removes it.
func (s *Server) LimitRoute(limit int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routeLimit = newRouteLimit(limit, window)
}

// newRouteLimit is a bucket of limit requests per window; nil for limit 0.
func newRouteLimit(limit int, window time.Duration) *routeLimit {
	if limit <= 0 {
		return nil
	}
	return &routeLimit{limit: limit, window: window, used: make(map[string][]time.Time)}
}

// LimitGuildRoutes gives each bot route of each guild a bucket of limit
// requests per window for each token, as LimitRoute does for /users/@me;
// limit 0 removes it.
func (s *Server) LimitGuildRoutes(limit int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.guildLimit = newRouteLimit(limit, window)
}

// Delay makes every API request wait d before answering (or until the
// client gives up), to test timeouts.
func (s *Server) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Hold makes API requests wait, after being counted (by Calls and the
// other counters), until the returned release is called (or the client
// gives up), so tests can line up concurrent callers without sleeping.
// release is idempotent.
func (s *Server) Hold() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.hold == ch {
				s.hold = nil
			}
			s.mu.Unlock()
			close(ch)
		})
	}
}

// Reset forgets users, tokens, codes, guilds, the logged-in user, counts,
// failures and delay, and releases any hold; registered apps stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = make(map[string]int)
	s.tokens = make(map[string]bool)
	s.served = 0
	s.last = nil
	s.fail = 0
	s.delay = 0
	s.limited = nil
	s.routeLimit = nil
	s.guildLimit = nil
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
	s.oauth.reset()
	s.bots = newBots()
	s.messages = newMessages()
}

// apiRoute is one endpoint under APIPrefix.
type apiRoute struct {
	method string
	serve  func(s *Server, w http.ResponseWriter, r *http.Request, token string)
}

var apiRoutes = map[string]apiRoute{
	"/users/@me":           {http.MethodGet, (*Server).serveMe},
	"/users/@me/guilds":    {http.MethodGet, (*Server).serveGuilds},
	"/oauth2/@me":          {http.MethodGet, (*Server).serveAuthorization},
	"/oauth2/token":        {http.MethodPost, (*Server).serveToken},
	"/oauth2/token/revoke": {http.MethodPost, (*Server).serveRevoke},
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == authorizePath {
		s.serveAuthorize(w, r)
		return
	}
	path, inAPI := strings.CutPrefix(r.URL.Path, APIPrefix)
	route, known := apiRoutes[path]
	if _, _, ok := guildRoute(path); ok {
		route, known = apiRoute{http.MethodGet, (*Server).serveGuildRoute}, true
	}
	channel, posting := channelMessagesRoute(path)
	if posting {
		route, known = apiRoute{http.MethodPost, (*Server).serveMessage}, true
	}
	if !inAPI || !known {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404: Not Found", "code": 0})
		return
	}
	if r.Method != route.method {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "405: Method Not Allowed", "code": 0})
		return
	}
	if r.Method == http.MethodPost {
		// Read before counting: the token endpoint counts by grant type.
		_ = r.ParseForm()
	}
	if posting {
		defer s.postArrived(channel)()
	}
	token, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !isBearer {
		token, _ = strings.CutPrefix(token, "Bot ")
	}
	s.mu.Lock()
	if r.Header.Get("Authorization") != "" {
		s.tokens[token] = true
	}
	s.countLocked(path, r, token)
	delay, hold := s.delay, s.hold
	s.mu.Unlock()

	if !s.wait(r, hold, delay) {
		return
	}

	s.mu.Lock()
	fail := s.fail
	limited := s.limited
	if limited == nil && s.routeLimit != nil && path == "/users/@me" {
		limited = s.routeLimit.take(w.Header(), token, "4a1cc5e6d3c8b1f2users@me", time.Now())
	}
	if _, name, ok := guildRoute(path); limited == nil && s.guildLimit != nil && ok {
		limited = s.guildLimit.take(w.Header(), token+" "+path, "7f3e9a20b4d1c6e8guild"+name, time.Now())
	}
	s.mu.Unlock()

	switch {
	case limited != nil:
		writeRateLimited(w, limited)
	case fail == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		w.Header().Set("X-RateLimit-Scope", "user")
		writeJSON(w, fail, map[string]any{"message": "You are being rate limited.", "retry_after": 1.0, "global": false})
	case fail >= 500:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(fail)
		fmt.Fprintf(w, "%d %s: upstream connect error or disconnect/reset before headers\n", fail, http.StatusText(fail))
	case fail != 0:
		writeJSON(w, fail, map[string]any{"message": fmt.Sprintf("%d: %s", fail, http.StatusText(fail)), "code": 0})
	default:
		route.serve(s, w, r, token)
	}
}

// countLocked counts a request to path for the counters tests read.
func (s *Server) countLocked(path string, r *http.Request, token string) {
	switch path {
	case "/users/@me":
		s.last = r.Header.Clone()
		s.served++
		s.calls[token]++
	case "/users/@me/guilds":
		s.guildCalls[token]++
	case "/oauth2/token":
		switch r.PostForm.Get("grant_type") {
		case "authorization_code":
			s.exchanges++
		case "refresh_token":
			s.refreshes++
		}
	case "/oauth2/token/revoke":
		s.revocations++
	}
	if _, route, ok := guildRoute(path); ok {
		s.bots.calls[route]++
	}
}

// wait holds a request while Hold or Delay say so; false when the client
// gave up or the server closed meanwhile.
func (s *Server) wait(r *http.Request, hold chan struct{}, delay time.Duration) bool {
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return false
		case <-s.closed:
			return false
		}
	}
	if delay > 0 {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return false
		case <-s.closed:
			return false
		}
	}
	return true
}

// serveMe answers GET /users/@me: the token's user, if it was granted
// "identify".
func (s *Server) serveMe(w http.ResponseWriter, _ *http.Request, token string) {
	s.mu.Lock()
	g := s.liveGrantLocked(token)
	s.mu.Unlock()
	switch {
	case g == nil || !g.has("identify"):
		writeUnauthorized(w)
	case g.rawUser != "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(g.rawUser))
	default:
		writeJSON(w, http.StatusOK, userObject(g.userID, g.username))
	}
}

func writeUnauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401: Unauthorized", "code": 0})
}

// take counts a request under key (a token, or a token and a path) against
// the bucket and sets the bucket's headers, naming it bucket; over the
// limit, it returns the 429 to answer.
func (l *routeLimit) take(h http.Header, key, bucket string, now time.Time) *rateLimit {
	var recent []time.Time
	for _, t := range l.used[key] {
		if now.Sub(t) < l.window {
			recent = append(recent, t)
		}
	}
	resetAfter := l.window
	if len(recent) > 0 {
		resetAfter = l.window - now.Sub(recent[0])
	}
	h.Set("X-RateLimit-Bucket", bucket)
	h.Set("X-RateLimit-Limit", fmt.Sprint(l.limit))
	// Rounded up, as a client that waits exactly this long must find the
	// window passed.
	h.Set("X-RateLimit-Reset-After", fmt.Sprintf("%.3f", math.Ceil(resetAfter.Seconds()*1000)/1000))
	h.Set("X-RateLimit-Reset", fmt.Sprintf("%.3f", float64(now.Add(resetAfter).UnixMilli())/1000))
	if len(recent) >= l.limit {
		l.used[key] = recent
		h.Set("X-RateLimit-Remaining", "0")
		return &rateLimit{scope: "user", retryAfter: resetAfter}
	}
	l.used[key] = append(recent, now)
	h.Set("X-RateLimit-Remaining", fmt.Sprint(l.limit-len(recent)-1))
	return nil
}

// writeRateLimited answers 429 in Discord's shape: Retry-After in whole
// seconds rounded up, retry_after in the body to the millisecond.
func writeRateLimited(w http.ResponseWriter, l *rateLimit) {
	w.Header().Set("Retry-After", fmt.Sprint(int((l.retryAfter+time.Second-1)/time.Second)))
	if l.scope != "" {
		w.Header().Set("X-RateLimit-Scope", l.scope)
	}
	global := l.scope == "global"
	if global {
		w.Header().Set("X-RateLimit-Global", "true")
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"message": "You are being rate limited.", "retry_after": l.retryAfter.Seconds(), "global": global,
	})
}

// userObject is a user as /users/@me returns it for the "identify" scope
// (no email), with the fields of Discord's post-discriminator usernames.
func userObject(id, username string) map[string]any {
	var globalName any
	if username != "" {
		globalName = username
	}
	return map[string]any{
		"id":                     id,
		"username":               username,
		"avatar":                 nil,
		"discriminator":          "0",
		"public_flags":           0,
		"flags":                  0,
		"banner":                 nil,
		"accent_color":           nil,
		"global_name":            globalName,
		"avatar_decoration_data": nil,
		"collectibles":           nil,
		"banner_color":           nil,
		"clan":                   nil,
		"primary_guild":          nil,
		"mfa_enabled":            false,
		"locale":                 "en-US",
		"premium_type":           0,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
