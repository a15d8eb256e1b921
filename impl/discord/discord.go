// Package discord is apikeyd's side of Discord: it resolves an OAuth
// access token to the id of the user it belongs to (GET /users/@me) and to
// the guilds that user is in (GET /users/@me/guilds), runs the
// dashboard's OAuth2 login (authorization code with PKCE, refresh,
// revocation), and, as apikeyd's bot (bot.go), lists a guild's roles,
// channels, members and emojis. Every call goes through one Limiter.
//
// /v1 accepts "Authorization: Bearer <Discord OAuth access token>", so every
// such request needs to know who the token belongs to. Asking Discord each
// time would make apikeyd as slow and as rate limited as Discord, so a
// successful answer is cached briefly. Only what Discord says of the token
// (its user, that user's guilds) is cached (DESIGN.md allows it to expire
// by time); whether that user administers a guild is always read from the
// database by the caller.
//
// Security properties:
//   - The token is never stored: the caches and the in-flight tables are
//     keyed by SHA-256(token), so a heap dump reveals no usable token.
//   - No token, authorization code, PKCE verifier or client secret appears
//     in an error (message or cause), so none can leak into logs or
//     responses.
//   - Failures are never cached: a token Discord refused may become valid,
//     and an outage must not lock users out after Discord recovers.
package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
)

const (
	// DefaultCacheTTL is how long an identity (or a guild list) is trusted
	// without asking Discord again: short, so that a revoked token stops
	// working soon, and long enough to absorb bursts of requests from one
	// dashboard session.
	DefaultCacheTTL = 60 * time.Second
	// DefaultMaxEntries bounds the cache so that a flood of distinct tokens
	// cannot exhaust memory.
	DefaultMaxEntries = 10000
	// DefaultTimeout bounds one whole exchange with Discord (connect, TLS,
	// headers, body), so a hanging Discord becomes a 503 instead of piling
	// up requests.
	DefaultTimeout = 5 * time.Second

	// UserAgent names apikeyd in the "name (url, version)" shape Discord
	// asks of API clients; requests with missing or generic user agents
	// risk being blocked by Discord.
	UserAgent = "apikeyd (https://github.com/apikeyd/apikeyd, 1)"

	// maxBodyBytes caps what is read from Discord for a user: a user object
	// is well under 2 KiB, and a misbehaving upstream must not make us
	// buffer more.
	maxBodyBytes = 64 << 10
	// maxTokenBytes rejects absurd tokens before hashing or sending them;
	// Discord access tokens are about 30 characters.
	maxTokenBytes = 2048
	// maxCauseChars bounds how much of Discord's error text goes into logs.
	maxCauseChars = 200
)

// Config configures a Client. Zero values select the defaults.
type Config struct {
	// BaseURL is Discord's API root, e.g. "https://discord.com/api/v10";
	// "/users/@me" and the like are appended.
	BaseURL string
	// HTTPClient sends the requests. nil selects a client with a
	// DefaultTimeout total timeout, transport timeouts and no redirects.
	// A client without a Timeout still gets DefaultTimeout per request.
	HTTPClient *http.Client
	// CacheTTL is how long a successful answer (an identity, a guild list)
	// is cached (0: 60 s).
	CacheTTL time.Duration
	// MaxEntries bounds the number of cached identities, and of cached
	// guild lists (0: 10000 each).
	MaxEntries int
	// Limiter holds calls back under Discord's rate limits; share the
	// process's one (nil: a Limiter of this client's own).
	Limiter *Limiter
	// Now is the clock used for cache expiry (nil: time.Now); tests set it
	// to move time without sleeping.
	Now func() time.Time
}

// Client asks Discord about access tokens: whose they are (UserID) and
// which guilds that user is in (Guilds). It is safe for concurrent use;
// create one per process so that the caches are shared.
type Client struct {
	base       string // Discord's API root, without a trailing slash
	http       *http.Client
	ctxTimeout time.Duration // per-request timeout when http has none

	identities *tokenCache[string]
	guilds     *tokenCache[[]Guild]
}

// NewClient returns a Client for cfg, filling in defaults.
func NewClient(cfg Config) *Client {
	c := &Client{base: strings.TrimRight(cfg.BaseURL, "/")}
	c.http, c.ctxTimeout = limitedClient(cfg.HTTPClient, cfg.Limiter, cfg.Now)
	ttl, maxEntries, now := cfg.CacheTTL, cfg.MaxEntries, cfg.Now
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	if now == nil {
		now = time.Now
	}
	c.identities = newTokenCache[string](ttl, maxEntries, now)
	c.guilds = newTokenCache[[]Guild](ttl, maxEntries, now)
	return c
}

