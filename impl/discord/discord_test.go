package discord_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

// token is distinctive so that a leak into any error text is obvious.
const (
	token  = "tok3nS3cr3tDoNotLeak9xQ"
	userID = "80351110224678912" // a real-looking snowflake (> 2^53)
)

// clock is a settable time source for the Now hook: TTLs are tested by
// moving it, never by sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClient(srv *discordtest.Server, mod func(*discord.Config)) *discord.Client {
	cfg := discord.Config{
		BaseURL:    srv.URL(),
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	}
	if mod != nil {
		mod(&cfg)
	}
	return discord.NewClient(cfg)
}

// wantCode checks err's apierr code and that neither its client message
// nor its full text (cause included, as logged) holds the token.
func wantCode(t *testing.T, err error, want apierr.Code, tok string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s", want)
	}
	if got := apierr.CodeOf(err); got != want {
		t.Fatalf("code = %q, want %q (err: %v)", got, want, err)
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("err %T is not an *apierr.Error", err)
	}
	if tok != "" && (strings.Contains(ae.Message, tok) || strings.Contains(err.Error(), tok)) {
		t.Fatalf("error reveals the token: %v", err)
	}
}

// waitFor polls cond (a condition another goroutine will make true) with a
// deadline; it orders goroutines, it does not stand in for time passing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestUserID(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	c := newClient(srv, nil)

	id, err := c.UserID(context.Background(), token)
	if err != nil || id != userID {
		t.Fatalf("UserID = %q, %v; want %q", id, err, userID)
	}
	h := srv.LastHeader()
	if got := h.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization = %q", got)
	}
	if got := h.Get("User-Agent"); got != "apikeyd (https://github.com/apikeyd/apikeyd, 1)" {
		t.Errorf("User-Agent = %q", got)
	}
}

func TestDefaultsAndTrailingSlash(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	c := discord.NewClient(discord.Config{BaseURL: srv.URL() + "/"})
	id, err := c.UserID(context.Background(), token)
	if err != nil || id != userID {
		t.Fatalf("UserID = %q, %v; want %q", id, err, userID)
	}
}

func TestCachedWithinTTL(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	clk := newClock()
	c := newClient(srv, func(cfg *discord.Config) {
		cfg.Now = clk.Now
		cfg.CacheTTL = time.Minute
	})
	ctx := context.Background()

	for i := range 3 {
		if id, err := c.UserID(ctx, token); err != nil || id != userID {
			t.Fatalf("call %d: UserID = %q, %v", i, id, err)
		}
	}
	if n := srv.Calls(token); n != 1 {
		t.Fatalf("Discord called %d times within TTL, want 1", n)
	}

	clk.Advance(time.Minute - time.Second)
	if _, err := c.UserID(ctx, token); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(token); n != 1 {
		t.Fatalf("Discord called %d times just before TTL, want 1", n)
	}

	clk.Advance(time.Second) // exactly TTL: expired
	if id, err := c.UserID(ctx, token); err != nil || id != userID {
		t.Fatalf("after TTL: UserID = %q, %v", id, err)
	}
	if n := srv.Calls(token); n != 2 {
		t.Fatalf("Discord called %d times after TTL, want 2", n)
	}
	if _, err := c.UserID(ctx, token); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(token); n != 2 {
		t.Fatalf("refreshed identity not cached: %d calls, want 2", n)
	}
}

