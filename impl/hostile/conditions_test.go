package hostile_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/datadir"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
)

// The service under hostile conditions rather than hostile requests: a
// flood of credentials from one address, apikeyd's own secrets offered
// where a Discord token is expected, the database deleted or its master
// key rotated under a running server, and a start with a System key that
// could never be used. (conditions_unix_test.go: the lock file removed
// beside a running server, a loose umask.)

// TestAFloodOfBadTokensReachesDiscordAtMostTheBurst: from one address, 150
// unknown Discord tokens at once take their places in the address's bucket
// before any is sent, so at most the burst of 30 reach Discord and the rest
// are answered 429 in /v1's shape; meanwhile 50 requests at once whose
// credentials are answered from cache (a Discord token whose user is
// known, a guild key used before) are never limited.
func TestAFloodOfBadTokensReachesDiscordAtMostTheBurst(t *testing.T) {
	const burst, flood = 30, 150
	s := startService(t, func(c *app.Config) { c.AuthFailureRate, c.AuthFailureBurst = 0.0001, burst })
	fx := populate(t, s.Instance, s.client)
	list := hostileRequest{family: famV1, method: "GET", target: "/v1/auth/api-key?guild_id=" + guild.String()}
	settings := hostileRequest{family: famV1, method: "GET", target: "/v1/settings?guild_id=" + guild.String()}
	if r := s.answer(t, withAuth(settings, fx.guildKeys[0])); r.status != 200 {
		t.Fatalf("the guild key's first use: %s", describeResult(r))
	}
	sentBefore := s.discord.TotalCalls()

	release := s.discord.Hold()
	defer release()
	var reqs []*http.Request
	for i := range flood {
		reqs = append(reqs, s.request(t, withAuth(list, fmt.Sprintf("Bearer guess-%d", i))))
	}
	answers := apptest.SendAtOnce(reqs)
	// Every request is either answered already or held at Discord.
	var results []result
	got := map[int]int{}
	take := func(a apptest.Answer) {
		r := result{status: a.Status, header: a.Header, body: a.Body, err: a.Err}
		results = append(results, r)
		got[r.status]++
	}
	deadline := time.Now().Add(10 * time.Second)
	for got[429]+s.discord.TotalCalls()-sentBefore < flood && time.Now().Before(deadline) {
		select {
		case a := <-answers:
			take(a)
		case <-time.After(10 * time.Millisecond):
		}
	}
	release()
	for a := range answers {
		take(a)
	}
	if sent := s.discord.TotalCalls() - sentBefore; sent > burst {
		t.Errorf("%d tokens reached Discord, want at most %d", sent, burst)
	}
	if got[401] > burst || got[401]+got[429] != flood {
		t.Errorf("answers %v, want at most %d of 401 and 429 for the rest", got, burst)
	}
	for _, r := range results {
		if msg := check(fx, list, r); msg != "" {
			t.Errorf("a token of the flood: %s: %s", msg, describeResult(r))
			break
		}
		if r.status == 429 && r.header.Get("Retry-After") == "" {
			t.Errorf("a 429 without Retry-After: %s", describeResult(r))
			break
		}
	}

	sentBefore = s.discord.TotalCalls()
	reqs = nil
	for range 25 {
		reqs = append(reqs, s.request(t, withAuth(list, "Bearer "+adminToken)), s.request(t, withAuth(settings, fx.guildKeys[0])))
	}
	got = map[int]int{}
	for a := range apptest.SendAtOnce(reqs) {
		got[a.Status]++
	}
	if got[200] != len(reqs) {
		t.Errorf("cached credentials after the flood: %v, want %d of 200", got, len(reqs))
	}
	if sent := s.discord.TotalCalls() - sentBefore; sent != 0 {
		t.Errorf("cached credentials sent %d calls to Discord, want none", sent)
	}
	checkNoSecretReachedDiscord(t, s.discord, fx)
}

