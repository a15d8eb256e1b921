package v1_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/store"
)

type entryBody struct {
	ID      int64          `json:"id"`
	Actor   string         `json:"actor"`
	Action  string         `json:"action"`
	Changes map[string]any `json:"changes"`
}

type entriesPage struct {
	Entries    []entryBody `json:"entries"`
	NextCursor *string     `json:"next_cursor"`
}

func (w *world) entries(t *testing.T, query string) entriesPage {
	t.Helper()
	res, body := w.call(t, "GET", "/v1/modules/logging/entries?guild_id="+guild.String()+query, "Bearer "+adminToken, "")
	if res.StatusCode != 200 {
		t.Fatalf("entries: %d %s", res.StatusCode, body)
	}
	return decodeData[entriesPage](t, body)
}

// TestEveryChangeIsAudited makes each kind of change through /v1, as a
// user and as a key, and reads them back from the audit log.
func TestEveryChangeIsAudited(t *testing.T) {
	var dataDir string
	w := newWorld(t, func(c *app.Config) { c.DB = ""; dataDir = c.DataDir })
	user, key := "Bearer "+adminToken, "Bearer "+w.key(t, guild) // entry 1: key created
	g := guild.String()
	steps := []struct {
		auth, method, path, body string
		wantActor, wantAction    string
		wantChanges              map[string]any
	}{
		{user, "POST", "/v1/auth/api-key", `{"guild_id": "` + g + `"}`, "<@310987654321098765>", "api_key.created", map[string]any{"id": 2.0}},
		{key, "PUT", "/v1/settings", `{"guild_id": "` + g + `", "language": "nl", "gmt": null}`, "An API key", "settings.updated", map[string]any{"language": "nl"}},
		{user, "PUT", "/v1/settings", `{"guild_id": "` + g + `", "auto_delete": 30}`, "<@310987654321098765>", "settings.updated", map[string]any{"auto_delete": 30.0}},
		{key, "POST", "/v1/modules/logging/enable", `{"guild_id": "` + g + `"}`, "An API key", "logging.enabled", map[string]any{"module_logging": true}},
		{key, "PUT", "/v1/modules/logging/settings", `{"guild_id": "` + g + `", "logs_channel_id": 77, "log_info": false, "log_errors": true}`, "An API key", "logging.settings.updated", map[string]any{"logs_channel_id": "77", "log_info": false}},
		{key, "DELETE", "/v1/modules/logging/settings", `{"guild_id": "` + g + `"}`, "An API key", "logging.settings.reset", map[string]any{"logs_channel_id": "", "log_info": true}},
		{user, "POST", "/v1/modules/logging/disable", `{"guild_id": "` + g + `"}`, "<@310987654321098765>", "logging.disabled", map[string]any{"module_logging": false}},
		{user, "DELETE", "/v1/auth/api-key", `{"guild_id": "` + g + `", "api_key": "` + key[len("Bearer "):] + `"}`, "<@310987654321098765>", "api_key.deleted", map[string]any{"id": 1.0}},
	}
	for i, s := range steps {
		res, body := w.call(t, s.method, s.path, s.auth, s.body)
		if res.StatusCode != 200 {
			t.Fatalf("step %d: %d %s", i, res.StatusCode, body)
		}
		got := w.entries(t, "&limit=1").Entries[0]
		if got.Actor != s.wantActor || got.Action != s.wantAction || fmt.Sprint(got.Changes) != fmt.Sprint(s.wantChanges) {
			t.Errorf("step %d (%s %s): got %+v, want %s %s %v", i, s.method, s.path, got, s.wantActor, s.wantAction, s.wantChanges)
		}
	}

	// Changes that change nothing write nothing.
	before := len(w.entries(t, "").Entries)
	for _, body := range []string{
		`{"guild_id": "` + g + `"}`,
		`{"guild_id": "` + g + `", "language": "nl"}`,
		`{"guild_id": "` + g + `", "language": null, "unit_system": null}`,
	} {
		if res, b := w.call(t, "PUT", "/v1/settings", user, body); res.StatusCode != 200 {
			t.Fatalf("no-op PUT: %d %s", res.StatusCode, b)
		}
	}
	w.call(t, "DELETE", "/v1/modules/logging/settings", user, `{"guild_id": "`+g+`"}`)
	if after := len(w.entries(t, "").Entries); after != before {
		t.Errorf("no-op changes wrote %d entries", after-before)
	}

	// The key's value is nowhere: not in the log's answer, not on disk.
	_, page := w.call(t, "GET", "/v1/modules/logging/entries?guild_id="+g, "Bearer "+adminToken, "")
	secret := key[len("Bearer "):]
	if bytes.Contains(page, []byte(secret)) {
		t.Fatal("the audit log shows the key")
	}
	w.Server.Close()
	files, _ := filepath.Glob(filepath.Join(dataDir, "apikeyd.db*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("%s holds the key in clear", f)
		}
	}
}

func TestAuditEntriesArePagedNewestFirst(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := range 120 {
		lang := []string{"nl", "en"}[i%2]
		if _, err := w.Server.Store().UpdateGuildSettings(ctx, guild, adminActor, store.SettingsChange{Language: &lang}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int64
	query := "&limit=50"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("more pages than entries allow")
		}
		page := w.entries(t, query)
		for _, e := range page.Entries {
			seen = append(seen, e.ID)
		}
		if page.NextCursor == nil {
			break
		}
		query = "&limit=50&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	if len(seen) != 120 {
		t.Fatalf("got %d entries, want 120", len(seen))
	}
	for i := range seen {
		if seen[i] != int64(120-i) {
			t.Fatalf("entry %d: got id %d, want %d", i, seen[i], 120-i)
		}
	}
	if got := len(w.entries(t, "").Entries); got != 50 {
		t.Errorf("default page: got %d entries, want 50", got)
	}
	// Another guild's entries are not this guild's.
	w.key(t, otherGuild)
	if got := len(w.entries(t, "&limit=200").Entries); got != 120 {
		t.Errorf("got %d entries, want 120", got)
	}
}
