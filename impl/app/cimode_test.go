package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/openapi"
)

const (
	seededGuild    = "1098765432109876543"
	seededAdmin    = "310987654321098765"
	seededGuildKey = "akdg_LSBg3h144o09IJmJjpp2vAapuMbxT41DxnIf"
	seededUserKey  = "akdu_g44ltV5gl2wV6h1f8kgdBIakGwK23u2WUsyy"
	seededToken    = "ci-admin-token"
)

const ciSeed = `guilds:
  - id: "` + seededGuild + `"
    administrators: ["` + seededAdmin + `"]
    settings: {language: nl}
    keys: [` + seededGuildKey + `]
user_keys:
  - {token: ` + seededUserKey + `, user: ci-bot, note: seeded}
discord_users:
  - token: ` + seededToken + `
    id: "` + seededAdmin + `"
    username: ci-admin
    guilds: [{id: "` + seededGuild + `", name: CI guild}]
`

// writeSeed writes content as a seed file of the test's own.
func writeSeed(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// syncBuffer is a log both the server and the test touch.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newLogged builds a server from cfg, logging into the returned buffer.
func newLogged(t *testing.T, cfg app.Config) (*app.Server, *syncBuffer, error) {
	t.Helper()
	var log syncBuffer
	srv, err := app.New(context.Background(), cfg, apptest.Schema(t), slog.New(slog.NewTextHandler(&log, nil)))
	if err == nil {
		t.Cleanup(func() { srv.Close() })
	}
	return srv, &log, err
}

func TestCIModeLogsInCreatesAndUsesKeysWithoutDiscord(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.Seed = writeSeed(t, ciSeed)
	cfg.FakeDiscord = true
	inst := apptest.Start(t, &cfg)

	res, body := inst.Do(t, "GET", "/v1/auth/api-key?guild_id="+seededGuild, "Bearer "+seededToken, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), seededGuildKey) {
		t.Fatalf("list with the seed's token: %d %s", res.StatusCode, body)
	}
	res, body = inst.Do(t, "POST", "/v1/auth/api-key", "Bearer "+seededToken, strings.NewReader(`{"guild_id":"`+seededGuild+`"}`))
	if res.StatusCode != 200 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	var created struct {
		Data struct {
			APIKey struct {
				APIKey    string `json:"api_key"`
				CreatedBy string `json:"created_by"`
			} `json:"api_key"`
		}
	}
	if err := json.Unmarshal(body, &created); err != nil || created.Data.APIKey.CreatedBy != seededAdmin {
		t.Fatalf("created: %s (%v)", body, err)
	}
	for _, key := range []string{seededGuildKey, created.Data.APIKey.APIKey} {
		res, body = inst.Do(t, "GET", "/v1/settings?guild_id="+seededGuild, "Bearer "+key, nil)
		if res.StatusCode != 200 || !strings.Contains(string(body), `"language":"nl"`) {
			t.Fatalf("settings with a guild key: %d %s", res.StatusCode, body)
		}
	}
	res, body = inst.Do(t, "GET", "/v1/auth/api-key?guild_id="+seededGuild, "Bearer not-a-seeded-token", nil)
	if res.StatusCode != 401 {
		t.Fatalf("an unknown token: %d %s", res.StatusCode, body)
	}
	res, body = inst.Do(t, "GET", "/apiKeys/getUserKeys/ci-bot", apptest.SystemKey, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), seededUserKey) || !strings.Contains(string(body), `"note":"seeded"`) {
		t.Fatalf("the seeded user key: %d %s", res.StatusCode, body)
	}
}

func TestFakeDiscordAnswersTheSeedsUsersAndGuilds(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.Seed = writeSeed(t, ciSeed)
	cfg.FakeDiscord = true
	inst := apptest.Start(t, &cfg)
	// /v1 asks the fake for the user behind a token; the same fake lists
	// the user's guilds, for the dashboard.
	res, body := inst.Do(t, "POST", "/v1/auth/authorize", "", strings.NewReader(`{"access_token":"`+seededToken+`"}`))
	if res.StatusCode != 200 || !strings.Contains(string(body), `"sub":"`+seededAdmin+`"`) {
		t.Fatalf("authorize: %d %s", res.StatusCode, body)
	}
}

