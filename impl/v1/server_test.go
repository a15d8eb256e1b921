package v1_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
)

// TestBadInput: every malformed request gets a 4xx problem, never a 5xx.
func TestBadInput(t *testing.T) {
	w := newWorld(t)
	admin := "Bearer " + adminToken
	g := guild.String()
	cases := []struct {
		name, method, path, contentType, body string
		want                                  int
		field                                 string
	}{
		{"malformed JSON", "POST", "/v1/auth/api-key", "application/json", `{"guild_id": `, 400, ""},
		{"not an object", "POST", "/v1/auth/api-key", "application/json", `[1, 2]`, 400, ""},
		{"data after the JSON value", "POST", "/v1/auth/api-key", "application/json", `{"guild_id": "` + g + `"}x`, 400, "body"},
		{"two JSON values", "POST", "/v1/auth/api-key", "application/json", `{"guild_id": "` + g + `"} {"guild_id": "` + g + `"}`, 400, "body"},
		{"unknown field", "POST", "/v1/auth/api-key", "application/json", `{"guild_id": "` + g + `", "x": 1}`, 400, "x"},
		{"guild id not digits", "POST", "/v1/auth/api-key", "application/json", `{"guild_id": "12a"}`, 400, "guild_id"},
		{"guild id negative", "POST", "/v1/auth/api-key", "application/json", `{"guild_id": -5}`, 400, "guild_id"},
		{"guild id beyond int64", "POST", "/v1/auth/api-key", "application/json", `{"guild_id": "99999999999999999999"}`, 400, "guild_id"},
		{"guild id a fraction", "POST", "/v1/auth/api-key", "application/json", `{"guild_id": 1.5}`, 400, "guild_id"},
		{"query guild id missing", "GET", "/v1/auth/api-key", "", "", 400, "guild_id"},
		{"query guild id beyond int64", "GET", "/v1/auth/api-key?guild_id=9999999999999999999", "", "", 400, ""},
		{"not JSON", "POST", "/v1/auth/api-key", "text/plain", `guild_id=1`, 415, ""},
		{"body over 1 MiB", "POST", "/v1/auth/api-key", "application/json", `{"guild_id": "` + strings.Repeat("1", 1<<20) + `"}`, 413, ""},
		{"wrong method", "PATCH", "/v1/auth/api-key", "", "", 405, ""},
		{"unknown path", "GET", "/v1/nothing-here", "", "", 404, ""},
		{"NUL in token", "POST", "/v1/auth/authorize", "application/json", `{"access_token": "a\u0000b"}`, 401, ""},
		{"headers over 32 KiB", "GET", "/v1/settings?guild_id=" + g, "", "", 431, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, w.URL+c.path, strings.NewReader(c.body))
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			req.Header.Set("Authorization", admin)
			if c.want == 431 {
				req.Header.Set("X-Padding", strings.Repeat("p", 33<<10))
			}
			res, body := apptest.Send(t, req)
			if res.StatusCode != c.want {
				t.Fatalf("got %d, want %d: %s", res.StatusCode, c.want, body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			var p problemBody
			if err := json.Unmarshal(body, &p); err != nil || p.Status != c.want || p.Error.Code != c.want || p.Success || p.Message != p.Title+"! "+p.Detail {
				t.Fatalf("not a problem body: %s", body)
			}
			if _, ok := p.Errors[c.field]; c.field != "" && !ok {
				t.Errorf("errors does not name %q: %s", c.field, body)
			}
		})
	}
	if got := w.listKeys(t); len(got) != 0 {
		t.Fatalf("bad input wrote keys: %+v", got)
	}
}

