package discord_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

const (
	botToken  = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.Gx7-bot.secret-bot-token"
	botGuild  = "1098765432109876543"
	elsewhere = "1098765432109876544"
)

func newBot(srv *discordtest.Server, mod func(*discord.BotConfig)) *discord.Bot {
	cfg := discord.BotConfig{BaseURL: srv.URL(), Token: botToken, HTTPClient: &http.Client{Timeout: 5 * time.Second}}
	if mod != nil {
		mod(&cfg)
	}
	return discord.NewBot(cfg)
}

// botServer is a fake Discord whose bot (with the members intent) is in
// botGuild.
func botServer(t *testing.T, members int) *discordtest.Server {
	srv := discordtest.NewServer(t)
	srv.AddBot(botToken, true)
	g := discordtest.BotGuild{
		ID: botGuild,
		Roles: []discordtest.Role{
			{ID: botGuild, Name: "@everyone", Position: 0},
			{ID: "1098765432109876601", Name: "Moderators", Position: 2},
			{ID: "1098765432109876602", Name: "Members", Position: 1},
		},
		Channels: []discordtest.Channel{
			{ID: "1098765432109876611", Type: 0, Name: ptr("logs"), Position: 1},
			{ID: "1098765432109876610", Type: 4, Name: ptr("Text"), Position: 0},
		},
		Emojis: []discordtest.Emoji{{ID: "1098765432109876620", Name: "husqy", Animated: true, RequireColons: true}},
	}
	for i := range members {
		g.Members = append(g.Members, discordtest.Member{UserID: fmt.Sprint(310987654321098765 + i), Username: fmt.Sprintf("user%d", i)})
	}
	srv.AddBotGuild(g)
	return srv
}

func TestBotListsAGuild(t *testing.T) {
	srv := botServer(t, 3)
	bot := newBot(srv, nil)
	ctx := context.Background()

	roles, err := bot.Roles(ctx, botGuild)
	if err != nil || len(roles) != 3 || roles[0].Name != "Moderators" || roles[2].Name != "@everyone" {
		t.Fatalf("Roles = %+v, %v; want highest first", roles, err)
	}
	channels, err := bot.Channels(ctx, botGuild)
	if err != nil || len(channels) != 2 || channels[0].Type != 4 || *channels[1].Name != "logs" {
		t.Fatalf("Channels = %+v, %v; want by position", channels, err)
	}
	emojis, err := bot.Emojis(ctx, botGuild)
	if err != nil || len(emojis) != 1 || !emojis[0].Animated || !emojis[0].RequireColons || emojis[0].Name != "husqy" {
		t.Fatalf("Emojis = %+v, %v", emojis, err)
	}
	members, err := bot.Members(ctx, botGuild)
	if err != nil || len(members) != 3 || members[0].UserID != "310987654321098765" || members[0].DisplayName() != "user0" {
		t.Fatalf("Members = %+v, %v", members, err)
	}
}

func TestBotPagesMembersUpToTheCap(t *testing.T) {
	srv := botServer(t, 2500)
	bot := newBot(srv, nil)
	members, err := bot.Members(context.Background(), botGuild)
	if err != nil || len(members) != 2500 {
		t.Fatalf("got %d members, %v; want all 2500", len(members), err)
	}
	for i := 1; i < len(members); i++ {
		if members[i-1].UserID >= members[i].UserID {
			t.Fatalf("members %d and %d out of order or repeated: %s, %s", i-1, i, members[i-1].UserID, members[i].UserID)
		}
	}
	if n := srv.BotCalls("members"); n != 3 {
		t.Fatalf("%d pages asked for, want 3 of at most 1000", n)
	}

	capped := newBot(srv, func(c *discord.BotConfig) { c.MaxMembers = 1200 })
	members, err = capped.Members(context.Background(), botGuild)
	if err != nil || len(members) != 1200 || members[1199].UserID != fmt.Sprint(310987654321098765+1199) {
		t.Fatalf("capped at 1200: got %d, %v", len(members), err)
	}
}

