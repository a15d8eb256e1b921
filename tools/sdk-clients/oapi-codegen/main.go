// Command apikeyd-roundtrip drives a started apikeyd through the Go
// clients oapi-codegen generates from the documents it serves: keys
// created, listed, used and deleted, settings, the audit log, and
// /apiKeys. It exits non-zero at the first answer that is not the one
// expected.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"

	"example.com/apikeyd-roundtrip/apikeysclient"
	"example.com/apikeyd-roundtrip/v1client"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("the oapi-codegen clients' round trip passed")
}

func bearer(token string) v1client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

func run(ctx context.Context) error {
	base, guild, token, user := os.Getenv("APIKEYD_URL"), os.Getenv("GUILD_ID"), os.Getenv("DISCORD_TOKEN"), os.Getenv("KEY_USER")
	v1, err := v1client.NewClientWithResponses(base + "/v1")
	if err != nil {
		return err
	}
	var guildID v1client.Snowflake
	if err := guildID.FromSnowflake1(guild); err != nil {
		return err
	}
	asAdmin := bearer(token)

	created, err := v1.CreateApiKeyWithResponse(ctx, v1client.ApiKeysCreateRequest{GuildId: guildID}, asAdmin)
	if err != nil || created.JSON200 == nil {
		return fmt.Errorf("createApiKey: %v %s", err, body(created))
	}
	key := created.JSON200.Data.ApiKey
	if key.GuildId != guild {
		return fmt.Errorf("createApiKey: guild %q, want %q", key.GuildId, guild)
	}
	listed, err := v1.ListApiKeysWithResponse(ctx, &v1client.ListApiKeysParams{GuildId: guild}, asAdmin)
	if err != nil || listed.JSON200 == nil || !slices.ContainsFunc(listed.JSON200.Data.ApiKeys, func(k v1client.ApiKey) bool { return k.ApiKey == key.ApiKey }) {
		return fmt.Errorf("listApiKeys: %v %s", err, body(listed))
	}

	asKey := bearer(key.ApiKey)
	nl := v1client.SettingsUpdateLanguage("nl")
	changed, err := v1.UpdateSettingsWithResponse(ctx, v1client.SettingsUpdate{GuildId: guildID, Language: &nl}, asKey)
	if err != nil || changed.JSON200 == nil || changed.JSON200.Data.Settings.Language != "nl" {
		return fmt.Errorf("updateSettings with the key: %v %s", err, body(changed))
	}
	read, err := v1.GetSettingsWithResponse(ctx, &v1client.GetSettingsParams{GuildId: guild}, asKey)
	if err != nil || read.JSON200 == nil || read.JSON200.Data.Settings.Language != "nl" || read.JSON200.Data.Settings.GuildId != guild {
		return fmt.Errorf("getSettings with the key: %v %s", err, body(read))
	}
	refused, err := v1.ListApiKeysWithResponse(ctx, &v1client.ListApiKeysParams{GuildId: guild}, asKey)
	if err != nil || refused.ApplicationproblemJSON403 == nil {
		return fmt.Errorf("listApiKeys with a key: %v %s", err, body(refused))
	}

	entries, err := v1.ListAuditEntriesWithResponse(ctx, &v1client.ListAuditEntriesParams{GuildId: guild}, asAdmin)
	if err != nil || entries.JSON200 == nil || len(entries.JSON200.Data.Entries) < 2 {
		return fmt.Errorf("listAuditEntries: %v %s", err, body(entries))
	}
	newest, before := entries.JSON200.Data.Entries[0], entries.JSON200.Data.Entries[1]
	if newest.Action != v1client.AuditEntryActionSettingsUpdated || newest.Actor != "An API key" || before.Action != v1client.AuditEntryActionApiKeyCreated {
		return fmt.Errorf("listAuditEntries: newest %+v, before it %+v", newest, before)
	}

	deleted, err := v1.DeleteApiKeyWithResponse(ctx, v1client.ApiKeysDeleteRequest{GuildId: guildID, ApiKey: key.ApiKey}, asAdmin)
	if err != nil || deleted.JSON200 == nil || deleted.JSON200.Data.ApiKey.Id != key.Id {
		return fmt.Errorf("deleteApiKey: %v %s", err, body(deleted))
	}
	gone, err := v1.GetSettingsWithResponse(ctx, &v1client.GetSettingsParams{GuildId: guild}, asKey)
	if err != nil || gone.ApplicationproblemJSON401 == nil {
		return fmt.Errorf("getSettings with the deleted key: %v %s", err, body(gone))
	}

	system := os.Getenv("SYSTEM_KEY")
	keys, err := apikeysclient.NewClientWithResponses(base, apikeysclient.WithRequestEditorFn(
		func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", system)
			return nil
		}))
	if err != nil {
		return err
	}
	made, err := keys.CreateKeyWithNoteWithResponse(ctx, user, "generated client")
	if err != nil || made.JSON200 == nil {
		return fmt.Errorf("createKeyWithNote: %v %s", err, body(made))
	}
	mine, err := keys.GetUserKeysWithResponse(ctx, user)
	if err != nil || mine.JSON200 == nil || len(mine.JSON200.Keys) != 1 || mine.JSON200.Keys[0].Note != "generated client" {
		return fmt.Errorf("getUserKeys: %v %s", err, body(mine))
	}
	removed, err := keys.RemoveUserKeysWithResponse(ctx, user)
	if err != nil || removed.JSON200 == nil || removed.JSON200.Deleted != 1 {
		return fmt.Errorf("removeUserKeys: %v %s", err, body(removed))
	}
	return nil
}

// body is an answer's raw body, for a failure's message.
func body(r interface{ StatusCode() int }) string {
	if r == nil {
		return "(no answer)"
	}
	return fmt.Sprintf("(status %d)", r.StatusCode())
}
