package v1_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/contract"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/openapi"
)

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
	contract.Replay(t, doc, func(t *testing.T, c contract.Case) (string, http.Header) {
		var options []func(*app.Config)
		if needsFile(c.Given) {
			options = append(options, apptest.FileDatabase)
		}
		if slices.Contains(c.Given, "failed-authentications-limit") {
			options = append(options, oneFailedAuthentication)
		}
		if slices.Contains(c.Given, "no-bot-token") {
			options = append(options, func(cfg *app.Config) { cfg.DiscordBotToken = "" })
		}
		w := newWorld(t, options...)
		for _, g := range c.Given {
			w.given(t, g)
		}
		return w.URL + "/v1", w.credential(t, c.Credential)
	},
		contract.CompatibleWith("Husqy's general document", husqy, ""),
		contract.CompatibleWith("Husqy's logging document", husqyLogging, "/modules/logging"))
}

// credential is the headers of the credential an example names.
func (w *world) credential(t *testing.T, name string) http.Header {
	bearer := func(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }
	switch name {
	case "", "admin":
		return bearer(adminToken)
	case "user":
		return bearer(userToken)
	case "identify-only":
		return bearer(identifyOnlyToken)
	case "none":
		return nil
	case "unknown-token":
		return bearer("not-a-token-discord-knows")
	case "guild-key":
		return bearer(w.keyOf(t, guild))
	case "other-guild-key":
		return bearer(w.keyOf(t, otherGuild))
	case "session":
		return http.Header{"Cookie": {w.sessionCookie(t)}, "Sec-Fetch-Site": {"same-origin"}}
	case "session-cross-site":
		return http.Header{"Cookie": {w.sessionCookie(t)}, "Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://elsewhere.example"}}
	}
	t.Fatalf("unknown x-credential %q", name)
	return nil
}

// needsFile says whether the states given are those of a database file,
// which a second process can open (the examples' service is otherwise in
// memory).
func needsFile(given []string) bool {
	return slices.Contains(given, "database-file-gone") || slices.Contains(given, "master-key-rotated")
}

// oneFailedAuthentication lets a client address hold one credential
// failed or in flight, and gives it back only after hours: the state of an
// address that has failed too often, reached with one request.
func oneFailedAuthentication(cfg *app.Config) {
	cfg.AuthFailureBurst = 1
	cfg.AuthFailureRate = 0.0001
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
	case "database-file-gone":
		w.DeleteDatabase(t)
	case "master-key-rotated":
		w.RotateMasterKey(t)
	case "discord-down":
		w.discord.FailWith(503)
	case "discord-rate-limited":
		w.discord.RateLimit("global", 5*time.Second)
	case "no-bot-token":
		// Started so (TestContract's options).
	case "bot-token-refused":
		w.discord.RemoveBot(botToken)
	case "bot-not-in-guild":
		w.discord.RemoveBotGuild(guild.String())
	case "guild-unknown-to-discord":
		w.discord.ForgetGuild(guild.String())
	case "no-members-intent":
		w.discord.AddBot(botToken, false)
	case "failed-authentications-limit":
		// The address's one place (oneFailedAuthentication) taken by a
		// token Discord refuses.
		if res, body := w.call(t, "GET", "/v1/helpers/get-supported-languages", "Bearer another-token-discord-refuses", ""); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the failed authentication got %d: %s", res.StatusCode, body)
		}
	default:
		t.Fatalf("unknown x-given %q", state)
	}
}
