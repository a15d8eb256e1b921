package dashboard_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/session"
)

// The whole way of a user: the login page, Discord, the callback, the
// session cookie, and the keys through /v1 with that cookie.
func TestLogInThenManageKeysWithTheCookie(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t)

	home := b.get(w.URL + "/dashboard/")
	if home.StatusCode != 200 || !strings.Contains(home.body, `id="login"`) || !strings.Contains(home.body, "Log in with Discord") {
		t.Fatalf("signed out home: %d %s", home.StatusCode, home.body)
	}

	steps := w.logIn(t, b)
	to := steps.login.location(t)
	q := to.Query()
	for name, want := range map[string]string{
		"response_type":         "code",
		"client_id":             clientID,
		"redirect_uri":          w.Config.PublicURL + "/dashboard/callback",
		"scope":                 "identify guilds",
		"code_challenge_method": "S256",
	} {
		if got := q.Get(name); got != want {
			t.Errorf("authorize URL %s: got %q, want %q", name, got, want)
		}
	}
	if !strings.HasPrefix(to.String(), w.fake.AuthorizeURL()+"?") {
		t.Errorf("login goes to %s, not Discord's authorize page %s", to, w.fake.AuthorizeURL())
	}
	if c := q.Get("code_challenge"); !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(c) {
		t.Errorf("code_challenge %q is not a base64url SHA-256", c)
	}
	state := q.Get("state")
	if len(state) < 20 {
		t.Errorf("state %q is too short to be unguessable", state)
	}

	login := steps.login.cookie("apikeyd_login")
	if login == nil || !login.HttpOnly || login.SameSite != http.SameSiteLaxMode || login.Path != "/dashboard/callback" || login.MaxAge <= 0 || login.MaxAge > 600 {
		t.Errorf("login cookie: %+v", login)
	}
	if strings.Contains(login.Value, state) == false {
		t.Errorf("the login cookie does not hold the state it is checked against")
	}

	if got := steps.callback.location(t).Path; got != "/dashboard/" {
		t.Errorf("callback sends to %s, want /dashboard/", got)
	}
	c := steps.callback.cookie(session.CookieName)
	if c == nil {
		t.Fatal("the callback set no session cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
		t.Errorf("session cookie attributes: %+v (want HttpOnly, SameSite=Lax, Path=/, not Secure over http)", c)
	}
	if !session.WellFormed(c.Value) || !strings.HasPrefix(c.Value, "akds_") {
		t.Errorf("session cookie value %q is not a session id", c.Value)
	}
	if done := steps.callback.cookie("apikeyd_login"); done == nil || done.MaxAge >= 0 {
		t.Errorf("the login cookie is not cleared by the callback: %+v", done)
	}

	picker := b.get(w.URL + "/dashboard/")
	if picker.StatusCode != 200 || !strings.Contains(picker.body, `id="guilds"`) || !strings.Contains(picker.body, `id="logout"`) {
		t.Fatalf("signed in home: %d %s", picker.StatusCode, picker.body)
	}
	guilds := decodeData[struct {
		Guilds []struct {
			ID     string
			Active bool
		}
	}](t, b.fetch(http.MethodGet, w.URL+"/v1/helpers/get-husqy-for-guild", ""))
	if len(guilds.Guilds) != 2 || guilds.Guilds[0].ID != guild.String() || !guilds.Guilds[0].Active || guilds.Guilds[1].Active {
		t.Errorf("the picker's guilds: %+v", guilds)
	}

	if got := w.keysOf(t, b); len(got) != 0 {
		t.Fatalf("keys before any: %+v", got)
	}
	created := decodeData[struct {
		APIKey apiKey `json:"api_key"`
	}](t, b.fetch(http.MethodPost, w.URL+"/v1/auth/api-key", guildBody())).APIKey
	if created.CreatedBy != admin.String() {
		t.Errorf("created_by %q, want the logged-in user %s", created.CreatedBy, admin)
	}
	if got := w.keysOf(t, b); len(got) != 1 || got[0].APIKey != created.APIKey {
		t.Fatalf("keys after create: %+v", got)
	}
	entries := decodeData[struct {
		Entries []struct{ Actor, Action string }
	}](t, b.fetch(http.MethodGet, w.URL+"/v1/modules/logging/entries?guild_id="+guild.String(), ""))
	if len(entries.Entries) != 1 || entries.Entries[0].Actor != "<@"+admin.String()+">" {
		t.Errorf("audit log: %+v, want one entry by <@%s>", entries, admin)
	}

	page := b.get(w.URL + "/dashboard/guilds/" + guild.String())
	if page.StatusCode != 200 || !strings.Contains(page.body, `data-guild-id="`+guild.String()+`"`) {
		t.Fatalf("keys page: %d %s", page.StatusCode, page.body)
	}

	if a := b.fetch(http.MethodDelete, w.URL+"/v1/auth/api-key", deleteBody(created.APIKey)); a.StatusCode != 200 {
		t.Fatalf("delete: %d %s", a.StatusCode, a.body)
	}
	if got := w.keysOf(t, b); len(got) != 0 {
		t.Fatalf("keys after delete: %+v", got)
	}
}

