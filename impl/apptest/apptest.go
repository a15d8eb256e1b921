// Package apptest starts a real apikeyd (the constructor main uses, a real
// SQLite database, real HTTP) for tests.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/datadir"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/store/postgres"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

// SystemKey is the System key of every instance.
const SystemKey = "apptest-system-key-0123456789"

// Instance is a running apikeyd.
type Instance struct {
	URL    string
	Server *app.Server
	Config app.Config
}

// Config is the configuration Start uses before options change it: an
// in-memory SQLite database, or a PostgreSQL database of the test's own
// when APIKEYD_TEST_POSTGRES names a server (pgtest), secrets given, a
// data directory of the test's own.
func Config(t testing.TB) app.Config {
	master := make([]byte, 32)
	rand.Read(master)
	db := ":memory:"
	if pgtest.Enabled() {
		db = pgtest.NewMigratedDatabase(t, moduleFile(t, "schema.postgres.sql"), migratePostgres)
	}
	return app.Config{
		Addr:            "127.0.0.1:0",
		DataDir:         t.TempDir(),
		DB:              db,
		DiscordAPIURL:   "http://127.0.0.1:1/unset",
		IdentityTTL:     time.Minute,
		MaxKeysPerGuild: 25,
		LogFormat:       "text",
		SystemKey:       SystemKey,
		MasterKey:       base64.StdEncoding.EncodeToString(master),
	}
}

// Start builds apikeyd from cfg (Config(t) when nil) and serves it until the
// test ends.
func Start(t testing.TB, cfg *app.Config) *Instance {
	t.Helper()
	return StartLogging(t, cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// StartLogging is Start with the server logging to log, for tests of what
// it logs.
func StartLogging(t testing.TB, cfg *app.Config, log *slog.Logger) *Instance {
	t.Helper()
	if cfg == nil {
		c := Config(t)
		cfg = &c
	}
	// The listener comes first, so that the public URL (the dashboard's
	// redirect URI) is where the instance answers. cfg keeps its own, so
	// that a restart from it gets the new listener's.
	ts := httptest.NewUnstartedServer(nil)
	served := *cfg
	if served.PublicURL == "" {
		served.PublicURL = "http://" + ts.Listener.Addr().String()
	}
	srv, err := app.New(context.Background(), served, Schema(t), log)
	if err != nil {
		ts.Close()
		t.Fatalf("start apikeyd: %v", err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &Instance{URL: ts.URL, Server: srv, Config: served}
}

// FileDatabase puts the database of cfg in the SQLite file apikeyd uses
// by default, <data-dir>/apikeyd.db, for tests of what happens to that
// file: on either run, such a test is SQLite's.
func FileDatabase(cfg *app.Config) { cfg.DB = "" }

// DeleteDatabase removes the database file with its -wal and -shm under
// the running instance, as a mistaken clean-up would.
func (i *Instance) DeleteDatabase(t testing.TB) {
	t.Helper()
	path := i.Config.DBPath()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil {
			t.Fatalf("delete the database: %v", err)
		}
	}
}

// RotateMasterKey reseals every stored key under a new master key through
// a store of its own on the instance's database, whose ring holds the new
// key and the old, as `apikeyd rotate-master-key` run beside a server that
// was not given the new ring does, and sets the instance's
// APIKEYD_MASTER_KEY to the new key for a restart.
func (i *Instance) RotateMasterKey(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	current, _, err := datadir.LoadMasterKey(i.Config.MasterKey, i.Config.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	next := keys.NewMasterKey()
	ring, err := keys.NewRing(append([][]byte{next}, current...))
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(t, i.Config, store.Config{Sealer: ring})
	if err != nil {
		t.Fatalf("open the store beside the server: %v", err)
	}
	defer st.Close()
	if _, err := st.Reseal(ctx); err != nil {
		t.Fatalf("reseal: %v", err)
	}
	i.Config.MasterKey = base64.StdEncoding.EncodeToString(next)
}

// OpenStore opens a store of its own, configured by sc, on the database
// of cfg, beside any server on it.
func OpenStore(t testing.TB, cfg app.Config, sc store.Config) (*store.Store, error) {
	t.Helper()
	engine, err := app.OpenEngine(context.Background(), cfg, Schema(t))
	if err != nil {
		return nil, err
	}
	return store.Open(context.Background(), engine, sc)
}

// migratePostgres is pgtest.Migrate: the engine's own migration at open.
func migratePostgres(ctx context.Context, url, schema string) error {
	e, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema})
	if err != nil {
		return err
	}
	return e.Close()
}

// Schema reads both engines' schemas (schema.sql, schema.postgres.sql)
// from the module root.
func Schema(t testing.TB) app.Schemas {
	t.Helper()
	return app.Schemas{SQLite: moduleFile(t, "schema.sql"), PostgreSQL: moduleFile(t, "schema.postgres.sql")}
}

// moduleFile reads the file name at the module root, found above the
// test's directory.
func moduleFile(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return string(b)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("%s not found above the test's directory", name)
		}
		dir = parent
	}
}

// Do sends a request and returns the answer with its body read.
func (i *Instance) Do(t testing.TB, method, path, auth string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, i.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return Send(t, req)
}

// Send sends req and returns the answer with its body read.
func Send(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// Answer is what came back for one of SendAtOnce's requests: Err when it
// could not be sent, else the status, headers and body.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	Err    error
}

// SendAtOnce sends every request concurrently, as a client with that many
// connections would. The channel receives each answer as it arrives and is
// closed after the last one.
func SendAtOnce(reqs []*http.Request) <-chan Answer {
	answers := make(chan Answer, len(reqs))
	var wg sync.WaitGroup
	for _, req := range reqs {
		wg.Go(func() {
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				answers <- Answer{Err: err}
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			answers <- Answer{Status: res.StatusCode, Header: res.Header, Body: b, Err: err}
		})
	}
	go func() {
		wg.Wait()
		close(answers)
	}()
	return answers
}

// Main runs apikeyd's command line with args and only the environment env,
// as a shell would, and returns its exit code and what it printed.
func Main(t testing.TB, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = app.Main(context.Background(), app.Env{
		Args: args, Getenv: func(k string) string { return env[k] },
		Stdout: &out, Stderr: &errOut, Schemas: Schema(t),
	})
	return code, out.String(), errOut.String()
}

// CreateUserKey creates a key of /apiKeys user with the System key system
// and returns it.
func (i *Instance) CreateUserKey(t testing.TB, system, user string) string {
	t.Helper()
	res, body := i.Do(t, "POST", "/apiKeys/new/"+user, system, nil)
	if res.StatusCode != 200 {
		t.Fatalf("create a key of %s: %d %s", user, res.StatusCode, body)
	}
	var v struct{ Token string }
	if err := json.Unmarshal(body, &v); err != nil || v.Token == "" {
		t.Fatalf("create a key of %s: no token in %s", user, body)
	}
	return v.Token
}

// Mistype changes the last character of a key, which its checksum
// catches.
func Mistype(key string) string {
	if strings.HasSuffix(key, "A") {
		return key[:len(key)-1] + "B"
	}
	return key[:len(key)-1] + "A"
}

// testWriter sends the server's log to the test's, so it shows only when a
// test fails.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
