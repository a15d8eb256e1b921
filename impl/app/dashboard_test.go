package app_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
)

// dashboardEnv turns the dashboard on, with a data dir of the test's own.
func dashboardEnv(t *testing.T) map[string]string {
	return map[string]string{
		"APIKEYD_DATA_DIR":              t.TempDir(),
		"APIKEYD_DISCORD_CLIENT_ID":     "1234567890",
		"APIKEYD_DISCORD_CLIENT_SECRET": "a-secret",
	}
}

// With the dashboard on, apikeyd refuses to start where browsers would not
// give it a secure context, or Discord could not send them back, and says
// why.
func TestTheDashboardRefusesUnsafeStarts(t *testing.T) {
	for _, c := range []struct {
		name string
		env  func(map[string]string)
		args []string
		says string
	}{
		{"no client secret", func(e map[string]string) { delete(e, "APIKEYD_DISCORD_CLIENT_SECRET") }, nil,
			"client secret"},
		{"http to a host that is not loopback", nil, []string{"--public-url", "http://keys.example.com"},
			"needs an https --public-url"},
		{"every IPv4 address, no public URL", nil, []string{"--addr", "0.0.0.0:8080"},
			"needs --public-url when listening on every address"},
		{"every IPv6 address, no public URL", nil, []string{"--addr", "[::]:8080"},
			"needs --public-url when listening on every address"},
		{"every address, no host, no public URL", nil, []string{"--addr", ":8080"},
			"needs --public-url when listening on every address"},
		{"a public URL with a path", nil, []string{"--public-url", "https://example.com/keys"},
			"without a path"},
		{"a public URL that is no URL", nil, []string{"--public-url", "keys.example.com"},
			"absolute http or https URL"},
		{"the secret given twice", nil, []string{"--discord-client-secret-file", "/dev/null"},
			"given twice"},
		{"a secret file that is not there", func(e map[string]string) { delete(e, "APIKEYD_DISCORD_CLIENT_SECRET") },
			[]string{"--discord-client-secret-file", "/nonexistent/secret"}, "--discord-client-secret-file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := dashboardEnv(t)
			if c.env != nil {
				c.env(env)
			}
			code, _, stderr := apptest.Main(t, env, append([]string{"serve"}, c.args...)...)
			if code != 1 || !strings.Contains(stderr, c.says) {
				t.Errorf("exit %d, stderr %q; want 1 saying %q", code, stderr, c.says)
			}
			if _, err := os.Stat(filepath.Join(env["APIKEYD_DATA_DIR"], "apikeyd.db")); err == nil {
				t.Error("a refused start created the database")
			}
		})
	}
}

// Where browsers do get a secure context, the dashboard starts: https
// anywhere, http on a loopback address.
func TestTheDashboardStartsOnSafeURLs(t *testing.T) {
	for _, c := range []struct{ addr, public string }{
		{"127.0.0.1:8080", ""},
		{"127.0.0.1:8080", "http://localhost:8080"},
		{"[::1]:8080", ""},
		{"0.0.0.0:8080", "https://keys.example.com"},
		{"127.0.0.1:8080", "https://keys.example.com/"},
	} {
		cfg := apptest.Config(t)
		cfg.Addr, cfg.PublicURL = c.addr, c.public
		cfg.DiscordClientID, cfg.DiscordClientSecret = "1234567890", "a-secret"
		cfg.DiscordAuthorizeURL = "https://discord.com/oauth2/authorize"
		srv, err := app.New(context.Background(), cfg, apptest.Schema(t), discard())
		if err != nil {
			t.Errorf("addr %s, public URL %q: %v", c.addr, c.public, err)
			continue
		}
		srv.Close()
	}
}

// `apikeyd serve` reads the client secret from its file and logs the
// redirect URI to register with Discord, once.
func TestServeLogsTheRedirectURIOnce(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "discord-secret")
	if err := os.WriteFile(secret, []byte("a-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := dashboardEnv(t)
	delete(env, "APIKEYD_DISCORD_CLIENT_SECRET")
	env["APIKEYD_MASTER_KEY"] = apptest.Config(t).MasterKey
	r, w := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() {
		exit <- app.Main(ctx, app.Env{
			Args:   []string{"serve", "--addr", "127.0.0.1:0", "--public-url", "https://keys.example.com", "--discord-client-secret-file", secret},
			Getenv: func(k string) string { return env[k] },
			Stdout: io.Discard, Stderr: w, Schemas: apptest.Schema(t),
		})
		w.Close()
	}()
	redirect := regexp.MustCompile(`redirect_uri=https://keys\.example\.com/dashboard/callback\b`)
	seen := 0
	lines := bufio.NewScanner(r)
	for lines.Scan() {
		if redirect.MatchString(lines.Text()) {
			seen++
		}
		if strings.Contains(lines.Text(), "apikeyd listening") {
			cancel()
		}
	}
	if code := <-exit; code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	if seen != 1 {
		t.Errorf("the redirect URI was logged %d times, want once", seen)
	}
}

// Without a client id the dashboard is off, and every page of it says in
// a sentence how to turn it on.
func TestTheDashboardIsOffWithoutAClientID(t *testing.T) {
	inst := apptest.Start(t, nil)
	for _, path := range []string{"/dashboard/", "/dashboard/login", "/dashboard/callback?code=x&state=y", "/dashboard/guilds/1098765432109876543"} {
		res, body := inst.Do(t, http.MethodGet, path, "", nil)
		if res.StatusCode != 404 || !strings.Contains(string(body), "--discord-client-id") || !strings.Contains(string(body), "The dashboard is off") {
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no Content-Security-Policy", path)
		}
	}
	if res, body := inst.Do(t, http.MethodGet, "/v1/auth/api-key?guild_id=1", "", nil); res.StatusCode != 401 {
		t.Errorf("/v1 without credentials while the dashboard is off: %d %s", res.StatusCode, body)
	}
}
