package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

// copyConfig is a server on a SQLite file of its own whatever
// APIKEYD_TEST_POSTGRES says: the database that copy-to-postgres copies.
func copyConfig(t *testing.T) app.Config {
	cfg := ringConfig(t)
	apptest.FileDatabase(&cfg)
	return cfg
}

// snapshot is what a client of the server can read of the seeded guild and
// of the user keys: the key lists, the settings and every page of the
// audit log, 25 entries a page, each answer's body by what asked for it.
func snapshot(t *testing.T, inst *apptest.Instance) map[string]string {
	t.Helper()
	admin := "Bearer " + seededToken
	reads := map[string]string{
		"/v1/auth/api-key?guild_id=" + seededGuild:                     admin,
		"/v1/settings?guild_id=" + seededGuild:                         admin,
		"/v1/modules/logging/settings?guild_id=" + seededGuild:         admin,
		"/apiKeys/getKeys":                                             apptest.SystemKey,
		"/v1/modules/logging/entries?limit=25&guild_id=" + seededGuild: admin,
	}
	got := map[string]string{}
	for path, auth := range reads {
		res, body := inst.Do(t, "GET", path, auth, nil)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
		}
		got[path] = string(body)
	}
	// The later pages of the audit log, by the cursors of the first.
	path := "/v1/modules/logging/entries?limit=25&guild_id=" + seededGuild
	for pages := 1; ; pages++ {
		var page struct {
			Data struct {
				NextCursor *string `json:"next_cursor"`
			}
		}
		if err := json.Unmarshal([]byte(got[path]), &page); err != nil {
			t.Fatal(err)
		}
		if page.Data.NextCursor == nil {
			if pages < 3 {
				t.Fatalf("the audit log has %d pages, want 3 or more", pages)
			}
			return got
		}
		path = "/v1/modules/logging/entries?limit=25&guild_id=" + seededGuild + "&cursor=" + url.QueryEscape(*page.Data.NextCursor)
		res, body := inst.Do(t, "GET", path, admin, nil)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
		}
		got[path] = string(body)
	}
}

// createGuildKey creates a key of the seeded guild and returns it with its
// id.
func createGuildKey(t *testing.T, inst *apptest.Instance) (token string, id int64) {
	t.Helper()
	res, body := inst.Do(t, "POST", "/v1/auth/api-key", "Bearer "+seededToken, strings.NewReader(`{"guild_id":"`+seededGuild+`"}`))
	var created struct {
		Data struct {
			APIKey struct {
				APIKey string `json:"api_key"`
				ID     int64  `json:"id"`
			} `json:"api_key"`
		}
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &created) != nil {
		t.Fatalf("create a guild key: %d %s", res.StatusCode, body)
	}
	return created.Data.APIKey.APIKey, created.Data.APIKey.ID
}

// TestCopyASQLiteDatabaseToPostgres moves a populated SQLite database to
// PostgreSQL as README says: a ring that cannot open its keys is refused
// without writing, then the copy is served with every key working, the
// same answers (audit pages and their cursors included) and fresh ids for
// what is created next; a second copy into it, no longer empty, is
// refused and writes nothing. It runs when APIKEYD_TEST_POSTGRES names a
// server.
func TestCopyASQLiteDatabaseToPostgres(t *testing.T) {
	ctx := context.Background()
	target := pgtest.NewDatabase(t)
	cfg := copyConfig(t)
	inst := apptest.Start(t, &cfg)
	var guildKeys []string
	var lastID int64
	for i := range 60 { // an audit entry each: three pages
		token, id := createGuildKey(t, inst)
		if i%10 == 3 {
			if res, body := inst.Do(t, "DELETE", "/v1/auth/api-key", "Bearer "+seededToken, strings.NewReader(`{"guild_id":"`+seededGuild+`","api_key":"`+token+`"}`)); res.StatusCode != 200 {
				t.Fatalf("delete a guild key: %d %s", res.StatusCode, body)
			}
			continue
		}
		guildKeys, lastID = append(guildKeys, token), id
	}
	if res, body := inst.Do(t, "POST", "/v1/modules/logging/enable", "Bearer "+seededToken, strings.NewReader(`{"guild_id":"`+seededGuild+`"}`)); res.StatusCode != 200 {
		t.Fatalf("enable logging: %d %s", res.StatusCode, body)
	}
	userKeys := []string{inst.CreateUserKey(t, apptest.SystemKey, "alice"), inst.CreateUserKey(t, apptest.SystemKey, "bob")}
	tok := store.SessionTokens{AccessToken: "discord-access", RefreshToken: "discord-refresh", Expiry: time.UnixMilli(1750000000000).UTC()}
	sessionID, _, err := inst.Server.Store().CreateSession(ctx, 42, tok, store.DefaultSessionIdle, store.DefaultSessionAbsolute)
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, inst)
	env := commandEnv(cfg)

	// The server still runs: its database may not be copied.
	if code, _, errOut := apptest.Main(t, env, "copy-to-postgres", "--to", target); code == 0 || !strings.Contains(errOut, "in use") {
		t.Fatalf("copy-to-postgres beside the server: exit %d %q", code, errOut)
	}
	inst.Server.Close()
	// A ring without the key that sealed them cannot open the keys.
	wrong := commandEnv(cfg)
	wrong["APIKEYD_MASTER_KEY"] = keys.EncodeMasterKey(keys.NewMasterKey())
	if code, _, errOut := apptest.Main(t, wrong, "copy-to-postgres", "--to", target); code == 0 || !strings.Contains(errOut, "lacks") {
		t.Fatalf("copy-to-postgres with another master key: exit %d %q", code, errOut)
	}

	code, out, errOut := apptest.Main(t, env, "copy-to-postgres", "--to", target)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("(%d keys)", len(guildKeys)+len(userKeys)+3)) { // the seeded guild and user keys, the System key
		t.Fatalf("copy-to-postgres: exit %d, %q %q", code, out, errOut)
	}

	pg := cfg
	pg.DB = target
	served := apptest.Start(t, &pg)
	after := snapshot(t, served)
	for path, want := range before {
		if after[path] != want {
			t.Errorf("GET %s on the copy:\n%s\nwant\n%s", path, after[path], want)
		}
	}
	if len(after) != len(before) {
		t.Errorf("the copy answers %d reads, the original %d", len(after), len(before))
	}
	for _, k := range append([]string{seededGuildKey}, guildKeys...) {
		if res, body := served.Do(t, "GET", "/v1/settings?guild_id="+seededGuild, k, nil); res.StatusCode != 200 {
			t.Fatalf("a guild key on the copy: %d %s", res.StatusCode, body)
		}
	}
	for _, k := range userKeys {
		if !strings.Contains(after["/apiKeys/getKeys"], k) {
			t.Fatal("a user key is missing on the copy")
		}
	}
	if got, err := served.Server.Store().SessionByID(ctx, sessionID); err != nil || got.Tokens != tok {
		t.Fatalf("the session on the copy: %+v, %v", got.Tokens, err)
	}
	if _, id := createGuildKey(t, served); id <= lastID {
		t.Fatalf("a new guild key on the copy has id %d, not past the copied %d", id, lastID)
	}
	served.CreateUserKey(t, apptest.SystemKey, "carol")
	served.Server.Close()
	// Read after a restart, when the keys' uses are recorded, as they are
	// read again below.
	restarted := apptest.Start(t, &pg)
	changed := snapshot(t, restarted)
	restarted.Server.Close()

	// Not empty now: refused, and nothing written.
	if code, _, errOut := apptest.Main(t, env, "copy-to-postgres", "--to", target); code == 0 || !strings.Contains(errOut, "not empty") {
		t.Fatalf("copy-to-postgres into a database that is not empty: exit %d %q", code, errOut)
	}
	again := snapshot(t, apptest.Start(t, &pg))
	for path, want := range changed {
		if again[path] != want {
			t.Errorf("GET %s after a refused copy:\n%s\nwant\n%s", path, again[path], want)
		}
	}
}

