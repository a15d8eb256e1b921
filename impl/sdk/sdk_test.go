package sdk_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/apikeyd/apikeyd/gen/apikeysclient"
	"github.com/apikeyd/apikeyd/gen/v1client"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

const (
	guild      snowflake.ID = 1098765432109876543 // above 2^53
	admin      snowflake.ID = 310987654321098765
	adminToken              = "sdk-admin-token"
)

func bearer(token string) func(context.Context, *http.Request) error {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

func TestGoClientOfAPIKeys(t *testing.T) {
	ctx := context.Background()
	inst := apptest.Start(t, nil)
	c, err := apikeysclient.NewClientWithResponses(inst.URL, apikeysclient.WithRequestEditorFn(
		func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", apptest.SystemKey)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}

	created, err := c.CreateKeyWithResponse(ctx, "café")
	if err != nil || created.JSON200 == nil {
		t.Fatalf("create: %v %s", err, created.Body)
	}
	noted, err := c.CreateKeyWithNoteWithResponse(ctx, "café", "ci runner")
	if err != nil || noted.JSON200 == nil {
		t.Fatalf("create with note: %v %s", err, noted.Body)
	}
	mine, err := c.GetUserKeysWithResponse(ctx, "café")
	if err != nil || mine.JSON200 == nil || len(mine.JSON200.Keys) != 2 || mine.JSON200.Keys[1].Note != "ci runner" {
		t.Fatalf("getUserKeys: %v %s", err, mine.Body)
	}
	all, err := c.GetKeysWithResponse(ctx)
	if err != nil || all.JSON200 == nil || len(all.JSON200.Keys) != 2 {
		t.Fatalf("getKeys: %v %s", err, all.Body)
	}

	// The user's key is valid, but is not the System key.
	used, err := c.GetKeysWithResponse(ctx, func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", created.JSON200.Token)
		return nil
	})
	if err != nil || used.JSON403 == nil || used.JSON403.Error.Message != "Invalid authorization Key!" {
		t.Fatalf("user key: %v %s", err, used.Body)
	}

	removed, err := c.RemoveUserKeysWithResponse(ctx, "café")
	if err != nil || removed.JSON200 == nil || removed.JSON200.Deleted != 2 {
		t.Fatalf("remove: %v %s", err, removed.Body)
	}
}

// idOf is a Discord id as the document's own type carries it in requests:
// the digit string, which keeps every digit in any language.
func idOf(t *testing.T, id snowflake.ID) v1client.Snowflake {
	t.Helper()
	var out v1client.Snowflake
	if err := out.FromSnowflake1(id.String()); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGoClientOfV1(t *testing.T) {
	ctx := context.Background()
	fake := discordtest.NewServer(t)
	fake.AddUser(adminToken, admin.String(), "admin")
	cfg := apptest.Config(t)
	cfg.DiscordAPIURL = fake.URL()
	inst := apptest.Start(t, &cfg)
	if _, err := inst.Server.Store().AddGuildAdmin(ctx, guild, admin); err != nil {
		t.Fatal(err)
	}
	c, err := v1client.NewClientWithResponses(inst.URL + "/v1")
	if err != nil {
		t.Fatal(err)
	}
	asAdmin := bearer(adminToken)

	// As the user: create, list and delete keys.
	created, err := c.CreateApiKeyWithResponse(ctx, v1client.ApiKeysCreateRequest{GuildId: idOf(t, guild)}, asAdmin)
	if err != nil || created.JSON200 == nil {
		t.Fatalf("create: %v %s", err, created.Body)
	}
	key := created.JSON200.Data.ApiKey
	if key.GuildId != guild.String() || key.CreatedBy != admin.String() {
		t.Fatalf("created: %+v", key)
	}
	listed, err := c.ListApiKeysWithResponse(ctx, &v1client.ListApiKeysParams{GuildId: guild.String()}, asAdmin)
	if err != nil || listed.JSON200 == nil || len(listed.JSON200.Data.ApiKeys) != 1 {
		t.Fatalf("list: %v %s", err, listed.Body)
	}

	// With the key: read and change settings.
	asKey := bearer(key.ApiKey)
	nl := v1client.SettingsUpdateLanguage("nl")
	changed, err := c.UpdateSettingsWithResponse(ctx, v1client.SettingsUpdate{GuildId: idOf(t, guild), Language: &nl}, asKey)
	if err != nil || changed.JSON200 == nil || changed.JSON200.Data.Settings.Language != "nl" {
		t.Fatalf("update settings: %v %s", err, changed.Body)
	}
	read, err := c.GetSettingsWithResponse(ctx, &v1client.GetSettingsParams{GuildId: guild.String()}, asKey)
	if err != nil || read.JSON200 == nil || read.JSON200.Data.Settings.Language != "nl" || read.JSON200.Data.Settings.GuildId != guild.String() {
		t.Fatalf("get settings: %v %s", err, read.Body)
	}
	// ... but may not manage keys.
	refused, err := c.ListApiKeysWithResponse(ctx, &v1client.ListApiKeysParams{GuildId: guild.String()}, asKey)
	if err != nil || refused.ApplicationproblemJSON403 == nil {
		t.Fatalf("key listing keys: %v %s", err, refused.Body)
	}

	deleted, err := c.DeleteApiKeyWithResponse(ctx, v1client.ApiKeysDeleteRequest{GuildId: idOf(t, guild), ApiKey: key.ApiKey}, asAdmin)
	if err != nil || deleted.JSON200 == nil || deleted.JSON200.Data.ApiKey.Id != key.Id {
		t.Fatalf("delete: %v %s", err, deleted.Body)
	}
	gone, err := c.GetSettingsWithResponse(ctx, &v1client.GetSettingsParams{GuildId: guild.String()}, asKey)
	if err != nil || gone.ApplicationproblemJSON401 == nil {
		t.Fatalf("deleted key: %v %s", err, gone.Body)
	}
}