// A login returns to the keys page it was started from, and never to
// another site.
func TestLoginReturnsToTheDashboardOnly(t *testing.T) {
	w := newWorld(t)
	for next, want := range map[string]string{
		"/dashboard/guilds/" + guild.String(): "/dashboard/guilds/" + guild.String(),
		"https://elsewhere.example/":          "/dashboard/",
		"//elsewhere.example/dashboard/":      "/dashboard/",
		"/docs":                               "/dashboard/",
	} {
		b := newBrowser(t)
		login := b.get(w.URL + "/dashboard/login?next=" + next)
		callback := b.get(b.get(login.location(t).String()).location(t).String())
		if got := callback.location(t); got.Host != strings.TrimPrefix(w.URL, "http://") || got.Path != want {
			t.Errorf("next=%s: the callback sends to %s, want %s", next, got, want)
		}
	}
	b := newBrowser(t)
	page := b.get(w.URL + "/dashboard/guilds/" + guild.String())
	if !strings.Contains(page.body, `href="/dashboard/login?next=%2fdashboard%2fguilds%2f`+guild.String()+`"`) {
		t.Errorf("a signed-out keys page does not log in back to it: %s", page.body)
	}
}

// Every way a callback can fail is a page that says what happened, and
// starts no session.
func TestCallbackRefusals(t *testing.T) {
	w := newWorld(t)

	type step func(t *testing.T, b *browser) answer
	started := func(t *testing.T, b *browser) (callback string) {
		return b.get(b.get(w.URL + "/dashboard/login").location(t).String()).location(t).String()
	}
	for _, tc := range []struct {
		name   string
		run    step
		status int
		says   string
	}{
		{"no state at all", func(t *testing.T, b *browser) answer {
			return b.get(w.URL + "/dashboard/callback?code=abc")
		}, 400, "not started in this browser"},
		{"another browser's answer", func(t *testing.T, b *browser) answer {
			callback := started(t, newBrowser(t))
			return b.get(callback)
		}, 400, "not started in this browser"},
		{"forged state", func(t *testing.T, b *browser) answer {
			callback := started(t, b)
			return b.get(regexp.MustCompile(`state=[^&]*`).ReplaceAllString(callback, "state=forged"))
		}, 400, "does not belong to the login"},
		{"code used twice", func(t *testing.T, b *browser) answer {
			first := newBrowser(t)
			callback := started(t, first)
			if a := first.get(callback); a.StatusCode != http.StatusSeeOther {
				t.Fatalf("first use: %d %s", a.StatusCode, a.body)
			}
			// The same code, with this browser's own login and state.
			again := started(t, b)
			code := regexp.MustCompile(`code=[^&]*`)
			return b.get(code.ReplaceAllString(again, code.FindString(callback)))
		}, 400, "used already"},
		{"Discord's error=", func(t *testing.T, b *browser) answer {
			w.fake.DenyNextLogin()
			return b.get(started(t, b))
		}, 403, "did not allow apikeyd"},
		{"Discord down", func(t *testing.T, b *browser) answer {
			callback := started(t, b)
			w.fake.FailWith(http.StatusServiceUnavailable)
			defer w.fake.FailWith(0)
			return b.get(callback)
		}, 503, "Discord could not be reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t)
			a := tc.run(t, b)
			if a.StatusCode != tc.status || !strings.Contains(a.body, tc.says) {
				t.Fatalf("got %d, want %d saying %q: %s", a.StatusCode, tc.status, tc.says, a.body)
			}
			if !strings.Contains(a.Header.Get("Content-Type"), "text/html") || !strings.Contains(a.body, `<html lang="en">`) {
				t.Errorf("not an HTML page: %s", a.Header.Get("Content-Type"))
			}
			if c := a.cookie(session.CookieName); c != nil && c.Value != "" {
				t.Errorf("a failed callback set a session cookie: %+v", c)
			}
			if id := w.sessionID(t, b); id != "" {
				t.Errorf("the browser holds a session after a failed callback")
			}
		})
	}
}

