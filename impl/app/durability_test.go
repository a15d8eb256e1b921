package app_test

// Durability tests against the real binary: DESIGN.md promises that an
// acknowledged write is on disk before the answer goes out, and that
// SIGTERM finishes in-flight requests before the process exits. Only a
// separate process that is really killed can show either, so these tests
// build apikeyd, run it on a data directory, kill or stop it under load and
// start it again on the same directory.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestKill9LosesNoAcknowledgedWrite kills the server with SIGKILL, at a
// random moment while writes are in flight, again and again on the same
// data directory. After every restart each acknowledged creation must still
// be there and each acknowledged removal must still hold; what was in
// flight at the kill may have gone either way.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	const cycles, workers = 20, 8
	bin := buildBinary(t)
	sec := newSecrets()
	dataDir := t.TempDir()
	m := newKeyModel()

	for cycle := range cycles {
		srv := startServer(t, bin, dataDir, sec)
		c := newClient(srv.url, sec.system)
		if cycle > 0 {
			m.verify(t, c, fmt.Sprintf("restart after kill %d", cycle))
		}

		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { m.work(ctx, t, c, cycle, w) })
		}
		// The load runs for a random time so that the kill lands at a
		// different point of a write each cycle; this waits, it asserts
		// nothing.
		time.Sleep(30*time.Millisecond + mrand.N(370*time.Millisecond))
		srv.kill(t)
		// Only now stop the workers: cancelling first would drain the
		// requests that the kill is meant to interrupt.
		cancel()
		wg.Wait()
		c.close()
		if t.Failed() {
			t.Fatalf("cycle %d failed; server log:\n%s", cycle, srv.log.String())
		}
	}

	// The database exactly as the last kill left it, WAL included.
	dbPath := filepath.Join(dataDir, "apikeyd.db")
	checkIntegrity(t, dbPath, "after the last kill")

	srv := startServer(t, bin, dataDir, sec)
	c := newClient(srv.url, sec.system)
	m.verify(t, c, fmt.Sprintf("restart after kill %d", cycles))
	c.close()
	if code, exited := srv.terminate(10 * time.Second); !exited || code != 0 {
		t.Fatalf("stop with SIGTERM: exited %v with code %d, want exit code 0; log:\n%s", exited, code, srv.log.String())
	}
	checkIntegrity(t, dbPath, "after a clean stop")

	st := m.stats()
	t.Logf("%d kills: %d acknowledged creations, %d acknowledged removals, %d creations and %d removals without an answer",
		cycles, st.createsAcked, st.removesAcked, st.createsUnknown, st.removesUnknown)
	// Guard against a vacuous pass: the load must have written and deleted.
	if st.createsAcked == 0 || st.removesAcked == 0 {
		t.Errorf("acknowledged creations, removals: got %d, %d; want at least 1 of each", st.createsAcked, st.removesAcked)
	}
}

// TestSIGTERMUnderLoadLosesNoAcknowledgedRequest stops the server with
// SIGTERM while many clients create keys: it must exit 0 in time, no client
// may see a server error, and every key whose creation was answered 200
// must be there after a restart.
func TestSIGTERMUnderLoadLosesNoAcknowledgedRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the real binary")
	}
	const workers = 16
	bin := buildBinary(t)
	sec := newSecrets()
	dataDir := t.TempDir()
	srv := startServer(t, bin, dataDir, sec)
	c := newClient(srv.url, sec.system)

	type ack struct {
		user, token string
		afterSignal bool
	}
	var (
		mu        sync.Mutex
		acks      []ack
		signalled atomic.Bool
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				user := fmt.Sprintf("term-w%d-%d", w, n)
				status, body, err := c.send(ctx, "POST", "/apiKeys/new/"+user, c.auth)
				if err != nil {
					// After the signal the server stops accepting: a
					// failed request is simply not acknowledged.
					if !signalled.Load() {
						t.Errorf("POST /apiKeys/new/%s before SIGTERM: %v", user, err)
					}
					return
				}
				if status != http.StatusOK {
					t.Errorf("POST /apiKeys/new/%s (SIGTERM sent: %v): got status %d %s, want 200", user, signalled.Load(), status, body)
					return
				}
				token, err := decodeToken(body)
				if err != nil {
					t.Errorf("POST /apiKeys/new/%s: %v", user, err)
					return
				}
				mu.Lock()
				acks = append(acks, ack{user, token, signalled.Load()})
				mu.Unlock()
			}
		})
	}
	// Let the load run for 300 ms and until 60 creations are acknowledged,
	// so that the count asserted below does not depend on how busy the
	// machine is; this waits, it asserts nothing.
	time.Sleep(300 * time.Millisecond)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		if n >= 60 {
			break
		}
	}
	signalled.Store(true)
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	code, exited := srv.waitExit(10 * time.Second)
	if !exited {
		t.Fatalf("still running 10 s after SIGTERM; log:\n%s", srv.log.String())
	}
	if code != 0 {
		t.Fatalf("exit code after SIGTERM: got %d, want 0; log:\n%s", code, srv.log.String())
	}
	cancel()
	wg.Wait()
	c.close()

	var after int
	for _, a := range acks {
		if a.afterSignal {
			after++
		}
	}
	t.Logf("%d creations acknowledged, %d of them after SIGTERM was sent", len(acks), after)
	if len(acks) < 50 {
		t.Fatalf("acknowledged creations: got %d, want at least 50", len(acks))
	}

	srv = startServer(t, bin, dataDir, sec)
	c = newClient(srv.url, sec.system)
	owners, _ := c.allKeys(t)
	for _, a := range acks {
		if got, ok := owners[a.token]; !ok || got != a.user {
			t.Errorf("key of %s acknowledged (after SIGTERM: %v): after restart got owner %q (present: %v), want %q",
				a.user, a.afterSignal, got, ok, a.user)
		}
	}
	c.close()
	if code, exited := srv.terminate(10 * time.Second); !exited || code != 0 {
		t.Fatalf("stop with SIGTERM: exited %v with code %d, want exit code 0", exited, code)
	}
}

