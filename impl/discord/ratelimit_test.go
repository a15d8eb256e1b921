package discord_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

// limitedClient sends to the fake through a Limiter on clk.
func limitedClient(clk *clock, cfg discord.LimiterConfig) (*http.Client, *discord.Limiter) {
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	lim := discord.NewLimiter(cfg)
	return lim.Client(&http.Client{Timeout: 5 * time.Second}), lim
}

// getMe calls /users/@me with tok and returns the status, or the
// limiter's refusal.
func getMe(t *testing.T, c *http.Client, srv *discordtest.Server, tok string) (int, *discord.RateLimitedError) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL()+"/users/@me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	var rl *discord.RateLimitedError
	if errors.As(err, &rl) {
		return 0, rl
	}
	if err != nil {
		t.Fatalf("GET /users/@me: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestLimiterUserScopeHoldsThatTokenAlone(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser("alice", userID, "alice")
	srv.AddUser("bob", "80351110224678913", "bob")
	clk := newClock()
	c, _ := limitedClient(clk, discord.LimiterConfig{})

	srv.RateLimit("user", 30*time.Second)
	if status, _ := getMe(t, c, srv, "alice"); status != http.StatusTooManyRequests {
		t.Fatalf("first call: status %d, want Discord's 429", status)
	}
	srv.RateLimit("", 0)
	_, rl := getMe(t, c, srv, "alice")
	if rl == nil || rl.Scope != "user" || rl.RetryAfter != 30*time.Second {
		t.Fatalf("alice's next call: refusal %+v, want user scope for 30s", rl)
	}
	if n := srv.Calls("alice"); n != 1 {
		t.Fatalf("alice: %d calls reached Discord, want 1", n)
	}
	if status, rl := getMe(t, c, srv, "bob"); status != http.StatusOK {
		t.Fatalf("bob: status %d (refusal %+v), want 200: another token is not held back", status, rl)
	}
	clk.Advance(30 * time.Second)
	if status, rl := getMe(t, c, srv, "alice"); status != http.StatusOK {
		t.Fatalf("alice after the wait: status %d (refusal %+v), want 200", status, rl)
	}
}

func TestLimiterGlobalOrUnscopedHoldsEveryCall(t *testing.T) {
	for _, scope := range []string{"global", ""} {
		t.Run(fmt.Sprintf("scope %q", scope), func(t *testing.T) {
			srv := discordtest.NewServer(t)
			clk := newClock()
			c, _ := limitedClient(clk, discord.LimiterConfig{})
			srv.RateLimit(scope, time.Minute)
			if status, _ := getMe(t, c, srv, "tok0"); status != http.StatusTooManyRequests {
				t.Fatalf("first call: status %d, want 429", status)
			}
			for i := 1; i <= 20; i++ {
				_, rl := getMe(t, c, srv, fmt.Sprint("tok", i))
				if rl == nil || rl.Scope != "global" || rl.RetryAfter != time.Minute {
					t.Fatalf("call %d: refusal %+v, want global for 1m", i, rl)
				}
			}
			if n := srv.TotalCalls(); n != 1 {
				t.Fatalf("%d calls reached Discord, want 1", n)
			}
		})
	}
}

func TestLimiterSharedScopeHoldsTheResourceButIsNoInvalidRequest(t *testing.T) {
	srv := discordtest.NewServer(t)
	clk := newClock()
	c, _ := limitedClient(clk, discord.LimiterConfig{InvalidRequestCap: 1})
	srv.RateLimit("shared", 5*time.Second)
	getMe(t, c, srv, "tok1")
	_, rl := getMe(t, c, srv, "tok2")
	if rl == nil || rl.Scope != "shared" {
		t.Fatalf("another token on the shared resource: refusal %+v, want shared", rl)
	}
	clk.Advance(5 * time.Second)
	srv.RateLimit("", 0)
	srv.AddUser("tok2", userID, "nelly")
	// A cap of one invalid request would refuse this call had the shared
	// 429 counted.
	if status, rl := getMe(t, c, srv, "tok2"); status != http.StatusOK {
		t.Fatalf("after the wait: status %d (refusal %+v), want 200", status, rl)
	}
}

func TestLimiterWaitsForAnnouncedBucket(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	srv.LimitRoute(2, 200*time.Millisecond)
	c, _ := limitedClient(nil, discord.LimiterConfig{Now: time.Now})
	// Five calls, two allowed per window: the limiter waits out each
	// window (within MaxWait) instead of letting Discord answer 429.
	for i := range 5 {
		if status, rl := getMe(t, c, srv, token); status != http.StatusOK {
			t.Fatalf("call %d: status %d (refusal %+v), want 200", i, status, rl)
		}
	}
}

func TestLimiterRefusesAWaitLongerThanMaxWait(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	srv.LimitRoute(1, time.Minute)
	clk := newClock()
	c, _ := limitedClient(clk, discord.LimiterConfig{})
	if status, _ := getMe(t, c, srv, token); status != http.StatusOK {
		t.Fatalf("first call: %d", status)
	}
	_, rl := getMe(t, c, srv, token)
	if rl == nil || rl.RetryAfter <= discord.DefaultMaxWait {
		t.Fatalf("second call: refusal %+v, want one asking for more than %s", rl, discord.DefaultMaxWait)
	}
	if n := srv.Calls(token); n != 1 {
		t.Fatalf("%d calls reached Discord, want 1", n)
	}
}

func TestLimiterCapsInvalidRequests(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	clk := newClock()
	c, _ := limitedClient(clk, discord.LimiterConfig{InvalidRequestCap: 5})
	for i := range 5 {
		if status, _ := getMe(t, c, srv, fmt.Sprint("unknown", i)); status != http.StatusUnauthorized {
			t.Fatalf("unknown token %d: status %d, want 401", i, status)
		}
	}
	// At the cap, even a good token waits: Discord would ban the address.
	_, rl := getMe(t, c, srv, token)
	if rl == nil || rl.Scope != "invalid_requests" || rl.RetryAfter <= 0 || rl.RetryAfter > discord.InvalidRequestWindow {
		t.Fatalf("at the cap: refusal %+v, want invalid_requests within the window", rl)
	}
	if n := srv.TotalCalls(); n != 5 {
		t.Fatalf("%d calls reached Discord, want 5", n)
	}
	clk.Advance(discord.InvalidRequestWindow)
	if status, rl := getMe(t, c, srv, token); status != http.StatusOK {
		t.Fatalf("after the window: status %d (refusal %+v), want 200", status, rl)
	}
}

func TestLimiterSharedAcrossClients(t *testing.T) {
	srv := discordtest.NewServer(t)
	clk := newClock()
	lim := discord.NewLimiter(discord.LimiterConfig{Now: clk.Now})
	identities := newClient(srv, func(cfg *discord.Config) { cfg.Limiter = lim })
	other := lim.Client(&http.Client{Timeout: 5 * time.Second})
	srv.RateLimit("global", time.Minute)
	_, err := identities.UserID(context.Background(), token)
	wantCode(t, err, apierr.Unavailable, token)
	if _, rl := getMe(t, other, srv, "tok"); rl == nil {
		t.Fatal("a global 429 learned by the identity client did not hold back another client of the same limiter")
	}
}

// Discord answering 429 gives 503 with its wait, and holds back the calls
// after it: twenty tokens make one call, not twenty-one.
func TestRateLimitedIsUnavailableWithRetryAfter(t *testing.T) {
	srv := discordtest.NewServer(t)
	clk := newClock()
	c := newClient(srv, func(cfg *discord.Config) { cfg.Now = clk.Now })
	srv.RateLimit("", time.Minute)
	for i := range 20 {
		tok := fmt.Sprint("tok", i)
		srv.AddUser(tok, userID, "nelly")
		_, err := c.UserID(context.Background(), tok)
		wantCode(t, err, apierr.Unavailable, tok)
		var ae *apierr.Error
		errors.As(err, &ae)
		if ae.RetryAfter != time.Minute {
			t.Fatalf("token %d: RetryAfter %s, want 1m", i, ae.RetryAfter)
		}
	}
	if n := srv.TotalCalls(); n != 1 {
		t.Fatalf("%d calls reached Discord, want 1", n)
	}
	srv.RateLimit("", 0)
	clk.Advance(time.Minute)
	if id, err := c.UserID(context.Background(), "tok3"); err != nil || id != userID {
		t.Fatalf("after the wait: UserID = %q, %v", id, err)
	}
}

// Every token Discord answers leaves a limit behind; once they have
// passed, they are dropped, so a flood of tokens cannot grow memory.
func TestLimiterForgetsPassedLimits(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.LimitRoute(5, time.Second)
	clk := newClock()
	c, lim := limitedClient(clk, discord.LimiterConfig{})
	for i := range 3000 {
		getMe(t, c, srv, fmt.Sprint("flood", i))
		if i%100 == 99 {
			clk.Advance(2 * time.Second) // the limits seen so far have passed
		}
	}
	if n := discord.LimitsHeld(lim); n > 2048 {
		t.Fatalf("%d limits held after 3000 tokens whose limits passed, want at most 2048", n)
	}
}
