package discord

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Discord limits every caller per route bucket and globally, answers 429
// with how long to wait, and bans for an hour an address that makes 10,000
// requests answered 401, 403 or 429 within 10 minutes. A Limiter is the one
// place apikeyd keeps that state: every call to Discord (identities, the
// dashboard's OAuth exchanges, the bot) goes through the same one, so that
// a 429 learned by one holds back the others.
//
// It holds back a call that would exceed what Discord announced, and
// refuses it with a *RateLimitedError (saying how long) when the wait is
// longer than MaxWait: an API request waiting for Discord is better
// answered 503 with Retry-After than left hanging.
//
// What a 429 holds back follows its X-RateLimit-Scope: "user" that token's
// bucket alone, "shared" that bucket's resource for every token, "global"
// (or no scope at all, which says nothing narrower) every call.
const (
	// DefaultMaxWait is how long a call may wait for its bucket before it
	// is refused instead.
	DefaultMaxWait = time.Second
	// DefaultInvalidRequestCap is how many calls answered 401, 403 or 429
	// apikeyd allows itself in InvalidRequestWindow: half of the 10,000 at
	// which Discord bans the address, leaving room for other processes
	// (replicas, a bot) behind the same one.
	DefaultInvalidRequestCap = 5000
	// InvalidRequestWindow is the window of Discord's invalid-request ban.
	InvalidRequestWindow = 10 * time.Minute

	// invalidSlots divides the window into counters that age out one by
	// one, so that the count is exact to a slot's length.
	invalidSlots = 60
	// maxRateLimitBody caps what is read of a 429's body for retry_after.
	maxRateLimitBody = 8 << 10
)

