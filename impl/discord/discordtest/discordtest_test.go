package discordtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

func do(t *testing.T, method, url, auth string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, resp.Header, m
}

func TestWireFormat(t *testing.T) {
	s := discordtest.NewServer(t)
	if !strings.HasSuffix(s.URL(), "/api/v10") {
		t.Fatalf("URL = %q", s.URL())
	}
	s.AddUser("tok", "80351110224678912", "nelly")
	me := s.URL() + "/users/@me"

	code, _, u := do(t, "GET", me, "Bearer tok")
	if code != 200 || u["id"] != "80351110224678912" || u["username"] != "nelly" ||
		u["discriminator"] != "0" || u["global_name"] != "nelly" || u["avatar"] != nil {
		t.Fatalf("200 user: %d %v", code, u)
	}
	if _, ok := u["avatar"]; !ok {
		t.Fatal("avatar missing, want null")
	}

	code, _, m := do(t, "GET", me, "Bearer other")
	if code != 401 || m["message"] != "401: Unauthorized" || m["code"] != 0.0 {
		t.Fatalf("unknown token: %d %v", code, m)
	}
	code, _, _ = do(t, "GET", me, "")
	if code != 401 {
		t.Fatalf("no token: %d", code)
	}
	code, _, m = do(t, "POST", me, "Bearer tok")
	if code != 405 || m["message"] != "405: Method Not Allowed" {
		t.Fatalf("POST: %d %v", code, m)
	}
	code, _, m = do(t, "GET", s.URL()+"/users/1", "Bearer tok")
	if code != 404 || m["message"] != "404: Not Found" {
		t.Fatalf("other path: %d %v", code, m)
	}
	if n := s.Calls("tok"); n != 1 { // only GETs to /users/@me count
		t.Fatalf("Calls(tok) = %d, want 1", n)
	}

	s.FailWith(429)
	code, h, m := do(t, "GET", me, "Bearer tok")
	if code != 429 || h.Get("Retry-After") == "" || m["message"] != "You are being rate limited." ||
		m["retry_after"] != 1.0 || m["global"] != false {
		t.Fatalf("429: %d %v %v", code, h, m)
	}
	s.FailWith(503)
	if code, h, _ = do(t, "GET", me, "Bearer tok"); code != 503 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("503: %d %v", code, h)
	}
	s.FailWith(403)
	if code, _, m = do(t, "GET", me, "Bearer tok"); code != 403 || m["message"] != "403: Forbidden" {
		t.Fatalf("403: %d %v", code, m)
	}
	if n := s.Calls("tok"); n != 4 {
		t.Fatalf("Calls(tok) = %d, want 4", n)
	}

	s.Reset()
	if n := s.Calls("tok"); n != 0 {
		t.Fatalf("Calls after Reset = %d", n)
	}
	if code, _, _ = do(t, "GET", me, "Bearer tok"); code != 401 {
		t.Fatalf("after Reset: %d, want 401", code)
	}
}