// A body over the limit is refused however it is sent, even chunked with
// no length given.
func TestChunkedBodyOverTheLimit(t *testing.T) {
	w := newWorld(t)
	body := io.MultiReader(strings.NewReader(`{"guild_id": "`), strings.NewReader(strings.Repeat("1", 1<<20)), strings.NewReader(`"}`))
	req, _ := http.NewRequest("POST", w.URL+"/v1/auth/api-key", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if res, b := apptest.Send(t, req); res.StatusCode != 413 {
		t.Fatalf("got %d %s, want 413", res.StatusCode, b)
	}
}

// TestUnreadableBodiesAreTheClients: a body that breaks off (an invalid
// chunk, or fewer bytes than its Content-Length before the client stops
// sending) is a 400 in each family's shape, whoever sends it, and not a
// 500 from whichever check read it first.
func TestUnreadableBodiesAreTheClients(t *testing.T) {
	w := newWorld(t)
	addr := strings.TrimPrefix(w.URL, "http://")
	breaks := map[string]string{
		"an invalid chunk":     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n\r\n",
		"a body cut off short": "Content-Length: 100\r\nConnection: close\r\n\r\n{\"guild_id\": ",
	}
	for _, c := range []struct{ request, wantType string }{
		{"GET /apiKeys/getKeys HTTP/1.1\r\nHost: x\r\nAuthorization: " + apptest.SystemKey + "\r\n", "application/json"},
		{"GET /apiKeys/getKeys HTTP/1.1\r\nHost: x\r\n", "application/json"},
		{"GET /v1/settings?guild_id=" + guild.String() + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + adminToken + "\r\n", "application/problem+json"},
		{"PUT /v1/settings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer " + adminToken + "\r\n", "application/problem+json"},
		{"PUT /v1/settings HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n", "application/problem+json"},
	} {
		for how, rest := range breaks {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprint(conn, c.request+rest)
			conn.(*net.TCPConn).CloseWrite() // nothing more comes: the body ends short
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			conn.Close()
			line, _, _ := strings.Cut(c.request, "\r\n")
			if res.StatusCode != 400 || res.Header.Get("Content-Type") != c.wantType {
				t.Errorf("%s, %s: %d %s %s, want 400 %s", line, how, res.StatusCode, res.Header.Get("Content-Type"), body, c.wantType)
			}
		}
	}
}

// TestTrailingDataWhateverTheContentTypeParameters: a media type with odd
// parameters is still read as JSON by the validator, so the check for data
// after the JSON value must see it as JSON too.
func TestTrailingDataWhateverTheContentTypeParameters(t *testing.T) {
	w := newWorld(t)
	for _, ct := range []string{"application/json; a=1; a=2", "Application/JSON ;charset=utf-8", "application/json;"} {
		req, _ := http.NewRequest("PUT", w.URL+"/v1/settings",
			strings.NewReader(`{"guild_id": "`+guild.String()+`", "language": "nl"} {"language": "de"} garbage`))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, body := apptest.Send(t, req)
		if res.StatusCode != 400 && res.StatusCode != 415 {
			t.Errorf("%q: got %d %s, want 400 or 415", ct, res.StatusCode, body)
		}
	}
	_, body := w.call(t, "GET", "/v1/settings?guild_id="+guild.String(), "Bearer "+adminToken, "")
	if strings.Contains(string(body), `"language":"nl"`) {
		t.Fatalf("a refused body changed the settings: %s", body)
	}
}

// TestV1PathsAreReadAsSpelled: the seed's one trailing slash is accepted;
// an empty segment or an escaped "/" is no route.
func TestV1PathsAreReadAsSpelled(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		path string
		want int
	}{
		{"/v1", 200},
		{"/v1/", 200},
		{"/v1/livez/", 200},
		{"/v1/helpers/get-supported-unit-systems/", 200},
		{"/v1//", 404},
		{"/v1/%2F", 404},
		{"/v1/livez//", 404},
		{"/v1/helpers%2Fget-supported-unit-systems", 404},
		{"/v1/helpers%2fget-supported-unit-systems/", 404},
	} {
		req, _ := http.NewRequest("GET", w.URL, nil)
		req.URL.Opaque = c.path // sent as it is
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, body := apptest.Send(t, req)
		if res.StatusCode != c.want {
			t.Errorf("GET %s: %d %.100s, want %d", c.path, res.StatusCode, body, c.want)
		}
	}
}