// A database sealed before the ring moves to PostgreSQL as it is, and
// its keys open there.
func TestCopyADatabaseSealedBeforeTheRingToPostgres(t *testing.T) {
	target := pgtest.NewDatabase(t)
	dataDir := copyDataDir(t, sealedBeforeTheRing)
	master, err := os.ReadFile(filepath.Join(dataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"APIKEYD_DATA_DIR": dataDir, "APIKEYD_MASTER_KEY": strings.TrimSpace(string(master))}
	if code, out, errOut := apptest.Main(t, env, "copy-to-postgres", "--to", target); code != 0 || !strings.Contains(out, "(5 keys)") {
		t.Fatalf("copy-to-postgres: exit %d, %q %q", code, out, errOut)
	}
	cfg := apptest.Config(t)
	cfg.DB, cfg.MasterKey, cfg.SystemKey = target, env["APIKEYD_MASTER_KEY"], legacySystemKey
	inst := apptest.Start(t, &cfg)
	res, body := inst.Do(t, "GET", "/apiKeys/getKeys", legacySystemKey, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), legacyAliceKey) || !strings.Contains(string(body), legacyBobKey) {
		t.Fatalf("user keys on the copy: %d %s", res.StatusCode, body)
	}
	list, err := inst.Server.Store().ListGuildKeys(context.Background(), 1098765432109876543)
	if err != nil || len(list) != 2 {
		t.Fatalf("guild keys on the copy: %d, %v", len(list), err)
	}
}

// The command's refusals that need no database: a target that is not a
// PostgreSQL URL, a source that is not a SQLite file, no ring in the
// environment, no database to copy.
func TestCopyToPostgresRefuses(t *testing.T) {
	dir := t.TempDir()
	pgURL := "postgres://apikeyd@127.0.0.1:1/apikeyd"
	ring := keys.EncodeMasterKey(keys.NewMasterKey())
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"no target":          {map[string]string{"APIKEYD_MASTER_KEY": ring}, []string{"--data-dir", dir}, "--to"},
		"a file as target":   {map[string]string{"APIKEYD_MASTER_KEY": ring}, []string{"--data-dir", dir, "--to", "/tmp/x.db"}, "postgres://"},
		"postgres as source": {map[string]string{"APIKEYD_MASTER_KEY": ring, "APIKEYD_DB": pgURL}, []string{"--to", pgURL}, "SQLite database to copy from"},
		"no ring":            {nil, []string{"--data-dir", dir, "--to", pgURL}, "APIKEYD_MASTER_KEY"},
		"no database":        {map[string]string{"APIKEYD_MASTER_KEY": ring}, []string{"--data-dir", dir, "--to", pgURL}, "no SQLite database"},
	} {
		code, _, errOut := apptest.Main(t, tc.env, append([]string{"copy-to-postgres"}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d %q, want a refusal saying %q", name, code, errOut, tc.want)
		}
	}
	if code, _, errOut := apptest.Main(t, nil, "copy-to-postgres", "--help"); code != 0 || !strings.Contains(errOut, "empty PostgreSQL database") {
		t.Errorf("--help: exit %d %q", code, errOut)
	}
}
