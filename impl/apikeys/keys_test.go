package apikeys_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/store"
)

func TestKeyLifecycle(t *testing.T) {
	inst := apptest.Start(t, nil)
	sys := apptest.SystemKey

	res, body := inst.Do(t, "POST", "/apiKeys/new/alice/ci%20runner", sys, nil)
	if res.StatusCode != 200 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	token := decode[struct{ Token string }](t, body).Token

	_, body = inst.Do(t, "GET", "/apiKeys/getUserKeys/alice", "Bearer "+sys, nil)
	list := decode[keyList](t, body)
	if len(list.Keys) != 1 || list.Keys[0].Token != token || list.Keys[0].Note != "ci runner" {
		t.Fatalf("getUserKeys: got %s", body)
	}

	// alice's key is valid but is not the System key.
	res, body = inst.Do(t, "GET", "/apiKeys/getKeys", token, nil)
	if got := decode[errorBody](t, body); res.StatusCode != 403 || got.Error.Message != "Invalid authorization Key!" {
		t.Fatalf("user key on getKeys: %d %s", res.StatusCode, body)
	}

	res, body = inst.Do(t, "DELETE", "/apiKeys/remove/alice", sys, nil)
	if res.StatusCode != 200 || decode[struct{ Deleted int }](t, body).Deleted != 1 {
		t.Fatalf("remove: %d %s", res.StatusCode, body)
	}
	// Revocation is immediate: the very next request with the key fails.
	res, body = inst.Do(t, "GET", "/apiKeys/getKeys", token, nil)
	if got := decode[errorBody](t, body); res.StatusCode != 403 || got.Error.Message != "Invalid authorization key!" {
		t.Fatalf("removed key: %d %s", res.StatusCode, body)
	}
	_, body = inst.Do(t, "GET", "/apiKeys/getKeys", sys, nil)
	if got := decode[keyList](t, body); len(got.Keys) != 0 {
		t.Fatalf("getKeys after remove: %s", body)
	}
}

func TestSystemNameRefusedInAnyCasing(t *testing.T) {
	inst := apptest.Start(t, nil)
	routes := []struct{ method, path string }{
		{"POST", "/apiKeys/new/%s"},
		{"POST", "/apiKeys/new/%s/a%%20note"},
		{"DELETE", "/apiKeys/remove/%s"},
		{"GET", "/apiKeys/getUserKeys/%s"},
	}
	// "ſ" (long s) folds to "s" in Unicode: it is System too.
	// Fullwidth and mathematical letters (compatibility forms) are System
	// too, and so are names with default-ignorable characters inside (a
	// combining grapheme joiner, a Hangul filler, a variation selector).
	for _, name := range []string{"System", "system", "SYSTEM", "sYsTeM", "ſystem",
		"\uff33\uff59\uff53\uff54\uff45\uff4d", "Sys\u034ftem", "Sys\u3164tem", "System\ufe0f", "\U0001d412ystem"} {
		for _, r := range routes {
			path := strings.Replace(r.path, "%s", url.PathEscape(name), 1)
			path = strings.ReplaceAll(path, "%%", "%")
			res, body := inst.Do(t, r.method, path, apptest.SystemKey, nil)
			got := decode[errorBody](t, body)
			if res.StatusCode != 403 || got.Error.Message != "Invalid name, name cannot be System!" || got.Error.Code != 403 {
				t.Errorf("%s %s: %d %s", r.method, path, res.StatusCode, body)
			}
		}
	}
	// The System key still works: nothing above removed it.
	if res, _ := inst.Do(t, "GET", "/apiKeys/getKeys", apptest.SystemKey, nil); res.StatusCode != 200 {
		t.Fatalf("System key after refusals: %d", res.StatusCode)
	}
}

func TestUserNamesAreDecodedOnce(t *testing.T) {
	inst := apptest.Start(t, nil)
	cases := []struct{ path, want string }{
		{"caf%C3%A9", "café"},
		{"caf%25C3%25A9", "caf%C3%A9"}, // decoded once, not twice
		{"a%2Fb", "a/b"},
		{"%E4%BD%A0%E5%A5%BD", "你好"},
		{strings.Repeat("%C3%A9", 64), strings.Repeat("é", 64)}, // 64 characters, 128 bytes
		{"x%20y", "x y"},
		{"%2Fetc%2Fpasswd", "/etc/passwd"}, // escaped slashes are no empty segments
		{"a%2F%2Fb", "a//b"},
		{"%2F", "/"}, // net/http's ServeMux took this for a trailing slash
		{"%2F%2F", "//"},
	}
	for _, c := range cases {
		res, body := inst.Do(t, "POST", "/apiKeys/new/"+c.path, apptest.SystemKey, nil)
		if res.StatusCode != 200 {
			t.Errorf("create %q: %d %s", c.path, res.StatusCode, body)
			continue
		}
		_, body = inst.Do(t, "GET", "/apiKeys/getUserKeys/"+c.path, apptest.SystemKey, nil)
		if got := decode[keyList](t, body); len(got.Keys) != 1 || got.Keys[0].User != c.want {
			t.Errorf("getUserKeys %q: got %s, want user %q", c.path, body, c.want)
		}
	}
}

// A dashboard session id is no key of this family: a live one sent as
// the authorization key is an unknown key.
func TestSessionIDIsNoAuthorizationKey(t *testing.T) {
	inst := apptest.Start(t, nil)
	id, _, err := inst.Server.Store().CreateSession(context.Background(), 1, store.SessionTokens{AccessToken: "a", RefreshToken: "r"}, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{id, "Bearer " + id} {
		res, body := inst.Do(t, "GET", "/apiKeys/getKeys", auth, nil)
		if got := decode[errorBody](t, body); res.StatusCode != 403 || got.Error.Message != "Invalid authorization key!" {
			t.Errorf("a session id: %d %s", res.StatusCode, body)
		}
	}
}