// LimiterConfig configures a Limiter. Zero values select the defaults.
type LimiterConfig struct {
	// MaxWait is the longest a call waits for its bucket (0: 1 s; negative:
	// never wait, refuse at once).
	MaxWait time.Duration
	// InvalidRequestCap is the most calls answered 401, 403 or 429 per
	// InvalidRequestWindow (0: 5000).
	InvalidRequestCap int
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// sweepLocked drops the limits that no longer hold anything back, once
// there are twice as many as after the last sweep: every token Discord
// answers adds one, and a flood of tokens must not grow memory for ever.
func (l *Limiter) sweepLocked(now time.Time) {
	if len(l.buckets)+len(l.shared) < l.sweepAt {
		return
	}
	for key, b := range l.buckets {
		if !now.Before(b.resetAt) && !now.Before(b.heldUntil) {
			delete(l.buckets, key)
		}
	}
	for key, until := range l.shared {
		if !now.Before(until) {
			delete(l.shared, key)
		}
	}
	l.sweepAt = max(minSweep, 2*(len(l.buckets)+len(l.shared)))
}

// minSweep is the number of limits kept before the first sweep.
const minSweep = 1024

// RateLimitedError is the error of a call the Limiter did not send: Discord
// would refuse it, or apikeyd is near Discord's invalid-request ban.
type RateLimitedError struct {
	// RetryAfter is how long until the call may be sent.
	RetryAfter time.Duration
	// Scope is what holds the call back: "user", "shared", "global" or
	// "invalid_requests".
	Scope string
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("discord: rate limited (%s) for %s", e.Scope, e.RetryAfter.Round(time.Millisecond))
}

// Limiter is Discord's rate limits as apikeyd has learned them. It is safe
// for concurrent use; create one per process.
type Limiter struct {
	maxWait    time.Duration
	invalidCap int
	now        func() time.Time

	mu sync.Mutex
	// bucketOf maps a route to the bucket Discord named for it
	// (X-RateLimit-Bucket); a route not seen yet is its own bucket.
	bucketOf map[string]string
	buckets  map[bucketKey]*bucket
	// shared holds a resource's bucket back for every token.
	shared      map[bucketKey]time.Time
	globalUntil time.Time
	invalid     invalidCounter
	// sweepAt is the number of limits at which expired ones are dropped.
	sweepAt int
}

// bucketKey names one rate limit: a bucket, for one top-level resource
// (a guild, channel or webhook id in the path), for one credential. auth
// is a hash of the Authorization header: no credential is kept.
type bucketKey struct {
	auth     [sha256.Size]byte
	bucket   string
	resource string
}

// bucket is what Discord last said of one limit.
type bucket struct {
	remaining int
	resetAt   time.Time
	known     bool // Discord has sent its headers
	heldUntil time.Time
}

// NewLimiter returns a Limiter that knows nothing yet.
func NewLimiter(cfg LimiterConfig) *Limiter {
	l := &Limiter{
		maxWait:    cfg.MaxWait,
		invalidCap: cfg.InvalidRequestCap,
		now:        cfg.Now,
		bucketOf:   make(map[string]string),
		buckets:    make(map[bucketKey]*bucket),
		shared:     make(map[bucketKey]time.Time),
		sweepAt:    minSweep,
	}
	if l.maxWait == 0 {
		l.maxWait = DefaultMaxWait
	}
	if l.invalidCap <= 0 {
		l.invalidCap = DefaultInvalidRequestCap
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

// Wrap returns a transport that sends through next (nil: Go's default)
// under the limiter's rules.
func (l *Limiter) Wrap(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &limitedTransport{limiter: l, next: next}
}

// Client returns a copy of c whose calls go through the limiter.
func (l *Limiter) Client(c *http.Client) *http.Client {
	limited := *c
	limited.Transport = l.Wrap(c.Transport)
	return &limited
}

type limitedTransport struct {
	limiter *Limiter
	next    http.RoundTripper
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	l := t.limiter
	route, resource := routeOf(req)
	auth := sha256.Sum256([]byte(req.Header.Get("Authorization")))
	for {
		key, wait, scope := l.reserve(auth, route, resource)
		if wait <= 0 {
			resp, err := t.next.RoundTrip(req)
			if err != nil {
				l.release(key)
				return nil, err
			}
			return l.learn(key, route, resp), nil
		}
		if l.maxWait < 0 || wait > l.maxWait || !fitsDeadline(req, wait) {
			return nil, &RateLimitedError{RetryAfter: wait, Scope: scope}
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		}
	}
}

func fitsDeadline(req *http.Request, wait time.Duration) bool {
	deadline, ok := req.Context().Deadline()
	return !ok || time.Until(deadline) > wait
}

// reserve takes one request from the route's bucket, or says how long
// until it may: zero when the call may go now.
func (l *Limiter) reserve(auth [sha256.Size]byte, route, resource string) (bucketKey, time.Duration, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	key := bucketKey{auth: auth, bucket: route, resource: resource}
	if id, ok := l.bucketOf[route]; ok {
		key.bucket = id
	}
	if wait := l.globalUntil.Sub(now); wait > 0 {
		return key, wait, "global"
	}
	if wait := l.invalid.wait(now, l.invalidCap); wait > 0 {
		return key, wait, "invalid_requests"
	}
	sharedKey := key
	sharedKey.auth = [sha256.Size]byte{}
	if until, ok := l.shared[sharedKey]; ok {
		if wait := until.Sub(now); wait > 0 {
			return key, wait, "shared"
		}
		delete(l.shared, sharedKey)
	}
	b := l.buckets[key]
	if b == nil {
		return key, 0, "" // nothing known of it yet
	}
	if wait := b.heldUntil.Sub(now); wait > 0 {
		return key, wait, "user"
	}
	if b.known && !now.Before(b.resetAt) {
		b.known = false // the window has passed: Discord will say anew
	}
	if b.known {
		if b.remaining <= 0 {
			return key, b.resetAt.Sub(now), "user"
		}
		b.remaining--
	}
	return key, 0, ""
}

// release gives back a reservation whose call never reached Discord.
func (l *Limiter) release(key bucketKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[key]; b != nil && b.known {
		b.remaining++
	}
}

// learn records what Discord's answer says of its limits, and returns the
// answer unchanged for the caller to read.
func (l *Limiter) learn(key bucketKey, route string, resp *http.Response) *http.Response {
	h := resp.Header
	var body []byte
	if resp.StatusCode == http.StatusTooManyRequests {
		// Reading the body for retry_after consumes it: hand the caller a
		// copy.
		body, _ = io.ReadAll(io.LimitReader(resp.Body, maxRateLimitBody))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if id := h.Get("X-RateLimit-Bucket"); id != "" && l.bucketOf[route] != id {
		l.bucketOf[route] = id
		old := l.buckets[key]
		delete(l.buckets, key)
		key.bucket = id
		if l.buckets[key] == nil && old != nil {
			l.buckets[key] = old
		}
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{}
		l.buckets[key] = b
		l.sweepLocked(now)
	}
	if remaining, err := strconv.Atoi(h.Get("X-RateLimit-Remaining")); err == nil {
		if resetAfter, ok := seconds(h.Get("X-RateLimit-Reset-After")); ok {
			b.remaining, b.resetAt, b.known = remaining, now.Add(resetAfter), true
		}
	}

	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		l.invalid.add(now)
	case http.StatusTooManyRequests:
		wait, scope := rateLimitOf(h, body)
		until := now.Add(wait)
		switch scope {
		case "user":
			b.heldUntil = until
		case "shared":
			// Discord does not count these towards the ban.
			sharedKey := key
			sharedKey.auth = [sha256.Size]byte{}
			l.shared[sharedKey] = until
			l.sweepLocked(now)
			return resp
		default:
			l.globalUntil = until
		}
		l.invalid.add(now)
	}
	return resp
}

// rateLimitOf reads a 429: how long to wait (the body's retry_after, else
// Retry-After, else a second) and its scope, "global" unless Discord names
// a narrower one.
func rateLimitOf(h http.Header, body []byte) (time.Duration, string) {
	var b struct {
		RetryAfter *float64 `json:"retry_after"`
		Global     bool     `json:"global"`
	}
	_ = json.Unmarshal(body, &b)
	// The body's retry_after is to the millisecond; the header, whole
	// seconds.
	var wait time.Duration
	ok := false
	if b.RetryAfter != nil {
		wait, ok = secondsOf(*b.RetryAfter)
	}
	if !ok {
		wait, ok = seconds(h.Get("Retry-After"))
	}
	if !ok {
		wait = time.Second
	}
	scope := strings.ToLower(h.Get("X-RateLimit-Scope"))
	if b.Global || strings.EqualFold(h.Get("X-RateLimit-Global"), "true") {
		scope = "global"
	}
	switch scope {
	case "user", "shared":
	default:
		scope = "global"
	}
	return wait, scope
}

// seconds reads a header of (possibly fractional) seconds.
func seconds(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	return secondsOf(f)
}

// maxRetryAfter bounds a wait Discord asks for, so that a nonsense value
// cannot hold apikeyd back for days.
const maxRetryAfter = time.Hour

func secondsOf(f float64) (time.Duration, bool) {
	if math.IsNaN(f) || f < 0 {
		return 0, false
	}
	if f > maxRetryAfter.Seconds() {
		return maxRetryAfter, true
	}
	return time.Duration(f * float64(time.Second)), true
}

// routeOf names a request's route as Discord buckets it: the method and
// the path with ids replaced, and the top-level resource (the id after
// channels, guilds or webhooks, with a webhook's token) on its own, since
// each resource is limited separately.
func routeOf(req *http.Request) (route, resource string) {
	segments := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	for i, seg := range segments {
		if !isSnowflake(seg) {
			continue
		}
		if i > 0 && resource == "" {
			switch segments[i-1] {
			case "channels", "guilds", "webhooks":
				resource = segments[i-1] + "/" + seg
				if segments[i-1] == "webhooks" && i+1 < len(segments) {
					resource += "/" + segments[i+1]
				}
				continue
			}
		}
		segments[i] = ":id"
	}
	return req.Method + " /" + strings.Join(segments, "/"), resource
}

// invalidCounter counts answers of 401, 403 and 429 over the last
// InvalidRequestWindow, in slots that age out one at a time.
type invalidCounter struct {
	counts [invalidSlots]int
	starts [invalidSlots]time.Time
}

const invalidSlotLength = InvalidRequestWindow / invalidSlots

func (c *invalidCounter) add(now time.Time) {
	start := now.Truncate(invalidSlotLength)
	i := int(start.Unix()/int64(invalidSlotLength/time.Second)) % invalidSlots
	if !c.starts[i].Equal(start) {
		c.starts[i], c.counts[i] = start, 0
	}
	c.counts[i]++
}

// wait is how long until the count drops below limit: zero if it is below.
func (c *invalidCounter) wait(now time.Time, limit int) time.Duration {
	total := 0
	oldest := time.Time{}
	for i := range c.counts {
		if c.counts[i] == 0 || now.Sub(c.starts[i]) >= InvalidRequestWindow {
			continue
		}
		total += c.counts[i]
		if oldest.IsZero() || c.starts[i].Before(oldest) {
			oldest = c.starts[i]
		}
	}
	if total < limit {
		return 0
	}
	return oldest.Add(InvalidRequestWindow).Sub(now)
}

// errRateLimited reports whether err is the limiter's refusal, and how
// long it asks to wait.
func errRateLimited(err error) (time.Duration, bool) {
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return rl.RetryAfter, true
	}
	return 0, false
}
