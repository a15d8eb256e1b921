package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/datadir"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

// fileConfig is a configuration on a database file in a fresh data dir.
func fileConfig(t *testing.T) app.Config {
	cfg := apptest.Config(t)
	cfg.DB = ""
	return cfg
}

func TestKeysSurviveARestart(t *testing.T) {
	cfg := fileConfig(t)
	first := apptest.Start(t, &cfg)
	kept := first.CreateUserKey(t, apptest.SystemKey, "alice")
	removed := first.CreateUserKey(t, apptest.SystemKey, "bob")
	if res, _ := first.Do(t, "DELETE", "/apiKeys/remove/bob", apptest.SystemKey, nil); res.StatusCode != 200 {
		t.Fatal("remove bob")
	}
	first.Server.Close()

	second := apptest.Start(t, &cfg)
	_, body := second.Do(t, "GET", "/apiKeys/getKeys", apptest.SystemKey, nil)
	if !strings.Contains(string(body), kept) || strings.Contains(string(body), removed) {
		t.Fatalf("after restart: %s", body)
	}
}

func TestNoKeyIsStoredInClear(t *testing.T) {
	cfg := fileConfig(t)
	inst := apptest.Start(t, &cfg)
	var tokens []string
	for _, u := range []string{"alice", "bob", "carol"} {
		tokens = append(tokens, inst.CreateUserKey(t, apptest.SystemKey, u))
	}
	tokens = append(tokens, apptest.SystemKey)
	inst.Server.Close() // checkpoints the WAL into the file

	files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "apikeyd.db*"))
	if len(files) == 0 {
		t.Fatal("no database file")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens {
			if bytes.Contains(b, []byte(tok)) {
				t.Errorf("%s holds a key in clear", filepath.Base(f))
			}
		}
	}
}

func TestSystemKeyIsGeneratedOnceIntoAPrivateFile(t *testing.T) {
	cfg := fileConfig(t)
	cfg.SystemKey = ""
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	srv, err := app.New(context.Background(), cfg, apptest.Schema(t), log)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()

	path := filepath.Join(cfg.DataDir, "system.key")
	key := readSystemKeyFile(t, cfg.DataDir)
	if !strings.Contains(logs.String(), path) {
		t.Errorf("the log does not say where the System key is: %s", logs.String())
	}
	if strings.Contains(logs.String(), key) {
		t.Errorf("the log holds the System key")
	}

	// The second start uses the installed key and says nothing of it.
	logs.Reset()
	inst := apptest.Start(t, &cfg)
	if res, body := inst.Do(t, "GET", "/apiKeys/getKeys", key, nil); res.StatusCode != 200 {
		t.Fatalf("generated System key refused: %d %s", res.StatusCode, body)
	}
}

func TestSystemKeyFromTheEnvironmentMustBeLong(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.SystemKey = "too-short"
	_, err := app.New(context.Background(), cfg, apptest.Schema(t), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "16") {
		t.Fatalf("got %v, want an error about 16 characters", err)
	}
}

func TestMainSubcommands(t *testing.T) {
	cases := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{[]string{"version"}, 0, "apikeyd test"},
		{[]string{"help"}, 0, "Usage:"},
		{[]string{"serve", "--help"}, 0, ""},
		{[]string{"frobnicate"}, 2, ""},
		{[]string{"serve", "--max-keys-per-guild", "0"}, 1, ""},
		{[]string{"serve", "--log-format", "xml"}, 1, ""},
		{[]string{"serve", "--trusted-proxies", "10.0.0.0/8,proxy.example"}, 1, ""},
		{[]string{"serve", "--trusted-proxies", "fe80::1%eth0"}, 1, ""},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := app.Main(context.Background(), app.Env{
			Args: c.args, Getenv: func(string) string { return "" },
			Stdout: &stdout, Stderr: &stderr, Schemas: apptest.Schema(t), Version: "test",
		})
		if code != c.wantCode || !strings.Contains(stdout.String(), c.wantOut) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, stdout.String(), stderr.String())
		}
	}
}

// serve builds apikeyd from cfg and serves it on a real http.Server (as
// `apikeyd serve` does) until cancel; done then says how Serve ended.
func serve(t *testing.T, cfg app.Config) (addr string, cancel func(), done <-chan error) {
	t.Helper()
	srv, err := app.New(context.Background(), cfg, apptest.Schema(t), discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, ln) }()
	return ln.Addr().String(), cancel, errc
}

