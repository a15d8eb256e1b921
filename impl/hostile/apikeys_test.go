package hostile_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
)

// /apiKeys: bad credentials, hostile and invalid names, unexpected bodies,
// wrong methods and odd paths.

func (g *gen) apiKeys(doc *openapi3.T) {
	ops := operations(doc)
	declared := map[string][]string{}
	for _, o := range ops {
		declared[o.path] = append(declared[o.path], o.method)
	}
	sys := apptest.SystemKey
	creds := []string{
		"", "Bearer", "Bearer ", sys[:10], sys + "x", strings.ToUpper(sys), "Bearer " + strings.ToUpper(sys),
		"Basic " + sys, "Token " + sys, wellFormedKey(keys.User), "Bearer " + wellFormedKey(keys.User),
		g.fx.userKey, "Bearer " + g.fx.userKey, g.fx.guildKeys[0], "Bearer " + adminToken, "\xff\xfe",
	}
	for _, s := range injections[:12] {
		creds = append(creds, s)
	}
	creds = slices.DeleteFunc(creds, func(s string) bool { return !headerSafe(s) })

	fill := func(o operation, vals map[string]string) string {
		p := o.path
		for name, v := range vals {
			p = strings.ReplaceAll(p, "{"+name+"}", v)
		}
		return p
	}
	valid := map[string]string{"user": "alice", "note": "a%20note"}

	for _, o := range ops {
		// Every credential but the System key, on a request that would
		// otherwise succeed.
		for _, cred := range creds {
			g.add(hostileRequest{family: famAPIKeys, kind: "bad credential", method: o.method, target: fill(o, valid),
				header: hdr("Authorization", cred), want: http.StatusForbidden})
		}
		// Hostile names and notes, without the System key: each value
		// percent-encoded once, twice, and raw where it can be sent so.
		for pi, p := range o.pathParams {
			for vi, v := range append(slices.Clone(injections), "alice", "bob", "System", strings.Repeat("é", 64), "\u200b", "\ufeff") {
				cred := creds[(pi*7+vi)%len(creds)]
				want := http.StatusForbidden
				vals := maps(valid, p.Name, url.PathEscape(v))
				if v == "" {
					continue
				}
				g.add(hostileRequest{family: famAPIKeys, kind: "hostile name, not System key", method: o.method, target: fill(o, vals),
					header: hdr("Authorization", cred), want: want})
				vals[p.Name] = url.PathEscape(url.PathEscape(v))
				g.add(hostileRequest{family: famAPIKeys, kind: "hostile name, not System key", method: o.method, target: fill(o, vals),
					header: hdr("Authorization", cred), want: want})
				if rawSafe(v) {
					vals[p.Name] = v
					g.add(hostileRequest{family: famAPIKeys, kind: "hostile name raw, not System key", method: o.method, target: fill(o, vals),
						header: hdr("Authorization", cred)})
				}
			}
		}
		// Names and notes the schema refuses (or System), with the System
		// key: 400, or 403 for System.
		for _, p := range o.pathParams {
			for _, v := range invalidNames(p) {
				vals := maps(valid, p.Name, url.PathEscape(v))
				if p.Name == "note" {
					vals["user"] = "carol"
				}
				want := http.StatusBadRequest
				if strings.EqualFold(v, store.SystemUser) || slices.Contains(systemLookalikes, v) {
					want = http.StatusForbidden
				}
				g.add(hostileRequest{family: famAPIKeys, kind: "invalid name, System key", method: o.method, target: fill(o, vals),
					header: hdr("Authorization", sys), want: want})
			}
		}
		// Bodies nobody asked for, over the limit.
		for _, chunked := range []bool{false, true} {
			want := http.StatusRequestEntityTooLarge
			if chunked {
				// Without a length, the size shows only if the body is
				// read, and these operations need none: 413, or 403 for
				// the missing key, are both right.
				want = 0
			}
			g.add(hostileRequest{family: famAPIKeys, kind: "body over 1 MiB", method: o.method, target: fill(o, valid),
				header: hdr("Content-Type", "application/json"), body: bytes.Repeat([]byte("x"), 1<<20+1), chunked: chunked, want: want})
		}
		g.add(hostileRequest{family: famAPIKeys, kind: "unexpected body", method: o.method, target: fill(o, valid),
			header: hdr("Content-Type", "application/json"), body: []byte(`{"user": "System", "admin": true}`), want: http.StatusForbidden})
	}
	// Empty user names with the System key.
	for _, p := range []string{"/apiKeys/new/", "/apiKeys/new//note", "/apiKeys/new//"} {
		g.add(hostileRequest{family: famAPIKeys, kind: "invalid name, System key", method: "POST", target: p,
			header: hdr("Authorization", sys), want: http.StatusBadRequest})
	}
	// Wrong methods.
	paths := make([]string, 0, len(declared))
	for p := range declared {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		ms := declared[p]
		for _, m := range allMethods {
			if !slices.Contains(ms, m) {
				g.add(hostileRequest{family: famAPIKeys, kind: "wrong method", method: m, target: strings.NewReplacer("{user}", "alice", "{note}", "n").Replace(p),
					header: hdr("Authorization", sys), want: http.StatusMethodNotAllowed})
			}
		}
	}
	// Odd paths: no route.
	long := strings.Repeat("a", 10<<10)
	for _, p := range []string{
		"/apiKeys/", "/apiKeys/%2e%2e/getKeys", "/apiKeys/../apiKeys/getKeys", "/apiKeys//getKeys", "/apiKeys/getKeys/",
		"/apiKeys/getKeys%00", "/apiKeys/getKeys/extra", "/apiKeys/new/alice/note/extra", "/apiKeys/GETKEYS",
		"/apiKeys/" + long, "/apiKeys/new/alice/" + long + "/x", "/apiKeys/remove/", "/apiKeys/getUserKeys/",
		"/apiKeys/%ff", "/apiKeys/getKeys;x=1", "/apiKeys/remove/alice/", "/apiKeys/getUserKeys/alice/keys",
	} {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			g.add(hostileRequest{family: famAPIKeys, kind: "odd path", method: m, target: p, header: hdr("Authorization", "Bearer "+adminToken)})
		}
	}
}