// TestCachedUserIDNeverAsksDiscord: CachedUserID answers from the cache
// alone: unknown before a UserID, known within the TTL, unknown after it.
func TestCachedUserIDNeverAsksDiscord(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	clk := newClock()
	c := newClient(srv, func(cfg *discord.Config) {
		cfg.Now = clk.Now
		cfg.CacheTTL = time.Minute
	})
	if id, ok := c.CachedUserID(token); ok {
		t.Fatalf("before any UserID: CachedUserID = %q, true", id)
	}
	if _, err := c.UserID(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if id, ok := c.CachedUserID(token); !ok || id != userID {
		t.Fatalf("within the TTL: CachedUserID = %q, %v", id, ok)
	}
	clk.Advance(time.Minute)
	if id, ok := c.CachedUserID(token); ok {
		t.Fatalf("after the TTL: CachedUserID = %q, true", id)
	}
	if n := srv.Calls(token); n != 1 {
		t.Fatalf("Discord called %d times, want 1 (the UserID)", n)
	}
}

func TestDefaultTTLIsSixtySeconds(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	clk := newClock()
	c := newClient(srv, func(cfg *discord.Config) { cfg.Now = clk.Now })
	ctx := context.Background()
	if _, err := c.UserID(ctx, token); err != nil {
		t.Fatal(err)
	}
	clk.Advance(59 * time.Second)
	if _, err := c.UserID(ctx, token); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(token); n != 1 {
		t.Fatalf("%d calls at 59 s, want 1", n)
	}
	clk.Advance(time.Second)
	if _, err := c.UserID(ctx, token); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(token); n != 2 {
		t.Fatalf("%d calls at 60 s, want 2", n)
	}
}

func TestForget(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	c := newClient(srv, nil)
	ctx := context.Background()
	if _, err := c.UserID(ctx, token); err != nil {
		t.Fatal(err)
	}
	c.Forget(token)
	c.Forget("never-seen") // harmless
	if _, err := c.UserID(ctx, token); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(token); n != 2 {
		t.Fatalf("%d calls after Forget, want 2", n)
	}
}

func TestForgetDuringFetchIsNotCached(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	c := newClient(srv, nil)
	ctx := context.Background()

	release := srv.Hold()
	done := make(chan error, 1)
	go func() { _, err := c.UserID(ctx, token); done <- err }()
	waitFor(t, "the request to reach Discord", func() bool { return srv.Calls(token) == 1 })
	c.Forget(token) // e.g. logout racing with a request
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := c.UserID(ctx, token); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(token); n != 2 {
		t.Fatalf("%d calls, want 2: an identity forgotten mid-flight was cached", n)
	}
}

func TestUnknownTokenIsUnauthorizedAndNotCached(t *testing.T) {
	srv := discordtest.NewServer(t)
	c := newClient(srv, nil)
	ctx := context.Background()

	for i := 1; i <= 2; i++ {
		id, err := c.UserID(ctx, token)
		if id != "" {
			t.Fatalf("id = %q on error", id)
		}
		wantCode(t, err, apierr.Unauthorized, token)
		if n := srv.Calls(token); n != i {
			t.Fatalf("after %d calls Discord saw %d: failure was cached", i, n)
		}
	}

	// The token becomes valid (e.g. the user re-authorized): no stale failure.
	srv.AddUser(token, userID, "nelly")
	if id, err := c.UserID(ctx, token); err != nil || id != userID {
		t.Fatalf("UserID = %q, %v", id, err)
	}
}

func TestRefusedIsUnauthorized(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 405} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := discordtest.NewServer(t)
			srv.AddUser(token, userID, "nelly")
			srv.FailWith(status)
			c := newClient(srv, nil)
			_, err := c.UserID(context.Background(), token)
			wantCode(t, err, apierr.Unauthorized, token)
			_, err = c.UserID(context.Background(), token)
			wantCode(t, err, apierr.Unauthorized, token)
			if n := srv.Calls(token); n != 2 {
				t.Fatalf("%d calls, want 2: failure was cached", n)
			}
		})
	}
}

func TestMalformedTokenIsUnauthorizedWithoutRequest(t *testing.T) {
	srv := discordtest.NewServer(t)
	c := newClient(srv, nil)
	for _, tok := range []string{"", "has space", "new\nline", "tab\t", strings.Repeat("a", 4096)} {
		_, err := c.UserID(context.Background(), tok)
		wantCode(t, err, apierr.Unauthorized, tok)
	}
	if n := srv.TotalCalls(); n != 0 {
		t.Fatalf("%d requests sent for malformed tokens", n)
	}
}

func TestDiscordFailureIsUnavailable(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := discordtest.NewServer(t)
			srv.AddUser(token, userID, "nelly")
			srv.FailWith(status)
			c := newClient(srv, nil)
			_, err := c.UserID(context.Background(), token)
			wantCode(t, err, apierr.Unavailable, token)
			_, err = c.UserID(context.Background(), token)
			wantCode(t, err, apierr.Unavailable, token)
			if n := srv.Calls(token); n != 2 {
				t.Fatalf("%d calls, want 2: failure was cached", n)
			}

			// Discord recovers: the next request succeeds at once.
			srv.FailWith(0)
			if id, err := c.UserID(context.Background(), token); err != nil || id != userID {
				t.Fatalf("after recovery: UserID = %q, %v", id, err)
			}
		})
	}
}

