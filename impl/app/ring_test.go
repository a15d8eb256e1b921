package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

// ringConfig is a configuration on a database that a command beside the
// server can open: a file on SQLite, the test's own database on
// PostgreSQL. The seed's administrator creates guild keys through the
// fake Discord.
func ringConfig(t *testing.T) app.Config {
	cfg := apptest.Config(t)
	if !pgtest.Enabled() {
		apptest.FileDatabase(&cfg)
	}
	cfg.Seed = writeSeed(t, ciSeed)
	cfg.FakeDiscord = true
	cfg.MaxKeysPerGuild = 10000
	return cfg
}

// commandEnv is the environment of a command on the database of cfg.
func commandEnv(cfg app.Config) map[string]string {
	env := map[string]string{"APIKEYD_DATA_DIR": cfg.DataDir, "APIKEYD_MASTER_KEY": cfg.MasterKey}
	if cfg.DB != "" {
		env["APIKEYD_DB"] = cfg.DB
	}
	return env
}

func ringText(masters ...[]byte) string {
	texts := make([]string, len(masters))
	for i, m := range masters {
		texts[i] = keys.EncodeMasterKey(m)
	}
	return strings.Join(texts, ",")
}

func keyID(t *testing.T, master []byte) string {
	t.Helper()
	ring, err := keys.NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	return ring.IDs()[0]
}

// call is one request of a workload, which may not use t.Fatal.
func call(method, url, auth, body string) (int, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	a := <-apptest.SendAtOnce([]*http.Request{req})
	return a.Status, string(a.Body), a.Err
}

// ringWorkload creates and uses keys on a server until stopped: each
// round creates a guild key and a user key, lists (opens) every key of
// both kinds, uses a guild key, and asks readyz. Every answer must be a
// 200.
type ringWorkload struct {
	url    string
	rounds atomic.Int64
	mu     sync.Mutex
	guild  []string // guild keys created
	user   []string // user keys created
	errs   []string
}

func (w *ringWorkload) fail(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, fmt.Sprintf(format, args...))
}

func (w *ringWorkload) run(ctx context.Context, worker int) {
	v1 := w.url + "/v1"
	for n := 0; ctx.Err() == nil; n++ {
		status, body, err := call("POST", v1+"/auth/api-key", "Bearer "+seededToken, `{"guild_id":"`+seededGuild+`"}`)
		var created struct {
			Data struct {
				APIKey struct {
					APIKey string `json:"api_key"`
				} `json:"api_key"`
			}
		}
		if err != nil || status != 200 || json.Unmarshal([]byte(body), &created) != nil {
			w.fail("create a guild key: %d %v %s", status, err, body)
			return
		}
		guildKey := created.Data.APIKey.APIKey
		status, body, err = call("POST", fmt.Sprintf("%s/apiKeys/new/worker-%d-%d", w.url, worker, n), apptest.SystemKey, "")
		var token struct{ Token string }
		if err != nil || status != 200 || json.Unmarshal([]byte(body), &token) != nil {
			w.fail("create a user key: %d %v %s", status, err, body)
			return
		}
		w.mu.Lock()
		w.guild = append(w.guild, guildKey)
		w.user = append(w.user, token.Token)
		w.mu.Unlock()
		for _, c := range []struct{ what, method, url, auth string }{
			{"list guild keys", "GET", v1 + "/auth/api-key?guild_id=" + seededGuild, "Bearer " + seededToken},
			{"use a guild key", "GET", v1 + "/settings?guild_id=" + seededGuild, guildKey},
			{"use the seeded guild key", "GET", v1 + "/settings?guild_id=" + seededGuild, "Bearer " + seededGuildKey},
			{"list user keys", "GET", w.url + "/apiKeys/getKeys", apptest.SystemKey},
			{"readyz", "GET", v1 + "/readyz", ""},
		} {
			if status, body, err := call(c.method, c.url, c.auth, ""); err != nil || status != 200 {
				w.fail("%s: %d %v %s", c.what, status, err, body)
				return
			}
		}
		w.rounds.Add(1)
	}
}