// TestOwnSecretsNeverReachDiscord: apikeyd's own secrets (the System key,
// a master key, user keys of /apiKeys and dashboard session ids, mistyped
// or not) are recognised locally and refused with 401, whether in the
// Authorization header or as authorize's access_token: none is ever sent
// to Discord.
func TestOwnSecretsNeverReachDiscord(t *testing.T) {
	s := startService(t)
	userKey, err := s.Server.Store().CreateUserKey(context.Background(), "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	sessionID, _, err := s.Server.Store().CreateSession(context.Background(), 1, store.SessionTokens{AccessToken: "a", RefreshToken: "r"}, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"the System key":           apptest.SystemKey,
		"a user key":               userKey,
		"a mistyped user key":      apptest.Mistype(userKey),
		"a cut-off user key":       userKey[:20],
		"a session id":             sessionID,
		"a mistyped session id":    apptest.Mistype(sessionID),
		"the master key":           s.Config.MasterKey,
		"the master key, unpadded": strings.TrimRight(s.Config.MasterKey, "="),
	}
	fx := &fixture{userKeys: []string{apptest.SystemKey, userKey, sessionID, s.Config.MasterKey}}
	list := "/v1/auth/api-key?guild_id=" + guild.String()
	for name, secret := range secrets {
		for _, c := range []struct {
			how string
			req hostileRequest
		}{
			{"as Bearer", withAuth(hostileRequest{method: "GET", target: list}, "Bearer "+secret)},
			{"as Bearer on a helper", withAuth(hostileRequest{method: "GET", target: "/v1/helpers/get-supported-languages"}, "Bearer "+secret)},
			{"bare", withAuth(hostileRequest{method: "GET", target: list}, secret)},
			{"to authorize", hostileRequest{method: "POST", target: "/v1/auth/authorize",
				header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"access_token": "` + secret + `"}`)}},
		} {
			c.req.family, c.req.want = famV1, http.StatusUnauthorized
			if msg := check(fx, c.req, s.answer(t, c.req)); msg != "" {
				t.Errorf("%s %s: %s", name, c.how, msg)
			}
		}
	}
	if n := s.discord.TotalCalls(); n != 0 {
		t.Fatalf("%d of apikeyd's own secrets were sent to Discord", n)
	}
	checkNoSecretReachedDiscord(t, s.discord, fx)
}

// checkNoSecretReachedDiscord fails the test if Discord received any
// secret of apikeyd's as a token: one written as a key of ours (whatever
// follows its prefix) or a key of the fixture (the System key among them).
func checkNoSecretReachedDiscord(t *testing.T, fake *discordtest.Server, fx *fixture) {
	t.Helper()
	ours := append(slices.Clone(fx.userKeys), fx.guildKeys...)
	for _, token := range fake.Tokens() {
		if _, ok := keys.Ours(token); ok || slices.Contains(ours, token) {
			t.Errorf("Discord received a secret of apikeyd's: %s", clip(token, 12))
		}
	}
}

// writes are a change of every kind to each family's data, each of which
// succeeds on the data populate leaves (fx).
func writes(fx *fixture) []hostileRequest {
	g := guild.String()
	sys, adm := apptest.SystemKey, "Bearer "+adminToken
	v1 := func(method, path, body string) hostileRequest {
		return hostileRequest{family: famV1, method: method, target: path,
			header: http.Header{"Authorization": {adm}, "Content-Type": {"application/json"}}, body: []byte(body)}
	}
	apiKeys := func(method, path string) hostileRequest {
		return withAuth(hostileRequest{family: famAPIKeys, method: method, target: path}, sys)
	}
	return []hostileRequest{
		apiKeys("POST", "/apiKeys/new/dave"),
		apiKeys("POST", "/apiKeys/new/dave/a%20note"),
		apiKeys("DELETE", "/apiKeys/remove/alice"),
		v1("POST", "/v1/auth/api-key", `{"guild_id": "`+g+`"}`),
		v1("DELETE", "/v1/auth/api-key", `{"guild_id": "`+g+`", "api_key": "`+fx.guildKeys[0]+`"}`),
		v1("PUT", "/v1/settings", `{"guild_id": "`+g+`", "language": "de"}`),
		v1("PUT", "/v1/modules/logging/settings", `{"guild_id": "`+g+`", "log_errors": true}`),
		v1("DELETE", "/v1/modules/logging/settings", `{"guild_id": "`+g+`"}`),
		v1("POST", "/v1/modules/logging/disable", `{"guild_id": "`+g+`"}`),
	}
}

// readyz asks whether the service is ready.
var readyz = hostileRequest{family: famV1, method: "GET", target: "/v1/readyz"}

// TestWritesAfterTheDatabaseIsDeletedAreRefused: apikeyd.db with its -wal
// and -shm deleted under a running server (SQLite would go on writing to
// files no path leads to, then lose it all at the next start): no write is
// acknowledged, each gets 503 in its family's shape saying why, and
// readiness fails.
func TestWritesAfterTheDatabaseIsDeletedAreRefused(t *testing.T) {
	const fileGone = "The database file was deleted or replaced while this server ran"
	s := startService(t)
	fx := populate(t, s.Instance, s.client)
	s.DeleteDatabase(t)
	for _, w := range append(writes(fx), readyz) {
		r := s.answer(t, w)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), fileGone) {
			t.Errorf("%s %s after the deletion: %s, want 503 saying the file is gone", w.method, w.target, describeResult(r))
			continue
		}
		if msg := checkShape(fx, w, r); msg != "" {
			t.Errorf("%s %s after the deletion: %s", w.method, w.target, msg)
		}
	}
}

// TestAMasterKeyRotatedBesideTheServerAnswersWhatItDid: every key resealed
// beside a running server under a master key it does not hold (as
// `rotate-master-key` did before it took the server's lock). Whatever
// each write and list answers, no 5xx comes from a request that changed
// the database, and readiness fails.
func TestAMasterKeyRotatedBesideTheServerAnswersWhatItDid(t *testing.T) {
	s := startService(t)
	fx := populate(t, s.Instance, s.client)
	s.RotateMasterKey(t)
	ro := openReadOnly(t, s.Config.DBPath())
	lists := []hostileRequest{
		withAuth(hostileRequest{family: famAPIKeys, method: "GET", target: "/apiKeys/getKeys"}, apptest.SystemKey),
		withAuth(hostileRequest{family: famAPIKeys, method: "GET", target: "/apiKeys/getUserKeys/bob"}, apptest.SystemKey),
		withAuth(hostileRequest{family: famV1, method: "GET", target: "/v1/auth/api-key?guild_id=" + guild.String()}, "Bearer "+adminToken),
	}
	for _, w := range append(lists, writes(fx)...) {
		before := snapshot(t, ro)
		r := s.answer(t, w)
		if err := s.Server.FlushKeyUses(context.Background()); err != nil {
			t.Fatalf("flush key uses: %v", err)
		}
		after := snapshot(t, ro)
		if r.status >= 500 && before != after {
			t.Errorf("%s %s answered %d although it changed the database:\n%s", w.method, w.target, r.status, diffLines(before, after))
		}
		if r.err != nil {
			t.Errorf("%s %s: %v", w.method, w.target, r.err)
		} else if r.status >= 400 {
			if msg := checkShape(fx, w, r); msg != "" {
				t.Errorf("%s %s: %s", w.method, w.target, msg)
			}
		}
	}
	r := s.answer(t, readyz)
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("readyz after the rotation: %s, want 503", describeResult(r))
	} else if msg := checkShape(fx, readyz, r); msg != "" {
		t.Errorf("readyz after the rotation: %s", msg)
	}
}

// TestASystemKeyWithWhitespaceAroundIsRefused: HTTP takes leading and
// trailing whitespace off a header value, so such a key, once installed,
// could never be used; it is refused before anything is created.
func TestASystemKeyWithWhitespaceAroundIsRefused(t *testing.T) {
	const key = "a-system-key-from-the-vault"
	discard := slog.New(slog.DiscardHandler)
	for _, padded := range []string{" " + key, key + " ", "\t" + key, key + "\n", key + "\u00a0"} {
		cfg := apptest.Config(t)
		apptest.FileDatabase(&cfg)
		cfg.SystemKey = padded
		_, err := app.New(context.Background(), cfg, apptest.Schema(t), discard)
		if err == nil || !strings.Contains(err.Error(), "APIKEYD_SYSTEM_KEY begins or ends with whitespace") {
			t.Errorf("APIKEYD_SYSTEM_KEY=%q: %v, want refused", padded, err)
		}
		if _, err := os.Stat(cfg.DBPath()); !os.IsNotExist(err) {
			t.Errorf("APIKEYD_SYSTEM_KEY=%q: the refused start created the database", padded)
		}
	}
	// The same for a system.key file made by hand.
	cfg := apptest.Config(t)
	apptest.FileDatabase(&cfg)
	cfg.SystemKey = ""
	if err := datadir.Create(filepath.Join(cfg.DataDir, "system.key"), " "+key); err != nil {
		t.Fatal(err)
	}
	cfg.NewDatabase = true
	if _, err := app.New(context.Background(), cfg, apptest.Schema(t), discard); err == nil || !strings.Contains(err.Error(), "whitespace") {
		t.Errorf("system.key with a space before the key: %v, want refused", err)
	}
}

// withAuth is hr with Authorization set to auth.
func withAuth(hr hostileRequest, auth string) hostileRequest {
	hr.header = hr.header.Clone()
	if hr.header == nil {
		hr.header = http.Header{}
	}
	hr.header.Set("Authorization", auth)
	return hr
}

// request is hr as an *http.Request to the service, for apptest.SendAtOnce.
func (s *service) request(t *testing.T, hr hostileRequest) *http.Request {
	t.Helper()
	base, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := newRequest(base, hr)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
