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
	"github.com/apikeyd/apikeyd/impl/keys"
)

// systemKeyEnv is the environment of a command on cfg's data.
func systemKeyEnv(cfg app.Config, newKey string) map[string]string {
	return map[string]string{"APIKEYD_MASTER_KEY": cfg.MasterKey, "APIKEYD_NEW_SYSTEM_KEY": newKey}
}

func keysKind(token string) keys.Kind {
	kind, _ := keys.Parse(token)
	return kind
}

func readSystemKeyFile(t *testing.T, dataDir string) string {
	t.Helper()
	path := filepath.Join(dataDir, "system.key")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("system.key mode: got %v, want 0600", info.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// status is what key gets from GET /apiKeys/getKeys, and the answer.
func status(t *testing.T, inst *apptest.Instance, key string) (int, string) {
	t.Helper()
	res, body := inst.Do(t, "GET", "/apiKeys/getKeys", key, nil)
	return res.StatusCode, string(body)
}

func TestRotateTheGeneratedSystemKey(t *testing.T) {
	cfg := fileConfig(t)
	cfg.SystemKey = "" // generated into <data-dir>/system.key
	inst := apptest.Start(t, &cfg)
	old := readSystemKeyFile(t, cfg.DataDir)
	userKey := inst.CreateUserKey(t, old, "alice")

	// Refused while the server runs: it would go on accepting the old key.
	code, _, errOut := apptest.Main(t, systemKeyEnv(cfg, ""), "rotate-system-key", "--data-dir", cfg.DataDir)
	if code != 1 || !strings.Contains(errOut, "in use by another apikeyd server") {
		t.Fatalf("rotate beside a server: exit %d, %q", code, errOut)
	}
	if got := readSystemKeyFile(t, cfg.DataDir); got != old {
		t.Fatal("a refused rotation changed system.key")
	}
	inst.Server.Close()

	code, out, errOut := apptest.Main(t, systemKeyEnv(cfg, ""), "rotate-system-key", "--data-dir", cfg.DataDir)
	path := filepath.Join(cfg.DataDir, "system.key")
	if code != 0 || !strings.Contains(out, path) {
		t.Fatalf("rotate: exit %d, %q %q", code, out, errOut)
	}
	next := readSystemKeyFile(t, cfg.DataDir)
	if next == old || keysKind(next) != keys.User {
		t.Fatalf("system.key after rotation: %q (old %q)", next, old)
	}
	if strings.Contains(out+errOut, next) {
		t.Error("the command printed the new key")
	}
	if _, err := os.Stat(path + ".new"); !os.IsNotExist(err) {
		t.Error("system.key.new left behind")
	}

	inst = apptest.Start(t, &cfg)
	if code, body := status(t, inst, old); code != 403 || !strings.Contains(body, "Invalid authorization key!") {
		t.Errorf("old System key: %d %s", code, body)
	}
	if code, body := status(t, inst, next); code != 200 || !strings.Contains(body, userKey) {
		t.Errorf("new System key: %d %s, want alice's key listed", code, body)
	}
}

func TestRotateToASystemKeyFromTheEnvironment(t *testing.T) {
	cfg := fileConfig(t)
	cfg.SystemKey = ""
	inst := apptest.Start(t, &cfg)
	old := readSystemKeyFile(t, cfg.DataDir)
	inst.Server.Close()

	code, _, errOut := apptest.Main(t, systemKeyEnv(cfg, "short"), "rotate-system-key", "--data-dir", cfg.DataDir)
	if code != 1 || !strings.Contains(errOut, "16") {
		t.Fatalf("short key: exit %d, %q", code, errOut)
	}
	next := "a-new-system-key-from-the-vault"
	code, out, errOut := apptest.Main(t, systemKeyEnv(cfg, next), "rotate-system-key", "--data-dir", cfg.DataDir)
	if code != 0 || !strings.Contains(out, "APIKEYD_NEW_SYSTEM_KEY") {
		t.Fatalf("rotate: exit %d, %q %q", code, out, errOut)
	}
	// The file held the old key, which no longer works.
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "system.key")); !os.IsNotExist(err) {
		t.Error("system.key with the old key left behind")
	}
	inst = apptest.Start(t, &cfg)
	if code, _ := status(t, inst, old); code != 403 {
		t.Errorf("old System key: %d", code)
	}
	if code, body := status(t, inst, next); code != 200 {
		t.Errorf("new System key: %d %s", code, body)
	}
	// A user's key cannot become the System key.
	userKey := inst.CreateUserKey(t, next, "bob")
	inst.Server.Close()
	code, _, errOut = apptest.Main(t, systemKeyEnv(cfg, userKey), "rotate-system-key", "--data-dir", cfg.DataDir)
	if code != 1 || !strings.Contains(errOut, "another user's key") {
		t.Fatalf("a user's key as System key: exit %d, %q", code, errOut)
	}
}

