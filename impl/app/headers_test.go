package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
)

// Answers that carry keys must not be stored by a browser or a proxy, and
// none may be sniffed into another type: every API answer says both,
// errors included.
func TestEveryAPIAnswerIsNoStoreAndNoSniff(t *testing.T) {
	inst := apptest.Start(t, nil)
	for _, c := range []struct{ method, path, auth, body string }{
		{"POST", "/apiKeys/new/alice", apptest.SystemKey, ""},
		{"GET", "/apiKeys/getKeys", apptest.SystemKey, ""},
		{"GET", "/apiKeys/getKeys", "", ""},
		{"GET", "/apiKeys/nope", apptest.SystemKey, ""},
		{"GET", "/v1/auth/api-key?guild_id=1", "", ""},
		{"POST", "/v1/auth/authorize", "", `{"access_token": "nope"}`},
		{"GET", "/v1/livez", "", ""},
		{"GET", "/v1/nope", "", ""},
		{"GET", "/openapi/v1.yaml", "", ""},
		{"GET", "/metrics", "", ""},
		{"GET", "/nope", "", ""},
	} {
		req, err := http.NewRequest(c.method, inst.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		res, _ := apptest.Send(t, req)
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s (%d): Cache-Control %q, want no-store", c.method, c.path, res.StatusCode, got)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s (%d): X-Content-Type-Options %q, want nosniff", c.method, c.path, res.StatusCode, got)
		}
	}
}
