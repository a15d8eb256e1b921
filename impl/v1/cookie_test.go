package v1_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/session"
)

// withCookie sends a /v1 request with the dashboard's session cookie, as
// the dashboard's script does (same origin), and auth when it is set.
func (w *world) withCookie(t *testing.T, cookie, method, path, auth, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, w.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return apptest.Send(t, req)
}

// The session cookie authenticates its user as their Discord token does:
// the same rights, the same actor in the audit log.
func TestTheSessionCookieActsForItsUser(t *testing.T) {
	w := newWorld(t)
	cookie := w.sessionCookie(t)
	list := "/v1/auth/api-key?guild_id=" + guild.String()
	if res, body := w.withCookie(t, cookie, "POST", "/v1/auth/api-key", "", `{"guild_id": "`+guild.String()+`"}`); res.StatusCode != 200 {
		t.Fatalf("create with the cookie: %d %s", res.StatusCode, body)
	}
	_, body := w.withCookie(t, cookie, "GET", "/v1/modules/logging/entries?guild_id="+guild.String(), "", "")
	entries := decodeData[struct{ Entries []struct{ Actor string } }](t, body).Entries
	if len(entries) != 1 || entries[0].Actor != "<@"+admin.String()+">" {
		t.Errorf("the audit log of a change made with the cookie: %s", body)
	}
	// The Authorization header wins: here, a user without rights.
	if res, body := w.withCookie(t, cookie, "GET", list, "Bearer "+userToken, ""); res.StatusCode != 403 {
		t.Errorf("the cookie beside another user's token: %d %s", res.StatusCode, body)
	}
	if res, _ := w.withCookie(t, cookie, "GET", list, "Bearer not-a-token-discord-knows", ""); res.StatusCode != 401 {
		t.Errorf("the cookie beside an unknown token: %d, want the token's 401", res.StatusCode)
	}
}

// A cookie that holds no live session is refused with 401; one that is
// not a session id at all, before any lookup.
func TestCookiesWithoutASessionAreRefused(t *testing.T) {
	w := newWorld(t)
	unknown, err := keys.Generate(keys.Session)
	if err != nil {
		t.Fatal(err)
	}
	ended := w.sessionCookie(t)
	id := strings.TrimPrefix(ended, session.CookieName+"=")
	if _, err := w.Server.Store().DeleteSession(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ value, says string }{
		"not a session id":     {"akds_notasessionid", "not valid"},
		"a key, not a session": {exampleKeys[0], "not valid"},
		"no such session":      {unknown, "has ended"},
		"logged out":           {id, "has ended"},
	} {
		res, body := w.withCookie(t, session.CookieName+"="+c.value, "GET", "/v1/auth/api-key?guild_id="+guild.String(), "", "")
		if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != "Bearer" || !strings.Contains(string(body), c.says) {
			t.Errorf("%s: got %d %s, want 401 saying %q", name, res.StatusCode, body, c.says)
		}
	}
}
