package dashboard_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
	"github.com/apikeyd/apikeyd/impl/session"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

const (
	guild        snowflake.ID = 1098765432109876543
	otherGuild   snowflake.ID = 1098765432109876544
	admin        snowflake.ID = 310987654321098765
	clientID                  = "1234567890"
	clientSecret              = "dashboard-test-secret"
)

// clock is the instance's clock, moved by the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// world is apikeyd with the dashboard on, a fake Discord that knows its
// application, and admin, administrator of guild, about to log in.
type world struct {
	*apptest.Instance
	fake  *discordtest.Server
	clock *clock
}

func newWorld(t *testing.T, options ...func(*app.Config)) *world {
	t.Helper()
	fake := discordtest.NewServer(t)
	c := &clock{now: time.Now()}
	cfg := apptest.Config(t)
	cfg.DiscordAPIURL = fake.URL()
	cfg.DiscordAuthorizeURL = fake.AuthorizeURL()
	cfg.DiscordClientID = clientID
	cfg.DiscordClientSecret = clientSecret
	cfg.Now = c.Now
	for _, o := range options {
		o(&cfg)
	}
	return startWorld(t, &cfg, fake, c)
}

func startWorld(t *testing.T, cfg *app.Config, fake *discordtest.Server, c *clock) *world {
	t.Helper()
	w := &world{Instance: apptest.Start(t, cfg), fake: fake, clock: c}
	fake.AddApp(clientID, clientSecret, w.Config.PublicURL+"/dashboard/callback")
	fake.LoginAs(admin.String())
	fake.AddGuilds(admin.String(),
		discordtest.Guild{ID: guild.String(), Name: "Example Guild"},
		discordtest.Guild{ID: otherGuild.String(), Name: "another guild"})
	if _, err := w.Server.Store().AddGuildAdmin(context.Background(), guild, admin); err != nil {
		t.Fatal(err)
	}
	return w
}

// browser is a browser of the dashboard: it keeps cookies as a browser
// does, and follows no redirect by itself, so that each step can be seen.
type browser struct {
	t      *testing.T
	client *http.Client
	jar    *cookiejar.Jar
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, jar: jar, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// answer is a response with its body read.
type answer struct {
	*http.Response
	body string
}

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return answer{res, string(body)}
}

func (b *browser) get(u string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// fetch is what the page's script sends: a /v1 call with the cookie, from
// the page's own origin.
func (b *browser) fetch(method, u, body string) answer {
	b.t.Helper()
	return b.fetchFrom("same-origin", "", method, u, body)
}

// fetchFrom is a fetch that a page of another site could send: the
// browser marks it with Sec-Fetch-Site (site) and Origin (origin).
func (b *browser) fetchFrom(site, origin, method, u, body string) answer {
	b.t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

// location is where a redirect answer sends the browser.
func (a answer) location(t *testing.T) *url.URL {
	t.Helper()
	if a.StatusCode < 300 || a.StatusCode > 399 {
		t.Fatalf("want a redirect, got %d: %s", a.StatusCode, a.body)
	}
	u, err := a.Request.URL.Parse(a.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// cookie is the Set-Cookie of an answer named name, or nil.
func (a answer) cookie(name string) *http.Cookie {
	for _, c := range a.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// loginSteps are the answers of one login, step by step.
type loginSteps struct {
	login, authorize, callback answer
}

// logIn logs the browser in through Discord's authorize page, as a user
// who allows apikeyd.
func (w *world) logIn(t *testing.T, b *browser) loginSteps {
	t.Helper()
	var s loginSteps
	s.login = b.get(w.URL + "/dashboard/login")
	s.authorize = b.get(s.login.location(t).String())
	s.callback = b.get(s.authorize.location(t).String())
	if s.callback.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", s.callback.StatusCode, s.callback.body)
	}
	return s
}

// sessionID is the session cookie the browser holds for the instance.
func (w *world) sessionID(t *testing.T, b *browser) string {
	t.Helper()
	u, _ := url.Parse(w.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == session.CookieName {
			return c.Value
		}
	}
	return ""
}

// accessToken is the Discord access token the browser's session holds.
func (w *world) accessToken(t *testing.T, b *browser) string {
	t.Helper()
	sess, err := w.Server.Store().SessionByID(context.Background(), w.sessionID(t, b))
	if err != nil {
		t.Fatal(err)
	}
	return sess.Tokens.AccessToken
}

func decodeData[T any](t *testing.T, a answer) T {
	t.Helper()
	var env struct {
		Success bool
		Data    T
	}
	if err := json.Unmarshal([]byte(a.body), &env); err != nil || !env.Success {
		t.Fatalf("not a success (%d, %v): %s", a.StatusCode, err, a.body)
	}
	return env.Data
}

type apiKey struct {
	ID        int64  `json:"id"`
	APIKey    string `json:"api_key"`
	CreatedBy string `json:"created_by"`
}

// keysOf lists guild's keys through /v1 with the browser's cookie.
func (w *world) keysOf(t *testing.T, b *browser) []apiKey {
	t.Helper()
	a := b.fetch(http.MethodGet, w.URL+"/v1/auth/api-key?guild_id="+guild.String(), "")
	return decodeData[struct {
		APIKeys []apiKey `json:"api_keys"`
	}](t, a).APIKeys
}

func guildBody() string { return `{"guild_id": "` + guild.String() + `"}` }

func deleteBody(key string) string {
	return `{"guild_id": "` + guild.String() + `", "api_key": "` + key + `"}`
}
