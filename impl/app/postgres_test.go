package app_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

// TestTheCommandsWorkOnPostgres: guild-admin beside a server, then, with
// the server stopped, rotate-master-key and rotate-system-key, all on one
// PostgreSQL database, each taking its keys from the environment; the
// server started again with the new keys serves what was there. It runs
// when APIKEYD_TEST_POSTGRES names a server.
func TestTheCommandsWorkOnPostgres(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.DB = pgtest.NewDatabase(t)
	env := map[string]string{"APIKEYD_DB": cfg.DB, "APIKEYD_DATA_DIR": cfg.DataDir, "APIKEYD_MASTER_KEY": cfg.MasterKey}
	inst := apptest.Start(t, &cfg)
	userKey := inst.CreateUserKey(t, apptest.SystemKey, "alice")

	if code, out, errOut := apptest.Main(t, env, "guild-admin", "add", "--guild", "5", "--user", "6"); code != 0 || !strings.Contains(out, "user 6 now administers guild 5") {
		t.Fatalf("guild-admin add beside the server: %d %q %q", code, out, errOut)
	}
	if ok, err := inst.Server.Store().IsGuildAdmin(t.Context(), 5, 6); err != nil || !ok {
		t.Fatalf("the server does not see the administrator: %v, %v", ok, err)
	}
	next := base64.StdEncoding.EncodeToString(keys.NewMasterKey())
	env["APIKEYD_NEW_MASTER_KEY"] = next
	if code, _, errOut := apptest.Main(t, env, "rotate-master-key"); code == 0 || !strings.Contains(errOut, "in use") {
		t.Fatalf("rotate-master-key beside the server: %d %q", code, errOut)
	}
	inst.Server.Close()
	// Two keys: alice's and the System key.

	if code, out, errOut := apptest.Main(t, env, "rotate-master-key"); code != 0 || !strings.Contains(out, "resealed 2 keys") {
		t.Fatalf("rotate-master-key: %d %q %q", code, out, errOut)
	}
	env["APIKEYD_MASTER_KEY"] = next
	delete(env, "APIKEYD_NEW_MASTER_KEY")
	if code, _, errOut := apptest.Main(t, env, "rotate-system-key"); code == 0 || !strings.Contains(errOut, "APIKEYD_NEW_SYSTEM_KEY") {
		t.Fatalf("rotate-system-key generating a key on PostgreSQL: %d %q, want refused", code, errOut)
	}
	const newSystemKey = "the-new-postgres-system-key-0123"
	env["APIKEYD_NEW_SYSTEM_KEY"] = newSystemKey
	if code, out, errOut := apptest.Main(t, env, "rotate-system-key"); code != 0 {
		t.Fatalf("rotate-system-key: %d %q %q", code, out, errOut)
	}

	cfg.MasterKey, cfg.SystemKey = next, newSystemKey
	again := apptest.Start(t, &cfg)
	res, body := again.Do(t, "GET", "/apiKeys/getUserKeys/alice", newSystemKey, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), userKey) {
		t.Fatalf("alice's keys after both rotations: %d %s", res.StatusCode, body)
	}
	if res, _ := again.Do(t, "GET", "/apiKeys/getKeys", apptest.SystemKey, nil); res.StatusCode == 200 {
		t.Fatal("the old System key still works")
	}
}