func TestBotCachesPerGuildBriefly(t *testing.T) {
	srv := botServer(t, 0)
	clk := newClock()
	bot := newBot(srv, func(c *discord.BotConfig) { c.Now = clk.Now })
	ctx := context.Background()
	for range 3 {
		if _, err := bot.Roles(ctx, botGuild); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.BotCalls("roles"); n != 1 {
		t.Fatalf("%d calls within the TTL, want 1", n)
	}
	clk.Advance(discord.DefaultGuildCacheTTL)
	if _, err := bot.Roles(ctx, botGuild); err != nil {
		t.Fatal(err)
	}
	if n := srv.BotCalls("roles"); n != 2 {
		t.Fatalf("%d calls after the TTL, want 2", n)
	}
}

func TestBotErrorsAreApikeydsOwn(t *testing.T) {
	srv := botServer(t, 1)
	srv.RemoveBotGuild(elsewhere)
	ctx := context.Background()
	cases := []struct {
		name   string
		bot    *discord.Bot
		guild  string
		list   func(*discord.Bot, string) error
		code   apierr.Code
		reason string
	}{
		{"no token", newBot(srv, func(c *discord.BotConfig) { c.Token = "" }), botGuild, roles, apierr.Unavailable, discord.ReasonNoBotToken},
		{"unknown guild", newBot(srv, nil), "1098765432109876549", channels, apierr.NotFound, discord.ReasonUnknownGuild},
		{"bot not in the guild", newBot(srv, nil), elsewhere, emojis, apierr.NotFound, discord.ReasonBotNotInGuild},
		{"members of a guild the bot is not in", newBot(srv, nil), elsewhere, members, apierr.NotFound, discord.ReasonBotNotInGuild},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.list(c.bot, c.guild)
			e := apierr.From(err)
			if e.Code != c.code || e.Reason != c.reason {
				t.Fatalf("got %v (reason %q), want %s %s", err, e.Reason, c.code, c.reason)
			}
			if strings.Contains(e.Message, "Missing Access") || strings.Contains(e.Message, "Unknown Guild") {
				t.Fatalf("Discord's words passed through: %q", e.Message)
			}
		})
	}

	srv.AddBot("intentless", false)
	bot := newBot(srv, func(c *discord.BotConfig) { c.Token = "intentless" })
	_, err := bot.Members(ctx, botGuild)
	if e := apierr.From(err); e.Code != apierr.Unavailable || e.Reason != discord.ReasonNoMembersIntent {
		t.Fatalf("members without the intent: %v", err)
	}
}

// asked turns one of the Bot's lists into a call that reports its error.
func asked[T any](list func(*discord.Bot, context.Context, string) ([]T, error)) func(*discord.Bot, string) error {
	return func(b *discord.Bot, g string) error {
		_, err := list(b, context.Background(), g)
		return err
	}
}

var (
	roles    = asked((*discord.Bot).Roles)
	channels = asked((*discord.Bot).Channels)
	members  = asked((*discord.Bot).Members)
	emojis   = asked((*discord.Bot).Emojis)
)

func TestBotStopsUsingARefusedToken(t *testing.T) {
	srv := botServer(t, 0)
	var logged bytes.Buffer
	bot := newBot(srv, func(c *discord.BotConfig) { c.Log = slog.New(slog.NewTextHandler(&logged, nil)) })
	srv.RemoveBot(botToken)
	for _, list := range []func(*discord.Bot, string) error{roles, channels, members, emojis, roles} {
		err := list(bot, botGuild)
		if e := apierr.From(err); e.Code != apierr.Unavailable || e.Reason != discord.ReasonBotTokenRefused {
			t.Fatalf("got %v, want the token refused", err)
		}
		if strings.Contains(err.Error(), botToken) {
			t.Fatalf("the error names the token: %v", err)
		}
	}
	if n := srv.BotCalls("roles") + srv.BotCalls("channels") + srv.BotCalls("members") + srv.BotCalls("emojis"); n != 1 {
		t.Fatalf("%d calls reached Discord, want only the one refused", n)
	}
	if n := strings.Count(logged.String(), "refused the bot token"); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, logged.String())
	}
	if strings.Contains(logged.String(), botToken) {
		t.Fatalf("the log names the token:\n%s", logged.String())
	}
}

func TestBotHonoursDiscordsRateLimitsThroughTheSharedLimiter(t *testing.T) {
	srv := botServer(t, 0)
	limiter := discord.NewLimiter(discord.LimiterConfig{})
	bot := newBot(srv, func(c *discord.BotConfig) { c.Limiter = limiter; c.CacheTTL = time.Nanosecond })
	ctx := context.Background()

	// Discord asks every caller to wait 3 s: the 429 says so, and the
	// next call is refused by the limiter without reaching Discord.
	srv.RateLimit("global", 3*time.Second)
	err := roles(bot, botGuild)
	if e := apierr.From(err); e.Code != apierr.Unavailable || e.RetryAfter != 3*time.Second {
		t.Fatalf("429: got %v (retry after %v), want Unavailable after 3s", err, e.RetryAfter)
	}
	srv.RateLimit("", 0)
	before := srv.BotCalls("channels")
	other := newClient(srv, func(c *discord.Config) { c.Limiter = limiter })
	if _, err := other.UserID(ctx, "anyone"); apierr.From(err).RetryAfter <= 0 {
		t.Fatalf("a user's call through the same limiter: %v, want held back", err)
	}
	if err := channels(bot, botGuild); apierr.From(err).RetryAfter <= 2*time.Second {
		t.Fatalf("the bot's next call: %v, want held back", err)
	}
	if srv.BotCalls("channels") != before {
		t.Fatal("a call the limiter held back reached Discord")
	}

	// A route bucket of one call per 3 s: the second call in it waits
	// longer than the limiter lets it, and is refused before Discord.
	srv2 := botServer(t, 0)
	srv2.LimitGuildRoutes(1, 3*time.Second)
	bot2 := newBot(srv2, func(c *discord.BotConfig) { c.CacheTTL = time.Nanosecond })
	if err := emojis(bot2, botGuild); err != nil {
		t.Fatal(err)
	}
	err = emojis(bot2, botGuild)
	if e := apierr.From(err); e.Code != apierr.Unavailable || e.RetryAfter <= time.Second {
		t.Fatalf("over the bucket: %v", err)
	}
	if n := srv2.BotCalls("emojis"); n != 1 {
		t.Fatalf("%d calls reached Discord, want 1", n)
	}
}
