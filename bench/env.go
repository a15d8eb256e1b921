package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the raw insert loop and the seeding of entries

	"github.com/apikeyd/apikeyd/bench/internal/harness"
)

// The guilds of the run: one with a few audit entries, one with many.
const (
	smallGuild = "1098765432109876543"
	largeGuild = "1098765432109876544"
	smallCount = 1000
)

// env is a started apikeyd with its fake Discord and seeded data.
type env struct {
	settings settings
	dir      string
	discord  *harness.Discord
	proc     *harness.Process
	bin      string // apikeyd, built from this tree
	// options started proc; restart starts it again with more flags.
	options  harness.Options
	bareBin  string
	guildKey string
}

func setUp(ctx context.Context, s settings) (*env, error) {
	dir, err := os.MkdirTemp("", "apikeyd-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{settings: s, dir: dir, discord: harness.StartDiscord()}
	fail := func(err error) (*env, error) {
		e.close()
		return nil, err
	}
	bin, err := harness.Build(ctx, ".", dir)
	if err != nil {
		return fail(err)
	}
	e.bin = bin
	if e.bareBin, err = harness.BareBinary(ctx, ".", dir); err != nil {
		return fail(err)
	}
	largeEntries := s.entries
	data := filepath.Join(dir, "data")
	master := harness.NewMasterKey()
	for _, g := range []string{smallGuild, largeGuild} {
		if err := harness.GuildAdmin(ctx, bin, data, master, g, e.discord.AdminID); err != nil {
			return fail(err)
		}
	}
	fmt.Fprintf(os.Stderr, "seeding %d + %d audit entries\n", smallCount, largeEntries)
	if err := seedEntries(ctx, filepath.Join(data, "apikeyd.db"), map[string]int{smallGuild: smallCount, largeGuild: largeEntries}); err != nil {
		return fail(err)
	}
	e.options = harness.Options{
		Binary: bin, DataDir: data, DiscordURL: e.discord.URL(), MasterKey: master,
		Args: []string{"--max-keys-per-guild", "1000000", "--auth-failure-rate", "0"},
		CPUs: s.serverCPU,
	}
	if e.proc, err = harness.Start(ctx, e.options); err != nil {
		return fail(err)
	}
	if e.guildKey, err = e.createGuildKey(ctx, smallGuild); err != nil {
		return fail(err)
	}
	return e, nil
}

// restart stops apikeyd and starts it again on the same data with the
// flags extra added.
func (e *env) restart(ctx context.Context, extra ...string) error {
	if err := e.proc.Stop(); err != nil {
		return fmt.Errorf("stop apikeyd: %w", err)
	}
	e.proc = nil
	o := e.options
	o.Args = append(append([]string(nil), o.Args...), extra...)
	proc, err := harness.Start(ctx, o)
	if err != nil {
		return err
	}
	e.proc = proc
	return nil
}

func (e *env) close() {
	if e.proc != nil {
		e.proc.Stop()
	}
	e.discord.Close()
	os.RemoveAll(e.dir)
}

// scenarios are the requests wrk measures against a bare server.
func (e *env) scenarios() []scenario {
	return []scenario{
		{name: "GET /v1/settings (API key)", method: "GET", path: "/v1/settings?guild_id=" + smallGuild, auth: "Bearer " + e.guildKey},
		{name: "GET /v1/auth/api-key (user, token cached)", method: "GET", path: "/v1/auth/api-key?guild_id=" + smallGuild, auth: "Bearer " + e.discord.AdminToken},
		{name: "POST /v1/auth/authorize (API key)", method: "POST", path: "/v1/auth/authorize", body: `{"access_token": "` + e.guildKey + `"}`},
	}
}

// rssAfterEachOnce sends one request of each of e.scenarios() and a key
// creation, and reads idle memory again 1 s later: what a server holds
// once it has answered each kind, beside what the start left.
func (e *env) rssAfterEachOnce(ctx context.Context) (int64, error) {
	for _, sc := range append(e.scenarios(), createKey) {
		status, _, body, err := e.once(ctx, sc)
		if err != nil {
			return 0, fmt.Errorf("%s %s once: %w", sc.method, sc.path, err)
		}
		if !is200(status) {
			return 0, fmt.Errorf("%s %s once: %d %s", sc.method, sc.path, status, body)
		}
	}
	return e.idleRSS()
}

// idleRSS is apikeyd's resident set a second from now, once the work of
// its start or its last requests has settled.
func (e *env) idleRSS() (int64, error) {
	time.Sleep(time.Second)
	rss, _, err := e.proc.RSS()
	return rss, err
}

// createKey names a new user in each request, which wrk's one repeated
// request cannot: the Go load generator drives it.
var createKey = scenario{method: "POST", path: "/apiKeys/new/bench-%d-%d", auth: harness.SystemKey, writes: true}

func (e *env) createGuildKey(ctx context.Context, guild string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", e.proc.URL+"/v1/auth/api-key", strings.NewReader(`{"guild_id": "`+guild+`"}`))
	req.Header.Set("Authorization", "Bearer "+e.discord.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var body struct {
		Data struct {
			APIKey struct {
				APIKey string `json:"api_key"`
			} `json:"api_key"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 200 {
		return "", fmt.Errorf("create guild key: %d %v", res.StatusCode, err)
	}
	return body.Data.APIKey.APIKey, nil
}

// seedEntries writes audit entries straight into the database: through
// the API a million would take an hour of fsyncs.
func seedEntries(ctx context.Context, path string, counts map[string]int) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_entries (guild_id, created_at, actor_user, action, changes) VALUES (?, ?, ?, 'settings.updated', '{"language":"nl"}')`)
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	for guild, n := range counts {
		for i := range n {
			if _, err := stmt.ExecContext(ctx, guild, now-int64(n-i), 310987654321098765); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// Leave the entries in the database file, as a running apikeyd's
	// checkpoints would, not in a write-ahead log it must index at start.
	_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// insertRow is key creation against a raw insert loop at one number of
// closed-loop clients.
type insertRow struct {
	engine    string // where apikeyd's database is: "" for SQLite's file
	clients   int
	got, base harness.Result
	cpu       time.Duration // apikeyd's processor time over its run
}

// measureInserts compares key creation with a raw SQLite insert loop of
// rows of the same shape, at the durability apikeyd uses. Both are
// bound by the disk, far below what the Go load generator can send.
func (e *env) measureInserts(ctx context.Context) ([]insertRow, error) {
	var rows []insertRow
	for _, c := range e.settings.clients {
		before, err := harness.CPUTime(e.proc.Pid())
		if err != nil {
			return nil, err
		}
		got := harness.Run(ctx, harness.Client(c), c, e.settings.round, e.request(e.proc.URL, createKey), is200)
		if got.Errors > 0 {
			return nil, fmt.Errorf("create keys: %d errors: %+v", got.Errors, got.Samples)
		}
		after, err := harness.CPUTime(e.proc.Pid())
		if err != nil {
			return nil, err
		}
		base, err := rawInserts(ctx, filepath.Join(e.dir, fmt.Sprintf("raw-%d.db", c)), c, e.settings.round)
		if err != nil {
			return nil, err
		}
		rows = append(rows, insertRow{clients: c, got: got, base: base, cpu: after - before})
	}
	return rows, nil
}

// rawInserts inserts rows like user_keys' from c goroutines, one
// transaction each, with WAL and synchronous=FULL as apikeyd does.
func rawInserts(ctx context.Context, path string, c int, d time.Duration) (harness.Result, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return harness.Result{}, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE k (id INTEGER PRIMARY KEY, user_name TEXT NOT NULL, note TEXT NOT NULL, key_hash BLOB NOT NULL UNIQUE, key_sealed BLOB NOT NULL, created_at INTEGER NOT NULL)`); err != nil {
		return harness.Result{}, err
	}
	insert := func(ctx context.Context, w, i int) (int, string, error) {
		hash := fmt.Appendf(nil, "%032d%032d", w, i)
		_, err := db.ExecContext(ctx, `INSERT INTO k (user_name, note, key_hash, key_sealed, created_at) VALUES (?, '', ?, ?, ?)`,
			fmt.Sprintf("bench-%d-%d", w, i), hash, make([]byte, 69), time.Now().UnixMilli())
		return 0, "", err
	}
	r := harness.Loop(ctx, c, d, insert, func(int) bool { return true })
	if r.Errors > 0 {
		return harness.Result{}, fmt.Errorf("raw inserts: %d errors: %+v", r.Errors, r.Samples)
	}
	return r, nil
}
