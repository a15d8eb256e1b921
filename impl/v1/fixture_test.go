package v1_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
	"github.com/apikeyd/apikeyd/impl/session"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

// The people and guilds of openapi/v1.yaml's examples.
const (
	guild      snowflake.ID = 1098765432109876543
	otherGuild snowflake.ID = 1098765432109876544
	admin      snowflake.ID = 310987654321098765
	user       snowflake.ID = 310987654321098766
	adminToken              = "example-admin-token"
	userToken               = "example-user-token"
	// identifyOnlyToken is the admin's, granted without "guilds".
	identifyOnlyToken = "example-identify-only-token"
	// botToken is apikeyd's bot's, with the Server Members intent.
	botToken = "example-bot-token"
)

// exampleIcon is the icon hash of the example guild on Discord.
var exampleIcon = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

var adminActor = store.Actor{UserID: admin}

// exampleKeys are the document's guild keys, in the order of their ids.
var exampleKeys = []string{
	"akdg_XpgGghSv9UQRtOEt6X31MRtELzaIPv3o1kKK",
	"akdg_6zmVrBi5vmkbsEyVpOdwsPaKxqg3ZL04RtBn",
}

// exampleBotGuild is the example guild as the bot sees it: what the
// document's examples of the guild helpers list.
func exampleBotGuild() discordtest.BotGuild {
	name := func(s string) *string { return &s }
	avatar := "b2c3d4e5f60718293a4b5c6d7e8f90a1"
	return discordtest.BotGuild{
		ID: guild.String(),
		Roles: []discordtest.Role{
			{ID: guild.String(), Name: "@everyone", Position: 0},
			{ID: "1098765432109876602", Name: "Members", Position: 1},
			{ID: "1098765432109876601", Name: "Moderators", Position: 2},
		},
		Channels: []discordtest.Channel{
			{ID: "1098765432109876600", Type: 0, Name: name("logs"), Position: 1},
			{ID: "1098765432109876610", Type: 4, Name: name("Text"), Position: 0},
			{ID: "1098765432109876612", Type: 2, Name: name("Voice"), Position: 2},
			{ID: "1098765432109876613", Type: 5, Name: name("news"), Position: 3},
			{ID: "1098765432109876614", Type: 15, Name: name("help"), Position: 4},
		},
		Members: []discordtest.Member{
			{UserID: user.String(), Username: "someone", Nick: name("someone here")},
			{UserID: admin.String(), Username: "admin", GlobalName: name("Admin"), Avatar: &avatar},
		},
		Emojis: []discordtest.Emoji{
			{ID: "1098765432109876620", Name: "husqy", Animated: true, RequireColons: true},
			{ID: "1098765432109876621", Name: "wave", RequireColons: true},
		},
	}
}

// world is a started apikeyd with a fake Discord, in the state every
// example starts from: admin administers guild.
type world struct {
	*apptest.Instance
	discord *discordtest.Server
}

func newWorld(t testing.TB, options ...func(*app.Config)) *world {
	t.Helper()
	fake := discordtest.NewServer(t)
	fake.AddUser(adminToken, admin.String(), "admin")
	fake.AddUser(userToken, user.String(), "someone")
	fake.AddUserWithScopes(identifyOnlyToken, admin.String(), "admin", "identify")
	fake.AddGuilds(admin.String(),
		discordtest.Guild{ID: guild.String(), Name: "Example Guild", Icon: &exampleIcon, Permissions: "2147483647"},
		discordtest.Guild{ID: otherGuild.String(), Name: "Another Guild", Permissions: "8"})
	fake.AddBot(botToken, true)
	fake.AddBotGuild(exampleBotGuild())
	cfg := apptest.Config(t)
	cfg.DiscordAPIURL = fake.URL()
	cfg.DiscordBotToken = botToken
	for _, o := range options {
		o(&cfg)
	}
	w := &world{Instance: apptest.Start(t, &cfg), discord: fake}
	if _, err := w.Server.Store().AddGuildAdmin(context.Background(), guild, admin); err != nil {
		t.Fatal(err)
	}
	return w
}

// key makes a key for g and returns it.
func (w *world) key(t testing.TB, g snowflake.ID) string {
	t.Helper()
	k, err := w.Server.Store().CreateGuildKey(context.Background(), g, adminActor, 25)
	if err != nil {
		t.Fatal(err)
	}
	return k.Token
}

// sessionCookie signs the admin in to the dashboard, as the callback
// does after Discord's answer, and returns the Cookie header of the
// session: it holds the admin's example token.
func (w *world) sessionCookie(t testing.TB) string {
	t.Helper()
	tokens := store.SessionTokens{AccessToken: adminToken, RefreshToken: "example-admin-refresh-token", Expiry: time.Now().Add(time.Hour)}
	id, _, err := w.Server.Store().CreateSession(context.Background(), admin, tokens, store.DefaultSessionIdle, store.DefaultSessionAbsolute)
	if err != nil {
		t.Fatal(err)
	}
	return (&http.Cookie{Name: session.CookieName, Value: id}).String()
}

// keyOf makes a key for g, unless the database is down: then any
// well-formed key will do, as the request fails before it is looked up.
func (w *world) keyOf(t *testing.T, g snowflake.ID) string {
	if err := w.Server.Store().Ready(context.Background()); err != nil {
		return exampleKeys[0]
	}
	return w.key(t, g)
}

type problemBody struct {
	Type, Title, Detail, Message string
	Status                       int
	Errors                       map[string]string
	Success                      bool
	Data                         map[string]any
	Error                        struct {
		Code    int
		Message string
	}
}

func (w *world) call(t *testing.T, method, path, auth, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, w.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return apptest.Send(t, req)
}

func decodeData[T any](t *testing.T, body []byte) T {
	t.Helper()
	var env struct {
		Success bool
		Data    T
		Error   any
	}
	if err := json.Unmarshal(body, &env); err != nil || !env.Success || env.Error != nil {
		t.Fatalf("not a success body (%v): %s", err, body)
	}
	return env.Data
}
