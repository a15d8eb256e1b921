package discordtest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

func do(t *testing.T, method, url, auth string) (int, http.Header, map[string]any) {
	t.Helper()
	code, h, b := send(t, method, url, auth)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return code, h, m
}

// send is a request to the fake with auth as its Authorization header
// ("" sends none), and the answer's status, headers and body.
func send(t *testing.T, method, url, auth string) (int, http.Header, []byte) {
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
	return resp.StatusCode, resp.Header, b
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

// postForm posts form to url with the client's Basic credentials (none
// when id is "") and returns the status and JSON body.
func postForm(t *testing.T, url, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("POST %s: body is not a JSON object: %v", url, err)
	}
	return resp.StatusCode, m
}

// authorizeQuery visits the authorize page with q and returns the status
// and the query of the redirect (nil without one).
func authorizeQuery(t *testing.T, s *discordtest.Server, q url.Values) (int, url.Values) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.AuthorizeURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, loc.Query()
}

func TestOAuthWireFormat(t *testing.T) {
	s := discordtest.NewServer(t)
	const app, secret, back = "1187419531237634078", "s3cret", "http://127.0.0.1:1/cb"
	s.AddApp(app, secret, back)
	s.LoginAs("80351110224678912")
	s.AddGuilds("80351110224678912", discordtest.Guild{ID: "290926798626357250", Name: "Husqy", Permissions: "8"})
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {app}, "redirect_uri": {back}, "response_type": {"code"}, "scope": {"identify guilds"},
		"state": {"xyz"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}

	for name, change := range map[string]func(url.Values){
		"unknown client":      func(v url.Values) { v.Set("client_id", "1") },
		"unregistered return": func(v url.Values) { v.Set("redirect_uri", "http://evil.example/cb") },
	} {
		bad := url.Values{}
		for k, v := range q {
			bad[k] = v
		}
		change(bad)
		if code, _ := authorizeQuery(t, s, bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400 without a redirect", name, code)
		}
	}
	for name, change := range map[string]func(url.Values){
		"plain challenge": func(v url.Values) { v.Set("code_challenge_method", "plain") },
		"unknown scope":   func(v url.Values) { v.Set("scope", "identify admin") },
		"token response":  func(v url.Values) { v.Set("response_type", "token") },
	} {
		bad := url.Values{}
		for k, v := range q {
			bad[k] = v
		}
		change(bad)
		if code, back := authorizeQuery(t, s, bad); code != http.StatusFound || back.Get("error") == "" || back.Has("code") || back.Get("state") != "xyz" {
			t.Errorf("%s: %d %v, want a redirect with an error and the state", name, code, back)
		}
	}

	_, redirect := authorizeQuery(t, s, q)
	code := redirect.Get("code")
	tokenURL := s.URL() + "/oauth2/token"
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {back}, "code_verifier": {verifier}}
	if status, m := postForm(t, tokenURL, app, "wrong", exchange); status != 401 || m["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", status, m)
	}
	// Client credentials in the body work as well as Basic.
	inBody := url.Values{"client_id": {app}, "client_secret": {secret}}
	for k, v := range exchange {
		inBody[k] = v
	}
	status, tok := postForm(t, tokenURL, "", "", inBody)
	if status != 200 || tok["token_type"] != "Bearer" || tok["scope"] != "identify guilds" ||
		tok["expires_in"] != 604800.0 || tok["access_token"] == "" || tok["refresh_token"] == "" {
		t.Fatalf("token: %d %v", status, tok)
	}
	if status, m := postForm(t, tokenURL, app, secret, exchange); status != 400 || m["error"] != "invalid_grant" ||
		m["error_description"] != `Invalid "code" in request.` {
		t.Fatalf("code used twice: %d %v", status, m)
	}
	if n := s.Exchanges(); n != 3 {
		t.Errorf("Exchanges = %d, want 3", n)
	}

	access := tok["access_token"].(string)
	if status, _, u := do(t, "GET", s.URL()+"/users/@me", "Bearer "+access); status != 200 || u["id"] != "80351110224678912" {
		t.Fatalf("issued token on /users/@me: %d %v", status, u)
	}
	req, err := http.NewRequest("GET", s.URL()+"/users/@me/guilds", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+access)
	gr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var guilds []map[string]any
	err = json.NewDecoder(gr.Body).Decode(&guilds)
	gr.Body.Close()
	if err != nil || len(guilds) != 1 {
		t.Fatalf("guilds: %v %v", err, guilds)
	}
	g := guilds[0]
	if g["id"] != "290926798626357250" || g["name"] != "Husqy" || g["permissions"] != "8" || g["owner"] != false {
		t.Fatalf("partial guild: %v", g)
	}
	for _, k := range []string{"icon", "banner", "features"} {
		if _, ok := g[k]; !ok {
			t.Errorf("partial guild lacks %q", k)
		}
	}
	if _, ok := g["approximate_member_count"]; ok {
		t.Error("approximate counts without with_counts")
	}

	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}
	if status, m := postForm(t, tokenURL, app, secret, refresh); status != 200 || m["refresh_token"] == tok["refresh_token"] {
		t.Fatalf("refresh: %d %v", status, m)
	}
	if status, m := postForm(t, tokenURL, app, secret, refresh); status != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("old refresh token: %d %v", status, m)
	}
	revoke := s.URL() + "/oauth2/token/revoke"
	if status, m := postForm(t, revoke, app, secret, url.Values{"token": {"unknown"}}); status != 200 || len(m) != 0 {
		t.Fatalf("revoke: %d %v", status, m)
	}
	if status, _ := postForm(t, revoke, "", "", url.Values{"token": {"unknown"}}); status != 401 {
		t.Fatalf("revoke without client: %d", status)
	}
	if s.Refreshes() != 2 || s.Revocations() != 2 {
		t.Errorf("Refreshes %d, Revocations %d; want 2 and 2", s.Refreshes(), s.Revocations())
	}
}
