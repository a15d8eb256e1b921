package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/datadir"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
)

// keysOf lists every /apiKeys key of a started instance.
func keysOf(t *testing.T, cfg app.Config) string {
	t.Helper()
	inst := apptest.Start(t, &cfg)
	defer inst.Server.Close()
	res, body := inst.Do(t, "GET", "/apiKeys/getKeys", apptest.SystemKey, nil)
	if res.StatusCode != 200 {
		t.Fatalf("getKeys: %d %s", res.StatusCode, body)
	}
	return string(body)
}

func TestRotateTheMasterKeyFile(t *testing.T) {
	cfg := fileConfig(t)
	cfg.MasterKey = "" // generated into <data-dir>/master.key
	inst := apptest.Start(t, &cfg)
	inst.CreateUserKey(t, apptest.SystemKey, "alice")
	inst.CreateUserKey(t, apptest.SystemKey, "bob")
	inst.Server.Close()
	before := keysOf(t, cfg)
	oldKey, _ := os.ReadFile(filepath.Join(cfg.DataDir, "master.key"))

	code, out, errOut := apptest.Main(t, nil, "rotate-master-key", "--data-dir", cfg.DataDir)
	if code != 0 || !strings.Contains(out, "resealed 3 keys") { // alice, bob and System
		t.Fatalf("rotate: exit %d, %q %q", code, out, errOut)
	}
	newKey, _ := os.ReadFile(filepath.Join(cfg.DataDir, "master.key"))
	if bytes.Equal(oldKey, newKey) {
		t.Fatal("master.key did not change")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "master.key.new")); !os.IsNotExist(err) {
		t.Fatal("master.key.new left behind")
	}
	if after := keysOf(t, cfg); after != before {
		t.Fatalf("keys changed:\n%s\n%s", before, after)
	}
	// The old key no longer opens the database.
	old := cfg
	old.MasterKey = strings.TrimSpace(string(oldKey))
	if _, err := app.New(context.Background(), old, apptest.Schema(t), discard()); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("old key: got %v", err)
	}
}

func TestRotateAMasterKeyFromTheEnvironment(t *testing.T) {
	cfg := fileConfig(t)
	inst := apptest.Start(t, &cfg)
	inst.CreateUserKey(t, apptest.SystemKey, "alice")
	inst.Server.Close()
	before := keysOf(t, cfg)

	env := map[string]string{"APIKEYD_MASTER_KEY": cfg.MasterKey}
	if code, _, errOut := apptest.Main(t, env, "rotate-master-key", "--data-dir", cfg.DataDir); code == 0 || !strings.Contains(errOut, "APIKEYD_NEW_MASTER_KEY") {
		t.Fatalf("without a new key: exit %d %q", code, errOut)
	}
	next := keys.EncodeMasterKey(keys.NewMasterKey())
	env["APIKEYD_NEW_MASTER_KEY"] = next
	if code, out, errOut := apptest.Main(t, env, "rotate-master-key", "--data-dir", cfg.DataDir); code != 0 {
		t.Fatalf("rotate: exit %d %q %q", code, out, errOut)
	}
	if _, err := app.New(context.Background(), cfg, apptest.Schema(t), discard()); err == nil {
		t.Fatal("the old key still opens the database")
	}
	cfg.MasterKey = next
	if after := keysOf(t, cfg); after != before {
		t.Fatalf("keys changed:\n%s\n%s", before, after)
	}
}