func TestUnusableBodyIsUnavailable(t *testing.T) {
	cases := map[string]string{
		"malformed JSON":  `{"id": "80351110224678912"`,
		"empty body":      ``,
		"null":            `null`,
		"array":           `[]`,
		"missing id":      `{"username": "nelly", "discriminator": "0"}`,
		"empty id":        `{"id": ""}`,
		"null id":         `{"id": null}`,
		"numeric id":      `{"id": 80351110224678912}`,
		"non-digit id":    `{"id": "8035111022467891x"}`,
		"negative id":     `{"id": "-1"}`,
		"21-digit id":     `{"id": "123456789012345678901"}`,
		"token as id":     `{"id": "` + token + `"}`,
		"trailing data":   `{"id": "1"} {}`,
		"oversized body":  `{"id": "1", "pad": "` + strings.Repeat("x", 70<<10) + `"}`,
		"echoed token id": `{"id": "x` + token + `"}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			srv := discordtest.NewServer(t)
			srv.AddRawUser(token, body)
			c := newClient(srv, nil)
			id, err := c.UserID(context.Background(), token)
			if id != "" {
				t.Fatalf("id = %q on error", id)
			}
			wantCode(t, err, apierr.Unavailable, token)
			_, err = c.UserID(context.Background(), token)
			wantCode(t, err, apierr.Unavailable, token)
			if n := srv.Calls(token); n != 2 {
				t.Fatalf("%d calls, want 2: failure was cached", n)
			}
		})
	}
}

func TestValidIDShapes(t *testing.T) {
	for _, id := range []string{"0", "1", "18446744073709551615", "99999999999999999999"} {
		srv := discordtest.NewServer(t)
		srv.AddUser(token, id, "nelly")
		got, err := newClient(srv, nil).UserID(context.Background(), token)
		if err != nil || got != id {
			t.Fatalf("id %q: UserID = %q, %v", id, got, err)
		}
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	c := newClient(srv, nil)
	srv.Close()
	_, err := c.UserID(context.Background(), token)
	wantCode(t, err, apierr.Unavailable, token)
}

func TestTimeoutIsUnavailable(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	srv.Delay(time.Minute)
	c := newClient(srv, func(cfg *discord.Config) {
		cfg.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
	})
	start := time.Now()
	_, err := c.UserID(context.Background(), token)
	wantCode(t, err, apierr.Unavailable, token)
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("timed out after %v, want about 100ms", el)
	}
}

func TestConcurrentCallersShareOneRequest(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	c := newClient(srv, nil)
	const n = 50

	// Hold Discord's answer until all 50 callers wait on it, so that none
	// of them can be served from the cache instead of joining the request.
	release := srv.Hold()
	defer release()
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { ids[i], errs[i] = c.UserID(context.Background(), token) })
	}
	waitFor(t, "50 waiting callers", func() bool { return discord.Waiters(c, token) == n })
	release()
	wg.Wait()

	for i := range n {
		if errs[i] != nil || ids[i] != userID {
			t.Fatalf("caller %d: %q, %v", i, ids[i], errs[i])
		}
	}
	if got := srv.Calls(token); got != 1 {
		t.Fatalf("%d upstream calls for %d concurrent callers, want 1", got, n)
	}
}

func TestConcurrentFailureIsSharedButNotCached(t *testing.T) {
	srv := discordtest.NewServer(t)
	c := newClient(srv, nil)
	const n = 10
	release := srv.Hold()
	defer release()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = c.UserID(context.Background(), token) })
	}
	waitFor(t, "waiting callers", func() bool { return discord.Waiters(c, token) == n })
	release()
	wg.Wait()
	for i := range n {
		wantCode(t, errs[i], apierr.Unauthorized, token)
	}
	if got := srv.Calls(token); got != 1 {
		t.Fatalf("%d upstream calls, want 1", got)
	}
	_, err := c.UserID(context.Background(), token)
	wantCode(t, err, apierr.Unauthorized, token)
	if got := srv.Calls(token); got != 2 {
		t.Fatalf("%d upstream calls, want 2: failure was cached", got)
	}
}

func TestCancelledCallerDoesNotPoisonOthers(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	c := newClient(srv, nil)
	release := srv.Hold()
	defer release()

	// The cancelled caller is the first: it started the upstream request.
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := c.UserID(ctx, token)
		first <- err
	}()
	waitFor(t, "the request to reach Discord", func() bool { return srv.Calls(token) == 1 })

	const n = 5
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { ids[i], errs[i] = c.UserID(context.Background(), token) })
	}
	waitFor(t, "all callers waiting", func() bool { return discord.Waiters(c, token) == n+1 })

	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v, want context.Canceled", err)
	}
	release()
	wg.Wait()
	for i := range n {
		if errs[i] != nil || ids[i] != userID {
			t.Fatalf("caller %d: %q, %v", i, ids[i], errs[i])
		}
	}
	if got := srv.Calls(token); got != 1 {
		t.Fatalf("%d upstream calls, want 1", got)
	}
	if _, err := c.UserID(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if got := srv.Calls(token); got != 1 {
		t.Fatalf("%d upstream calls, want 1: result not cached", got)
	}
}

func TestDeadlineCallerGetsDeadlineExceeded(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	c := newClient(srv, nil)
	release := srv.Hold()
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.UserID(ctx, token); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestAlreadyCancelledCallerSendsNothing(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	c := newClient(srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.UserID(ctx, token); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := srv.TotalCalls(); n != 0 {
		t.Fatalf("%d requests sent for a cancelled caller", n)
	}
}

func TestAbandonedRequestIsNotJoined(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	c := newClient(srv, nil)
	release := srv.Hold()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.UserID(ctx, token); done <- err }()
	waitFor(t, "the request to reach Discord", func() bool { return srv.Calls(token) == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	release()

	// With its only caller gone the request was dropped; a new caller gets
	// a fresh request rather than the abandoned one's cancellation.
	if id, err := c.UserID(context.Background(), token); err != nil || id != userID {
		t.Fatalf("UserID = %q, %v", id, err)
	}
	if got := srv.Calls(token); got != 2 {
		t.Fatalf("%d upstream calls, want 2", got)
	}
}

func TestCacheStaysWithinMaxEntries(t *testing.T) {
	srv := discordtest.NewServer(t)
	const max = 3
	clk := newClock()
	c := newClient(srv, func(cfg *discord.Config) {
		cfg.MaxEntries = max
		cfg.Now = clk.Now
	})
	ctx := context.Background()
	tok := func(i int) string { return fmt.Sprintf("token-%02d", i) }
	for i := range 10 {
		srv.AddUser(tok(i), fmt.Sprint(1000+i), fmt.Sprint("user", i))
		if id, err := c.UserID(ctx, tok(i)); err != nil || id != fmt.Sprint(1000+i) {
			t.Fatalf("token %d: %q, %v", i, id, err)
		}
		if n := discord.CacheLen(c); n > max {
			t.Fatalf("cache holds %d entries, max %d", n, max)
		}
		clk.Advance(time.Second)
	}
	if n := discord.CacheLen(c); n != max {
		t.Fatalf("cache holds %d entries, want %d", n, max)
	}
	// The newest identities are cached, the oldest were dropped.
	for i := 7; i < 10; i++ {
		if _, err := c.UserID(ctx, tok(i)); err != nil {
			t.Fatal(err)
		}
		if n := srv.Calls(tok(i)); n != 1 {
			t.Fatalf("token %d: %d calls, want 1 (cached)", i, n)
		}
	}
	if _, err := c.UserID(ctx, tok(0)); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(tok(0)); n != 2 {
		t.Fatalf("oldest token: %d calls, want 2 (evicted)", n)
	}
}

func TestFullCacheDropsExpiredFirst(t *testing.T) {
	srv := discordtest.NewServer(t)
	clk := newClock()
	c := newClient(srv, func(cfg *discord.Config) {
		cfg.MaxEntries = 3
		cfg.CacheTTL = time.Minute
		cfg.Now = clk.Now
	})
	ctx := context.Background()
	for _, tk := range []string{"a", "b", "c", "d", "e"} {
		srv.AddUser(tk, "1", "u")
	}
	mustID := func(tk string) {
		t.Helper()
		if _, err := c.UserID(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	mustID("a")
	mustID("b")
	clk.Advance(30 * time.Second)
	mustID("c")
	clk.Advance(40 * time.Second) // a and b expired, c has 20 s left
	mustID("d")
	if n := discord.CacheLen(c); n != 2 {
		t.Fatalf("cache holds %d entries, want 2 (c, d): expired ones kept", n)
	}
	mustID("c")
	mustID("d")
	if srv.Calls("c") != 1 || srv.Calls("d") != 1 {
		t.Fatalf("live entries were evicted: c %d, d %d calls", srv.Calls("c"), srv.Calls("d"))
	}
}
