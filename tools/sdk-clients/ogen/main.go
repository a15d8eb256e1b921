// Command apikeyd-ogen-roundtrip drives a started apikeyd through the Go
// clients ogen generates from the documents it serves: keys created,
// listed, used and deleted, settings, the audit log, and /apiKeys. It
// exits non-zero at the first answer that is not the one expected.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"

	"github.com/ogen-go/ogen/ogenerrors"

	"example.com/apikeyd-ogen-roundtrip/apikeysogen"
	"example.com/apikeyd-ogen-roundtrip/v1ogen"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("the ogen clients' round trip passed")
}

// v1Credentials is a caller of /v1 with one credential: a Discord token
// or a guild key. ogen asks the source for every scheme an operation
// accepts; the ones it skips are not sent.
type v1Credentials struct{ discordToken, guildKey string }

func (c v1Credentials) DiscordToken(context.Context, v1ogen.OperationName) (v1ogen.DiscordToken, error) {
	if c.discordToken == "" {
		return v1ogen.DiscordToken{}, ogenerrors.ErrSkipClientSecurity
	}
	return v1ogen.DiscordToken{Token: c.discordToken}, nil
}

func (c v1Credentials) GuildKeyBearer(context.Context, v1ogen.OperationName) (v1ogen.GuildKeyBearer, error) {
	if c.guildKey == "" {
		return v1ogen.GuildKeyBearer{}, ogenerrors.ErrSkipClientSecurity
	}
	return v1ogen.GuildKeyBearer{Token: c.guildKey}, nil
}

func (v1Credentials) GuildKeyBare(context.Context, v1ogen.OperationName) (v1ogen.GuildKeyBare, error) {
	return v1ogen.GuildKeyBare{}, ogenerrors.ErrSkipClientSecurity
}

func (v1Credentials) CookieAuth(context.Context, v1ogen.OperationName) (v1ogen.CookieAuth, error) {
	return v1ogen.CookieAuth{}, ogenerrors.ErrSkipClientSecurity
}

// acceptJSON asks for application/json on every request.
type acceptJSON struct{}

func (acceptJSON) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", "application/json")
	return http.DefaultTransport.RoundTrip(r)
}

// systemKey sends the System key bare, as /apiKeys's first scheme says.
type systemKey string

func (k systemKey) SystemKey(context.Context, apikeysogen.OperationName) (apikeysogen.SystemKey, error) {
	return apikeysogen.SystemKey{APIKey: string(k)}, nil
}

func (systemKey) SystemKeyBearer(context.Context, apikeysogen.OperationName) (apikeysogen.SystemKeyBearer, error) {
	return apikeysogen.SystemKeyBearer{}, ogenerrors.ErrSkipClientSecurity
}

