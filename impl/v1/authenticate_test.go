package v1_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
)

// TestAuthorizationTable proves the documented status of every /v1
// operation for every kind of caller.
func TestAuthorizationTable(t *testing.T) {
	w := newWorld(t)
	ownKey := w.key(t, guild)
	otherKey := w.key(t, otherGuild)
	callers := []struct{ name, auth string }{
		{"no credentials", ""},
		{"unknown token", "Bearer not-a-token-discord-knows"},
		{"unknown key", "Bearer akdg_000000000000000000000000000000000000"},
		{"non-admin user", "Bearer " + userToken},
		{"admin user", "Bearer " + adminToken},
		{"own-guild key", "Bearer " + ownKey},
		{"own-guild key, bare", ownKey},
		{"other-guild key", "Bearer " + otherKey},
	}
	g := guild.String()
	// A well-formed key that guild does not have: an admin gets 404.
	absent := "akdg_GN7coj063ipReVRrtU9fWTdQLmVYLb2i5PdU"
	// Guild operations admit the guild's administrators and keys; the
	// helpers admit anyone with valid credentials.
	guildRead := []int{401, 401, 401, 403, 200, 200, 200, 403}
	anyone := []int{401, 401, 401, 200, 200, 200, 200, 200}
	ops := []struct {
		method, path, body string
		want               []int // per caller, in the order above
	}{
		{"GET", "/v1/auth/api-key?guild_id=" + g, "", []int{401, 401, 401, 403, 200, 403, 403, 403}},
		{"POST", "/v1/auth/api-key", `{"guild_id": "` + g + `"}`, []int{401, 401, 401, 403, 200, 403, 403, 403}},
		{"DELETE", "/v1/auth/api-key", `{"guild_id": "` + g + `", "api_key": "` + absent + `"}`, []int{401, 401, 401, 403, 404, 403, 403, 403}},
		{"POST", "/v1/auth/validate-user-permissions", `{"guild_id": "` + g + `", "target": "` + admin.String() + `"}`, []int{401, 401, 401, 403, 200, 200, 200, 403}},
		{"GET", "/v1/settings?guild_id=" + g, "", guildRead},
		{"PUT", "/v1/settings", `{"guild_id": "` + g + `", "language": "nl"}`, guildRead},
		{"GET", "/v1/helpers/get-supported-languages", "", anyone},
		{"GET", "/v1/helpers/get-supported-timezones", "", anyone},
		{"GET", "/v1/helpers/get-supported-unit-systems", "", anyone},
		{"GET", "/v1/helpers/get-guild-roles?guild_id=" + g, "", guildRead},
		{"GET", "/v1/helpers/get-guild-channels?guild_id=" + g + "&types=text", "", guildRead},
		{"GET", "/v1/helpers/get-guild-users?guild_id=" + g, "", guildRead},
		{"GET", "/v1/helpers/get-guild-emojis?guild_id=" + g, "", guildRead},
		{"GET", "/v1/privacy/get-user-entries?guild_id=" + g + "&privacy_member_id=" + user.String(), "", guildRead},
		{"DELETE", "/v1/privacy/delete-user-entries", `{"guild_id": "` + g + `", "privacy_member_id": "` + user.String() + `"}`, guildRead},
		{"GET", "/v1/modules/logging/privacy/get-user-entries?guild_id=" + g + "&privacy_member_id=" + user.String(), "", guildRead},
		{"DELETE", "/v1/modules/logging/privacy/delete-user-entries", `{"guild_id": "` + g + `", "privacy_member_id": "` + user.String() + `"}`, guildRead},
		{"GET", "/v1/modules/logging/status?guild_id=" + g, "", guildRead},
		{"GET", "/v1/modules/logging/settings?guild_id=" + g, "", guildRead},
		{"PUT", "/v1/modules/logging/settings", `{"guild_id": "` + g + `", "log_info": false}`, guildRead},
		{"DELETE", "/v1/modules/logging/settings", `{"guild_id": "` + g + `"}`, guildRead},
		{"GET", "/v1/modules/logging/entries?guild_id=" + g, "", guildRead},
		// Each enable is answered by the disable after it.
		{"POST", "/v1/modules/logging/enable", `{"guild_id": "` + g + `"}`, guildRead},
		{"POST", "/v1/modules/logging/disable", `{"guild_id": "` + g + `"}`, guildRead},
		// Public operations answer whoever asks.
		{"POST", "/v1/auth/authorize", `{"access_token": "` + adminToken + `"}`, []int{200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/v1/", "", []int{200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/v1/livez", "", []int{200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/v1/readyz", "", []int{200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/v1/modules/logging", "", []int{200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/v1/modules/logging/livez", "", []int{200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/v1/modules/logging/readyz", "", []int{200, 200, 200, 200, 200, 200, 200, 200}},
	}
	for i, c := range callers {
		for _, op := range ops {
			t.Run(fmt.Sprintf("%s %s/%s", op.method, op.path, c.name), func(t *testing.T) {
				req, err := http.NewRequest(op.method, w.URL+op.path, bytes.NewBufferString(op.body))
				if err != nil {
					t.Fatal(err)
				}
				if op.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if c.auth != "" {
					req.Header.Set("Authorization", c.auth)
				}
				res, body := apptest.Send(t, req)
				if res.StatusCode != op.want[i] {
					t.Fatalf("got %d, want %d: %s", res.StatusCode, op.want[i], body)
				}
				if res.StatusCode == 401 && res.Header.Get("WWW-Authenticate") != "Bearer" {
					t.Errorf("401 without WWW-Authenticate: Bearer")
				}
			})
		}
	}
}

func TestFailedAuthenticationsAreRateLimited(t *testing.T) {
	w := newWorld(t, func(c *app.Config) { c.AuthFailureRate, c.AuthFailureBurst = 0.01, 3 })
	list := "/v1/auth/api-key?guild_id=" + guild.String()

	// Traffic that authenticates is never counted, however much of it.
	for range 50 {
		if res, body := w.call(t, "GET", list, "Bearer "+adminToken, ""); res.StatusCode != 200 {
			t.Fatalf("admin: %d %s", res.StatusCode, body)
		}
	}
	for i := range 3 {
		if res, _ := w.call(t, "GET", list, "Bearer guess-"+fmt.Sprint(i), ""); res.StatusCode != 401 {
			t.Fatalf("failure %d: got %d, want 401", i, res.StatusCode)
		}
	}
	for _, c := range []struct{ method, path, auth, body string }{
		{"GET", list, "Bearer guess-4", ""},
		{"POST", "/v1/auth/authorize", "", `{"access_token": "guess-5"}`},
		// Until its bucket refills, the address sends nothing more to
		// Discord, good tokens included (a token whose user is cached is
		// answered: TestCachedCredentialsAreNeverLimited).
		{"GET", list, "Bearer " + userToken, ""},
	} {
		res, body := w.call(t, c.method, c.path, c.auth, c.body)
		var p problemBody
		json.Unmarshal(body, &p)
		if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || p.Status != 429 {
			t.Fatalf("%s %s: got %d (Retry-After %q) %s", c.method, c.path, res.StatusCode, res.Header.Get("Retry-After"), body)
		}
	}
}

// Discord answering 429 gives 503 with the wait Discord asked for, on the
// operations authentication guards and on authorize alike; and the calls
// after it wait too: twenty tokens make one call to Discord, not
// twenty-one.
func TestDiscordRateLimitIsPassedOn(t *testing.T) {
	w := newWorld(t)
	w.discord.RateLimit("global", time.Minute)
	for i := range 20 {
		tok := fmt.Sprint("rate-limited-token-", i)
		w.discord.AddUser(tok, user.String(), "someone")
		path, method, body := "/v1/auth/api-key?guild_id="+guild.String(), "GET", ""
		if i%2 == 1 {
			path, method, body = "/v1/auth/authorize", "POST", `{"access_token": "`+tok+`"}`
		}
		res, b := w.call(t, method, path, "Bearer "+tok, body)
		if res.StatusCode != 503 || res.Header.Get("Retry-After") != "60" {
			t.Fatalf("%s %s: %d Retry-After %q, want 503 with 60 (%s)", method, path, res.StatusCode, res.Header.Get("Retry-After"), b)
		}
	}
	if n := w.discord.TotalCalls(); n != 1 {
		t.Fatalf("%d calls reached Discord, want 1", n)
	}
}

// limitedWorld is a world whose failed-authentication bucket holds burst
// failures and, for the length of a test, does not refill.
func limitedWorld(t *testing.T, burst int) *world {
	return newWorld(t, func(c *app.Config) { c.AuthFailureRate, c.AuthFailureBurst = 0.0001, burst })
}

// request is a /v1 request with an optional Authorization header and JSON
// body.
func (w *world) request(t *testing.T, method, path, auth, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, w.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return req
}

// TestParallelUnknownTokensReachDiscordAtMostTheBurst: tokens only Discord
// can judge take their place in the address's bucket before they are sent,
// so of 150 sent at once at most the burst of 30 reach Discord, and the
// rest are answered 429 without it. (Checked before and charged after, all
// 150 reached Discord.)
func TestParallelUnknownTokensReachDiscordAtMostTheBurst(t *testing.T) {
	const burst, parallel = 30, 150
	w := limitedWorld(t, burst)
	release := w.discord.Hold()
	defer release()
	var reqs []*http.Request
	for i := range parallel {
		reqs = append(reqs, w.request(t, "POST", "/v1/auth/authorize", "", fmt.Sprintf(`{"access_token": "guess-%d"}`, i)))
	}
	answers := apptest.SendAtOnce(reqs)

	// Every request is either answered already or held at Discord.
	got := map[int]int{}
	deadline := time.Now().Add(10 * time.Second)
	for got[429]+w.discord.TotalCalls() < parallel && time.Now().Before(deadline) {
		select {
		case a := <-answers:
			got[a.Status]++
		case <-time.After(10 * time.Millisecond):
		}
	}
	release()
	for a := range answers {
		got[a.Status]++
	}
	if calls := w.discord.TotalCalls(); calls > burst {
		t.Errorf("%d tokens reached Discord, want at most %d", calls, burst)
	}
	if got[401] > burst || got[401]+got[429] != parallel {
		t.Errorf("answers %v, want at most %d of 401 and 429 for the rest", got, burst)
	}
}

// TestCachedCredentialsAreNeverLimited: credentials answered from cache
// (a Discord token whose user is known, a guild key looked up before) or
// refused locally (a key failing its checksum) are answered as always, even
// while the address has used up its failures; only credentials that would
// be sent to Discord or the database wait for the bucket.
func TestCachedCredentialsAreNeverLimited(t *testing.T) {
	const burst = 30
	w := limitedWorld(t, burst)
	key := w.key(t, guild)
	list := "/v1/auth/api-key?guild_id=" + guild.String()
	settings := "/v1/settings?guild_id=" + guild.String()
	for _, c := range []struct{ path, auth string }{{list, "Bearer " + adminToken}, {settings, key}} {
		if res, body := w.call(t, "GET", c.path, c.auth, ""); res.StatusCode != 200 {
			t.Fatalf("first use: %d %s", res.StatusCode, body)
		}
	}
	for i := range burst {
		if res, _ := w.call(t, "GET", list, "Bearer guess-"+fmt.Sprint(i), ""); res.StatusCode != 401 {
			t.Fatalf("failure %d: got %d, want 401", i, res.StatusCode)
		}
	}
	if res, _ := w.call(t, "GET", list, "Bearer "+userToken, ""); res.StatusCode != 429 {
		t.Fatalf("a token never seen after the burst: got %d, want 429", res.StatusCode)
	}

	var reqs []*http.Request
	for range 25 {
		reqs = append(reqs, w.request(t, "GET", list, "Bearer "+adminToken, ""), w.request(t, "GET", settings, key, ""))
	}
	got := map[int]int{}
	for a := range apptest.SendAtOnce(reqs) {
		got[a.Status]++
	}
	if got[200] != len(reqs) {
		t.Errorf("cached credentials while limited: %v, want %d of 200", got, len(reqs))
	}
	if res, body := w.call(t, "GET", settings, apptest.Mistype(key), ""); res.StatusCode != 401 {
		t.Errorf("a key failing its checksum while limited: got %d, want 401: %s", res.StatusCode, body)
	}
}
