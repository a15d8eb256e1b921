package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/datadir"
)

// removeDatabase deletes the database of cfg with its -wal and -shm files.
func removeDatabase(t *testing.T, cfg app.Config) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(cfg.DBPath() + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

// TestALostDatabaseIsNotReplacedByAnEmptyOne: where the data directory
// holds the key files of a database that is gone, a start that would
// create an empty one (losing every key and administrator without a word)
// is refused, unless --new-database says that is intended.
func TestALostDatabaseIsNotReplacedByAnEmptyOne(t *testing.T) {
	for _, keyFile := range []string{"master.key", "system.key"} {
		t.Run(keyFile, func(t *testing.T) {
			cfg := fileConfig(t)
			if keyFile == "master.key" {
				cfg.MasterKey = ""
			} else {
				cfg.SystemKey = ""
			}
			inst := apptest.Start(t, &cfg)
			userKey := inst.CreateUserKey(t, systemKeyOf(t, cfg), "alice")
			inst.Server.Close()
			removeDatabase(t, cfg)

			_, err := app.New(context.Background(), cfg, apptest.Schema(t), discard())
			if err == nil || !strings.Contains(err.Error(), "no database at "+cfg.DBPath()) ||
				!strings.Contains(err.Error(), keyFile) || !strings.Contains(err.Error(), "--new-database") {
				t.Fatalf("start without the database: %v, want refused naming %s and --new-database", err, keyFile)
			}
			if _, err := os.Stat(cfg.DBPath()); !os.IsNotExist(err) {
				t.Fatalf("the refused start created a database: %v", err)
			}
			code, _, errOut := apptest.Main(t, map[string]string{"APIKEYD_MASTER_KEY": cfg.MasterKey}, "guild-admin", "list", "--data-dir", cfg.DataDir)
			if code != 1 || !strings.Contains(errOut, "--new-database") {
				t.Fatalf("guild-admin without the database: exit %d, %q", code, errOut)
			}

			// Intended: a new, empty database, with the same key files.
			code, _, errOut = apptest.Main(t, map[string]string{"APIKEYD_MASTER_KEY": cfg.MasterKey, "APIKEYD_NEW_DATABASE": "maybe"}, "guild-admin", "list", "--data-dir", cfg.DataDir)
			if code != 1 || !strings.Contains(errOut, "APIKEYD_NEW_DATABASE") {
				t.Fatalf("APIKEYD_NEW_DATABASE=maybe: exit %d, %q", code, errOut)
			}
			next := cfg
			next.NewDatabase = true
			inst = apptest.Start(t, &next)
			if code, body := status(t, inst, systemKeyOf(t, cfg)); code != 200 || strings.Contains(body, userKey) {
				t.Fatalf("the new database: %d %s, want no key of the lost one", code, body)
			}
		})
	}
}

func TestNewDatabaseFromTheEnvironmentOrTheFlag(t *testing.T) {
	for _, how := range []struct {
		env  map[string]string
		args []string
	}{
		{map[string]string{"APIKEYD_NEW_DATABASE": "true"}, nil},
		{map[string]string{"APIKEYD_NEW_DATABASE": "1"}, nil},
		{nil, []string{"--new-database"}},
	} {
		dataDir := t.TempDir()
		if err := datadir.Create(filepath.Join(dataDir, "system.key"), apptest.SystemKey); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"APIKEYD_MASTER_KEY": apptest.Config(t).MasterKey}
		for k, v := range how.env {
			env[k] = v
		}
		args := append([]string{"guild-admin", "list", "--data-dir", dataDir}, how.args...)
		if code, _, errOut := apptest.Main(t, env, args...); code != 0 {
			t.Errorf("%v %v: exit %d, %q", how.env, how.args, code, errOut)
		}
	}
}

// TestAFirstStartOrAnInMemoryDatabaseNeedsNoFlag: only key files left by
// a database say that one was lost.
func TestAFirstStartOrAnInMemoryDatabaseNeedsNoFlag(t *testing.T) {
	cfg := fileConfig(t)
	cfg.MasterKey, cfg.SystemKey = "", ""
	apptest.Start(t, &cfg).Server.Close()

	mem := apptest.Config(t)
	if err := datadir.Create(filepath.Join(mem.DataDir, "system.key"), apptest.SystemKey); err != nil {
		t.Fatal(err)
	}
	apptest.Start(t, &mem)
}

// systemKeyOf is the System key of cfg: generated into system.key, or
// apptest's.
func systemKeyOf(t *testing.T, cfg app.Config) string {
	t.Helper()
	if cfg.SystemKey != "" {
		return cfg.SystemKey
	}
	return readSystemKeyFile(t, cfg.DataDir)
}
