package v1_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
)

// apiKeyBody is a key object as /v1 returns it.
type apiKeyBody struct {
	ID        int64      `json:"id"`
	GuildID   string     `json:"guild_id"`
	APIKey    string     `json:"api_key"`
	LastUse   *time.Time `json:"last_use"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
}

func (w *world) listKeys(t *testing.T) []apiKeyBody {
	t.Helper()
	res, body := w.call(t, "GET", "/v1/auth/api-key?guild_id="+guild.String(), "Bearer "+adminToken, "")
	if res.StatusCode != 200 {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	return decodeData[struct {
		APIKeys []apiKeyBody `json:"api_keys"`
	}](t, body).APIKeys
}

func TestGuildKeyLifecycle(t *testing.T) {
	w := newWorld(t)
	admin := "Bearer " + adminToken
	// The guild id as a JSON integer above 2^53 comes back as exact digits.
	res, body := w.call(t, "POST", "/v1/auth/api-key", admin, `{"guild_id": 1098765432109876543}`)
	if res.StatusCode != 200 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	created := decodeData[struct {
		APIKey apiKeyBody `json:"api_key"`
	}](t, body).APIKey
	if created.GuildID != "1098765432109876543" || created.CreatedBy != "310987654321098765" || created.LastUse != nil {
		t.Fatalf("created: %+v", created)
	}

	// The key acts for its guild.
	res, body = w.call(t, "POST", "/v1/auth/validate-user-permissions", created.APIKey,
		`{"guild_id": "1098765432109876543", "target": "310987654321098765"}`)
	if res.StatusCode != 200 || !decodeData[struct {
		HasAccess bool `json:"has_access"`
	}](t, body).HasAccess {
		t.Fatalf("key use: %d %s", res.StatusCode, body)
	}
	if err := w.Server.FlushKeyUses(context.Background()); err != nil {
		t.Fatal(err)
	}
	listed := w.listKeys(t)
	if len(listed) != 1 || listed[0].APIKey != created.APIKey || listed[0].LastUse == nil {
		t.Fatalf("after use: %+v", listed)
	}

	res, body = w.call(t, "DELETE", "/v1/auth/api-key/", admin,
		`{"guild_id": "1098765432109876543", "api_key": "`+created.APIKey+`"}`)
	if res.StatusCode != 200 || decodeData[struct {
		APIKey apiKeyBody `json:"api_key"`
	}](t, body).APIKey.ID != created.ID {
		t.Fatalf("delete: %d %s", res.StatusCode, body)
	}
	// Revocation is immediate.
	res, _ = w.call(t, "POST", "/v1/auth/validate-user-permissions", "Bearer "+created.APIKey,
		`{"guild_id": "1098765432109876543", "target": "310987654321098765"}`)
	if res.StatusCode != 401 {
		t.Fatalf("deleted key: got %d, want 401", res.StatusCode)
	}
	if got := w.listKeys(t); len(got) != 0 {
		t.Fatalf("after delete: %+v", got)
	}
	// A second delete finds nothing.
	res, _ = w.call(t, "DELETE", "/v1/auth/api-key", admin,
		`{"guild_id": "1098765432109876543", "api_key": "`+created.APIKey+`"}`)
	if res.StatusCode != 404 {
		t.Fatalf("second delete: got %d, want 404", res.StatusCode)
	}
}

func TestGuildKeyLimitIsConfigurable(t *testing.T) {
	w := newWorld(t, func(c *app.Config) { c.MaxKeysPerGuild = 2 })
	create := func() (*http.Response, []byte) {
		return w.call(t, "POST", "/v1/auth/api-key", "Bearer "+adminToken, `{"guild_id": "`+guild.String()+`"}`)
	}
	for range 2 {
		if res, body := create(); res.StatusCode != 200 {
			t.Fatalf("create: %d %s", res.StatusCode, body)
		}
	}
	res, body := create()
	var p problemBody
	json.Unmarshal(body, &p)
	if res.StatusCode != 422 || p.Detail != "This guild holds its maximum of 2 API keys." {
		t.Fatalf("third key: %d %s", res.StatusCode, body)
	}
	if got := w.listKeys(t); len(got) != 2 {
		t.Fatalf("the refused create wrote a key: %d keys", len(got))
	}
}

func TestMistypedKeyIsRefusedWithoutTheDatabase(t *testing.T) {
	w := newWorld(t)
	w.Server.Close() // any database access now fails with 500
	res, body := w.call(t, "DELETE", "/v1/auth/api-key", "Bearer "+adminToken,
		`{"guild_id": "`+guild.String()+`", "api_key": "akdg_XpgGghSv9UQRtOEt6X31MRtELzaIPv3o1kKL"}`)
	if res.StatusCode != 422 {
		t.Fatalf("got %d, want 422: %s", res.StatusCode, body)
	}
	// The same goes for authenticating with a mistyped key.
	res, _ = w.call(t, "GET", "/v1/auth/api-key?guild_id="+guild.String(), "akdg_XpgGghSv9UQRtOEt6X31MRtELzaIPv3o1kKL", "")
	if res.StatusCode != 401 {
		t.Fatalf("mistyped key as credentials: got %d, want 401", res.StatusCode)
	}
}

func TestRemovingAnAdminTakesEffectOnTheNextRequest(t *testing.T) {
	w := newWorld(t)
	path := "/v1/auth/api-key?guild_id=" + guild.String()
	if res, _ := w.call(t, "GET", path, "Bearer "+adminToken, ""); res.StatusCode != 200 {
		t.Fatalf("admin: %d", res.StatusCode)
	}
	if _, err := w.Server.Store().RemoveGuildAdmin(context.Background(), guild, admin); err != nil {
		t.Fatal(err)
	}
	if res, _ := w.call(t, "GET", path, "Bearer "+adminToken, ""); res.StatusCode != 403 {
		t.Fatalf("removed admin: got %d, want 403", res.StatusCode)
	}
}