// TestARotationKilledMidwayLosesNoKey: killed before the database commits,
// the old key still works; killed after it commits but before master.key
// is replaced, the next start finishes the rotation.
func TestARotationKilledMidwayLosesNoKey(t *testing.T) {
	ctx := context.Background()
	cfg := fileConfig(t)
	cfg.MasterKey = ""
	inst := apptest.Start(t, &cfg)
	inst.CreateUserKey(t, apptest.SystemKey, "alice")
	inst.Server.Close()
	before := keysOf(t, cfg)
	current := filepath.Join(cfg.DataDir, "master.key")
	pending := current + ".new"

	// Killed before the commit: only master.key.new was written.
	if err := datadir.WriteMasterKeyFile(pending, [][]byte{keys.NewMasterKey()}); err != nil {
		t.Fatal(err)
	}
	if after := keysOf(t, cfg); after != before {
		t.Fatalf("keys changed after an uncommitted rotation:\n%s\n%s", before, after)
	}

	// Killed after the commit: the database is sealed under the new key,
	// which is only in master.key.new.
	next := keys.NewMasterKey()
	if err := datadir.WriteMasterKeyFile(pending, [][]byte{next}); err != nil {
		t.Fatal(err)
	}
	old, err := datadir.ReadMasterKeyFile(current)
	if err != nil {
		t.Fatal(err)
	}
	rotating, _ := keys.NewRing(append([][]byte{next}, old...))
	st, err := apptest.OpenStore(t, cfg, store.Config{Sealer: rotating})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Reseal(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()

	if after := keysOf(t, cfg); after != before {
		t.Fatalf("keys changed after a committed rotation:\n%s\n%s", before, after)
	}
	got, err := datadir.ReadMasterKeyFile(current)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0], next) {
		t.Fatalf("master.key is not the new key (%v)", err)
	}
}

func TestAServerWithARotatedKeyCreatesNoKey(t *testing.T) {
	cfg := fileConfig(t)
	cfg.MasterKey = ""
	inst := apptest.Start(t, &cfg)
	// rotate-master-key makes a new key only with no server running; a
	// rotation beside a server that was not given the new ring (the ring
	// NEW,OLD run beside it, an earlier apikeyd, a system without flock)
	// reseals under it as this does.
	resealUnlocked(t, cfg, keys.NewMasterKey())
	// The running server still holds the old key: sealing with it now
	// would leave keys no one can open after a restart.
	res, body := inst.Do(t, "POST", "/apiKeys/new/alice", apptest.SystemKey, nil)
	if res.StatusCode != 503 || !strings.Contains(string(body), "The master key was rotated; this server must be restarted.") {
		t.Fatalf("got %d %s, want 503 saying why", res.StatusCode, body)
	}
}

// resealUnlocked reseals the keys of cfg's database under next, without
// the lock that rotate-master-key takes.
func resealUnlocked(t *testing.T, cfg app.Config, next []byte) {
	t.Helper()
	current, err := datadir.ReadMasterKeyFile(filepath.Join(cfg.DataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	rotating, err := keys.NewRing(append([][]byte{next}, current...))
	if err != nil {
		t.Fatal(err)
	}
	st, err := apptest.OpenStore(t, cfg, store.Config{Sealer: rotating})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Reseal(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// openFileStore opens the database of cfg under the master key in its
// data directory, as the server would.
func openFileStore(t *testing.T, cfg app.Config) *store.Store {
	t.Helper()
	ring, err := datadir.ReadMasterKeyFile(filepath.Join(cfg.DataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := keys.NewRing(ring)
	if err != nil {
		t.Fatal(err)
	}
	st, err := apptest.OpenStore(t, cfg, store.Config{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A dashboard session's Discord tokens are resealed with the keys: after
// rotate-master-key the session opens under the new key.
func TestRotateTheMasterKeyKeepsSessions(t *testing.T) {
	ctx := context.Background()
	cfg := fileConfig(t)
	cfg.MasterKey = ""
	apptest.Start(t, &cfg).Server.Close()
	st := openFileStore(t, cfg)
	tok := store.SessionTokens{AccessToken: "discord-access", RefreshToken: "discord-refresh", Expiry: time.UnixMilli(1750000000000).UTC()}
	id, created, err := st.CreateSession(ctx, 42, tok, store.DefaultSessionIdle, store.DefaultSessionAbsolute)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	if code, out, errOut := apptest.Main(t, nil, "rotate-master-key", "--data-dir", cfg.DataDir); code != 0 {
		t.Fatalf("rotate: exit %d, %q %q", code, out, errOut)
	}
	got, err := openFileStore(t, cfg).SessionByID(ctx, id)
	if err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if got.UserID != created.UserID || got.Tokens != tok {
		t.Fatalf("after rotation: user %v tokens %+v, want %v %+v", got.UserID, got.Tokens, created.UserID, tok)
	}
}
