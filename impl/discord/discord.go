// Package discord resolves a Discord OAuth access token to the id of the
// user it belongs to, by asking Discord's GET /users/@me.
//
// /v1 accepts "Authorization: Bearer <Discord OAuth access token>", so every
// such request needs to know who the token belongs to. Asking Discord each
// time would make apikeyd as slow and as rate limited as Discord, so a
// successful answer is cached briefly. Only the token -> user identity is
// cached (DESIGN.md allows it to expire by time); whether that user
// administers a guild is always read from the database by the caller.
//
// Security properties:
//   - The token is never stored: the cache and the in-flight table are keyed
//     by SHA-256(token), so a heap dump reveals no usable token.
//   - The token never appears in an error (message or cause), so it cannot
//     leak into logs or responses.
//   - Failures are never cached: a token Discord refused may become valid,
//     and an outage must not lock users out after Discord recovers.
package discord

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
)

const (
	// DefaultCacheTTL is how long an identity is trusted without asking
	// Discord again: short, so that a revoked token stops working soon, and
	// long enough to absorb bursts of requests from one dashboard session.
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

	// maxBodyBytes caps what is read from Discord: a user object is well
	// under 2 KiB, and a misbehaving upstream must not make us buffer more.
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
	// "/users/@me" is appended.
	BaseURL string
	// HTTPClient sends the requests. nil selects a client with a
	// DefaultTimeout total timeout, transport timeouts and no redirects.
	// A client without a Timeout still gets DefaultTimeout per request.
	HTTPClient *http.Client
	// CacheTTL is how long a successful identity is cached (0: 60 s).
	CacheTTL time.Duration
	// MaxEntries bounds the number of cached identities (0: 10000).
	MaxEntries int
	// Limiter holds calls back under Discord's rate limits; share the
	// process's one (nil: a Limiter of this client's own).
	Limiter *Limiter
	// Now is the clock used for cache expiry (nil: time.Now); tests set it
	// to move time without sleeping.
	Now func() time.Time
}

// Client resolves Discord access tokens to user ids. It is safe for
// concurrent use; create one per process so that the cache is shared.
type Client struct {
	url        string
	http       *http.Client
	ctxTimeout time.Duration // per-request timeout when http has none
	ttl        time.Duration
	max        int
	now        func() time.Time

	mu       sync.Mutex
	cache    map[tokenKey]*list.Element // values are *entry
	order    *list.List                 // entries, oldest insertion first
	inflight map[tokenKey]*call
}

// tokenKey is SHA-256 of a token: the only form in which a token is kept.
type tokenKey [sha256.Size]byte

type entry struct {
	key     tokenKey
	id      string
	expires time.Time
}

// call is one upstream request shared by every caller asking about the same
// token while it runs. done is closed once id/err are set.
type call struct {
	done    chan struct{}
	id      string
	err     error
	waiters int                // callers still waiting; guarded by Client.mu
	cancel  context.CancelFunc // stops the request when no one waits
	forget  bool               // Forget ran meanwhile: do not cache the result
}