// Changes with the cookie are refused from another site, and nothing
// changes; from the dashboard's own pages they are accepted.
func TestCrossSiteChangesWithTheCookieAreRefused(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t)
	w.logIn(t, b)
	kept := decodeData[struct {
		APIKey apiKey `json:"api_key"`
	}](t, b.fetch(http.MethodPost, w.URL+"/v1/auth/api-key", guildBody())).APIKey

	for _, tc := range []struct{ name, site, origin string }{
		{"Sec-Fetch-Site cross-site", "cross-site", "https://elsewhere.example"},
		{"Sec-Fetch-Site same-site", "same-site", "https://sub." + strings.TrimPrefix(w.URL, "http://")},
		{"Origin of another host, no Sec-Fetch-Site", "", "https://elsewhere.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct{ method, path, body string }{
				{http.MethodPost, "/v1/auth/api-key", guildBody()},
				{http.MethodDelete, "/v1/auth/api-key", deleteBody(kept.APIKey)},
				{http.MethodPut, "/v1/settings", `{"guild_id": "` + guild.String() + `", "language": "nl"}`},
			} {
				a := b.fetchFrom(tc.site, tc.origin, r.method, w.URL+r.path, r.body)
				if a.StatusCode != 403 || a.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(a.body, "another site") {
					t.Errorf("%s %s: got %d %s, want 403 problem", r.method, r.path, a.StatusCode, a.body)
				}
			}
			logout := b.fetchFrom(tc.site, tc.origin, http.MethodPost, w.URL+"/dashboard/logout", "")
			if logout.StatusCode != 403 {
				t.Errorf("logout from another site: %d", logout.StatusCode)
			}
		})
	}
	if got := w.keysOf(t, b); len(got) != 1 || got[0].APIKey != kept.APIKey {
		t.Errorf("keys changed by refused requests: %+v", got)
	}
	settings := b.fetchFrom("cross-site", "https://elsewhere.example", http.MethodGet, w.URL+"/v1/settings?guild_id="+guild.String(), "")
	if settings.StatusCode != 200 || strings.Contains(settings.body, `"language":"nl"`) {
		t.Errorf("settings after refused changes: %d %s", settings.StatusCode, settings.body)
	}
	// A request from no browser at all (no Sec-Fetch-Site, no Origin).
	if a := b.fetchFrom("", "", http.MethodPost, w.URL+"/v1/auth/api-key", guildBody()); a.StatusCode != 200 {
		t.Errorf("a change without browser headers: %d %s", a.StatusCode, a.body)
	}
}

// Where a request carries an Authorization header and the cookie, the
// header decides.
func TestTheAuthorizationHeaderWinsOverTheCookie(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t)
	w.logIn(t, b)
	w.fake.AddUser("someone-elses-token", "310987654321098766", "someone")
	for header, want := range map[string]int{
		"Bearer someone-elses-token": 403, // a user who administers nothing
		"Bearer not-a-token":         401,
	} {
		req, _ := http.NewRequest(http.MethodGet, w.URL+"/v1/auth/api-key?guild_id="+guild.String(), nil)
		req.Header.Set("Authorization", header)
		if a := b.do(req); a.StatusCode != want {
			t.Errorf("%s with the cookie: got %d, want %d: %s", header, a.StatusCode, want, a.body)
		}
	}
}