// TestARotationKilledBeforeTheKeyFileIsFinishedAtStart: the database has
// the new key and system.key.new holds it (the rename never happened), or
// the database never got it; the next start settles both.
func TestARotationKilledBeforeTheKeyFileIsFinishedAtStart(t *testing.T) {
	for _, committed := range []bool{true, false} {
		cfg := fileConfig(t)
		cfg.SystemKey = ""
		srv, err := app.New(context.Background(), cfg, apptest.Schema(t), discard())
		if err != nil {
			t.Fatal(err)
		}
		old := readSystemKeyFile(t, cfg.DataDir)
		next, _ := keys.Generate(keys.User)
		if committed {
			if err := srv.Store().ReplaceSystemKey(context.Background(), next); err != nil {
				t.Fatal(err)
			}
		}
		srv.Close()
		if err := datadir.Create(filepath.Join(cfg.DataDir, "system.key.new"), next); err != nil {
			t.Fatal(err)
		}

		inst := apptest.Start(t, &cfg)
		want := old
		if committed {
			want = next
		}
		if got := readSystemKeyFile(t, cfg.DataDir); got != want {
			t.Errorf("committed=%v: system.key is not the key the database has", committed)
		}
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "system.key.new")); !os.IsNotExist(err) {
			t.Errorf("committed=%v: system.key.new left behind", committed)
		}
		if code, body := status(t, inst, want); code != 200 {
			t.Errorf("committed=%v: the key in system.key: %d %s", committed, code, body)
		}
	}
}

// TestRotatingToASystemKeyWithWhitespaceAroundChangesNothing: the old key
// and system.key stay, rather than the old key being replaced by one that
// can never be used.
func TestRotatingToASystemKeyWithWhitespaceAroundChangesNothing(t *testing.T) {
	cfg := fileConfig(t)
	cfg.SystemKey = ""
	inst := apptest.Start(t, &cfg)
	old := readSystemKeyFile(t, cfg.DataDir)
	inst.Server.Close()

	for _, padded := range []string{" a-new-system-key-from-the-vault", "a-new-system-key-from-the-vault\t"} {
		code, _, errOut := apptest.Main(t, systemKeyEnv(cfg, padded), "rotate-system-key", "--data-dir", cfg.DataDir)
		if code != 1 || !strings.Contains(errOut, "APIKEYD_NEW_SYSTEM_KEY begins or ends with whitespace") {
			t.Errorf("APIKEYD_NEW_SYSTEM_KEY=%q: exit %d, %q, want refused", padded, code, errOut)
		}
	}
	if got := readSystemKeyFile(t, cfg.DataDir); got != old {
		t.Fatal("a refused rotation changed system.key")
	}
	inst = apptest.Start(t, &cfg)
	if code, body := status(t, inst, old); code != 200 {
		t.Errorf("the old System key after refused rotations: %d %s", code, body)
	}
}
