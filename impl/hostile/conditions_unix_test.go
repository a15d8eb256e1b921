//go:build unix

package hostile_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/keys"
)

// Hostile conditions that need flock(2) and umask(2): the lock file
// removed beside a running server, and a umask that leaves files open.

// TestASecondServerIsRefusedWhateverHappenedToTheLockFile: the lock is on
// the database file itself, so removing <db>.lock (which earlier versions
// locked) lets no second server, nor a rotation, start beside the first;
// guild-admin still works beside it.
func TestASecondServerIsRefusedWhateverHappenedToTheLockFile(t *testing.T) {
	cfg := apptest.Config(t)
	apptest.FileDatabase(&cfg)
	first := apptest.Start(t, &cfg)
	if err := os.Remove(cfg.DBPath() + ".lock"); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}

	_, err := app.New(context.Background(), cfg, apptest.Schema(t), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "in use by another apikeyd server: stop it first") {
		t.Fatalf("second server: %v, want refused", err)
	}
	env := map[string]string{
		"APIKEYD_MASTER_KEY":     cfg.MasterKey,
		"APIKEYD_NEW_MASTER_KEY": base64.StdEncoding.EncodeToString(keys.NewMasterKey()),
		"APIKEYD_NEW_SYSTEM_KEY": "a-new-system-key-from-the-vault",
	}
	for _, cmd := range []string{"rotate-master-key", "rotate-system-key"} {
		if code, _, errOut := apptest.Main(t, env, cmd, "--data-dir", cfg.DataDir); code != 1 || !strings.Contains(errOut, "in use by another apikeyd server") {
			t.Errorf("%s beside a server: exit %d, %q, want refused", cmd, code, errOut)
		}
	}
	if code, out, errOut := apptest.Main(t, map[string]string{"APIKEYD_MASTER_KEY": cfg.MasterKey},
		"guild-admin", "add", "--guild", guild.String(), "--user", admin.String(), "--data-dir", cfg.DataDir); code != 0 {
		t.Fatalf("guild-admin beside a server: exit %d, %q %q", code, out, errOut)
	}
	if ok, err := first.Server.Store().IsGuildAdmin(context.Background(), guild, admin); err != nil || !ok {
		t.Fatalf("the server does not see guild-admin's change: %v %v", ok, err)
	}
	// Nothing was rotated: the first server seals and opens as before.
	key := first.CreateUserKey(t, apptest.SystemKey, "alice")
	if res, body := first.Do(t, "GET", "/apiKeys/getKeys", apptest.SystemKey, nil); res.StatusCode != 200 || !strings.Contains(string(body), key) {
		t.Fatalf("the first server after the refusals: %d %s", res.StatusCode, body)
	}
}

// TestDataFilesArePrivateWhateverTheUmask: with the common umask 022 and a
// data directory others may enter, every file apikeyd makes is its owner's
// alone; files that earlier versions made open to others are closed at
// start, and the log says which.
func TestDataFilesArePrivateWhateverTheUmask(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	cfg := apptest.Config(t)
	apptest.FileDatabase(&cfg)
	cfg.MasterKey, cfg.SystemKey = "", ""
	if err := os.Chmod(cfg.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := cfg.DBPath()
	files := []string{db, db + "-wal", db + "-shm", filepath.Join(cfg.DataDir, "master.key"), filepath.Join(cfg.DataDir, "system.key")}
	assertModes := func(when string, want os.FileMode) {
		t.Helper()
		for _, f := range files {
			info, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode().Perm(); got != want {
				t.Errorf("%s: mode of %s = %#o, want %#o", when, filepath.Base(f), got, want)
			}
		}
	}
	inst := apptest.Start(t, &cfg)
	systemKey, err := os.ReadFile(filepath.Join(cfg.DataDir, "system.key"))
	if err != nil {
		t.Fatal(err)
	}
	inst.CreateUserKey(t, strings.TrimSpace(string(systemKey)), "alice")
	assertModes("first start", 0o600)
	inst.Server.Close()

	// As earlier versions left them, with a reader that keeps -wal and
	// -shm in place.
	reader, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	var n int
	if err := reader.QueryRow("SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	srv, err := app.New(context.Background(), cfg, apptest.Schema(t), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	assertModes("the next start", 0o600)
	for _, f := range files {
		if !strings.Contains(logs.String(), "path="+f+" was=0644 now=0600") {
			t.Errorf("the log does not say that %s was made private:\n%s", filepath.Base(f), logs.String())
		}
	}
}
