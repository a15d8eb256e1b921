package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

func runGuildAdmin(t *testing.T, dataDir, masterKey string, args ...string) (int, string, string) {
	t.Helper()
	return apptest.Main(t, map[string]string{"APIKEYD_MASTER_KEY": masterKey}, append([]string{"guild-admin"}, append(args, "--data-dir", dataDir)...)...)
}

// TestGuildAdminCommandWhileServing: the command changes the data of a
// running server, which sees the change on its next request.
func TestGuildAdminCommandWhileServing(t *testing.T) {
	cfg := fileConfig(t)
	inst := apptest.Start(t, &cfg)
	const guild, user = "1098765432109876543", "310987654321098765"
	isAdmin := func() bool {
		ok, err := inst.Server.Store().IsGuildAdmin(context.Background(), mustID(t, guild), mustID(t, user))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	code, out, errOut := runGuildAdmin(t, cfg.DataDir, cfg.MasterKey, "add", "--guild", guild, "--user", user)
	if code != 0 || !strings.Contains(out, "now administers") || !isAdmin() {
		t.Fatalf("add: exit %d, %q %q", code, out, errOut)
	}
	if code, out, _ = runGuildAdmin(t, cfg.DataDir, cfg.MasterKey, "add", "--guild", guild, "--user", user); code != 0 || !strings.Contains(out, "already") {
		t.Fatalf("add again: exit %d, %q", code, out)
	}
	if code, out, _ = runGuildAdmin(t, cfg.DataDir, cfg.MasterKey, "list"); code != 0 || !strings.Contains(out, "guild "+guild+"\tuser "+user) {
		t.Fatalf("list: exit %d, %q", code, out)
	}
	if code, out, _ = runGuildAdmin(t, cfg.DataDir, cfg.MasterKey, "remove", "--guild", guild, "--user", user); code != 0 || isAdmin() {
		t.Fatalf("remove: exit %d, %q", code, out)
	}
	if code, out, _ = runGuildAdmin(t, cfg.DataDir, cfg.MasterKey, "list", "--guild", guild); code != 0 || out != "" {
		t.Fatalf("list after remove: exit %d, %q", code, out)
	}
}

func TestGuildAdminCommandRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	master := apptest.Config(t).MasterKey
	for _, args := range [][]string{
		{},
		{"grant"},
		{"add", "--guild", "abc", "--user", "1"},
		{"add", "--guild", "1"},
		{"add", "--guild", "1", "--user", "-1"},
		{"remove", "--guild", "99999999999999999999", "--user", "1"},
	} {
		if code, _, _ := runGuildAdmin(t, dir, master, args...); code == 0 {
			t.Errorf("%v: exit 0", args)
		}
	}
}

func mustID(t *testing.T, s string) snowflake.ID {
	id, err := snowflake.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
