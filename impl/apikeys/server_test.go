package apikeys_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
)

// TestEscapedSlashAlone: a name or note that is exactly "/" is served
// like any other, on every route (net/http's ServeMux answered a
// plain-text 404 when a segment was exactly "%2F").
func TestEscapedSlashAlone(t *testing.T) {
	inst := apptest.Start(t, nil)
	sys := apptest.SystemKey
	res, body := inst.Do(t, "POST", "/apiKeys/new/%2F/%2f", sys, nil)
	if res.StatusCode != 200 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	_, body = inst.Do(t, "GET", "/apiKeys/getUserKeys/%2F", sys, nil)
	if got := decode[keyList](t, body); len(got.Keys) != 1 || got.Keys[0].User != "/" || got.Keys[0].Note != "/" {
		t.Fatalf("getUserKeys: %s", body)
	}
	if res, body = inst.Do(t, "DELETE", "/apiKeys/remove/%2F", sys, nil); res.StatusCode != 200 {
		t.Fatalf("remove: %d %s", res.StatusCode, body)
	}
	_, body = inst.Do(t, "GET", "/apiKeys/getUserKeys/%2F", sys, nil)
	if got := decode[keyList](t, body); len(got.Keys) != 0 {
		t.Fatalf("getUserKeys after remove: %s", body)
	}
}

// TestEscapedSlashBesideOddBytes: a request line with "%2F" and a byte
// net/url would have escaped itself ("|", non-ASCII) names one user.
// net/url's EscapedPath re-escaped such a path, turning %2F into "/".
func TestEscapedSlashBesideOddBytes(t *testing.T) {
	inst := apptest.Start(t, nil)
	send := func(method, path string) []byte {
		req, err := http.NewRequest(method, inst.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Opaque = path // sent as it is
		req.Header.Set("Authorization", apptest.SystemKey)
		res, body := apptest.Send(t, req)
		if res.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, body)
		}
		return body
	}
	for _, c := range []struct{ raw, want string }{
		{"a%2Fb|", "a/b|"},
		{"na\u00efve%2Fbar", "na\u00efve/bar"},
	} {
		send("POST", "/apiKeys/new/"+c.raw)
		got := decode[keyList](t, send("GET", "/apiKeys/getUserKeys/"+c.raw))
		if len(got.Keys) != 1 || got.Keys[0].User != c.want || got.Keys[0].Note != "" {
			t.Errorf("%q: got %+v, want one key of user %q", c.raw, got.Keys, c.want)
		}
	}
}