func TestServeStopsGracefullyOnCancel(t *testing.T) {
	addr, cancel, done := serve(t, fileConfig(t))
	url := "http://" + addr + "/v1/livez"
	res, err := http.Get(url)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("livez: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := http.Get(url); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestASecondServerOnOneDatabaseIsRefused: each server caches keys that
// only it invalidates, so a second one on the same database would keep
// accepting keys the first deletes; it must not start.
func TestASecondServerOnOneDatabaseIsRefused(t *testing.T) {
	cfg := fileConfig(t)
	first, err := app.New(context.Background(), cfg, apptest.Schema(t), discard())
	if err != nil {
		t.Fatal(err)
	}
	_, err = app.New(context.Background(), cfg, apptest.Schema(t), discard())
	if err == nil || !strings.Contains(err.Error(), "in use by another apikeyd server") {
		t.Fatalf("second server: %v, want refused", err)
	}
	// The same database under another data dir is still the same database.
	other := cfg
	other.DataDir = t.TempDir()
	other.DB = cfg.DBPath()
	if _, err := app.New(context.Background(), other, apptest.Schema(t), discard()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second server through --db: %v, want refused", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := app.New(context.Background(), cfg, apptest.Schema(t), discard())
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	again.Close()
	// In-memory databases are each their own.
	mem := apptest.Config(t)
	mem.DB = ":memory:"
	for range 2 {
		srv, err := app.New(context.Background(), mem, apptest.Schema(t), discard())
		if err != nil {
			t.Fatalf("in-memory: %v", err)
		}
		defer srv.Close()
	}
}

// TestServersShareAPostgresDatabase: on PostgreSQL servers start beside
// each other on one database (each hears the others' changes), while
// rotate-master-key, which must run alone, is refused beside them. It
// runs when APIKEYD_TEST_POSTGRES names a server.
func TestServersShareAPostgresDatabase(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.DB = pgtest.NewDatabase(t)
	first, err := app.New(context.Background(), cfg, apptest.Schema(t), discard())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := app.New(context.Background(), cfg, apptest.Schema(t), discard())
	if err != nil {
		t.Fatalf("second server: %v", err)
	}
	defer second.Close()
	env := map[string]string{"APIKEYD_DB": cfg.DB, "APIKEYD_DATA_DIR": cfg.DataDir, "APIKEYD_MASTER_KEY": cfg.MasterKey,
		"APIKEYD_NEW_MASTER_KEY": base64.StdEncoding.EncodeToString(keys.NewMasterKey())}
	if code, _, errOut := apptest.Main(t, env, "rotate-master-key"); code == 0 || !strings.Contains(errOut, "in use by another apikeyd server") {
		t.Fatalf("rotate-master-key beside the servers: %d %q", code, errOut)
	}
}

// TestPostgresNeedsTheKeysInTheEnvironment: on PostgreSQL, apikeyd
// refuses to start without APIKEYD_MASTER_KEY or APIKEYD_SYSTEM_KEY,
// saying why, and writes no key file.
func TestPostgresNeedsTheKeysInTheEnvironment(t *testing.T) {
	url := pgtest.NewDatabase(t)
	for _, missing := range []string{"APIKEYD_MASTER_KEY", "APIKEYD_SYSTEM_KEY"} {
		cfg := apptest.Config(t)
		cfg.DB = url
		if missing == "APIKEYD_MASTER_KEY" {
			cfg.MasterKey = ""
		} else {
			cfg.SystemKey = ""
		}
		_, err := app.New(context.Background(), cfg, apptest.Schema(t), discard())
		if err == nil || !strings.Contains(err.Error(), missing+" is not set") || !strings.Contains(err.Error(), "on PostgreSQL") {
			t.Errorf("without %s: %v, want refused saying why", missing, err)
		}
		if held := datadir.KeyFiles(cfg.DataDir); len(held) != 0 {
			t.Errorf("without %s: wrote %v", missing, held)
		}
	}
}

// TestLargeHeadersGetTheFamilysShape: through the real http.Server (not
// httptest's), headers well over the 32 KiB limit still get each family's
// 431, not net/http's plain text.
func TestLargeHeadersGetTheFamilysShape(t *testing.T) {
	addr, cancel, done := serve(t, apptest.Config(t))
	defer func() { cancel(); <-done }()
	for _, c := range []struct{ path, wantType string }{
		{"/apiKeys/getKeys", "application/json"},
		{"/v1/settings?guild_id=1", "application/problem+json"},
	} {
		for _, size := range []int{40 << 10, 100 << 10, 512 << 10} {
			req, _ := http.NewRequest("GET", "http://"+addr+c.path, nil)
			req.Header.Set("X-Padding", strings.Repeat("p", size))
			res, body := apptest.Send(t, req)
			if res.StatusCode != 431 || res.Header.Get("Content-Type") != c.wantType {
				t.Errorf("%s with %d KiB of headers: %d %s %.80s", c.path, size>>10, res.StatusCode, res.Header.Get("Content-Type"), body)
			}
		}
	}
}

// TestRoutesBesideTheFamiliesAnswerJSON: no route answers in net/http's
// plain text; what is outside both families gets /v1's problem body.
func TestRoutesBesideTheFamiliesAnswerJSON(t *testing.T) {
	inst := apptest.Start(t, nil)
	for _, c := range []struct {
		method, path string
		want         int
		wantType     string
	}{
		{"GET", "/", 404, "application/problem+json"},
		{"GET", "/nope", 404, "application/problem+json"},
		{"GET", "/openapi/nope.yaml", 404, "application/problem+json"},
		{"GET", "/openapi/openapi.go", 404, "application/problem+json"},
		{"POST", "/metrics", 405, "application/problem+json"},
		{"DELETE", "/openapi/v1.yaml", 405, "application/problem+json"},
		{"GET", "/openapi/", 404, "application/problem+json"},
		{"HEAD", "/openapi/", 404, "application/problem+json"},
		{"HEAD", "/openapi/v1.yaml", 200, ""},
		{"HEAD", "/metrics", 200, ""},
		{"POST", "/apiKeys", 404, "application/json"},
		{"GET", "/apiKeys?x=1", 404, "application/json"},
		{"GET", "/openapi/v1.yaml", 200, ""},
		{"GET", "/openapi/apikeys.yaml", 200, ""},
		{"GET", "/metrics", 200, ""},
	} {
		res, body := inst.Do(t, c.method, c.path, "", nil)
		if res.StatusCode != c.want || c.wantType != "" && res.Header.Get("Content-Type") != c.wantType {
			t.Errorf("%s %s: %d %s %.100s", c.method, c.path, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		if res.StatusCode == 405 && res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow %q", c.method, c.path, res.Header.Get("Allow"))
		}
	}
}

// Inside both families, a 405 names the methods its path answers (RFC
// 9110), and HEAD is answered wherever GET is, without a body.
func TestMethodsInsideTheFamilies(t *testing.T) {
	inst := apptest.Start(t, nil)
	for _, c := range []struct {
		method, path, auth string
		want               int
		allow              string
	}{
		{"PUT", "/v1/auth/api-key", "", 405, "GET, HEAD, POST, DELETE"},
		{"PATCH", "/v1/auth/api-key/", "", 405, "GET, HEAD, POST, DELETE"},
		{"DELETE", "/v1/settings", "", 405, "GET, HEAD, PUT"},
		{"GET", "/v1/auth/authorize", "", 405, "POST"},
		{"HEAD", "/v1/auth/authorize", "", 405, "POST"},
		{"GET", "/apiKeys/new/bob", apptest.SystemKey, 405, "POST"},
		{"PUT", "/apiKeys/getKeys", apptest.SystemKey, 405, "GET, HEAD"},
		{"HEAD", "/v1/livez", "", 200, ""},
		{"HEAD", "/v1/", "", 200, ""},
		{"HEAD", "/apiKeys/getKeys", apptest.SystemKey, 200, ""},
		{"HEAD", "/apiKeys/getKeys", "", 403, ""},
		{"HEAD", "/v1/settings?guild_id=1098765432109876543", "", 401, ""},
	} {
		res, body := inst.Do(t, c.method, c.path, c.auth, nil)
		if res.StatusCode != c.want || res.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want %d Allow %q (%.100s)", c.method, c.path, res.StatusCode, res.Header.Get("Allow"), c.want, c.allow, body)
		}
		if c.method == "HEAD" && (len(body) != 0 || res.Header.Get("Content-Type") == "") {
			t.Errorf("HEAD %s: %d bytes of body, Content-Type %q; want none and GET's type", c.path, len(body), res.Header.Get("Content-Type"))
		}
	}
}