// limitedClient is hc (nil: defaultHTTPClient) sending through limiter
// (nil: a Limiter of its own, on the clock now), and the timeout each
// request needs of its context: DefaultTimeout where hc sets none.
func limitedClient(hc *http.Client, limiter *Limiter, now func() time.Time) (*http.Client, time.Duration) {
	if hc == nil {
		hc = defaultHTTPClient()
	}
	if limiter == nil {
		limiter = NewLimiter(LimiterConfig{Now: now})
	}
	hc = limiter.Client(hc)
	if hc.Timeout <= 0 {
		return hc, DefaultTimeout
	}
	return hc, 0
}

// defaultHTTPClient has a total timeout plus per-phase transport timeouts
// (so a slow connect or TLS handshake fails early), and refuses redirects:
// /users/@me never redirects, and following one would send the bearer token
// to wherever the redirect points.
func defaultHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: DefaultTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   3 * time.Second,
			ResponseHeaderTimeout: DefaultTimeout,
			ExpectContinueTimeout: time.Second,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// UserID returns the id of the Discord user that token belongs to.
//
// Errors: *apierr.Error with Code Unauthorized when Discord refuses the
// token (or it is empty or malformed), Unavailable when Discord cannot give
// an answer (unreachable, timeout, 429, 5xx, unusable body). If ctx ends
// first, ctx.Err() is returned unwrapped; the upstream request goes on for
// any other caller waiting on the same token.
func (c *Client) UserID(ctx context.Context, token string) (string, error) {
	if err := checkToken(token); err != nil {
		return "", err
	}
	return c.identities.get(ctx, keyOf(token), func(ctx context.Context) (string, error) {
		return c.fetchUserID(ctx, token)
	})
}

// CachedUserID is the user token belongs to when the cache knows it,
// without asking Discord: a caller that limits what it sends to Discord
// lets these through.
func (c *Client) CachedUserID(token string) (string, bool) {
	return c.identities.cached(keyOf(token))
}

// Forget drops what is cached of token, its identity and its guilds, so
// that the next UserID or Guilds asks Discord again (for logout, or after
// learning the token was revoked). A request for that token already in
// flight is not cached either.
func (c *Client) Forget(token string) {
	key := keyOf(token)
	c.identities.forget(key)
	c.guilds.forget(key)
}

// fetchUserID asks Discord who token belongs to.
func (c *Client) fetchUserID(ctx context.Context, token string) (string, error) {
	body, err := c.get(ctx, "/users/@me", token, maxBodyBytes)
	if err != nil {
		return "", err
	}
	var u struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &u); err != nil {
		return "", unavailable("Discord's answer is not a user", err)
	}
	if !isSnowflake(u.ID) {
		return "", unavailable("Discord's answer is not a user", fmt.Errorf("id %q is not 1-20 digits", truncate(redact(u.ID, token))))
	}
	return u.ID, nil
}

// get sends GET <base><path> with token as its bearer and returns the body
// of a 200 answer, of at most limit bytes; any other outcome is classified:
// Unauthorized when Discord refuses the token (a *statusError cause says
// how), Unavailable when Discord gives no answer.
func (c *Client) get(ctx context.Context, path, token string, limit int) ([]byte, error) {
	resp, body, err := getFrom(ctx, c.http, c.ctxTimeout, c.base, path, "Bearer "+token, limit)
	if err != nil {
		return nil, err
	}
	switch s := resp.StatusCode; {
	case s == http.StatusOK:
		return body, nil
	case s == http.StatusTooManyRequests:
		// Rate limited: says nothing about the token, so not the user's
		// fault. The wait Discord asks for is passed on to the client.
		wait, _ := rateLimitOf(resp.Header, body)
		return nil, &apierr.Error{Code: apierr.Unavailable, Message: msgRateLimited, RetryAfter: wait, Cause: newStatusError(path, resp.StatusCode, body, token)}
	case s >= 400 && s < 500:
		// 401 (invalid/expired/revoked, or a scope missing), 403 and the
		// rest: Discord will not answer anything with this token.
		return nil, &apierr.Error{Code: apierr.Unauthorized, Message: "Discord did not accept the access token", Cause: newStatusError(path, resp.StatusCode, body, token), Reason: "discord_rejected"}
	default:
		// 5xx, and anything else (a 3xx we did not follow, a 2xx that is
		// not 200): Discord could not answer.
		return nil, unavailable("Discord could not answer", newStatusError(path, resp.StatusCode, body, token))
	}
}

// getFrom sends GET <base><path> through hc with auth as its Authorization
// header, within timeout when hc has none, and returns the answer (its body
// closed) with at most limit bytes of its body. The error is for no answer
// at all (transportError), or a 200 whose body could not be read whole
// (Unavailable): any other status is the caller's to classify.
func getFrom(ctx context.Context, hc *http.Client, timeout time.Duration, base, path, auth string, limit int) (*http.Response, []byte, error) {
	resp, done, err := sendTo(ctx, hc, timeout, http.MethodGet, base, path, auth, nil)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if resp.StatusCode == http.StatusOK {
		if readErr != nil {
			return nil, nil, unavailable("Discord's answer was cut short", readErr)
		}
		if len(body) > limit {
			return nil, nil, unavailable("Discord's answer is too large", fmt.Errorf("GET %s: body exceeds %d bytes", path, limit))
		}
	}
	return resp, body, nil
}

