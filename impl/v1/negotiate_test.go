package v1_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
)

// TestErrorsFollowAccept proves the rule of openapi/v1.yaml's description
// on each way an error leaves: the family's writer (no credentials, the
// validator, a route outside the families), a handler's typed response
// (403) and the strict wrapper's; and that successes stay JSON.
func TestErrorsFollowAccept(t *testing.T) {
	w := newWorld(t)
	g := guild.String()
	answers := []struct {
		name, method, path, auth, body string
		status                         int
	}{
		{"no credentials (WriteError)", "GET", "/v1/settings?guild_id=" + g, "", "", 401},
		{"typed 403", "GET", "/v1/settings?guild_id=" + g, "Bearer " + userToken, "", 403},
		{"typed 409", "POST", "/v1/modules/logging/disable", "Bearer " + adminToken, `{"guild_id": "` + g + `"}`, 409},
		{"validator 400", "GET", "/v1/settings?guild_id=abc", "Bearer " + adminToken, "", 400},
		{"wrong method", "PATCH", "/v1/settings", "", "", 405},
		{"route outside the families", "GET", "/nothing-here", "", "", 404},
	}
	accepts := []struct {
		accept []string
		want   string
	}{
		{nil, "application/problem+json"},
		{[]string{"application/problem+json"}, "application/problem+json"},
		{[]string{"application/json"}, "application/json"},
		{[]string{"application/json, text/plain, */*"}, "application/json"},
		{[]string{"APPLICATION/JSON; charset=utf-8"}, "application/json"},
		{[]string{"text/plain", "application/json"}, "application/json"},
		{[]string{"application/problem+json;q=0, application/json"}, "application/json"},
		{[]string{"application/json, application/problem+json;q=0.1"}, "application/problem+json"},
		{[]string{"application/json;q=0"}, "application/problem+json"},
		{[]string{"application/json; q=0.0, */*"}, "application/problem+json"},
		{[]string{"*/*"}, "application/problem+json"},
		{[]string{"application/*"}, "application/problem+json"},
		{[]string{"text/html"}, "application/problem+json"},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			var first []byte
			for _, acc := range accepts {
				req, err := http.NewRequest(a.method, w.URL+a.path, bytes.NewReader([]byte(a.body)))
				if err != nil {
					t.Fatal(err)
				}
				if a.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if a.auth != "" {
					req.Header.Set("Authorization", a.auth)
				}
				req.Header["Accept"] = acc.accept
				res, body := apptest.Send(t, req)
				if res.StatusCode != a.status {
					t.Fatalf("Accept %q: got %d, want %d: %s", acc.accept, res.StatusCode, a.status, body)
				}
				if got := res.Header.Get("Content-Type"); got != acc.want {
					t.Errorf("Accept %q: Content-Type %q, want %q", acc.accept, got, acc.want)
				}
				if vary := res.Header.Values("Vary"); !slices.Equal(vary, []string{"Accept"}) {
					t.Errorf("Accept %q: Vary %q, want [Accept]", acc.accept, vary)
				}
				if first == nil {
					first = body
				} else if !bytes.Equal(body, first) {
					t.Errorf("Accept %q: the body differs:\n%s\nwant\n%s", acc.accept, body, first)
				}
			}
		})
	}
	t.Run("a success is JSON whatever the Accept", func(t *testing.T) {
		for _, acc := range accepts {
			req, _ := http.NewRequest("GET", w.URL+"/v1/livez", nil)
			req.Header["Accept"] = acc.accept
			res, body := apptest.Send(t, req)
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || res.Header.Get("Vary") != "" {
				t.Errorf("Accept %q: %d, Content-Type %q, Vary %q: %s", acc.accept, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Vary"), body)
			}
		}
	})
}
