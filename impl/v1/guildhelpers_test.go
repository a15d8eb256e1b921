package v1_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

var guildHelpers = []string{"get-guild-roles", "get-guild-channels", "get-guild-users", "get-guild-emojis"}

// helper asks a guild helper about the example guild.
func (w *world) helper(t *testing.T, name, auth string) (*http.Response, []byte) {
	t.Helper()
	return w.call(t, "GET", "/v1/helpers/"+name+"?guild_id="+guild.String(), auth, "")
}

// Discord's 429 reaches the client as a 503 with the wait Discord asked
// for; until then the shared limiter holds back what the 429's scope
// names (the bot's bucket of that route) without asking Discord, and the
// other routes go on.
func TestGuildHelpersHonourDiscordsRateLimits(t *testing.T) {
	w := newWorld(t)
	key := "Bearer " + w.key(t, guild)
	w.discord.RateLimit("user", 3*time.Second)
	res, body := w.helper(t, "get-guild-roles", key)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "3" {
		t.Fatalf("got %d, Retry-After %q: %s; want 503 after 3 s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	w.discord.RateLimit("", 0)
	res, body = w.helper(t, "get-guild-roles", key)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("within the wait: got %d, Retry-After %q: %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if n := w.discord.BotCalls("roles"); n != 1 {
		t.Fatalf("%d calls reached Discord, want only the one answered 429", n)
	}
	if res, body := w.helper(t, "get-guild-emojis", key); res.StatusCode != http.StatusOK {
		t.Fatalf("another route: got %d: %s", res.StatusCode, body)
	}
}

// A guild's lists are asked of Discord once for the many requests of a
// short while.
func TestGuildHelpersAreCachedPerGuild(t *testing.T) {
	w := newWorld(t)
	for range 3 {
		for _, h := range guildHelpers {
			if res, body := w.helper(t, h, "Bearer "+adminToken); res.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", h, res.StatusCode, body)
			}
		}
	}
	for _, route := range []string{"roles", "channels", "members", "emojis"} {
		if n := w.discord.BotCalls(route); n != 1 {
			t.Errorf("%s asked of Discord %d times, want 1", route, n)
		}
	}
}

// Channels of every Discord type get the document's names, and types
// keeps those asked for.
func TestGuildChannelsByType(t *testing.T) {
	w := newWorld(t)
	g := exampleBotGuild()
	g.Channels = nil
	for _, typ := range []int{0, 2, 4, 5, 10, 11, 12, 13, 14, 15, 16, 99} {
		g.Channels = append(g.Channels, discordtest.Channel{ID: "10987654321098767" + string(rune('0'+typ/10)) + string(rune('0'+typ%10)), Type: typ, Position: typ})
	}
	w.discord.AddBotGuild(g)
	res, body := w.call(t, "GET", "/v1/helpers/get-guild-channels?guild_id="+guild.String(), "Bearer "+adminToken, "")
	data := decodeData[struct {
		Channels []struct {
			Name     *string
			ID, Type string
		}
	}](t, body)
	var names []string
	for _, c := range data.Channels {
		names = append(names, c.Type)
	}
	want := "text voice category announcement announcement_thread public_thread private_thread stage directory forum media unknown"
	if res.StatusCode != http.StatusOK || strings.Join(names, " ") != want {
		t.Fatalf("got %d %v, want %s", res.StatusCode, names, want)
	}
	_, body = w.call(t, "GET", "/v1/helpers/get-guild-channels?guild_id="+guild.String()+"&types=voice&types=stage&types=unknown", "Bearer "+adminToken, "")
	data = decodeData[struct {
		Channels []struct {
			Name     *string
			ID, Type string
		}
	}](t, body)
	names = nil
	for _, c := range data.Channels {
		names = append(names, c.Type)
	}
	if strings.Join(names, " ") != "voice stage unknown" {
		t.Fatalf("types=voice,stage,unknown: got %v", names)
	}
}

// The bot token appears in no answer, header, log line or metric: not
// while it works, not once Discord refuses it (which is logged once, and
// after which Discord is not asked again).
func TestBotTokenIsNeverShown(t *testing.T) {
	const token = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GsEcRt.do-not-show-this-bot-token"
	fake := discordtest.NewServer(t)
	fake.AddUser(adminToken, admin.String(), "admin")
	fake.AddBot(token, true)
	fake.AddBotGuild(exampleBotGuild())
	cfg := apptest.Config(t)
	cfg.DiscordAPIURL = fake.URL()
	cfg.DiscordBotToken = token
	var logged bytes.Buffer
	inst := apptest.StartLogging(t, &cfg, slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})))
	w := &world{Instance: inst, discord: fake}
	if _, err := w.Server.Store().AddGuildAdmin(t.Context(), guild, admin); err != nil {
		t.Fatal(err)
	}

	var seen bytes.Buffer
	record := func(res *http.Response, body []byte) {
		for name, values := range res.Header {
			seen.WriteString(name + ": " + strings.Join(values, ",") + "\n")
		}
		seen.Write(body)
	}
	for _, h := range guildHelpers {
		res, body := w.helper(t, h, "Bearer "+adminToken)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", h, res.StatusCode, body)
		}
		record(res, body)
	}
	// The other guild, whose lists are not cached: each request would
	// ask Discord.
	if _, err := w.Server.Store().AddGuildAdmin(t.Context(), otherGuild, admin); err != nil {
		t.Fatal(err)
	}
	fake.RemoveBot(token)
	for _, h := range []string{"get-guild-roles", "get-guild-roles", "get-guild-emojis"} {
		res, body := w.call(t, "GET", "/v1/helpers/"+h+"?guild_id="+otherGuild.String(), "Bearer "+adminToken, "")
		record(res, body)
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "refused apikeyd's bot token") {
			t.Fatalf("%s with the token refused: %d %s", h, res.StatusCode, body)
		}
	}
	if n := fake.BotCalls("roles") + fake.BotCalls("emojis"); n != 3 {
		t.Fatalf("%d calls reached Discord, want the two while it worked and the one refused", n)
	}
	res, err := http.Get(w.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	seen.Write(metrics)

	if n := strings.Count(logged.String(), "refused the bot token"); n != 1 {
		t.Fatalf("the refusal logged %d times, want once:\n%s", n, logged.String())
	}
	for what, text := range map[string]string{"answers": seen.String(), "log": logged.String()} {
		for _, part := range append(strings.Split(token, "."), token) {
			if strings.Contains(text, part) {
				t.Fatalf("the %s show the bot token's %q", what, part)
			}
		}
	}
}