// ---- the model of what the kill test has been told ----

// userState is what the server acknowledged about one user. A user is
// handled by one worker at a time (see keyModel.take), so its operations
// happen, and are recorded, in order.
type userState struct {
	name string
	// present: created with a 200, not removed since: must be listed.
	present []string
	// removed: created, then removed with a 200: must never come back.
	removed []string
	// unsure: created with a 200, then a removal that got no answer. The
	// removal is one DELETE statement, so all of them or none remain.
	unsure []string
	// unknownCreates counts creations without an answer since the last
	// acknowledged removal: each may or may not have happened.
	unknownCreates int
	// changed: touched since the last verification, which therefore reads
	// it with getUserKeys as well.
	changed bool
}

type keyModel struct {
	mu    sync.Mutex
	users map[string]*userState
	// idle holds users with acknowledged keys that no worker holds now.
	idle []*userState

	createsAcked, removesAcked, createsUnknown, removesUnknown atomic.Int64
}

func newKeyModel() *keyModel { return &keyModel{users: map[string]*userState{}} }

// take removes a random idle user from the pool, so that only the caller
// touches it until it puts it back; nil when there is none.
func (m *keyModel) take() *userState {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.idle) == 0 {
		return nil
	}
	i := mrand.IntN(len(m.idle))
	u := m.idle[i]
	m.idle[i] = m.idle[len(m.idle)-1]
	m.idle = m.idle[:len(m.idle)-1]
	return u
}

func (m *keyModel) putBack(u *userState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.idle = append(m.idle, u)
}

func (m *keyModel) add(u *userState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users[u.name] = u
	m.idle = append(m.idle, u)
}

// work sends a mix of writes until the server is gone (a request fails) or
// ctx ends: half create a key for a fresh user, the rest remove a user
// with acknowledged keys or give one another key.
func (m *keyModel) work(ctx context.Context, t *testing.T, c *client, cycle, worker int) {
	for n := 0; ctx.Err() == nil; n++ {
		var u *userState
		r := mrand.IntN(10)
		if r >= 5 {
			u = m.take()
		}
		var alive bool
		switch {
		case u == nil:
			alive = m.createFresh(ctx, t, c, fmt.Sprintf("c%d-w%d-%d", cycle, worker, n))
		case r < 8:
			alive = m.remove(ctx, t, c, u)
		default:
			alive = m.createMore(ctx, t, c, u)
		}
		if !alive {
			return
		}
	}
}

// createFresh creates the first key of a new user; false when the request
// got no answer.
func (m *keyModel) createFresh(ctx context.Context, t *testing.T, c *client, user string) bool {
	status, body, err := c.send(ctx, "POST", "/apiKeys/new/"+user, c.auth)
	if err != nil {
		// Nothing is known of this user, so there is nothing to check.
		m.createsUnknown.Add(1)
		return false
	}
	if status != http.StatusOK {
		t.Errorf("POST /apiKeys/new/%s: got status %d %s, want 200", user, status, body)
		return true
	}
	token, err := decodeToken(body)
	if err != nil {
		t.Errorf("POST /apiKeys/new/%s: %v", user, err)
		return true
	}
	m.createsAcked.Add(1)
	m.add(&userState{name: user, present: []string{token}, changed: true})
	return true
}