// In CI mode the fake Discord has a bot of its own, in every guild of the
// seed with the fixed roles, channels, members and emoji the README lists:
// the helpers answer them, and the logging module posts to the logs
// channel there.
func TestFakeDiscordHasABot(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.Seed = writeSeed(t, ciSeed)
	cfg.FakeDiscord = true
	cfg.LogChannel.PollInterval = 10 * time.Millisecond
	inst := apptest.Start(t, &cfg)
	for _, c := range []struct{ query, want string }{
		{"get-guild-roles?", `"roles":[{"id":"1400000000000000001","name":"Moderator"},{"id":"` + seededGuild + `","name":"@everyone"}]`},
		{"get-guild-channels?types=text&", `"channels":[{"id":"1400000000000000002","name":"logs","type":"text"},{"id":"1400000000000000003","name":"general","type":"text"}]`},
		{"get-guild-channels?", `{"id":"1400000000000000005","name":"Community","type":"category"},`},
		{"get-guild-channels?", `{"id":"1400000000000000004","name":"Voice","type":"voice"}]`},
		{"get-guild-users?", `"users":[{"id":"` + seededAdmin + `","image":null,"name":"ci-admin","prevent_data_collection":false}]`},
		{"get-guild-emojis?", `"emojis":[{"animated":false,"colons_required":true,"id":"1400000000000000006","managed":false,"name":"apikeyd",`},
	} {
		res, body := inst.Do(t, "GET", "/v1/helpers/"+c.query+"guild_id="+seededGuild, seededGuildKey, nil)
		if res.StatusCode != 200 || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want it to hold %s", c.query, res.StatusCode, body, c.want)
		}
	}
	for _, req := range []struct{ method, path, body string }{
		{"PUT", "/v1/modules/logging/settings", `{"guild_id": "` + seededGuild + `", "logs_channel_id": "1400000000000000002"}`},
		{"POST", "/v1/modules/logging/enable", `{"guild_id": "` + seededGuild + `"}`},
	} {
		if res, body := inst.Do(t, req.method, req.path, seededGuildKey, strings.NewReader(req.body)); res.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", req.method, req.path, res.StatusCode, body)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, metrics := inst.Do(t, "GET", "/metrics", "", nil)
		if strings.Contains(string(metrics), `apikeyd_log_messages_total{outcome="delivered"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the module's first message was not posted to the fake:\n%s", metrics)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSeedIsAppliedAtEveryStartAndChangesNothingTheSecondTime(t *testing.T) {
	cfg := fileConfig(t)
	cfg.Seed = writeSeed(t, ciSeed)
	cfg.FakeDiscord = true
	first, log, err := newLogged(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "changed=true") {
		t.Fatalf("first start: %s", log)
	}
	if !strings.Contains(log.String(), "level=WARN msg=\"seeding a database file") {
		t.Errorf("no warning of seeding a database file: %s", log)
	}
	first.Close()

	second, log, err := newLogged(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "changed=false") || !strings.Contains(log.String(), "level=WARN msg=\"seeding a database file") {
		t.Fatalf("second start: %s", log)
	}
	keys, err := second.Store().ListGuildKeys(context.Background(), 1098765432109876543)
	if err != nil || len(keys) != 1 || keys[0].Token != seededGuildKey {
		t.Fatalf("after two starts: %+v, %v", keys, err)
	}
}

func TestSeedOnMemoryIsNotWarnedAbout(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.DB = ":memory:"
	cfg.Seed = writeSeed(t, "guilds: [{id: \"1\"}]\n")
	_, log, err := newLogged(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "level=WARN") {
		t.Fatalf("warned: %s", log)
	}
}

func TestStartRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*app.Config)
		want string
	}{
		{"a bad seed file, by line and field", func(c *app.Config) {
			c.Seed = writeSeed(t, "guilds:\n  - id: \"1\"\n    keys: ["+seededGuildKey[:40]+"x]\n")
		}, "seed.yaml:3: guilds[0].keys[0]: not a guild key (checksum)"},
		{"a seed file that is not there", func(c *app.Config) { c.Seed = filepath.Join(t.TempDir(), "none.yaml") }, "seed: open"},
		{"fake Discord users without --fake-discord", func(c *app.Config) { c.Seed = writeSeed(t, ciSeed) },
			"seed.yaml:8: discord_users: fake Discord users are known only to --fake-discord (APIKEYD_FAKE_DISCORD=true), which is off"},
		{"the fake on every address", func(c *app.Config) { c.FakeDiscord, c.Addr = true, ":8080" }, `--fake-discord needs a loopback --addr, such as 127.0.0.1:8080 (got ":8080")`},
		{"a bot token with the fake", func(c *app.Config) { c.FakeDiscord, c.DiscordBotToken = true, testBotToken }, "--fake-discord has a bot of its own"},
		{"the fake on a public address", func(c *app.Config) { c.FakeDiscord, c.Addr = true, "192.0.2.7:8080" }, `(got "192.0.2.7:8080")`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := fileConfig(t)
			c.set(&cfg)
			_, _, err := newLogged(t, cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if _, err := os.Stat(cfg.DBPath()); !os.IsNotExist(err) {
				t.Errorf("a refused start left a database behind: %v", err)
			}
		})
	}
}

func TestSeedThatWouldMoveAKeyIsRefusedAndChangesNothing(t *testing.T) {
	cfg := fileConfig(t)
	cfg.Seed = writeSeed(t, "guilds:\n  - id: \"1\"\n    keys: ["+seededGuildKey+"]\n")
	first, _, err := newLogged(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	cfg.Seed = writeSeed(t, "guilds:\n  - id: \"2\"\n    administrators: [\"5\"]\n    keys:\n      - "+seededGuildKey+"\n")
	_, _, err = newLogged(t, cfg)
	want := "seed.yaml:5: guilds[0].keys[0]: the database holds this key elsewhere: it is a key of guild 1"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
	cfg.Seed = ""
	again, _, err := newLogged(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if admins, err := again.Store().ListGuildAdmins(context.Background(), 2); err != nil || len(admins) != 0 {
		t.Fatalf("the refused seed wrote: %+v, %v", admins, err)
	}
}

func TestFakeDiscordIsWarnedAboutAtEveryStart(t *testing.T) {
	cfg := fileConfig(t)
	cfg.FakeDiscord = true
	for range 2 {
		srv, log, err := newLogged(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log.String(), `level=WARN msg="--fake-discord: FOR TESTS ONLY.`) {
			t.Fatalf("no warning: %s", log)
		}
		srv.Close()
	}
}

