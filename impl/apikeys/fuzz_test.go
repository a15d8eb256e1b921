package apikeys_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/apikeyd/apikeyd/impl/apptest"
)

// userRoutes are the routes of openapi/apikeys.yaml with a user in the
// path; {note} only in the second.
var userRoutes = []struct{ method, path string }{
	{"POST", "/apiKeys/new/{user}"},
	{"POST", "/apiKeys/new/{user}/{note}"},
	{"DELETE", "/apiKeys/remove/{user}"},
	{"GET", "/apiKeys/getUserKeys/{user}"},
}

// FuzzUserPath sends any user name and note, percent-encoded or (where a
// request line can carry them) raw, with the System key or without it:
// the answer is never a 5xx, an error is {"error": {"code", "message"}}
// with the HTTP status as its code, and a key is created only for a name
// and note the document allows.
//
// mode: bits 0-1 the route, bit 2 raw, bit 3 no System key.
func FuzzUserPath(f *testing.F) {
	inst := apptest.Start(f, nil)
	f.Add(uint8(0), "alice", "")
	f.Add(uint8(1), "café", "deploy bot")
	f.Add(uint8(5), "a%2Fb", "x%20y")
	f.Add(uint8(8), "System", "n")
	f.Fuzz(func(t *testing.T, mode uint8, user, note string) {
		route := userRoutes[int(mode&3)]
		raw := mode&4 != 0
		encode := func(s string) string {
			if raw && rawSafe(s) {
				return s
			}
			return url.PathEscape(s)
		}
		path := strings.Replace(route.path, "{user}", encode(user), 1)
		path = strings.Replace(path, "{note}", encode(note), 1)
		req, err := http.NewRequest(route.method, inst.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Opaque = path // sent as it is
		if mode&8 == 0 {
			req.Header.Set("Authorization", apptest.SystemKey)
		}
		res, body := apptest.Send(t, req)
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s: %d %s", route.method, path, res.StatusCode, body)
		}
		if res.StatusCode >= 400 {
			if msg := checkErrorBody(res, body); msg != "" {
				t.Fatalf("%s %s: %s: %d %s", route.method, path, msg, res.StatusCode, body)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("%s %s: %d, not JSON: %s", route.method, path, res.StatusCode, body)
		}
		if route.method != "POST" {
			return
		}
		// A key was made: the name (and note) were acceptable, as the
		// service read them from the path.
		gotUser, gotNote := user, note
		if raw && rawSafe(user) {
			gotUser, _ = url.PathUnescape(user)
		}
		if raw && rawSafe(note) {
			gotNote, _ = url.PathUnescape(note)
		}
		if why := unacceptable(gotUser, 64); why != "" || strings.EqualFold(gotUser, "System") {
			t.Fatalf("%s %s: created a key for user %q (%s)", route.method, path, gotUser, why)
		}
		if route.path == userRoutes[1].path {
			if why := unacceptable(gotNote, 256); why != "" {
				t.Fatalf("%s %s: created a key with note %q (%s)", route.method, path, gotNote, why)
			}
		}
	})
}

// rawSafe says whether s can be sent unescaped as one path segment: no
// controls or spaces, no '/', '?' or '#', no broken % escapes.
func rawSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c == 0x7f || c == '/' || c == '?' || c == '#':
			return false
		case c == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])):
			return false
		}
	}
	return s != ""
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unacceptable says why s is not a name or note of at most max characters:
// UTF-8 text without control characters (C0, DEL, C1), not blank.
func unacceptable(s string, max int) string {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return "invalid UTF-8"
	case n < 1 || n > max:
		return fmt.Sprintf("%d characters", n)
	case strings.TrimLeft(s, " ") == "":
		return "blank"
	case strings.ContainsRune(s, utf8.RuneError):
		return "U+FFFD"
	}
	for _, r := range s {
		if r < 0x20 || 0x7f <= r && r <= 0x9f || unicode.Is(unicode.Cc, r) {
			return fmt.Sprintf("control character %U", r)
		}
	}
	return ""
}

// checkErrorBody says what is wrong with an error of this family, or "".
func checkErrorBody(res *http.Response, body []byte) string {
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Sprintf("Content-Type %q", ct)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return "not a JSON object"
	}
	for k := range raw {
		if k != "error" && k != "catchError" {
			return fmt.Sprintf("unexpected member %q", k)
		}
	}
	var detail map[string]json.RawMessage
	if err := json.Unmarshal(raw["error"], &detail); err != nil || len(detail) != 2 || detail["code"] == nil || detail["message"] == nil {
		return "error is not {code, message}"
	}
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil {
		return "members of the wrong type: " + err.Error()
	}
	if e.Error.Code != res.StatusCode {
		return fmt.Sprintf("error.code %d", e.Error.Code)
	}
	if e.Error.Message == "" {
		return "empty message"
	}
	return ""
}