// NewClient returns a Client for cfg, filling in defaults.
func NewClient(cfg Config) *Client {
	c := &Client{
		url:      strings.TrimRight(cfg.BaseURL, "/") + "/users/@me",
		http:     cfg.HTTPClient,
		ttl:      cfg.CacheTTL,
		max:      cfg.MaxEntries,
		now:      cfg.Now,
		cache:    make(map[tokenKey]*list.Element),
		order:    list.New(),
		inflight: make(map[tokenKey]*call),
	}
	if c.http == nil {
		c.http = defaultHTTPClient()
	}
	limiter := cfg.Limiter
	if limiter == nil {
		limiter = NewLimiter(LimiterConfig{Now: cfg.Now})
	}
	c.http = limiter.Client(c.http)
	if c.http.Timeout <= 0 {
		c.ctxTimeout = DefaultTimeout
	}
	if c.ttl <= 0 {
		c.ttl = DefaultCacheTTL
	}
	if c.max <= 0 {
		c.max = DefaultMaxEntries
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
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
	key := tokenKey(sha256.Sum256([]byte(token)))

	c.mu.Lock()
	if id, ok := c.lookupLocked(key); ok {
		c.mu.Unlock()
		return id, nil
	}
	if err := ctx.Err(); err != nil {
		c.mu.Unlock()
		return "", err
	}
	cl, ok := c.inflight[key]
	if !ok {
		// Detached from ctx: the first caller leaving must not fail the
		// others. Values (e.g. trace ids) are kept.
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cl = &call{done: make(chan struct{}), cancel: cancel}
		c.inflight[key] = cl
		go c.run(fctx, key, token, cl)
	}
	cl.waiters++
	c.mu.Unlock()

	select {
	case <-cl.done:
		return cl.id, cl.err
	case <-ctx.Done():
		c.mu.Lock()
		cl.waiters--
		if cl.waiters == 0 {
			// No one wants the answer any more: stop asking Discord, and let
			// the next caller start afresh rather than join a dying call.
			cl.cancel()
			if c.inflight[key] == cl {
				delete(c.inflight, key)
			}
		}
		c.mu.Unlock()
		return "", ctx.Err()
	}
}

// CachedUserID is the user token belongs to when the cache knows it,
// without asking Discord: a caller that limits what it sends to Discord
// lets these through.
func (c *Client) CachedUserID(token string) (string, bool) {
	key := tokenKey(sha256.Sum256([]byte(token)))
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookupLocked(key)
}

// Forget drops the cached identity of token, so that the next UserID asks
// Discord again (for logout, or after learning the token was revoked). A
// request for that token already in flight is not cached either.
func (c *Client) Forget(token string) {
	key := tokenKey(sha256.Sum256([]byte(token)))
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.cache[key]; ok {
		c.removeLocked(el)
	}
	if cl, ok := c.inflight[key]; ok {
		cl.forget = true
	}
}

// run performs the upstream request for cl and publishes its result.
func (c *Client) run(ctx context.Context, key tokenKey, token string, cl *call) {
	defer cl.cancel()
	if c.ctxTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.ctxTimeout)
		defer cancel()
	}
	id, err := c.fetch(ctx, token)

	c.mu.Lock()
	if c.inflight[key] == cl {
		delete(c.inflight, key)
	}
	if err == nil && !cl.forget {
		c.storeLocked(key, id)
	}
	cl.id, cl.err = id, err
	close(cl.done)
	c.mu.Unlock()
}

// fetch asks Discord who token belongs to and classifies the outcome.
func (c *Client) fetch(ctx context.Context, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		// Only a bad BaseURL gets here: a configuration bug, not Discord.
		return "", &apierr.Error{Code: apierr.Internal, Message: "invalid Discord API URL", Cause: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "application/json")

	resp, err := c.http.Do(req)
	if wait, limited := errRateLimited(err); limited {
		return "", &apierr.Error{Code: apierr.Unavailable, Message: "Discord is rate limiting apikeyd; try again later", RetryAfter: wait, Cause: err}
	}
	if err != nil {
		// *url.Error names the method and URL, never headers: no token.
		msg := "Discord is unreachable"
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			msg = "Discord did not answer in time"
		}
		return "", &apierr.Error{Code: apierr.Unavailable, Message: msg, Cause: err}
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))

	switch s := resp.StatusCode; {
	case s == http.StatusOK:
		if readErr != nil {
			return "", unavailable("Discord's answer was cut short", readErr)
		}
		if len(body) > maxBodyBytes {
			return "", unavailable("Discord's answer is too large", fmt.Errorf("body exceeds %d bytes", maxBodyBytes))
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
	case s == http.StatusTooManyRequests:
		// Rate limited: says nothing about the token, so not the user's
		// fault. The wait Discord asks for is passed on to the client.
		wait, _ := rateLimitOf(resp.Header, body)
		return "", &apierr.Error{Code: apierr.Unavailable, Message: "Discord is rate limiting apikeyd; try again later", RetryAfter: wait, Cause: statusError(resp, body, token)}
	case s >= 400 && s < 500:
		// 401 (invalid/expired/revoked), 403 (e.g. no "identify" scope) and
		// the rest: Discord will not identify anyone with this token.
		return "", &apierr.Error{Code: apierr.Unauthorized, Message: "Discord did not accept the access token", Cause: statusError(resp, body, token), Reason: "discord_rejected"}
	default:
		// 5xx, and anything else (a 3xx we did not follow, a 2xx that is
		// not 200): Discord could not answer.
		return "", unavailable("Discord could not answer", statusError(resp, body, token))
	}
}

