package v1_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
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
		// The address is blocked, whatever it sends, until its bucket refills.
		{"GET", list, "Bearer " + adminToken, ""},
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
