package v1_test

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/contract"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/openapi"
)

// The people and guilds of openapi/v1.yaml's examples.
const (
	guild      snowflake.ID = 1098765432109876543
	otherGuild snowflake.ID = 1098765432109876544
	admin      snowflake.ID = 310987654321098765
	user       snowflake.ID = 310987654321098766
	adminToken              = "example-admin-token"
	userToken               = "example-user-token"
)

var adminActor = store.Actor{UserID: admin}

// exampleKeys are the document's guild keys, in the order of their ids.
var exampleKeys = []string{
	"akdg_XpgGghSv9UQRtOEt6X31MRtELzaIPv3o1kKK",
	"akdg_6zmVrBi5vmkbsEyVpOdwsPaKxqg3ZL04RtBn",
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
	cfg := apptest.Config(t)
	cfg.DiscordAPIURL = fake.URL()
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

// TestContract replays every example of openapi/v1.yaml against the real
// handler stack on a fresh SQLite database and a fake Discord, and checks
// each answer against Husqy's own document where it has the operation:
// a client generated from it must understand us, errors included.
func TestContract(t *testing.T) {
	doc, err := openapi.Load("v1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	husqy, err := openapi3.NewLoader().LoadFromFile("testdata/husqy-general-2.3.0.openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	husqyLogging, err := openapi3.NewLoader().LoadFromFile("testdata/husqy-logging-2.3.0.openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	contract.Replay(t, doc, func(t *testing.T, c contract.Case) (string, string) {
		w := newWorld(t)
		for _, g := range c.Given {
			w.given(t, g)
		}
		auth := w.credential(t, c.Credential)
		return w.URL + "/v1", auth
	},
		contract.CompatibleWith("Husqy's general document", husqy, ""),
		contract.CompatibleWith("Husqy's logging document", husqyLogging, "/modules/logging"))
}

// credential is the Authorization header an example names.
func (w *world) credential(t *testing.T, name string) string {
	switch name {
	case "", "admin":
		return "Bearer " + adminToken
	case "user":
		return "Bearer " + userToken
	case "none":
		return ""
	case "unknown-token":
		return "Bearer not-a-token-discord-knows"
	case "guild-key":
		return "Bearer " + w.keyOf(t, guild)
	case "other-guild-key":
		return "Bearer " + w.keyOf(t, otherGuild)
	}
	t.Fatalf("unknown x-credential %q", name)
	return ""
}

// keyOf makes a key for g, unless the database is down: then any
// well-formed key will do, as the request fails before it is looked up.
func (w *world) keyOf(t *testing.T, g snowflake.ID) string {
	if err := w.Server.Store().Ping(context.Background()); err != nil {
		return exampleKeys[0]
	}
	return w.key(t, g)
}

// given puts the service in a named state of the document's examples.
func (w *world) given(t *testing.T, state string) {
	ctx := context.Background()
	switch state {
	case "guild-has-keys":
		for _, k := range exampleKeys {
			if _, err := w.Server.Store().ImportGuildKey(ctx, guild, adminActor, k, 25); err != nil {
				t.Fatal(err)
			}
		}
	case "guild-full":
		for range 25 {
			w.key(t, guild)
		}
	case "logging-enabled":
		if _, err := w.Server.Store().SetLoggingEnabled(ctx, guild, adminActor, true); err != nil {
			t.Fatal(err)
		}
	case "logging-customised":
		channel := snowflake.ID(1098765432109876600)
		change := store.LoggingChange{LogsChannelID: &channel, Flags: map[string]bool{"log_errors": false}}
		if _, err := w.Server.Store().UpdateLoggingSettings(ctx, guild, adminActor, change, nil); err != nil {
			t.Fatal(err)
		}
	case "guild-has-audit-entries":
		// Entry 1: the admin creates key 1; entry 2: an API key changes
		// the language.
		w.key(t, guild)
		nl := "nl"
		if _, err := w.Server.Store().UpdateGuildSettings(ctx, guild, store.APIKeyActor, store.SettingsChange{Language: &nl}); err != nil {
			t.Fatal(err)
		}
	case "database-down":
		if err := w.Server.Close(); err != nil {
			t.Fatal(err)
		}
	case "discord-down":
		w.discord.FailWith(503)
	default:
		t.Fatalf("unknown x-given %q", state)
	}
}
