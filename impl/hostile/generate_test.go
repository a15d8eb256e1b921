package hostile_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/openapi"
)

// The generator: hostile values, and the operations of a document that the
// families' generators (v1_test.go, apikeys_test.go, headers_test.go) mutate.

// injections are strings that have hurt other services.
var injections = []string{
	"' OR '1'='1", "1; DROP TABLE guild_keys; --", `" OR 1=1 --`, "1 UNION SELECT key_sealed FROM user_keys",
	"'; ATTACH DATABASE '/tmp/x.db' AS x; --", "%' AND 1=0 --",
	"<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "javascript:alert(1)",
	"../../../../etc/passwd", `..\..\..\windows\win.ini`, "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%00/", "/etc/passwd",
	"%s%s%s%s%n", "%x%x%x%x", "%d%p%v%T", "{{7*7}}", "${7*7}", "#{7*7}",
	"${jndi:ldap://127.0.0.1:1/a}", "${jndi:${lower:l}${lower:d}ap://127.0.0.1:1/a}", "${env:APIKEYD_MASTER_KEY}",
	"$(id)", "`id`", "; ls -la", "| cat /etc/passwd", "&& curl 127.0.0.1:1",
	"\u202egnp.exe", "null", "undefined", "NaN", "Infinity", "-1", "0", "true", "[]", "{}",
	"__proto__", "constructor", "*", "%", "_", `\`, "'", `"`, "\U0001F600", "𝓈𝓎𝓈𝓉𝑒𝓂",
	"a\x00b", "\x00", "a\r\nX-Injected: 1", "\t", "\x1b[31mred", "\u0085", "\xff\xfe", "\xed\xa0\x80", "\xc0\xaf", "a\xe2\x82",
	strings.Repeat("A", 10<<10),
}

// values are JSON values of every type, for wrong-type mutations.
var values = func() []string {
	v := []string{
		`null`, `true`, `false`, `0`, `-1`, `1.5`, `-0.5`, `1e308`, `-1e308`, `1e-308`,
		`9223372036854775807`, `9223372036854775808`, `-9223372036854775809`, `18446744073709551616`,
		`99999999999999999999999999999999999999`, `""`, `" "`, `"x"`, `"-1"`, `"1.5"`, `"1e3"`, `"0x10"`,
		`"99999999999999999999"`, `"18446744073709551616"`, `"true"`, `"null"`, `"１２３"`, `" 1"`,
		`[]`, `[1]`, `[null]`, `{}`, `{"$gt": ""}`, `{"$ne": null}`, `[[[[[[[[[[]]]]]]]]]]`,
		`"` + strings.Repeat("9", 10<<10) + `"`,
	}
	for _, s := range injections {
		b, _ := json.Marshal(s)
		v = append(v, string(b))
	}
	return v
}()

// wellFormedKey is a key with a valid checksum that nothing holds.
func wellFormedKey(k keys.Kind) string {
	key, err := keys.Generate(k)
	if err != nil {
		panic(err)
	}
	return key
}

type gen struct {
	t          *testing.T
	fx         *fixture
	reqs       []hostileRequest
	unknownKey string // a well-formed guild key that no guild holds
}

func (g *gen) add(r hostileRequest) {
	if r.header == nil {
		r.header = http.Header{}
	}
	g.reqs = append(g.reqs, r)
}

func generate(t *testing.T, fx *fixture) []hostileRequest {
	g := &gen{t: t, fx: fx, unknownKey: wellFormedKey(keys.Guild)}
	v1doc, err := openapi.Load("v1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	akdoc, err := openapi.Load("apikeys.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g.v1(v1doc)
	g.apiKeys(akdoc)
	g.headers()
	return g.reqs
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			h.Set(kv[i], kv[i+1])
		}
	}
	return h
}

// headerSafe says whether s can be sent as a header value at all.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return strings.TrimSpace(s) == s
}

// operation is one operation of a document, flattened.
type operation struct {
	method, path string // path as the document writes it
	op           *openapi3.Operation
	secured      bool
	query        []*openapi3.Parameter
	pathParams   []*openapi3.Parameter
	body         *openapi3.Schema
}

func operations(doc *openapi3.T) []operation {
	var ops []operation
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		methods := make([]string, 0)
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			op := item.Operations()[m]
			o := operation{method: m, path: p, op: op}
			sec := op.Security
			if sec == nil {
				sec = &doc.Security
			}
			o.secured = len(*sec) > 0
			for _, pr := range append(slices.Clone(item.Parameters), op.Parameters...) {
				switch pr.Value.In {
				case openapi3.ParameterInQuery:
					o.query = append(o.query, pr.Value)
				case openapi3.ParameterInPath:
					o.pathParams = append(o.pathParams, pr.Value)
				}
			}
			if op.RequestBody != nil {
				mt := op.RequestBody.Value.Content.Get("application/json")
				if mt == nil || mt.Schema == nil {
					panic("request body without application/json: " + m + " " + p)
				}
				o.body = mt.Schema.Value
			}
			ops = append(ops, o)
		}
	}
	return ops
}

// allMethods are the methods tried where a path does not declare them.
var allMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "PURGE"}
