package v1_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
)

// bodyOperations are the operations of openapi/v1.yaml that take a JSON
// body.
var bodyOperations = []struct{ method, path string }{
	{"POST", "/v1/auth/api-key"},
	{"DELETE", "/v1/auth/api-key"},
	{"POST", "/v1/auth/authorize"},
	{"POST", "/v1/auth/validate-user-permissions"},
	{"PUT", "/v1/settings"},
	{"POST", "/v1/modules/logging/enable"},
	{"POST", "/v1/modules/logging/disable"},
	{"PUT", "/v1/modules/logging/settings"},
	{"DELETE", "/v1/modules/logging/settings"},
}

// queryOperations are the operations of openapi/v1.yaml with a query.
var queryOperations = []string{
	"/v1/auth/api-key",
	"/v1/settings",
	"/v1/modules/logging/entries",
}

// FuzzRequestBody sends any bytes, with any content type, to every
// operation that takes a body, as the guild's administrator: the answer is
// never a 5xx, and an error is a problem whose status is the HTTP status.
func FuzzRequestBody(f *testing.F) {
	w := newWorld(f)
	g := guild.String()
	f.Add(uint8(0), []byte(`{"guild_id": "`+g+`"}`), "application/json")
	f.Add(uint8(1), []byte(`{"guild_id": `+g+`, "api_key": "akdg_XpgGghSv9UQRtOEt6X31MRtELzaIPv3o1kKK"}`), "application/json")
	f.Add(uint8(2), []byte(`{"access_token": "`+adminToken+`"}`), "application/json; charset=utf-8")
	f.Add(uint8(4), []byte(`{"guild_id": "`+g+`", "gmt": "Europe/Nowhere"}`), "application/json")
	f.Add(uint8(7), []byte(`{"guild_id": "`+g+`", "log_errors": "yes"}`), "text/plain")
	f.Fuzz(func(t *testing.T, op uint8, body []byte, contentType string) {
		o := bodyOperations[int(op)%len(bodyOperations)]
		req, err := http.NewRequest(o.method, w.URL+o.path, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		if ct := headerValue(contentType); ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, b := apptest.Send(t, req)
		if msg := checkAnswer(res, b); msg != "" {
			t.Fatalf("%s %s (Content-Type %q, body %q): %s: %d %s", o.method, o.path, req.Header.Get("Content-Type"), body, msg, res.StatusCode, b)
		}
	})
}

// FuzzQuery sends any query string to every operation that reads one.
func FuzzQuery(f *testing.F) {
	w := newWorld(f)
	g := guild.String()
	f.Add(uint8(0), "guild_id="+g)
	f.Add(uint8(1), "guild_id=abc")
	f.Add(uint8(2), "guild_id="+g+"&limit=1&cursor=djE6Mg")
	f.Add(uint8(2), "guild_id="+g+"&limit=500&cursor=!!")
	f.Fuzz(func(t *testing.T, op uint8, query string) {
		path := queryOperations[int(op)%len(queryOperations)]
		req, err := http.NewRequest("GET", w.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = rawQuery(query)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, b := apptest.Send(t, req)
		if msg := checkAnswer(res, b); msg != "" {
			t.Fatalf("GET %s?%s: %s: %d %s", path, req.URL.RawQuery, msg, res.StatusCode, b)
		}
	})
}

// headerValue drops what no header value may hold, so that what is
// fuzzed is the service rather than the HTTP client.
func headerValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// rawQuery percent-encodes the bytes a request line cannot carry (controls,
// spaces, non-ASCII, '#'), and leaves everything else as it came, broken
// escapes included.
func rawQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// checkAnswer says what is wrong with an answer, or "": a 5xx, or an
// error that is not a problem of its own status.
func checkAnswer(res *http.Response, body []byte) string {
	if res.StatusCode >= 500 {
		return "server error"
	}
	if res.StatusCode < 400 {
		if !json.Valid(body) {
			return "success body is not JSON"
		}
		return ""
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Sprintf("error with Content-Type %q", ct)
	}
	var p problemBody
	if err := json.Unmarshal(body, &p); err != nil {
		return "error body is not a problem: " + err.Error()
	}
	switch {
	case p.Status != res.StatusCode:
		return fmt.Sprintf("problem status %d", p.Status)
	case p.Error.Code != res.StatusCode:
		return fmt.Sprintf("error.code %d", p.Error.Code)
	case p.Success || p.Data == nil || len(p.Data) != 0:
		return "success or data wrong"
	case p.Message != p.Title+"! "+p.Detail || p.Error.Message != p.Message:
		return "message is not title! detail"
	case !strings.HasPrefix(p.Type, "urn:apikeyd:problem:"):
		return "type is not an apikeyd problem"
	}
	return ""
}