func unavailable(msg string, cause error) error {
	return &apierr.Error{Code: apierr.Unavailable, Message: msg, Cause: cause}
}

// statusError describes a non-200 answer for logs: the status and Discord's
// own message and code when the body is Discord's JSON error shape.
func statusError(resp *http.Response, body []byte, token string) error {
	var d struct {
		Message    string   `json:"message"`
		Code       int      `json:"code"`
		RetryAfter *float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &d) != nil || d.Message == "" {
		return fmt.Errorf("discord: GET /users/@me: status %d", resp.StatusCode)
	}
	msg := truncate(redact(d.Message, token))
	if d.RetryAfter != nil {
		return fmt.Errorf("discord: GET /users/@me: status %d: %q (retry after %gs)", resp.StatusCode, msg, *d.RetryAfter)
	}
	return fmt.Errorf("discord: GET /users/@me: status %d: %q (code %d)", resp.StatusCode, msg, d.Code)
}

// redact removes the token from text taken from Discord's answer, should
// Discord ever echo it, so it cannot reach a log.
func redact(s, token string) string {
	return strings.ReplaceAll(s, token, "[redacted]")
}

func truncate(s string) string {
	if len(s) > maxCauseChars {
		return s[:maxCauseChars] + "..."
	}
	return s
}

// checkToken rejects tokens that cannot be valid before spending a request
// on them, and ones that could not be sent in a header at all (the error
// for which might otherwise describe the value).
func checkToken(token string) error {
	if token == "" {
		return apierr.New(apierr.Unauthorized, "missing Discord access token").Because("no_credentials")
	}
	if len(token) > maxTokenBytes {
		return apierr.New(apierr.Unauthorized, "malformed Discord access token").Because("malformed_token")
	}
	for i := 0; i < len(token); i++ {
		if b := token[i]; b <= ' ' || b >= 0x7f {
			return apierr.New(apierr.Unauthorized, "malformed Discord access token").Because("malformed_token")
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

// lookupLocked returns a cached, unexpired identity; an expired one is
// dropped on the way.
func (c *Client) lookupLocked(key tokenKey) (string, bool) {
	el, ok := c.cache[key]
	if !ok {
		return "", false
	}
	e := el.Value.(*entry)
	if !c.now().Before(e.expires) {
		c.removeLocked(el)
		return "", false
	}
	return e.id, true
}

// storeLocked caches an identity, keeping the cache within max entries:
// expired entries go first, then the oldest ones. With one TTL for all
// entries, insertion order is expiry order, so both are found at the front.
func (c *Client) storeLocked(key tokenKey, id string) {
	now := c.now()
	if el, ok := c.cache[key]; ok {
		c.removeLocked(el)
	}
	for el := c.order.Front(); el != nil; el = c.order.Front() {
		if now.Before(el.Value.(*entry).expires) {
			break
		}
		c.removeLocked(el)
	}
	for c.order.Len() >= c.max {
		c.removeLocked(c.order.Front())
	}
	c.cache[key] = c.order.PushBack(&entry{key: key, id: id, expires: now.Add(c.ttl)})
}

func (c *Client) removeLocked(el *list.Element) {
	delete(c.cache, el.Value.(*entry).key)
	c.order.Remove(el)
}