func TestServeReadsTheCIModeFlagsAndEnvironment(t *testing.T) {
	seedFile := writeSeed(t, ciSeed)
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"flags":       {args: []string{"--seed", seedFile, "--fake-discord"}},
		"environment": {env: map[string]string{"APIKEYD_SEED": seedFile, "APIKEYD_FAKE_DISCORD": "true"}},
	} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"APIKEYD_SYSTEM_KEY": apptest.SystemKey}
			for k, v := range c.env {
				env[k] = v
			}
			_, log := serveCIMode(t, append([]string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--data-dir", t.TempDir()}, c.args...), env)
			if !strings.Contains(log.String(), "--fake-discord: FOR TESTS ONLY") || !strings.Contains(log.String(), "guild_keys_added=1") {
				t.Fatalf("log: %s", log.String())
			}
		})
	}
}

func TestSeedSchemaIsServed(t *testing.T) {
	inst := apptest.Start(t, nil)
	res, body := inst.Do(t, "GET", "/openapi/"+openapi.SeedSchema, "", nil)
	want, err := openapi.Documents.ReadFile(openapi.SeedSchema)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !bytes.Equal(body, want) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s: %.100s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

var listeningAt = regexp.MustCompile(`msg="apikeyd listening" addr=(\S+)`)

// waitListening waits for the log of a server started by app.Main to say
// where it listens, and returns its URL; done is where Main's exit code
// arrives if it ends first.
func waitListening(t *testing.T, log *syncBuffer, done <-chan int) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if m := listeningAt.FindStringSubmatch(log.String()); m != nil {
			return "http://" + m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("apikeyd exited %d before listening: %s", code, log.String())
		case <-deadline:
			t.Fatalf("apikeyd did not listen within 30 s: %s", log.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// freeLoopbackAddr is a loopback address with a port nobody listens on,
// for a server whose public URL must be known before it starts.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveCIMode runs apikeyd serve through app.Main with args and env, and
// returns its URL; it stops when the test ends.
func serveCIMode(t *testing.T, args []string, env map[string]string) (string, *syncBuffer) {
	t.Helper()
	return serveCIModeWithSchema(t, apptest.Schema(t), args, env)
}

// serveCIModeWithSchema is serveCIMode for a test that has left the
// repository's directory, where apptest.Schema finds schema.sql.
func serveCIModeWithSchema(t *testing.T, schemas app.Schemas, args []string, env map[string]string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var log syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- app.Main(ctx, app.Env{
			Args: append([]string{"serve"}, args...), Getenv: func(k string) string { return env[k] },
			Stdout: &log, Stderr: &log, Schemas: schemas,
		})
	}()
	url := waitListening(t, &log, done)
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d: %s", code, log.String())
		}
	})
	return url, &log
}

func TestTheDashboardLogsInAtTheFakeDiscord(t *testing.T) {
	addr := freeLoopbackAddr(t)
	url, log := serveCIMode(t,
		[]string{"--addr", addr, "--db", ":memory:", "--data-dir", t.TempDir(), "--seed", writeSeed(t, ciSeed), "--fake-discord"},
		map[string]string{"APIKEYD_SYSTEM_KEY": apptest.SystemKey, "APIKEYD_DISCORD_CLIENT_ID": "ci-app", "APIKEYD_DISCORD_CLIENT_SECRET": "ci-app-secret"})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	res, err := browser.Get(url + "/dashboard/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Path != "/dashboard/" {
		t.Fatalf("login ended at %s: %d %s\n%s", res.Request.URL, res.StatusCode, page, log.String())
	}
	// The session the login started authenticates /v1, as the page uses it.
	req, _ := http.NewRequest("GET", url+"/v1/auth/api-key?guild_id="+seededGuild, nil)
	res, err = browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), seededGuildKey) {
		t.Fatalf("keys with the session: %d %s", res.StatusCode, body)
	}
}
