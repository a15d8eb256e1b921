package hostile_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// /v1 query strings: missing, invalid, beyond int64, another guild, or
// malformed.

// v1Query is the valid query string of an operation: its required
// parameters only.
func (g *gen) v1Query(o operation) string {
	q := url.Values{}
	for _, p := range o.query {
		if !p.Required {
			continue
		}
		switch p.Name {
		case "guild_id":
			q.Set(p.Name, guild.String())
		case "privacy_member_id":
			q.Set(p.Name, admin.String())
		default:
			g.t.Fatalf("%s %s: no valid value known for required parameter %q", o.method, o.path, p.Name)
		}
	}
	return q.Encode()
}

// queryRejects says whether the schema refuses a query value, read the way
// a query parameter is: numbers for numeric schemas.
func queryRejects(s *openapi3.Schema, v string) bool {
	if s.Type.Is("integer") || s.Type.Is("number") {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return true
		}
		return s.VisitJSON(f) != nil
	}
	return s.VisitJSON(v) != nil
}

func (g *gen) v1QueryMutations(o operation, p *openapi3.Parameter, auth string) {
	base, _ := url.ParseQuery(g.v1Query(o))
	addQ := func(kind, raw string, want int) {
		g.add(hostileRequest{family: famV1, kind: kind, method: o.method, target: "/v1" + o.path + "?" + raw,
			header: hdr("Authorization", auth), want: want})
	}
	other := func() url.Values {
		q := url.Values{}
		for k, v := range base {
			if k != p.Name {
				q[k] = v
			}
		}
		return q
	}
	if p.Required {
		addQ("query: required missing", other().Encode(), http.StatusBadRequest)
		upper := other()
		upper.Set(strings.ToUpper(p.Name), base.Get(p.Name))
		addQ("query: required missing", upper.Encode(), http.StatusBadRequest)
	}
	var candidates []string
	for _, v := range values {
		var s string
		if json.Unmarshal([]byte(v), &s) == nil {
			candidates = append(candidates, s)
		} else {
			candidates = append(candidates, v)
		}
	}
	candidates = append(candidates, "", "0", "-1", "1.5", "201", "01", "+1", "1e3", "0x1", "１", " 1", "1 ",
		strings.Repeat("1", 10<<10), "9999999999999999999", "18446744073709551616", "NaN", "Inf")
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] || !queryRejects(p.Schema.Value, c) {
			continue
		}
		seen[c] = true
		q := other()
		q.Set(p.Name, c)
		addQ("query: invalid value", q.Encode(), http.StatusBadRequest)
	}
	if p.Name == "guild_id" {
		for _, c := range []string{"9999999999999999999", "9223372036854775808"} {
			q := other()
			q.Set(p.Name, c)
			addQ("query: id beyond int64", q.Encode(), http.StatusBadRequest)
		}
		for _, c := range []string{otherGuild.String(), "1234"} {
			q := other()
			q.Set(p.Name, c)
			addQ("query: another guild", q.Encode(), http.StatusForbidden)
		}
	}
	// Raw query strings that do not even parse, or smuggle a second value.
	rest := other().Encode()
	if rest != "" {
		rest = "&" + rest
	}
	for _, raw := range []string{
		p.Name + "=%zz", p.Name + "=%", p.Name + "=%ff%fe", p.Name + "=%00", p.Name + "=a%00b",
		p.Name + "[]=1", p.Name + "[$ne]=1", p.Name + "=abc&" + p.Name + "=" + url.QueryEscape(base.Get(p.Name)),
		p.Name + "=" + url.QueryEscape(base.Get(p.Name)) + ";x=1",
	} {
		// An optional parameter that does not parse may be ignored;
		// a required one is then missing.
		if p.Required {
			addQ("query: malformed", raw+rest, 0)
		}
	}
}
