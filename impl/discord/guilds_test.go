package discord_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

func ptr(s string) *string { return &s }

func TestGuildsCachedPerTokenAndForgotten(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	srv.AddUser("other", "80351110224678913", "other")
	srv.AddGuilds(userID,
		discordtest.Guild{ID: "290926798626357250", Name: "Husqy", Icon: ptr("a_1269e74af4df7417b13759eae50c83dc"), Owner: true, Permissions: "2251799813685247", Features: []string{"COMMUNITY"}},
		discordtest.Guild{ID: "613425648685547541", Name: "No icon", Permissions: "8"},
	)
	clk := newClock()
	c := newClient(srv, func(cfg *discord.Config) { cfg.Now = clk.Now; cfg.CacheTTL = 30 * time.Second })
	ctx := context.Background()

	guilds, err := c.Guilds(ctx, token)
	if err != nil {
		t.Fatalf("Guilds: %v", err)
	}
	if len(guilds) != 2 || guilds[0].ID != "290926798626357250" || guilds[0].Name != "Husqy" ||
		guilds[0].Icon == nil || *guilds[0].Icon != "a_1269e74af4df7417b13759eae50c83dc" ||
		guilds[1].ID != "613425648685547541" || guilds[1].Icon != nil {
		t.Fatalf("Guilds = %+v", guilds)
	}
	guilds[0].Name = "changed by the caller"
	if again, err := c.Guilds(ctx, token); err != nil || again[0].Name != "Husqy" {
		t.Fatalf("second Guilds = %+v, %v; want the cached list, unchanged", again, err)
	}
	if n := srv.GuildCalls(token); n != 1 {
		t.Fatalf("%d guild calls within the TTL, want 1", n)
	}
	if none, err := c.Guilds(ctx, "other"); err != nil || len(none) != 0 {
		t.Fatalf("Guilds of a user in none = %+v, %v", none, err)
	}

	clk.Advance(30 * time.Second)
	if _, err := c.Guilds(ctx, token); err != nil {
		t.Fatal(err)
	}
	if n := srv.GuildCalls(token); n != 2 {
		t.Fatalf("%d guild calls after the TTL, want 2", n)
	}

	if _, err := c.UserID(ctx, token); err != nil {
		t.Fatal(err)
	}
	c.Forget(token)
	if _, ok := c.CachedUserID(token); ok {
		t.Fatal("Forget left the identity cached")
	}
	if _, err := c.Guilds(ctx, token); err != nil {
		t.Fatal(err)
	}
	if n := srv.GuildCalls(token); n != 3 {
		t.Fatalf("%d guild calls after Forget, want 3", n)
	}
}

func TestGuildsWithoutTheGuildsScope(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUserWithScopes(token, userID, "nelly", "identify")
	c := newClient(srv, nil)

	for range 2 { // a refusal is not cached
		_, err := c.Guilds(context.Background(), token)
		wantCode(t, err, apierr.Forbidden, token)
		var ae *apierr.Error
		errors.As(err, &ae)
		if ae.Reason != discord.ReasonMissingGuildsScope || !strings.Contains(ae.Message, `"guilds" scope`) {
			t.Fatalf("reason %q, message %q: want the missing guilds scope said", ae.Reason, ae.Message)
		}
	}
	if n := srv.GuildCalls(token); n != 2 {
		t.Fatalf("%d guild calls, want 2", n)
	}
	if id, err := c.UserID(context.Background(), token); err != nil || id != userID {
		t.Fatalf("the token still identifies its user: UserID = %q, %v", id, err)
	}
}

func TestGuildsOfAnUnknownTokenIsUnauthorized(t *testing.T) {
	srv := discordtest.NewServer(t)
	c := newClient(srv, nil)
	_, err := c.Guilds(context.Background(), token)
	wantCode(t, err, apierr.Unauthorized, token)
	_, err = c.Guilds(context.Background(), "")
	wantCode(t, err, apierr.Unauthorized, "")
	if n := srv.GuildCalls(""); n != 0 {
		t.Fatalf("an empty token was sent")
	}
}

func TestGuildsDiscordFailingIsUnavailable(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	c := newClient(srv, nil)
	srv.FailWith(503)
	_, err := c.Guilds(context.Background(), token)
	wantCode(t, err, apierr.Unavailable, token)
	srv.FailWith(0)
	if _, err := c.Guilds(context.Background(), token); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestConcurrentGuildsShareOneRequest(t *testing.T) {
	srv := discordtest.NewServer(t)
	srv.AddUser(token, userID, "nelly")
	srv.AddGuilds(userID, discordtest.Guild{ID: "290926798626357250", Name: "Husqy"})
	c := newClient(srv, nil)
	release := srv.Hold()

	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			guilds, err := c.Guilds(context.Background(), token)
			if err == nil && len(guilds) != 1 {
				err = errors.New("wrong guilds")
			}
			errs <- err
		})
	}
	waitFor(t, "the request to reach Discord", func() bool { return srv.GuildCalls(token) == 1 })
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.GuildCalls(token); n != 1 {
		t.Fatalf("%d guild calls for %d concurrent callers, want 1", n, callers)
	}
}