// TestBadInput: every malformed request gets a 4xx in this family's shape
// and writes nothing.
func TestBadInput(t *testing.T) {
	inst := apptest.Start(t, nil)
	sys := apptest.SystemKey
	cases := []struct {
		name, method, path string
		body               string
		want               int
		catch              string
	}{
		{"65 characters", "POST", "/apiKeys/new/" + strings.Repeat("a", 65), "", 400, "user: must be 1 to 64 characters"},
		{"note of 257", "POST", "/apiKeys/new/bob/" + strings.Repeat("n", 257), "", 400, "note: must be 1 to 256 characters"},
		{"invalid UTF-8", "POST", "/apiKeys/new/%FF%FE", "", 400, "user: must be UTF-8 text without control or format characters, not blank"},
		{"NUL", "POST", "/apiKeys/new/a%00b", "", 400, "user: must be UTF-8 text without control or format characters, not blank"},
		{"DEL", "POST", "/apiKeys/new/a%7Fb", "", 400, "user: must be UTF-8 text without control or format characters, not blank"},
		{"C1", "POST", "/apiKeys/new/a%C2%85b", "", 400, "user: must be UTF-8 text without control or format characters, not blank"},
		{"newline in note", "POST", "/apiKeys/new/bob/a%0Ab", "", 400, "note: must be UTF-8 text without control characters, not blank"},
		{"blank", "POST", "/apiKeys/new/%20%20", "", 400, "user: must be UTF-8 text without control or format characters, not blank"},
		{"zero-width space", "POST", "/apiKeys/new/Sys%E2%80%8Btem", "", 400, "user: must be UTF-8 text without control or format characters, not blank"},
		{"right-to-left override", "POST", "/apiKeys/new/%E2%80%AEmetsyS", "", 400, "user: must be UTF-8 text without control or format characters, not blank"},
		{"byte order mark", "POST", "/apiKeys/new/%EF%BB%BFalice", "", 400, "user: must be UTF-8 text without control or format characters, not blank"},
		{"tag character", "POST", "/apiKeys/new/System%F3%A0%80%A0", "", 400, "user: must be UTF-8 text without control or format characters, not blank"},
		{"tag character with note", "POST", "/apiKeys/new/alice%F3%A0%81%A1/n", "", 400, "user: must be UTF-8 text without control or format characters, not blank"},
		{"musical format character", "POST", "/apiKeys/new/alice%F0%9D%85%B3", "", 400, "user: must be UTF-8 text without control or format characters, not blank"},
		{"empty user with note", "POST", "/apiKeys/new//note", "", 400, "user: must be 1 to 64 characters"},
		{"wrong method", "PUT", "/apiKeys/new/bob", "", 405, ""},
		{"unknown route", "GET", "/apiKeys/nope", "", 404, ""},
		{"body over 1 MiB", "POST", "/apiKeys/new/bob", strings.Repeat("x", 1<<20+1), 413, ""},
		{"headers over 32 KiB", "POST", "/apiKeys/new/bob", "", 431, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body *strings.Reader
			req, _ := http.NewRequest(c.method, inst.URL+c.path, nil)
			if c.body != "" {
				body = strings.NewReader(c.body)
				req, _ = http.NewRequest(c.method, inst.URL+c.path, body)
			}
			req.Header.Set("Authorization", sys)
			if c.want == 431 {
				req.Header.Set("X-Padding", strings.Repeat("p", 33<<10))
			}
			res, b := apptest.Send(t, req)
			got := decode[errorBody](t, b)
			if res.StatusCode != c.want || got.Error.Code != c.want || got.CatchError != c.catch {
				t.Fatalf("got %d %s, want %d catchError %q", res.StatusCode, b, c.want, c.catch)
			}
			if c.want == 400 && got.Error.Message != "Could not create a new auth key" {
				t.Errorf("message: got %q", got.Error.Message)
			}
		})
	}
	_, b := inst.Do(t, "GET", "/apiKeys/getKeys", sys, nil)
	if got := decode[keyList](t, b); len(got.Keys) != 0 {
		t.Fatalf("bad input wrote keys: %s", b)
	}
}