func run(ctx context.Context) error {
	base, guild, user := os.Getenv("APIKEYD_URL"), os.Getenv("GUILD_ID"), os.Getenv("KEY_USER")
	admin, err := v1ogen.NewClient(base+"/v1", v1Credentials{discordToken: os.Getenv("DISCORD_TOKEN")})
	if err != nil {
		return err
	}
	guildID, guildQuery := v1ogen.NewStringSnowflake(guild), v1ogen.GuildIdQueryValue(guild)

	createdRes, err := admin.CreateApiKey(ctx, &v1ogen.ApiKeysCreateRequest{GuildID: guildID})
	created, ok := createdRes.(*v1ogen.ApiKeyCreatedEnvelope)
	if err != nil || !ok {
		return fmt.Errorf("createApiKey: %v %#v", err, createdRes)
	}
	key := created.Data.APIKey
	if string(key.GuildID) != guild || !created.Error.Null {
		return fmt.Errorf("createApiKey: %#v", created)
	}
	listedRes, err := admin.ListApiKeys(ctx, v1ogen.ListApiKeysParams{GuildID: guildQuery})
	listed, ok := listedRes.(*v1ogen.ApiKeysListEnvelope)
	if err != nil || !ok || !slices.ContainsFunc(listed.Data.APIKeys, func(k v1ogen.ApiKey) bool { return k.APIKey == key.APIKey }) {
		return fmt.Errorf("listApiKeys: %v %#v", err, listedRes)
	}

	withKey, err := v1ogen.NewClient(base+"/v1", v1Credentials{guildKey: string(key.APIKey)})
	if err != nil {
		return err
	}
	changedRes, err := withKey.UpdateSettings(ctx, &v1ogen.SettingsUpdate{
		GuildID:  guildID,
		Language: v1ogen.NewOptNilSettingsUpdateLanguage(v1ogen.SettingsUpdateLanguageNl),
	})
	changed, ok := changedRes.(*v1ogen.SettingsUpdatedEnvelope)
	if err != nil || !ok || changed.Data.Settings.Language != "nl" {
		return fmt.Errorf("updateSettings with the key: %v %#v", err, changedRes)
	}
	readRes, err := withKey.GetSettings(ctx, v1ogen.GetSettingsParams{GuildID: guildQuery})
	read, ok := readRes.(*v1ogen.GuildSettingsEnvelope)
	if err != nil || !ok || read.Data.Settings.Language != "nl" || string(read.Data.Settings.GuildID) != guild {
		return fmt.Errorf("getSettings with the key: %v %#v", err, readRes)
	}
	// ogen sends only a scheme the operation lists, and listApiKeys lists
	// no key scheme: the key goes as a bearer token, as a caller who
	// confuses the two would send it. Without an Accept header the
	// problem comes as application/problem+json.
	keyAsToken, err := v1ogen.NewClient(base+"/v1", v1Credentials{discordToken: string(key.APIKey)})
	if err != nil {
		return err
	}
	refusedRes, err := keyAsToken.ListApiKeys(ctx, v1ogen.ListApiKeysParams{GuildID: guildQuery})
	refused, ok := refusedRes.(*v1ogen.ListApiKeysApplicationProblemJSONForbidden)
	if err != nil || !ok || refused.Status != 403 {
		return fmt.Errorf("listApiKeys with a key: %v %#v", err, refusedRes)
	}
	// With Accept: application/json the same problem comes as
	// application/json: what a client generated from Husqy's documents,
	// which declare their errors only so, needs to read them.
	keyAsTokenJSON, err := v1ogen.NewClient(base+"/v1", v1Credentials{discordToken: string(key.APIKey)},
		v1ogen.WithClient(&http.Client{Transport: acceptJSON{}}))
	if err != nil {
		return err
	}
	refusedJSONRes, err := keyAsTokenJSON.ListApiKeys(ctx, v1ogen.ListApiKeysParams{GuildID: guildQuery})
	refusedJSON, ok := refusedJSONRes.(*v1ogen.ListApiKeysApplicationJSONForbidden)
	if err != nil || !ok || refusedJSON.Detail != refused.Detail {
		return fmt.Errorf("listApiKeys with a key, Accept: application/json: %v %#v", err, refusedJSONRes)
	}

	entriesRes, err := admin.ListAuditEntries(ctx, v1ogen.ListAuditEntriesParams{GuildID: guildQuery})
	entries, ok := entriesRes.(*v1ogen.AuditEntriesEnvelope)
	if err != nil || !ok || len(entries.Data.Entries) < 2 {
		return fmt.Errorf("listAuditEntries: %v %#v", err, entriesRes)
	}
	newest, before := entries.Data.Entries[0], entries.Data.Entries[1]
	if newest.Action != v1ogen.AuditEntryActionSettingsUpdated || newest.Actor != "An API key" || before.Action != v1ogen.AuditEntryActionAPIKeyCreated {
		return fmt.Errorf("listAuditEntries: newest %+v, before it %+v", newest, before)
	}

	deletedRes, err := admin.DeleteApiKey(ctx, &v1ogen.ApiKeysDeleteRequest{GuildID: guildID, APIKey: string(key.APIKey)})
	deleted, ok := deletedRes.(*v1ogen.ApiKeyDeletedEnvelope)
	if err != nil || !ok || deleted.Data.APIKey.ID != key.ID {
		return fmt.Errorf("deleteApiKey: %v %#v", err, deletedRes)
	}
	goneRes, err := withKey.GetSettings(ctx, v1ogen.GetSettingsParams{GuildID: guildQuery})
	if _, ok := goneRes.(*v1ogen.GetSettingsApplicationProblemJSONUnauthorized); err != nil || !ok {
		return fmt.Errorf("getSettings with the deleted key: %v %#v", err, goneRes)
	}

	keys, err := apikeysogen.NewClient(base, systemKey(os.Getenv("SYSTEM_KEY")))
	if err != nil {
		return err
	}
	madeRes, err := keys.CreateKeyWithNote(ctx, apikeysogen.CreateKeyWithNoteParams{User: apikeysogen.UserName(user), Note: "generated client"})
	if _, ok := madeRes.(*apikeysogen.NewToken); err != nil || !ok {
		return fmt.Errorf("createKeyWithNote: %v %#v", err, madeRes)
	}
	mineRes, err := keys.GetUserKeys(ctx, apikeysogen.GetUserKeysParams{User: apikeysogen.UserName(user)})
	mine, ok := mineRes.(*apikeysogen.KeyList)
	if err != nil || !ok || len(mine.Keys) != 1 || mine.Keys[0].Note != "generated client" {
		return fmt.Errorf("getUserKeys: %v %#v", err, mineRes)
	}
	removedRes, err := keys.RemoveUserKeys(ctx, apikeysogen.RemoveUserKeysParams{User: apikeysogen.UserName(user)})
	removed, ok := removedRes.(*apikeysogen.Removed)
	if err != nil || !ok || removed.Deleted != 1 {
		return fmt.Errorf("removeUserKeys: %v %#v", err, removedRes)
	}
	return nil
}
