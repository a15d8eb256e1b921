package hostile_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apikeyd/apikeyd/impl/keys"
)

// /v1 bodies: wrong types and values, missing and unknown fields, not
// JSON, too large, the wrong content type, or none.

// baseBody is a valid body: every required property with a valid value.
func (g *gen) baseBody(s *openapi3.Schema) [][2]string {
	var out [][2]string
	for _, name := range s.Required {
		var v string
		switch name {
		case "guild_id":
			v = `"` + guild.String() + `"`
		case "target", "privacy_member_id":
			v = `"` + admin.String() + `"`
		case "access_token":
			v = `"not-a-token-anyone-knows"`
		case "event_info":
			v = `{"category": "info", "success": true}`
		case "api_key":
			// Well-formed, so that what is checked is who may delete.
			v = `"` + g.unknownKey + `"`
		default:
			g.t.Fatalf("no valid value known for required body property %q", name)
		}
		out = append(out, [2]string{name, v})
	}
	return out
}

func objectText(members [][2]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteString(", ")
		}
		k, _ := json.Marshal(m[0])
		b.Write(k)
		b.WriteString(": ")
		b.WriteString(m[1])
	}
	b.WriteByte('}')
	return b.String()
}

func with(members [][2]string, name, value string) [][2]string {
	out := slices.Clone(members)
	for i := range out {
		if out[i][0] == name {
			out[i][1] = value
			return out
		}
	}
	return append(out, [2]string{name, value})
}

func without(members [][2]string, name string) [][2]string {
	return slices.DeleteFunc(slices.Clone(members), func(m [2]string) bool { return m[0] == name })
}

// rejects says whether the schema refuses a JSON text.
func rejects(s *openapi3.Schema, text string) bool {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return true
	}
	return s.VisitJSON(v) != nil
}

// semantic are values the schema admits but the service must refuse, for
// properties of these names (given the base body of their operation).
func semantic(prop string, schema *openapi3.Schema) []string {
	beyond := []string{`9223372036854775808`, `"9223372036854775808"`, `"9999999999999999999"`, `1e19`}
	// One spelling per id: leading zeros are refused, not read as the
	// id they pad (the guild itself, behind a zero).
	padded := []string{`"00"`, `"042"`, `"0` + guild.String() + `"`, `"00` + guild.String() + `"`}
	switch prop {
	case "guild_id":
		return slices.Concat(beyond, padded, []string{`0`, `"0"`, `1234`, `"1234"`, `"` + otherGuild.String() + `"`, otherGuild.String(), `1.0`, `-0`})
	case "target":
		return slices.Concat(beyond, padded, []string{`0`, `"0"`})
	case "logs_channel_id":
		return slices.Concat(beyond, padded)
	case "gmt":
		return []string{`"Europe/Nowhere"`, `"../../etc/passwd"`, `"Etc/GMT+99"`, `"utc"`}
	case "api_key", "access_token":
		// Any text: a key no guild holds, or a token Discord does not know.
		var out []string
		for _, v := range values {
			var s any
			if json.Unmarshal([]byte(v), &s) == nil && schema.VisitJSON(s) == nil {
				out = append(out, v)
			}
		}
		return append(out, `"`+wellFormedKey(keys.Guild)+`"`, `"akdg_AGIIXXlxhPtuKA4aZ9x37GoYHcnUuR28tJ7o"`)
	}
	return nil
}