func TestUnknownKeysAreRateLimited(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.AuthFailureRate, cfg.AuthFailureBurst = 0.01, 3
	inst := apptest.Start(t, &cfg)
	for range 20 {
		if res, _ := inst.Do(t, "GET", "/apiKeys/getKeys", apptest.SystemKey, nil); res.StatusCode != 200 {
			t.Fatalf("System key: %d", res.StatusCode)
		}
	}
	for _, auth := range []string{"", "guess-1", "guess-2"} {
		if res, _ := inst.Do(t, "GET", "/apiKeys/getKeys", auth, nil); res.StatusCode != 403 {
			t.Fatalf("failure with %q: got %d, want 403", auth, res.StatusCode)
		}
	}
	res, body := inst.Do(t, "GET", "/apiKeys/getKeys", "guess-3", nil)
	got := decode[errorBody](t, body)
	if res.StatusCode != 429 || got.Error.Code != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("got %d (Retry-After %q) %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
}

// TestFailuresBehindATrustedProxyCountPerClient: behind a proxy given in
// --trusted-proxies, one client's failures block that client only, as
// X-Forwarded-For names it.
func TestFailuresBehindATrustedProxyCountPerClient(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.AuthFailureRate, cfg.AuthFailureBurst = 0.01, 3
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	inst := apptest.Start(t, &cfg)
	send := func(client, auth string) int {
		req, err := http.NewRequest("GET", inst.URL+"/apiKeys/getKeys", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Forwarded-For", client)
		req.Header.Set("Authorization", auth)
		res, _ := apptest.Send(t, req)
		return res.StatusCode
	}
	for i := range 3 {
		if got := send("198.51.100.1", fmt.Sprintf("guess-%d", i)); got != 403 {
			t.Fatalf("failure %d: got %d, want 403", i, got)
		}
	}
	if got := send("198.51.100.1", "guess-3"); got != 429 {
		t.Fatalf("the guessing client after its burst: got %d, want 429", got)
	}
	// A forged start of the header changes nothing: the proxy appended
	// the client's real address last.
	if got := send("203.0.113.9, 198.51.100.1", apptest.SystemKey); got != 429 {
		t.Fatalf("the guessing client with a forged header: got %d, want 429", got)
	}
	if got := send("198.51.100.2", apptest.SystemKey); got != 200 {
		t.Fatalf("another client behind the proxy: got %d, want 200", got)
	}
	if got := send("198.51.100.2", "guess-other"); got != 403 {
		t.Fatalf("another client's first failure: got %d, want 403", got)
	}
}

// Format characters beyond U+FFFF, which the document's pattern cannot
// name, are refused by every route that takes a user name, in the
// pattern's words.
func TestWideFormatCharactersAreRefused(t *testing.T) {
	inst := apptest.Start(t, nil)
	for _, c := range []struct{ method, path, message string }{
		{"POST", "/apiKeys/new/bob%F3%A0%80%A0", "Could not create a new auth key"},
		{"POST", "/apiKeys/new/bob%F3%A0%80%A0/note", "Could not create a new auth key"},
		{"GET", "/apiKeys/getUserKeys/bob%F3%A0%80%A0", "Invalid request"},
		{"DELETE", "/apiKeys/remove/bob%F3%A0%80%A0", "Invalid request"},
	} {
		res, b := inst.Do(t, c.method, c.path, apptest.SystemKey, nil)
		got := decode[errorBody](t, b)
		if res.StatusCode != 400 || got.Error.Message != c.message || got.CatchError != "user: must be UTF-8 text without control or format characters, not blank" {
			t.Errorf("%s %s: %d %s", c.method, c.path, res.StatusCode, b)
		}
	}
}

// limitedInstance is an instance whose failed-authentication bucket holds
// burst failures and, for the length of a test, does not refill.
func limitedInstance(t *testing.T, burst int) *apptest.Instance {
	cfg := apptest.Config(t)
	cfg.AuthFailureRate, cfg.AuthFailureBurst = 0.0001, burst
	return apptest.Start(t, &cfg)
}

func getKeysWith(t *testing.T, inst *apptest.Instance, auth string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", inst.URL+"/apiKeys/getKeys", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	return req
}

// TestParallelUnknownKeysFailAtMostTheBurst: a key the database must judge
// takes its place in the address's bucket before it is looked up, so of
// 150 unknown keys sent at once at most the burst of 30 are refused as
// unknown, and the rest get 429.
func TestParallelUnknownKeysFailAtMostTheBurst(t *testing.T) {
	const burst, parallel = 30, 150
	inst := limitedInstance(t, burst)
	var reqs []*http.Request
	for i := range parallel {
		reqs = append(reqs, getKeysWith(t, inst, fmt.Sprintf("guess-%d", i)))
	}
	got := map[int]int{}
	for a := range apptest.SendAtOnce(reqs) {
		got[a.Status]++
	}
	if got[403] > burst || got[403]+got[429] != parallel {
		t.Errorf("answers %v, want at most %d of 403 and 429 for the rest", got, burst)
	}
}

// TestCachedSystemKeyIsNeverLimited: the System key, once looked up, is
// answered from the key cache, even while the address has used up its
// failures: 50 requests at once all succeed.
func TestCachedSystemKeyIsNeverLimited(t *testing.T) {
	const burst = 30
	inst := limitedInstance(t, burst)
	if res, _ := inst.Do(t, "GET", "/apiKeys/getKeys", apptest.SystemKey, nil); res.StatusCode != 200 {
		t.Fatalf("System key: %d", res.StatusCode)
	}
	for i := range burst {
		if res, _ := inst.Do(t, "GET", "/apiKeys/getKeys", fmt.Sprintf("guess-%d", i), nil); res.StatusCode != 403 {
			t.Fatalf("failure %d: got %d, want 403", i, res.StatusCode)
		}
	}
	var reqs []*http.Request
	for range 50 {
		reqs = append(reqs, getKeysWith(t, inst, apptest.SystemKey))
	}
	got := map[int]int{}
	for a := range apptest.SendAtOnce(reqs) {
		got[a.Status]++
	}
	if got[200] != len(reqs) {
		t.Errorf("the System key while limited: %v, want %d of 200", got, len(reqs))
	}
}