// sendTo sends method <base><path> through hc with auth as its
// Authorization header and body, JSON, when there is one, within timeout
// when hc has none. done closes the answer's body and ends the timeout:
// the caller reads the body before it. The error is for no answer at all
// (transportError).
func sendTo(ctx context.Context, hc *http.Client, timeout time.Duration, method, base, path, auth string, body []byte) (*http.Response, func(), error) {
	cancel := context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	var content io.Reader
	if body != nil {
		content = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, content)
	if err != nil {
		cancel()
		// Only a bad BaseURL gets here: a configuration bug, not Discord.
		return nil, nil, &apierr.Error{Code: apierr.Internal, Message: "invalid Discord API URL", Cause: err}
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		// *url.Error names the method and URL, never headers: no token.
		return nil, nil, transportError(err)
	}
	return resp, func() { resp.Body.Close(); cancel() }, nil
}

// msgRateLimited is what a caller held back by Discord's limits is told.
const msgRateLimited = "Discord is rate limiting apikeyd; try again later"

// transportError classifies a request that got no answer from Discord:
// the Limiter refusing it (with the wait it asks for), a timeout, or
// Discord out of reach.
func transportError(err error) error {
	if wait, limited := errRateLimited(err); limited {
		return &apierr.Error{Code: apierr.Unavailable, Message: msgRateLimited, RetryAfter: wait, Cause: err}
	}
	msg := "Discord is unreachable"
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		msg = "Discord did not answer in time"
	}
	return &apierr.Error{Code: apierr.Unavailable, Message: msg, Cause: err}
}

func unavailable(msg string, cause error) error {
	return &apierr.Error{Code: apierr.Unavailable, Message: msg, Cause: cause}
}

// statusError is a non-200 answer of Discord's API, for logs: the status
// and Discord's own message and code when the body is Discord's JSON
// error shape.
type statusError struct {
	path       string
	status     int
	message    string // redacted and truncated; "" when the body had none
	code       int
	retryAfter *float64
}

func newStatusError(path string, status int, body []byte, token string) *statusError {
	var d struct {
		Message    string   `json:"message"`
		Code       int      `json:"code"`
		RetryAfter *float64 `json:"retry_after"`
	}
	e := &statusError{path: path, status: status}
	if json.Unmarshal(body, &d) == nil && d.Message != "" {
		e.message, e.code, e.retryAfter = truncate(redact(d.Message, token)), d.Code, d.RetryAfter
	}
	return e
}

func (e *statusError) Error() string {
	switch {
	case e.message == "":
		return fmt.Sprintf("discord: GET %s: status %d", e.path, e.status)
	case e.retryAfter != nil:
		return fmt.Sprintf("discord: GET %s: status %d: %q (retry after %gs)", e.path, e.status, e.message, *e.retryAfter)
	default:
		return fmt.Sprintf("discord: GET %s: status %d: %q (code %d)", e.path, e.status, e.message, e.code)
	}
}

// redact removes the token from text taken from Discord's answer, should
// Discord ever echo it, so it cannot reach a log.
func redact(s, token string) string {
	return strings.ReplaceAll(s, token, "[redacted]")
}

// redactEach removes each non-empty secret from s.
func redactEach(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = redact(s, secret)
		}
	}
	return s
}

func truncate(s string) string {
	if len(s) > maxCauseChars {
		return s[:maxCauseChars] + "..."
	}
	return s
}

// checkToken rejects access tokens that cannot be valid before spending a
// request on them, and ones that could not be sent in a header at all (the
// error for which might otherwise describe the value).
func checkToken(token string) error { return checkValue(token, "Discord access token") }

// checkValue is checkToken for any secret sent to Discord (a token, a
// refresh token, an authorization code), what naming it in messages.
func checkValue(v, what string) error {
	if v == "" {
		return apierr.New(apierr.Unauthorized, "missing %s", what).Because("no_credentials")
	}
	if len(v) > maxTokenBytes {
		return apierr.New(apierr.Unauthorized, "malformed %s", what).Because("malformed_token")
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b <= ' ' || b >= 0x7f {
			return apierr.New(apierr.Unauthorized, "malformed %s", what).Because("malformed_token")
		}
	}
	return nil
}

// isSnowflake reports whether s is 1-20 decimal digits: the shape of a
// Discord id, which callers store and compare as a string.
func isSnowflake(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