func maps(base map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for a, b := range base {
		out[a] = b
	}
	out[k] = v
	return out
}

// rawSafe says whether s can go into a request path unescaped and still
// reach the service: no spaces or control bytes, no broken % escapes.
func rawSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || c >= 0x80 || c == '?' || c == '#' {
			return false
		}
		if c == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// invalidNames are values of a name or note parameter that its schema
// refuses, and System in several casings.
// systemLookalikes are names that read as System once folded by
// NFKC_Casefold: fullwidth and mathematical letters, default-ignorable
// characters inside. They are refused as System is, with 403.
var systemLookalikes = []string{"\uff33\uff39\uff33\uff34\uff25\uff2d", "Sys\u034ftem", "Sys\u3164tem", "\U0001d412ystem", "System\ufe0f"}

func invalidNames(p *openapi3.Parameter) []string {
	s := p.Schema.Value
	max := 64
	if s.MaxLength != nil {
		max = int(*s.MaxLength)
	}
	candidates := []string{
		strings.Repeat("a", max+1), strings.Repeat("é", max+1), strings.Repeat("x", 10<<10),
		"a\x00b", "\x00", "\t", "a\nb", "\r\n", "a\x7fb", "a\u0085b", "\u009f", "\x1b[31mred",
		"\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "a\xe2\x82", "caf\xe9", "   ", " ", "\ufffd",
	}
	for _, v := range injections {
		candidates = append(candidates, v)
	}
	var out []string
	for _, c := range candidates {
		if s.VisitJSON(c) != nil {
			out = append(out, c)
		}
	}
	if p.Name == "user" {
		out = append(out, "System", "system", "SYSTEM", "sYsTeM", "ſystem", "ſyſtem")
		out = append(out, systemLookalikes...)
		// Invisible format characters, within the pattern's reach and
		// beyond U+FFFF.
		out = append(out, "Sys\u200btem", "\u202emetsyS", "\ufeffalice", "alice\u2060", "System\U000e0020", "bob\U0001d173")
	}
	if len(out) < 15 {
		panic(fmt.Sprintf("only %d invalid values for %s", len(out), p.Name))
	}
	return out
}