// Logout deletes the session, revokes its grant at Discord, clears the
// cookie and forgets the token's identity.
func TestLogout(t *testing.T) {
	for _, revocationFails := range []bool{false, true} {
		name := "revoked"
		if revocationFails {
			name = "Discord failing"
		}
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			b := newBrowser(t)
			w.logIn(t, b)
			id, token := w.sessionID(t, b), w.accessToken(t, b)
			// The token's user is known now: a bearer request with it asks
			// Discord nothing.
			bearer := func() int {
				req, _ := http.NewRequest(http.MethodGet, w.URL+"/v1/auth/api-key?guild_id="+guild.String(), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				return newBrowser(t).do(req).StatusCode
			}
			if got := bearer(); got != 200 {
				t.Fatalf("the session's token as a bearer token: %d", got)
			}
			asked := w.fake.Calls(token)

			if revocationFails {
				w.fake.FailWith(http.StatusServiceUnavailable)
			}
			out := b.fetch(http.MethodPost, w.URL+"/dashboard/logout", "")
			w.fake.FailWith(0)
			if out.StatusCode != http.StatusSeeOther || out.location(t).Path != "/dashboard/" {
				t.Fatalf("logout: %d %s", out.StatusCode, out.body)
			}
			if c := out.cookie(session.CookieName); c == nil || c.MaxAge >= 0 || c.Value != "" {
				t.Errorf("logout does not clear the cookie: %+v", c)
			}
			if _, err := w.Server.Store().SessionByID(context.Background(), id); err == nil {
				t.Error("the session's row is still there")
			}
			if w.fake.Revocations() != 1 {
				t.Errorf("revocations at Discord: %d, want 1", w.fake.Revocations())
			}
			// The old cookie, sent again, is refused.
			old := newBrowser(t)
			req, _ := http.NewRequest(http.MethodGet, w.URL+"/v1/auth/api-key?guild_id="+guild.String(), nil)
			req.AddCookie(&http.Cookie{Name: session.CookieName, Value: id})
			if a := old.do(req); a.StatusCode != 401 {
				t.Errorf("the ended session's cookie: %d %s", a.StatusCode, a.body)
			}
			got := bearer()
			if w.fake.Calls(token) != asked+1 {
				t.Errorf("the token's identity was answered from the cache after logout")
			}
			if want := map[bool]int{false: 401, true: 200}[revocationFails]; got != want {
				t.Errorf("the token as a bearer token after logout: %d, want %d", got, want)
			}
		})
	}
}

// A session ends after its idle limit, and after its absolute limit
// however busy it is.
func TestSessionsExpire(t *testing.T) {
	w := newWorld(t)
	list := func(b *browser) int {
		return b.fetch(http.MethodGet, w.URL+"/v1/auth/api-key?guild_id="+guild.String(), "").StatusCode
	}

	idle := newBrowser(t)
	w.logIn(t, idle)
	busy := newBrowser(t)
	w.logIn(t, busy)

	w.clock.Advance(6 * 24 * time.Hour)
	if got := list(busy); got != 200 {
		t.Fatalf("after 6 days: %d", got)
	}
	w.clock.Advance(24*time.Hour + time.Minute)
	if got := list(idle); got != 401 {
		t.Errorf("after 7 days without use: %d, want 401", got)
	}
	if got := list(busy); got != 200 {
		t.Fatalf("used a day ago: %d", got)
	}
	for range 3 {
		w.clock.Advance(6 * 24 * time.Hour)
		if got := list(busy); got != 200 {
			t.Fatalf("a busy session before 30 days: %d", got)
		}
	}
	w.clock.Advance(5 * 24 * time.Hour)
	if got := list(busy); got != 401 {
		t.Errorf("after 30 days, however busy: %d, want 401", got)
	}
	if a := idle.get(w.URL + "/dashboard/"); !strings.Contains(a.body, `id="login"`) {
		t.Errorf("an ended session's home is not the login page")
	}
}

