package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

// logProcesses are apikeyd processes with one bot token posting to one
// fake Discord, whose guild has the logs channel and an administrator, on
// one database: a PostgreSQL database (db), or else the SQLite file of
// one data directory, which one process at a time serves.
type logProcesses struct {
	fake    *discordtest.Server
	bin     string
	sec     secrets
	db      string
	dataDir string
	env     []string
}

// logDatabase is the database of a test that runs on either engine: a
// PostgreSQL database of its own when APIKEYD_TEST_POSTGRES names a
// server, else "" (SQLite).
func logDatabase(t *testing.T) string {
	if !pgtest.Enabled() {
		return ""
	}
	return pgtest.NewDatabase(t)
}

func newLogProcesses(t *testing.T, db string) *logProcesses {
	t.Helper()
	p := &logProcesses{fake: discordtest.NewServer(t), bin: buildBinary(t), sec: newSecrets(), db: db, dataDir: t.TempDir()}
	p.fake.AddUser(logToken, logAdmin, "admin")
	p.fake.AddBot(testBotToken, true)
	p.fake.AddBotGuild(discordtest.BotGuild{ID: logGuild, Channels: []discordtest.Channel{{ID: logChannel}}})
	p.env = []string{"APIKEYD_DISCORD_BOT_TOKEN=" + testBotToken, "APIKEYD_DISCORD_API_URL=" + p.fake.URL()}
	adminEnv := map[string]string{"APIKEYD_MASTER_KEY": p.sec.master, "APIKEYD_DATA_DIR": p.dataDir}
	if db != "" {
		p.env = append(p.env, "APIKEYD_DB="+db)
		adminEnv["APIKEYD_DB"] = db
	}
	if code, _, stderr := apptest.Main(t, adminEnv, "guild-admin", "add", "--guild", logGuild, "--user", logAdmin); code != 0 {
		t.Fatalf("guild-admin add: %d %s", code, stderr)
	}
	return p
}

// start starts one more process and returns once it is ready.
func (p *logProcesses) start(t *testing.T) *server {
	t.Helper()
	dir := p.dataDir
	if p.db != "" {
		dir = t.TempDir()
	}
	s := startServer(t, p.bin, dir, p.sec, p.env...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the log of the process at %s:\n%s", s.url, s.log.String())
		}
	})
	return s
}

// send makes a /v1 request to s as the administrator and wants 200.
func (p *logProcesses) send(t *testing.T, s *server, method, path, body string) []byte {
	t.Helper()
	status, got := sendTo(t, s.url, method, path, "Bearer "+logToken, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, status, got)
	}
	return got
}

// turnOn sets the logs channel and enables the module through s.
func (p *logProcesses) turnOn(t *testing.T, s *server) {
	t.Helper()
	p.send(t, s, "PUT", "/v1/modules/logging/settings", `{"guild_id": "`+logGuild+`", "logs_channel_id": "`+logChannel+`"}`)
	p.send(t, s, "POST", "/v1/modules/logging/enable", `{"guild_id": "`+logGuild+`"}`)
}

// createKey creates a guild key through s and returns its id and the key.
func (p *logProcesses) createKey(t *testing.T, s *server) (id, key string) {
	t.Helper()
	var created struct {
		Data struct {
			APIKey struct {
				ID     json.Number `json:"id"`
				APIKey string      `json:"api_key"`
			} `json:"api_key"`
		} `json:"data"`
	}
	if err := json.Unmarshal(p.send(t, s, "POST", "/v1/auth/api-key", `{"guild_id": "`+logGuild+`"}`), &created); err != nil {
		t.Fatal(err)
	}
	return created.Data.APIKey.ID.String(), created.Data.APIKey.APIKey
}

// keyChurn creates a key through one of servers and deletes it through
// the next, pairs times, and returns the messages the changes post, in
// order.
func (p *logProcesses) keyChurn(t *testing.T, servers []*server, pairs int) []string {
	t.Helper()
	var want []string
	for i := range pairs {
		id, key := p.createKey(t, servers[i%len(servers)])
		p.send(t, servers[(i+1)%len(servers)], "DELETE", "/v1/auth/api-key", `{"guild_id": "`+logGuild+`", "api_key": "`+key+`"}`)
		want = append(want, "API key created | By <@"+logAdmin+">\n`id`: "+id, "API key deleted | By <@"+logAdmin+">\n`id`: "+id)
	}
	return want
}

// waitPosted waits until the channel holds as many messages as want, and
// wants them to be want, in that order.
func (p *logProcesses) waitPosted(t *testing.T, want []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(p.fake.Posted(logChannel)) < len(want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := titlesOf(p.fake.Posted(logChannel)); !slices.Equal(got, want) {
		t.Fatalf("posted %d messages:\n%q\nwant %d:\n%q", len(got), got, len(want), want)
	}
}

// leaseHolder is the process id of the sender holding the guild's lease,
// read from the holder it wrote (host/pid/random).
func leaseHolder(t *testing.T, db string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var holder string
	if err := conn.QueryRow(t.Context(), "SELECT holder FROM log_senders WHERE guild_id = $1", int64(mustID(t, logGuild))).Scan(&holder); err != nil {
		t.Fatalf("read the guild's lease: %v", err)
	}
	parts := strings.Split(holder, "/")
	pid, err := strconv.Atoi(parts[len(parts)-2])
	if len(parts) < 3 || err != nil {
		t.Fatalf("the lease's holder %q names no process", holder)
	}
	return pid
}

// TestReplicasShareALogsChannel: two replicas on one PostgreSQL database,
// with one bot and one Discord, take a stream of changes through both:
// every message is posted once, in the order of the changes, and never
// two posts to the channel at once (each post is slowed, so that two
// senders would overlap). Then the replica holding the guild's lease is
// killed with SIGKILL while it posts: the other takes the guild over once
// the lease expires, and nothing is lost or posted twice.
func TestReplicasShareALogsChannel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	db := pgtest.NewDatabase(t)
	p := newLogProcesses(t, db)
	replicas := []*server{p.start(t), p.start(t)}
	p.fake.Delay(20 * time.Millisecond)
	p.turnOn(t, replicas[1])
	want := append([]string{"Logging module enabled | By <@" + logAdmin + ">\n`module_logging`: true"}, p.keyChurn(t, replicas, 12)...)
	p.waitPosted(t, want)
	if n := p.fake.MostConcurrentPosts(logChannel); n != 1 {
		t.Fatalf("%d posts to the channel at once, want 1", n)
	}

	// Slower posts: the messages queue up behind the sender.
	p.fake.Delay(100 * time.Millisecond)
	want = append(want, p.keyChurn(t, replicas, 5)...)
	deadline := time.Now().Add(10 * time.Second)
	for len(p.fake.Posted(logChannel)) <= 25 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	holder := leaseHolder(t, db)
	i := slices.IndexFunc(replicas, func(s *server) bool { return s.cmd.Process.Pid == holder })
	if i < 0 {
		t.Fatalf("the lease is held by process %d, neither replica", holder)
	}
	if len(p.fake.Posted(logChannel)) == len(want) {
		t.Fatal("every message was posted before the kill: the test kills no sender while it posts")
	}
	replicas[i].kill(t)
	p.waitPosted(t, want)
	if n := p.fake.MostConcurrentPosts(logChannel); n != 1 {
		t.Errorf("%d posts to the channel at once, want 1", n)
	}
	if got := leaseHolder(t, db); got != replicas[1-i].cmd.Process.Pid {
		t.Errorf("the lease is held by process %d, not the survivor", got)
	}
}