func (g *gen) v1BodyMutations(o operation, target string, baseBody []byte, auth string) {
	base := g.baseBody(o.body)
	add := func(kind string, body []byte, ct string, want int) {
		g.add(hostileRequest{family: famV1, kind: kind, method: o.method, target: target,
			header: hdr("Authorization", auth, "Content-Type", ct), body: body, want: want})
	}
	ctJSON := "application/json"

	// Wrong types and out-of-range values for every property. Schemas
	// with very many properties (the logging flags) get a few values each,
	// taken in turn, so that every value is still tried somewhere.
	names := make([]string, 0, len(o.body.Properties))
	for n := range o.body.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, name := range names {
		prop := o.body.Properties[name].Value
		var bad []string
		for _, v := range values {
			if rejects(o.body, objectText(with(base, name, v))) {
				bad = append(bad, v)
			}
		}
		if len(names) > 20 && prop.Type.Is("boolean") {
			var few []string
			for j := range 4 {
				few = append(few, bad[(i*4+j)%len(bad)])
			}
			bad = few
		}
		for _, v := range bad {
			add("body: wrong type or value", []byte(objectText(with(base, name, v))), ctJSON, http.StatusBadRequest)
		}
		for _, v := range semantic(name, prop) {
			body := objectText(with(base, name, v))
			want := 0
			if rejects(o.body, body) {
				want = http.StatusBadRequest
			}
			add("body: refused value", []byte(body), ctJSON, want)
		}
	}
	// Missing required properties.
	for _, name := range o.body.Required {
		add("body: required missing", []byte(objectText(without(base, name))), ctJSON, http.StatusBadRequest)
	}
	// Unknown properties.
	for _, name := range []string{"x", "__proto__", "constructor", "GUILD_ID", "guild_id ", "guild_id\u0000", "", "$where", "id", "created_by", "api_keys"} {
		if _, known := o.body.Properties[name]; known {
			continue
		}
		add("body: unknown field", []byte(objectText(with(base, name, `1`))), ctJSON, http.StatusBadRequest)
	}
	// Not JSON, or JSON that is not an object, or not what it seems.
	bt := string(baseBody)
	first := base[0][0]
	deep := strings.Repeat("[", 100000)
	for _, b := range []string{
		"", " ", "null", "[]", "[{}]", `"s"`, "0", "true", "{", "}", bt[:len(bt)-1], bt + "}", bt + "x", bt + bt, bt + " null",
		"\xef\xbb\xbf" + bt, strings.ReplaceAll(bt, `"`, `'`), strings.ReplaceAll(bt, `"`+first+`"`, first),
		bt[:len(bt)-1] + ",}", bt[:len(bt)-1] + "/* c */}", "// c\n" + bt,
		`{"` + first + `": NaN}`, `{"` + first + `": Infinity}`, `{"` + first + `": 0x10}`, `{"` + first + `": 01}`,
		`{"` + first + `": +1}`, `{"` + first + `": .5}`, `{"` + first + `": 1.}`, `{"` + first + `": "a` + "\x00" + `b"}`,
		`{"` + first + `": "` + "\n" + `"}`, `{"\xff": 1}`, `{"` + first + `": "\ud800"}`,
		`{"` + first + `": 1` + strings.Repeat("0", 100000) + `}`,
		deep, `{"` + first + `": ` + deep, strings.Repeat(`{"a":`, 100000),
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
		`{"` + first + `": ` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`,
		"guild_id=" + guild.String(),
	} {
		add("body: not JSON or not an object", []byte(b), ctJSON, 0)
	}
	// Invalid UTF-8 and NUL inside a string value: the decoded value either
	// breaks the schema or names nothing (a token or key no one holds).
	for _, v := range []string{"\"\xff\xfe\"", "\"\xc0\xaf\"", "\"a\\u0000b\"", "\"\\u0000\"", "\"\xed\xa0\x80\""} {
		add("body: bad text", []byte(objectText(with(base, first, v))), ctJSON, 0)
	}
	// The same member twice, the last one invalid.
	add("body: duplicate member", []byte(objectText(append(slices.Clone(base), [2]string{first, `"abc"`}))), ctJSON, 0)
	// Many members.
	var many strings.Builder
	many.WriteString(bt[:len(bt)-1])
	for i := range 50000 {
		fmt.Fprintf(&many, `, "k%d": 0`, i)
	}
	many.WriteString("}")
	add("body: 50000 unknown fields", []byte(many.String()), ctJSON, http.StatusBadRequest)
	// Over 1 MiB: a valid body padded, sent with and without a length.
	pad := bt[:len(bt)-1] + strings.Repeat(" ", (1<<20)+1-len(bt)) + "}"
	big := bt[:len(bt)-1] + `, "x": "` + strings.Repeat("A", 2<<20) + `"}`
	for _, b := range []string{pad, big} {
		g.add(hostileRequest{family: famV1, kind: "body over 1 MiB", method: o.method, target: target,
			header: hdr("Authorization", auth, "Content-Type", ctJSON), body: []byte(b), want: http.StatusRequestEntityTooLarge})
		g.add(hostileRequest{family: famV1, kind: "body over 1 MiB", method: o.method, target: target,
			header: hdr("Authorization", auth, "Content-Type", ctJSON), body: []byte(b), chunked: true, want: http.StatusRequestEntityTooLarge})
	}
	// Wrong or missing content types, with a valid body.
	for _, ct := range []string{"", "text/plain", "application/xml", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "text/json", "application/*", "*/*", "application/json, text/plain",
		"application/jsonx", "json", "application/x-json", "image/png"} {
		add("wrong content type", baseBody, ct, http.StatusUnsupportedMediaType)
	}
	// No body at all.
	add("body: none", nil, ctJSON, http.StatusBadRequest)
}
