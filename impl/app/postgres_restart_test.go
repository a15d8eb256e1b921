package app_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

// privateServer is a PostgreSQL server of one test's own, started by
// .ci/postgres, which the test may stop and start without taking down
// the server every other test shares.
type privateServer struct {
	url               string // of its postgres database, on 127.0.0.1
	pgCtl, dir, opts  string // as .ci/postgres exports them
	port              string
	socketOnlyStarted bool
}

// startPrivateServer runs .ci/postgres, which needs root (initdb runs as
// the postgres user); it skips where PostgreSQL tests do not run.
func startPrivateServer(t *testing.T) *privateServer {
	t.Helper()
	if !pgtest.Enabled() {
		t.Skipf("PostgreSQL tests run when %s names a server", pgtest.EnvVar)
	}
	if os.Geteuid() != 0 {
		t.Skip(".ci/postgres starts a server as the postgres user, which needs root")
	}
	out, err := exec.Command("../../.ci/postgres").Output()
	if err != nil {
		t.Fatalf(".ci/postgres: %v", err)
	}
	// Its lines "export NAME=VALUE", VALUE quoted when it has spaces.
	vars := map[string]string{}
	for line := range strings.Lines(string(out)) {
		if assignment, ok := strings.CutPrefix(strings.TrimSpace(line), "export "); ok {
			name, value, _ := strings.Cut(assignment, "=")
			vars[name] = strings.Trim(value, "'")
		}
	}
	s := &privateServer{url: vars[pgtest.EnvVar], pgCtl: vars["APIKEYD_TEST_POSTGRES_PG_CTL"], dir: vars["APIKEYD_TEST_POSTGRES_DIR"], opts: vars["APIKEYD_TEST_POSTGRES_OPTS"]}
	u, err := url.Parse(s.url)
	if err != nil || s.pgCtl == "" || s.dir == "" || s.opts == "" {
		t.Fatalf(".ci/postgres printed %q", out)
	}
	s.port = u.Port()
	t.Cleanup(func() {
		s.ctl(t, "-m", "immediate", "stop")
		os.RemoveAll(s.dir)
	})
	return s
}

// ctl runs pg_ctl on the server as the postgres user; a stop of a server
// that is not running is no failure during cleanup.
func (s *privateServer) ctl(t *testing.T, args ...string) {
	t.Helper()
	args = append([]string{"-u", "postgres", "--", s.pgCtl, "-D", s.dir + "/data", "-l", s.dir + "/log", "-w"}, args...)
	if out, err := exec.Command("runuser", args...).CombinedOutput(); err != nil && args[len(args)-1] != "stop" {
		t.Fatalf("pg_ctl %v: %v\n%s", args, err, out)
	}
}

func (s *privateServer) stop(t *testing.T) { s.ctl(t, "-m", "fast", "stop") }

func (s *privateServer) start(t *testing.T) { s.ctl(t, "-o", s.opts, "start") }

// startUnreachable starts the server listening on its Unix socket alone:
// apikeyd, which reaches it over TCP, still finds it down.
func (s *privateServer) startUnreachable(t *testing.T) {
	s.ctl(t, "-o", s.opts+" -c listen_addresses=", "start")
}

// behindTheLog runs sql on the server through its Unix socket, as an
// operator would, with nothing recorded in apikeyd's change log.
func (s *privateServer) behindTheLog(t *testing.T, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://postgres@/postgres?host="+url.QueryEscape(s.dir)+"&port="+s.port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
}

// TestReplicasRideOutAPostgresRestart: PostgreSQL itself stopped and
// started (pg_ctl) under concurrent writes through two replicas. While it
// is down every answer is a 503 within 5 s, never a 500 or a hang, and
// /v1/readyz says 503; meanwhile a guild key every replica had cached is
// deleted behind the change log's back (the server up on its Unix socket
// alone, which apikeyd cannot reach). Once it is back every replica
// serves again by itself, refuses that key (its listener connected again
// and dropped its caches), and hears revocations again.
func TestReplicasRideOutAPostgresRestart(t *testing.T) {
	pg := startPrivateServer(t)
	r := startReplicasOn(t, pg.url, 2)
	settingsPath := "/v1/settings?guild_id=" + seededGuild
	token := newGuildKeyThrough(t, r.servers[0])
	key := "Bearer " + token
	for _, s := range r.servers {
		must(t, s, 200, "GET", settingsPath, key, "")
	}

	ctx, stopWriting := context.WithCancel(context.Background())
	type load struct {
		statuses map[int]int
		slowest  time.Duration
	}
	written := make(chan load)
	go func() {
		_, statuses, slowest := r.writers(ctx, t, 2)
		written <- load{statuses, slowest}
	}()
	time.Sleep(time.Second)
	pg.stop(t)
	for i, s := range r.servers {
		began := time.Now()
		status, body := ask(t, s, "GET", "/v1/readyz", "", "")
		if took := time.Since(began); status != http.StatusServiceUnavailable || took > downBound {
			t.Errorf("replica %d's readyz with PostgreSQL down: %d after %v: %s", i, status, took, body)
		}
	}
	pg.startUnreachable(t)
	pg.behindTheLog(t, "DELETE FROM guild_keys WHERE key_hash = $1", keys.Hash(token))
	pg.stop(t)
	time.Sleep(time.Second)
	pg.start(t)
	eventually(t, "ready again", r.servers, answers(t, 200, "GET", "/v1/readyz", ""))
	time.Sleep(500 * time.Millisecond)
	stopWriting()
	got := <-written
	if got.statuses[http.StatusServiceUnavailable] == 0 || got.statuses[http.StatusOK] == 0 || len(got.statuses) != 2 {
		t.Errorf("answers around the restart: %v, want 200s and 503s only", got.statuses)
	}
	if got.slowest > downBound {
		t.Errorf("the slowest answer took %v, want at most %v", got.slowest, downBound)
	}
	for i, s := range r.servers {
		if status, body := ask(t, s, "GET", settingsPath, key, ""); status != http.StatusUnauthorized {
			t.Errorf("replica %d: the key deleted during the outage: %d %s, want 401", i, status, body)
		}
	}
	r.revokeAGuildKey(t)
}