// An expired Discord token is refreshed once, however many requests of
// the session find it expired at the same time: Discord rotates refresh
// tokens, so a second refresh would end the session.
func TestAnExpiredTokenIsRefreshedOnce(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t)
	w.logIn(t, b)
	old := w.accessToken(t, b)
	w.clock.Advance(7*24*time.Hour - time.Hour)
	if got := b.fetch(http.MethodGet, w.URL+"/v1/auth/api-key?guild_id="+guild.String(), ""); got.StatusCode != 200 {
		t.Fatal(got.body)
	}
	if w.fake.Refreshes() != 0 {
		t.Fatalf("refreshed a token that had not expired")
	}
	w.fake.Advance(7 * 24 * time.Hour)
	w.clock.Advance(2 * time.Hour)

	var reqs []*http.Request
	for range 20 {
		req, _ := http.NewRequest(http.MethodGet, w.URL+"/v1/helpers/get-husqy-for-guild", nil)
		req.AddCookie(&http.Cookie{Name: session.CookieName, Value: w.sessionID(t, b)})
		reqs = append(reqs, req)
	}
	for a := range apptest.SendAtOnce(reqs) {
		if a.Status != 200 {
			t.Errorf("a request of the session: %d %s (%v)", a.Status, a.Body, a.Err)
		}
	}
	if got := w.fake.Refreshes(); got != 1 {
		t.Errorf("refreshes at Discord: %d, want 1", got)
	}
	if now := w.accessToken(t, b); now == old {
		t.Error("the session still holds the expired token")
	}
}

// Sessions live in the database: a restart keeps them.
func TestASessionSurvivesARestart(t *testing.T) {
	var cfg app.Config
	first := newWorld(t, apptest.FileDatabase, func(c *app.Config) { cfg = *c })
	b := newBrowser(t)
	first.logIn(t, b)
	id := first.sessionID(t, b)
	if err := first.Server.Close(); err != nil {
		t.Fatal(err)
	}

	second := startWorld(t, &cfg, first.fake, first.clock)
	req, _ := http.NewRequest(http.MethodGet, second.URL+"/v1/helpers/get-husqy-for-guild", nil)
	req.AddCookie(&http.Cookie{Name: session.CookieName, Value: id})
	if a := newBrowser(t).do(req); a.StatusCode != 200 {
		t.Fatalf("the session after a restart: %d %s", a.StatusCode, a.body)
	}
}

// No page of the dashboard carries a whole key, whatever the guild holds.
func TestNoPageCarriesAKey(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t)
	w.logIn(t, b)
	for range 3 {
		b.fetch(http.MethodPost, w.URL+"/v1/auth/api-key", guildBody())
	}
	key := regexp.MustCompile(keys.Pattern)
	for _, path := range []string{"/dashboard/", "/dashboard/guilds/" + guild.String(), "/dashboard/assets/dashboard.js", "/dashboard/assets/dashboard.css"} {
		a := b.get(w.URL + path)
		if a.StatusCode != 200 {
			t.Errorf("%s: %d", path, a.StatusCode)
		}
		if key.MatchString(a.body) {
			t.Errorf("%s carries a key", path)
		}
	}
}

// Under an https public URL, both cookies are Secure: a browser sends
// them over https only.
func TestCookiesAreSecureUnderHTTPS(t *testing.T) {
	w := newWorld(t, func(c *app.Config) { c.PublicURL = "https://keys.example.com" })
	b := newBrowser(t)
	login := b.get(w.URL + "/dashboard/login")
	lc := login.cookie("apikeyd_login")
	if lc == nil || !lc.Secure {
		t.Fatalf("login cookie under https: %+v", lc)
	}
	// Discord sends the browser back to the public URL; here, to the
	// instance itself, with the cookie a browser would send there.
	back := b.get(login.location(t).String()).location(t)
	if back.String() != "https://keys.example.com/dashboard/callback?"+back.RawQuery {
		t.Fatalf("Discord sends the browser to %s", back)
	}
	req, _ := http.NewRequest(http.MethodGet, w.URL+"/dashboard/callback?"+back.RawQuery, nil)
	req.AddCookie(&http.Cookie{Name: lc.Name, Value: lc.Value})
	callback := b.do(req)
	sc := callback.cookie(session.CookieName)
	if callback.StatusCode != http.StatusSeeOther || sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode {
		t.Fatalf("callback under https: %d, session cookie %+v: %s", callback.StatusCode, sc, callback.body)
	}
}

// TestADatabaseDownIsA503Page: signed in, with the database gone, a page
// that must check the session answers 503 and says to try again, not the
// 500 of a bug.
func TestADatabaseDownIsA503Page(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t)
	w.logIn(t, b)
	if err := w.Server.Close(); err != nil {
		t.Fatal(err)
	}
	page := b.get(w.URL + "/dashboard/")
	if page.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page.body, "The database could not be reached") {
		t.Fatalf("the dashboard with the database down: %d %s", page.StatusCode, page.body)
	}
}
