package discordtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

// getList is a GET of the fake's answering a JSON array, or else an
// object (Discord's error).
func getList(t *testing.T, url, auth string) (int, http.Header, []map[string]any, map[string]any) {
	t.Helper()
	code, h, b := send(t, "GET", url, auth)
	var list []map[string]any
	var obj map[string]any
	if json.Unmarshal(b, &list) != nil {
		_ = json.Unmarshal(b, &obj)
	}
	return code, h, list, obj
}

func TestBotRoutesWireFormat(t *testing.T) {
	s := discordtest.NewServer(t)
	s.AddBot("bot-token", true)
	name := "general"
	g := discordtest.BotGuild{
		ID:       "1098765432109876543",
		Roles:    []discordtest.Role{{ID: "1098765432109876543", Name: "@everyone"}},
		Channels: []discordtest.Channel{{ID: "1098765432109876600", Type: 0, Name: &name}},
		Emojis:   []discordtest.Emoji{{ID: "1098765432109876620", Name: "husqy", Animated: true}},
	}
	for i := range 5 {
		g.Members = append(g.Members, discordtest.Member{UserID: fmt.Sprint(310987654321098765 + i), Username: fmt.Sprint("user", i)})
	}
	s.AddBotGuild(g)
	s.RemoveBotGuild("1098765432109876544")
	base := s.URL() + "/guilds/1098765432109876543/"

	code, _, roles, _ := getList(t, base+"roles", "Bot bot-token")
	if code != 200 || len(roles) != 1 || roles[0]["name"] != "@everyone" || roles[0]["permissions"] == nil {
		t.Fatalf("roles: %d %v", code, roles)
	}
	code, _, channels, _ := getList(t, base+"channels", "Bot bot-token")
	if code != 200 || channels[0]["type"] != 0.0 || channels[0]["guild_id"] != g.ID || channels[0]["name"] != "general" {
		t.Fatalf("channels: %d %v", code, channels)
	}
	code, _, emojis, _ := getList(t, base+"emojis", "Bot bot-token")
	if code != 200 || emojis[0]["animated"] != true || emojis[0]["available"] != true {
		t.Fatalf("emojis: %d %v", code, emojis)
	}
	// Members page by user id: 1 by default, limit at most 1000, after an id.
	code, _, page, _ := getList(t, base+"members", "Bot bot-token")
	if code != 200 || len(page) != 1 || page[0]["user"].(map[string]any)["id"] != "310987654321098765" {
		t.Fatalf("members, default page: %d %v", code, page)
	}
	code, _, page, _ = getList(t, base+"members?limit=3&after=310987654321098766", "Bot bot-token")
	if code != 200 || len(page) != 3 || page[0]["user"].(map[string]any)["id"] != "310987654321098767" {
		t.Fatalf("members after an id: %d %v", code, page)
	}
	if code, _, _, body := getList(t, base+"members?limit=1001", "Bot bot-token"); code != 400 || body["code"] != 50035.0 {
		t.Fatalf("limit 1001: %d %v", code, body)
	}

	for _, c := range []struct {
		url, auth string
		status    int
		code      float64
		message   string
	}{
		{base + "roles", "Bearer bot-token", 401, 0, "401: Unauthorized"},
		{base + "roles", "Bot another-token", 401, 0, "401: Unauthorized"},
		{s.URL() + "/guilds/1098765432109876549/roles", "Bot bot-token", 404, 10004, "Unknown Guild"},
		{s.URL() + "/guilds/1098765432109876544/channels", "Bot bot-token", 403, 50001, "Missing Access"},
	} {
		code, _, _, body := getList(t, c.url, c.auth)
		if code != c.status || body["code"] != c.code || body["message"] != c.message {
			t.Errorf("%s as %q: %d %v, want %d %v %q", c.url, c.auth, code, body, c.status, c.code, c.message)
		}
	}
	s.AddBot("intentless", false)
	if code, _, _, body := getList(t, base+"members?limit=1", "Bot intentless"); code != 403 || body["code"] != 50001.0 {
		t.Errorf("members without the intent: %d %v", code, body)
	}
	if n := s.BotCalls("members"); n != 4 {
		t.Errorf("members calls: %d, want the 4 made", n)
	}

	// Each route's bucket is announced, and a request over it is a 429.
	s.LimitGuildRoutes(1, time.Minute)
	code, h, _, _ := getList(t, base+"emojis", "Bot bot-token")
	if code != 200 || h.Get("X-RateLimit-Limit") != "1" || h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Bucket") == "" {
		t.Fatalf("bucket headers: %d %v", code, h)
	}
	code, h, _, body := getList(t, base+"emojis", "Bot bot-token")
	if code != 429 || h.Get("X-RateLimit-Scope") != "user" || h.Get("Retry-After") == "" || body["retry_after"] == nil {
		t.Fatalf("over the bucket: %d %v %v", code, h, body)
	}
	if code, _, _, _ := getList(t, base+"roles", "Bot bot-token"); code != 200 {
		t.Fatalf("another route's bucket: %d", code)
	}
}