// TestRotateTheMasterKeyBesideARunningServer rotates as README says: the
// server restarted with the ring new,old, rotate-master-key run beside it
// while keys are created, listed and used, then the old key dropped. No
// answer is anything but a 200, readyz included, and every key works on
// the new key alone. On SQLite, and on PostgreSQL when
// APIKEYD_TEST_POSTGRES names a server.
func TestRotateTheMasterKeyBesideARunningServer(t *testing.T) {
	cfg := ringConfig(t)
	oldKey, err := keys.DecodeMasterKey(cfg.MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	newKey := keys.NewMasterKey()
	first := apptest.Start(t, &cfg)
	alice := first.CreateUserKey(t, apptest.SystemKey, "alice")
	first.Server.Close()

	// Step 1: the server gets the ring new,old.
	cfg.MasterKey = ringText(newKey, oldKey)
	inst := apptest.Start(t, &cfg)
	w := &ringWorkload{url: inst.URL}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for worker := range 2 {
		wg.Go(func() { w.run(ctx, worker) })
	}
	waitForRounds(t, w, 3)

	// Step 2: rotate-master-key with that ring, beside the server.
	code, out, errOut := apptest.Main(t, commandEnv(cfg), "rotate-master-key")
	if code != 0 || !strings.Contains(out, "resealed") || !strings.Contains(out, "under master key "+keyID(t, newKey)) {
		stop()
		wg.Wait()
		t.Fatalf("rotate-master-key beside the server: exit %d, %q %q", code, out, errOut)
	}
	during := w.rounds.Load()
	waitForRounds(t, w, during+3)
	stop()
	wg.Wait()
	for _, e := range w.errs {
		t.Error(e)
	}
	if t.Failed() {
		t.FailNow()
	}
	inst.Server.Close()

	// Step 3: the old key dropped; everything opens under the new one.
	cfg.MasterKey = keys.EncodeMasterKey(newKey)
	after := apptest.Start(t, &cfg)
	if res, body := after.Do(t, "GET", "/v1/readyz", "", nil); res.StatusCode != 200 {
		t.Fatalf("readyz on the new key alone: %d %s", res.StatusCode, body)
	}
	res, users := after.Do(t, "GET", "/apiKeys/getKeys", apptest.SystemKey, nil)
	if res.StatusCode != 200 {
		t.Fatalf("user keys on the new key alone: %d %s", res.StatusCode, users)
	}
	for _, k := range append([]string{alice}, w.user...) {
		if !strings.Contains(string(users), k) {
			t.Fatalf("a user key is missing on the new key alone (%d created)", len(w.user)+1)
		}
	}
	guild, err := snowflake.Parse(seededGuild)
	if err != nil {
		t.Fatal(err)
	}
	list, err := after.Server.Store().ListGuildKeys(context.Background(), guild)
	if err != nil {
		t.Fatalf("guild keys on the new key alone: %v", err)
	}
	if got, want := len(list), len(w.guild)+1; got != want { // and the seeded one
		t.Fatalf("%d guild keys open on the new key alone, want %d", got, want)
	}
	after.Server.Close()

	// The old key alone opens nothing any more.
	cfg.MasterKey = keys.EncodeMasterKey(oldKey)
	if _, err := app.New(context.Background(), cfg, apptest.Schema(t), discard()); err == nil || !strings.Contains(err.Error(), keyID(t, newKey)) {
		t.Fatalf("the old key after the rotation: %v, want refused naming the new key", err)
	}
}

// waitForRounds waits until the workload has done n rounds, or failed.
func waitForRounds(t *testing.T, w *ringWorkload, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for w.rounds.Load() < n {
		w.mu.Lock()
		failed := len(w.errs) > 0
		w.mu.Unlock()
		if failed || time.Now().After(deadline) {
			return // the caller reports the failures
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A ring that lacks a key values are sealed under is refused at start,
// with a message that names the missing key by its id and holds no key.
func TestARingWithoutTheSealingKeyIsRefusedAtStart(t *testing.T) {
	cfg := ringConfig(t)
	oldKey, err := keys.DecodeMasterKey(cfg.MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	newKey, otherKey := keys.NewMasterKey(), keys.NewMasterKey()
	inst := apptest.Start(t, &cfg)
	inst.CreateUserKey(t, apptest.SystemKey, "alice")
	inst.Server.Close()
	// The ring new,old seals bob's key under the new key: now both hold
	// values.
	cfg.MasterKey = ringText(newKey, oldKey)
	inst = apptest.Start(t, &cfg)
	inst.CreateUserKey(t, apptest.SystemKey, "bob")
	inst.Server.Close()

	for name, tc := range map[string]struct {
		ring    string
		missing []byte
	}{
		"the new key alone":     {ringText(newKey), oldKey},
		"the old key alone":     {ringText(oldKey), newKey},
		"another key":           {ringText(otherKey), oldKey},
		"another key, then new": {ringText(otherKey, newKey), oldKey},
	} {
		cfg.MasterKey = tc.ring
		_, err := app.New(context.Background(), cfg, apptest.Schema(t), discard())
		if err == nil {
			t.Fatalf("%s: started", name)
		}
		msg := err.Error()
		if !strings.Contains(msg, "sealed under master key") || !strings.Contains(msg, keyID(t, tc.missing)) || !strings.Contains(msg, "lacks") {
			t.Errorf("%s: %q does not say which key the ring lacks", name, msg)
		}
		for _, key := range [][]byte{oldKey, newKey, otherKey} {
			if strings.Contains(msg, keys.EncodeMasterKey(key)) {
				t.Errorf("%s: %q holds a master key", name, msg)
			}
		}
	}
	// Given in another order the ring still opens everything.
	cfg.MasterKey = ringText(oldKey, otherKey, newKey)
	res, body := apptest.Start(t, &cfg).Do(t, "GET", "/apiKeys/getKeys", apptest.SystemKey, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"user":"alice"`) || !strings.Contains(string(body), `"user":"bob"`) {
		t.Fatalf("the ring old,other,new: %d %s", res.StatusCode, body)
	}
}

// A single-key ring from the environment cannot rotate beside a server:
// the command says how to, and changes nothing.
func TestRotateWithOneKeyInTheEnvironmentSaysHow(t *testing.T) {
	cfg := ringConfig(t)
	apptest.Start(t, &cfg).Server.Close()
	code, _, errOut := apptest.Main(t, commandEnv(cfg), "rotate-master-key")
	if code == 0 || !strings.Contains(errOut, "APIKEYD_MASTER_KEY=NEW,OLD") || !strings.Contains(errOut, "APIKEYD_NEW_MASTER_KEY") {
		t.Fatalf("rotate-master-key with one key: exit %d %q", code, errOut)
	}
}

// sealedBeforeTheRing is a data directory that apikeyd wrote before the
// ring (at 4278d8e): master.key with one key, and apikeyd.db with the
// seeded guild key and one created through /v1, alice's and bob's user
// keys and the System key, each sealed without a header.
const sealedBeforeTheRing = "testdata/sealed-before-the-ring"

const (
	legacySystemKey = "legacy-system-key-0123456789"
	legacyGuildKey  = "akdg_1fyBBNY7LMLWSGll7OUDhWeuGyBWqt2Qd0LC"
	legacyAliceKey  = "akdu_pPIoeJfX881vI0fzLpvRbgWDSavcG92uKgml"
	legacyBobKey    = "akdu_24au8CrI3Qyf71yzISrQAuBbfE5ecu2dw7HN"
)

// copyDataDir copies the data directory from into a new one of the
// test's own, private as apikeyd keeps it.
func copyDataDir(t *testing.T, from string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"apikeyd.db", "master.key"} {
		b, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A database sealed before the ring opens as it is, and
// rotate-master-key reseals it in the new format: an upgrade loses no
// key.
func TestADatabaseSealedBeforeTheRingOpens(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.DataDir = copyDataDir(t, sealedBeforeTheRing)
	cfg.DB, cfg.MasterKey, cfg.SystemKey = "", "", legacySystemKey
	check := func(when string) {
		t.Helper()
		inst := apptest.Start(t, &cfg)
		defer inst.Server.Close()
		res, body := inst.Do(t, "GET", "/apiKeys/getKeys", legacySystemKey, nil)
		if res.StatusCode != 200 || !strings.Contains(string(body), legacyAliceKey) || !strings.Contains(string(body), legacyBobKey) {
			t.Fatalf("%s: user keys: %d %s", when, res.StatusCode, body)
		}
		list, err := inst.Server.Store().ListGuildKeys(context.Background(), 1098765432109876543)
		if err != nil || len(list) != 2 {
			t.Fatalf("%s: guild keys: %d, %v", when, len(list), err)
		}
		for _, want := range []string{seededGuildKey, legacyGuildKey} {
			if list[0].Token != want && list[1].Token != want {
				t.Fatalf("%s: a guild key does not open", when)
			}
			if res, body := inst.Do(t, "GET", "/v1/settings?guild_id="+seededGuild, want, nil); res.StatusCode != 200 {
				t.Fatalf("%s: use a guild key: %d %s", when, res.StatusCode, body)
			}
		}
	}
	check("as it was")
	if code, out, errOut := apptest.Main(t, nil, "rotate-master-key", "--data-dir", cfg.DataDir); code != 0 || !strings.Contains(out, "resealed 5 keys") {
		t.Fatalf("rotate-master-key: exit %d, %q %q", code, out, errOut)
	}
	check("resealed")
}