// createMore gives u, which the caller holds, another key.
func (m *keyModel) createMore(ctx context.Context, t *testing.T, c *client, u *userState) bool {
	defer m.putBack(u)
	status, body, err := c.send(ctx, "POST", "/apiKeys/new/"+u.name, c.auth)
	u.changed = true
	if err != nil {
		m.createsUnknown.Add(1)
		u.unknownCreates++
		return false
	}
	if status != http.StatusOK {
		t.Errorf("POST /apiKeys/new/%s: got status %d %s, want 200", u.name, status, body)
		return true
	}
	token, err := decodeToken(body)
	if err != nil {
		t.Errorf("POST /apiKeys/new/%s: %v", u.name, err)
		return true
	}
	m.createsAcked.Add(1)
	u.present = append(u.present, token)
	return true
}

// remove deletes every key of u, which the caller holds. Whatever the
// outcome u is retired: it keeps only the checks recorded here.
func (m *keyModel) remove(ctx context.Context, t *testing.T, c *client, u *userState) bool {
	status, body, err := c.send(ctx, "DELETE", "/apiKeys/remove/"+u.name, c.auth)
	u.changed = true
	if err != nil {
		m.removesUnknown.Add(1)
		u.unsure, u.present = u.present, nil
		return false
	}
	if status != http.StatusOK {
		t.Errorf("DELETE /apiKeys/remove/%s: got status %d %s, want 200", u.name, status, body)
		m.putBack(u)
		return true
	}
	var out struct {
		Deleted *int `json:"deleted"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Deleted == nil {
		t.Errorf("DELETE /apiKeys/remove/%s: body %s: want {\"deleted\": N}", u.name, body)
		m.putBack(u)
		return true
	}
	// Every acknowledged key goes, and at most the unanswered creations
	// besides: anything else means a write was lost or resurrected.
	if lo, hi := len(u.present), len(u.present)+u.unknownCreates; *out.Deleted < lo || *out.Deleted > hi {
		t.Errorf("DELETE /apiKeys/remove/%s: got deleted %d, want %d to %d", u.name, *out.Deleted, lo, hi)
	}
	m.removesAcked.Add(1)
	u.removed, u.present, u.unknownCreates = append(u.removed, u.present...), nil, 0
	return true
}

type modelStats struct{ createsAcked, removesAcked, createsUnknown, removesUnknown int64 }

func (m *keyModel) stats() modelStats {
	return modelStats{m.createsAcked.Load(), m.removesAcked.Load(), m.createsUnknown.Load(), m.removesUnknown.Load()}
}

// verify compares the restarted server with the model. It runs while no
// worker does, so it reads the model without locks.
func (m *keyModel) verify(t *testing.T, c *client, when string) {
	t.Helper()
	// getKeys opens every sealed key: its 200 says none was torn.
	owners, byUser := c.allKeys(t)
	var presentSample, removedSample []string
	for _, u := range m.users {
		for _, tok := range u.present {
			if got, ok := owners[tok]; !ok || got != u.name {
				t.Errorf("%s: acknowledged key of %s: getKeys got owner %q (present: %v), want %q", when, u.name, got, ok, u.name)
			}
		}
		for _, tok := range u.removed {
			if _, ok := owners[tok]; ok {
				t.Errorf("%s: key of %s whose removal was acknowledged: getKeys lists it, want it gone", when, u.name)
			}
		}
		if n := countIn(owners, u.unsure); n != 0 && n != len(u.unsure) {
			t.Errorf("%s: removal of %s without an answer: got %d of its %d keys left, want all or none", when, u.name, n, len(u.unsure))
		}
		if !u.changed {
			continue
		}
		u.changed = false
		// Users touched since the last restart are read on their own route
		// too, which must agree with getKeys key for key.
		listed := c.userKeys(t, u.name)
		for _, tok := range u.present {
			if !listed[tok] {
				t.Errorf("%s: acknowledged key of %s: getUserKeys does not list it, want it listed", when, u.name)
			}
		}
		for _, tok := range u.removed {
			if listed[tok] {
				t.Errorf("%s: key of %s whose removal was acknowledged: getUserKeys lists it, want it gone", when, u.name)
			}
		}
		if got, want := len(listed), len(byUser[u.name]); got != want || countIn(byUser[u.name], keysOfSet(listed)) != want {
			t.Errorf("%s: keys of %s: getUserKeys lists %d, getKeys %d; want the same keys", when, u.name, got, want)
		}
		if len(u.present) > 0 && len(presentSample) < 10 {
			presentSample = append(presentSample, u.present[0])
		}
		if len(u.removed) > 0 && len(removedSample) < 3 {
			removedSample = append(removedSample, u.removed[0])
		}
	}
	// The keys themselves, looked up by hash as a caller presents them: a
	// user key exists but is not the System key; a removed one is unknown.
	// Few of the latter, since each unknown key draws on the failure limit.
	for _, tok := range presentSample {
		if got, want := c.authMessage(t, tok), "Invalid authorization Key!"; got != want {
			t.Errorf("%s: an acknowledged key as Authorization: got %q, want %q", when, got, want)
		}
	}
	for _, tok := range removedSample {
		if got, want := c.authMessage(t, tok), "Invalid authorization key!"; got != want {
			t.Errorf("%s: a removed key as Authorization: got %q, want %q", when, got, want)
		}
	}
}

func countIn[V any](m map[string]V, tokens []string) int {
	n := 0
	for _, tok := range tokens {
		if _, ok := m[tok]; ok {
			n++
		}
	}
	return n
}

func keysOfSet(s map[string]bool) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	return out
}

// checkIntegrity opens the database file directly and runs SQLite's own
// consistency check over every page and index.
func checkIntegrity(t *testing.T, path, when string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("%s: open %s: %v", when, path, err)
	}
	defer db.Close()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("%s: integrity_check: %v", when, err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatalf("%s: integrity_check: %v", when, err)
		}
		got = append(got, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: integrity_check: %v", when, err)
	}
	if len(got) != 1 || got[0] != "ok" {
		t.Fatalf("%s: integrity_check: got %q, want [ok]", when, got)
	}
}

// ---- the binary and its processes ----

// binary is the apikeyd the tests run. It lives in the TempDir of the test
// that built it, so nothing outlives the run; when that test ends the path
// is forgotten and the next test builds again (the build cache makes that
// a link of about a second).
var binary struct {
	mu   sync.Mutex
	path string
}

func buildBinary(t *testing.T) string {
	t.Helper()
	binary.mu.Lock()
	defer binary.mu.Unlock()
	if binary.path != "" {
		return binary.path
	}
	path := filepath.Join(t.TempDir(), "apikeyd")
	// go test puts its own go first on PATH.
	out, err := exec.Command("go", "build", "-o", path, "github.com/apikeyd/apikeyd").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	binary.path = path
	t.Cleanup(func() {
		binary.mu.Lock()
		defer binary.mu.Unlock()
		binary.path = ""
	})
	return path
}

// secrets are the keys one data directory is used with on every start.
type secrets struct{ system, master string }

func newSecrets() secrets {
	master := make([]byte, 32)
	rand.Read(master)
	id := make([]byte, 8)
	rand.Read(id)
	return secrets{
		system: "durability-system-key-" + hex.EncodeToString(id),
		master: base64.StdEncoding.EncodeToString(master),
	}
}

// server is one running apikeyd process.
type server struct {
	cmd    *exec.Cmd
	url    string
	log    *logWatcher
	exited chan struct{} // closed once cmd.Wait has returned
}

// startServer starts the binary on dataDir, with env's further APIKEYD_
// settings, and returns once it is ready: it has logged its address and
// /v1/readyz answers 200. A process still running when the test ends is
// killed.
func startServer(t *testing.T, bin, dataDir string, sec secrets, env ...string) *server {
	t.Helper()
	lw := &logWatcher{addr: make(chan string, 1)}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "text")
	cmd.Env = append(envWithout("APIKEYD_"),
		"APIKEYD_SYSTEM_KEY="+sec.system,
		"APIKEYD_MASTER_KEY="+sec.master,
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = lw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	s := &server{cmd: cmd, log: lw, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			cmd.Process.Kill()
			<-s.exited
		}
	})

	select {
	case addr := <-lw.addr:
		s.url = "http://" + addr
	case <-s.exited:
		t.Fatalf("apikeyd exited with code %d before listening; log:\n%s", cmd.ProcessState.ExitCode(), lw.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("apikeyd did not log its address within 20 s; log:\n%s", lw.String())
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(s.url + "/v1/readyz")
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /v1/readyz not 200 within 10 s (last: %v, %v); log:\n%s", res, err, lw.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// envWithout is the test's environment without the variables that start
// with prefix, so that an APIKEYD_* of the caller cannot change the server.
func envWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// kill sends SIGKILL, the closest a test gets to pulling the plug on the
// process, and waits for it to be gone.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill apikeyd: %v", err)
	}
	<-s.exited
}

// terminate sends SIGTERM and waits up to timeout for the process to exit;
// it reports the exit code and whether it exited in time.
func (s *server) terminate(timeout time.Duration) (int, bool) {
	s.cmd.Process.Signal(syscall.SIGTERM)
	return s.waitExit(timeout)
}

func (s *server) waitExit(timeout time.Duration) (int, bool) {
	select {
	case <-s.exited:
		return s.cmd.ProcessState.ExitCode(), true
	case <-time.After(timeout):
		return 0, false
	}
}

// logWatcher collects the server's stderr and hands over the address from
// its "apikeyd listening addr=..." line.
type logWatcher struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	scanned int // bytes of buf already searched for the address line
	addr    chan string
	sent    bool
}

var listeningLine = regexp.MustCompile(`msg="?apikeyd listening"? .*\baddr=(\S+)`)

func (w *logWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for !w.sent {
		rest := w.buf.Bytes()[w.scanned:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		if m := listeningLine.FindSubmatch(rest[:i]); m != nil {
			w.addr <- string(m[1])
			w.sent = true
		}
		w.scanned += i + 1
	}
	return len(p), nil
}

func (w *logWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// ---- a small client ----

// client talks to one process over its own connections, so none outlives
// the process it was opened to.
type client struct {
	base string
	auth string // the System key
	tr   *http.Transport
	http *http.Client
}

func newClient(base, auth string) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	return &client{base: base, auth: auth, tr: tr, http: &http.Client{Transport: tr, Timeout: 15 * time.Second}}
}

func (c *client) close() { c.tr.CloseIdleConnections() }

// send returns the status and the whole body. An error means no answer
// arrived in full: the request was not acknowledged.
func (c *client) send(ctx context.Context, method, path, auth string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", auth)
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	return res.StatusCode, body, nil
}

type keyList struct {
	Keys []struct {
		Token     string    `json:"token"`
		User      string    `json:"user"`
		Note      string    `json:"note"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"keys"`
}

// getKeyList is a GET with the System key that must answer 200 with a key list.
func (c *client) getKeyList(t *testing.T, path string) keyList {
	t.Helper()
	status, body, err := c.send(context.Background(), "GET", path, c.auth)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if status != http.StatusOK {
		t.Fatalf("GET %s: got status %d %s, want 200", path, status, body)
	}
	var out keyList
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("GET %s: body %.200s: %v", path, body, err)
	}
	return out
}

// allKeys lists every user key: owner by token, and tokens by owner.
func (c *client) allKeys(t *testing.T) (map[string]string, map[string]map[string]bool) {
	t.Helper()
	owners, byUser := map[string]string{}, map[string]map[string]bool{}
	for _, k := range c.getKeyList(t, "/apiKeys/getKeys").Keys {
		owners[k.Token] = k.User
		if byUser[k.User] == nil {
			byUser[k.User] = map[string]bool{}
		}
		byUser[k.User][k.Token] = true
	}
	return owners, byUser
}

// userKeys lists the tokens of one user.
func (c *client) userKeys(t *testing.T, user string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, k := range c.getKeyList(t, "/apiKeys/getUserKeys/"+user).Keys {
		if k.User != user {
			t.Errorf("GET /apiKeys/getUserKeys/%s: got a key of %q", user, k.User)
		}
		out[k.Token] = true
	}
	return out
}

// authMessage presents token as the Authorization of a System route and
// returns the message of the 403 it must get.
func (c *client) authMessage(t *testing.T, token string) string {
	t.Helper()
	status, body, err := c.send(context.Background(), "GET", "/apiKeys/getKeys", token)
	if err != nil {
		t.Fatalf("GET /apiKeys/getKeys with a user key: %v", err)
	}
	if status != http.StatusForbidden {
		t.Fatalf("GET /apiKeys/getKeys with a user key: got status %d %s, want 403", status, body)
	}
	var out struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("GET /apiKeys/getKeys with a user key: body %s: %v", body, err)
	}
	return out.Error.Message
}

func decodeToken(body []byte) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
		return "", fmt.Errorf("body %s: want {\"token\": \"...\"}", body)
	}
	return out.Token, nil
}
