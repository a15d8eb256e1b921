// Package hostile_test throws requests at a running apikeyd that it must
// refuse: malformed, mistyped, oversized, unauthenticated or plainly
// malicious ones, generated from the two OpenAPI documents. Each must get a
// 4xx in its family's error shape, and none may change the database.
package hostile_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/openapi"

	_ "modernc.org/sqlite" // the snapshot's read-only connection
)

const (
	guild      snowflake.ID = 1098765432109876543
	otherGuild snowflake.ID = 1098765432109876544
	admin      snowflake.ID = 310987654321098765
	someone    snowflake.ID = 310987654321098766
	adminToken              = "hostile-admin-token"
	userToken               = "hostile-user-token"
)

const (
	famV1      = "v1"
	famAPIKeys = "apiKeys"
)

// hostileRequest is one request the service must refuse.
type hostileRequest struct {
	family string
	kind   string // what makes it hostile, for the report
	method string
	target string // the request-URI, sent verbatim
	header http.Header
	body   []byte
	// chunked sends the body without a Content-Length.
	chunked bool
	// want is the exact status, when the request's fate is certain; 0
	// means any 4xx.
	want int
}

// fixture is what the battery knows about the running service.
type fixture struct {
	userKey   string   // a key of /apiKeys user bob: known, not System
	guildKeys []string // /v1 keys: secrets that no answer may contain
	userKeys  []string // /apiKeys keys: likewise
}

func TestHostileRequestsGetA4xxAndChangeNothing(t *testing.T) {
	start := time.Now()
	fake := discordtest.NewServer(t)
	fake.AddUser(adminToken, admin.String(), "admin")
	fake.AddUser(userToken, someone.String(), "someone")
	cfg := apptest.Config(t)
	cfg.DB = "" // a file, <DataDir>/apikeyd.db, that a second connection can read
	cfg.DiscordAPIURL = fake.URL()
	inst := apptest.Start(t, &cfg)
	ctx := context.Background()
	if _, err := inst.Server.Store().AddGuildAdmin(ctx, guild, admin); err != nil {
		t.Fatal(err)
	}
	client := newClient()
	t.Cleanup(client.CloseIdleConnections)
	fx := populate(t, inst, client)

	ro := openReadOnly(t, filepath.Join(cfg.DataDir, "apikeyd.db"))
	before := snapshot(t, ro)

	reqs := generate(t, fx)
	if len(reqs) < 1000 {
		t.Fatalf("generated only %d requests, want at least 1000", len(reqs))
	}
	results := send(t, inst.URL, client, reqs)

	type key struct {
		family string
		status int
	}
	counts := map[key]int{}
	kinds := map[string]int{}
	type failure struct {
		group, msg string
		req        hostileRequest
		res        result
	}
	var failures []failure
	for i, r := range results {
		req := reqs[i]
		counts[key{req.family, r.status}]++
		kinds[req.family+" "+req.kind]++
		if msg := check(fx, req, r); msg != "" {
			failures = append(failures, failure{req.family + " " + req.kind + " " + msg, msg, req, r})
		}
	}

	if err := inst.Server.FlushKeyUses(ctx); err != nil {
		t.Errorf("flush key uses: %v", err)
	}
	after := snapshot(t, ro)

	// The report.
	keysSorted := make([]key, 0, len(counts))
	for k := range counts {
		keysSorted = append(keysSorted, k)
	}
	sort.Slice(keysSorted, func(i, j int) bool {
		if keysSorted[i].family != keysSorted[j].family {
			return keysSorted[i].family < keysSorted[j].family
		}
		return keysSorted[i].status < keysSorted[j].status
	})
	var report strings.Builder
	fmt.Fprintf(&report, "%d hostile requests in %v\n", len(reqs), time.Since(start).Round(time.Millisecond))
	perFamily := map[string]int{}
	for _, k := range keysSorted {
		perFamily[k.family] += counts[k]
		fmt.Fprintf(&report, "  %-8s %3d  %5d\n", k.family, k.status, counts[k])
	}
	for _, f := range []string{famAPIKeys, famV1} {
		fmt.Fprintf(&report, "  %-8s all  %5d\n", f, perFamily[f])
	}
	kindNames := make([]string, 0, len(kinds))
	for k := range kinds {
		kindNames = append(kindNames, k)
	}
	sort.Strings(kindNames)
	report.WriteString("by kind:\n")
	for _, k := range kindNames {
		fmt.Fprintf(&report, "  %-40s %5d\n", k, kinds[k])
	}
	t.Log(report.String())

	// Every failure in a line; the first of each kind in full.
	const most = 200
	shown := map[string]bool{}
	for i, f := range failures {
		if i == most {
			t.Errorf("... and %d more failures", len(failures)-most)
			break
		}
		if !shown[f.group] {
			shown[f.group] = true
			t.Errorf("%s\n  request:  %s\n  response: %s", f.msg, describeRequest(f.req), describeResult(f.res))
			continue
		}
		body := ""
		if f.req.body != nil {
			body = " body " + clip(string(f.req.body), 60)
			if f.req.chunked {
				body += " (chunked)"
			}
		}
		t.Errorf("%s: %s %s%s -> %s", f.msg, f.req.method, clip(f.req.target, 80), body, clip(describeResult(f.res), 100))
	}
	if before != after {
		t.Errorf("the database changed:\n%s", diffLines(before, after))
	}
}

// newClient reuses connections across the battery's workers.
func newClient() *http.Client {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       30 * time.Second,
		ExpectContinueTimeout: 5 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// populate puts data in every table: user keys, guild keys of two guilds,
// settings, the logging module and so audit entries.
func populate(t *testing.T, inst *apptest.Instance, client *http.Client) *fixture {
	t.Helper()
	fx := &fixture{userKeys: []string{apptest.SystemKey}}
	do := func(method, path, auth, body string) []byte {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, inst.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("setup %s %s: %d %s", method, path, res.StatusCode, b)
		}
		return b
	}
	token := func(b []byte) string {
		var v struct{ Token string }
		if err := json.Unmarshal(b, &v); err != nil || v.Token == "" {
			t.Fatalf("setup: no token in %s", b)
		}
		return v.Token
	}
	sys := apptest.SystemKey
	fx.userKeys = append(fx.userKeys,
		token(do("POST", "/apiKeys/new/alice", sys, "")),
		token(do("POST", "/apiKeys/new/alice/deploy%20bot", "Bearer "+sys, "")),
		token(do("POST", "/apiKeys/new/caf%C3%A9/%E4%BD%A0%E5%A5%BD", sys, "")))
	fx.userKey = token(do("POST", "/apiKeys/new/bob", sys, ""))
	fx.userKeys = append(fx.userKeys, fx.userKey)

	g := guild.String()
	adm := "Bearer " + adminToken
	for range 2 {
		var v struct {
			Data struct {
				APIKey struct {
					APIKey string `json:"api_key"`
				} `json:"api_key"`
			}
		}
		b := do("POST", "/v1/auth/api-key", adm, `{"guild_id": "`+g+`"}`)
		if err := json.Unmarshal(b, &v); err != nil || v.Data.APIKey.APIKey == "" {
			t.Fatalf("setup: no key in %s", b)
		}
		fx.guildKeys = append(fx.guildKeys, v.Data.APIKey.APIKey)
	}
	other, err := inst.Server.Store().CreateGuildKey(context.Background(), otherGuild, store.Actor{UserID: someone}, 25)
	if err != nil {
		t.Fatal(err)
	}
	fx.guildKeys = append(fx.guildKeys, other.Token)
	do("PUT", "/v1/settings", adm, `{"guild_id": "`+g+`", "language": "nl", "gmt": "Europe/Amsterdam", "auto_delete": 3600}`)
	do("POST", "/v1/modules/logging/enable", adm, `{"guild_id": "`+g+`"}`)
	do("PUT", "/v1/modules/logging/settings", adm, `{"guild_id": "`+g+`", "logs_channel_id": "1098765432109876600", "log_errors": false, "log_games": true}`)
	return fx
}

// openReadOnly opens a second, read-only connection to the database file.
func openReadOnly(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// snapshot dumps the schema and every row of every table as text.
func snapshot(t *testing.T, db *sql.DB) string {
	t.Helper()
	var out strings.Builder
	dump := func(query string) {
		rows, err := db.Query(query)
		if err != nil {
			t.Fatalf("snapshot %s: %v", query, err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%s\n  %s\n", query, strings.Join(cols, " | "))
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			cells := make([]string, len(vals))
			for i, v := range vals {
				switch v := v.(type) {
				case nil:
					cells[i] = "NULL"
				case []byte:
					cells[i] = "x'" + hex.EncodeToString(v) + "'"
				case string:
					cells[i] = strconv.Quote(v)
				default:
					cells[i] = fmt.Sprintf("%T(%v)", v, v)
				}
			}
			fmt.Fprintf(&out, "  %s\n", strings.Join(cells, " | "))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	dump("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
	dump("PRAGMA user_version")
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 8 {
		t.Fatalf("snapshot: only tables %v", tables)
	}
	for _, name := range tables {
		dump(`SELECT * FROM "` + strings.ReplaceAll(name, `"`, `""`) + `" ORDER BY 1`)
	}
	return out.String()
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out.WriteString("- " + l + "\n")
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out.WriteString("+ " + l + "\n")
		}
	}
	return out.String()
}

// result is what came back for one request.
type result struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// send sends every request from a few workers over shared connections.
func send(t *testing.T, base string, client *http.Client, reqs []hostileRequest) []result {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	results := make([]result, len(reqs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				results[i] = sendOne(client, u, reqs[i])
			}
		})
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

func sendOne(client *http.Client, base *url.URL, hr hostileRequest) result {
	req, err := http.NewRequest(hr.method, base.String(), nil)
	if err != nil {
		return result{err: err}
	}
	path, query, _ := strings.Cut(hr.target, "?")
	req.URL.Opaque = path
	req.URL.RawQuery = query
	req.URL.Path = ""
	for name, values := range hr.header {
		req.Header[name] = values
	}
	if hr.body != nil {
		body := hr.body
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.Body, _ = req.GetBody()
		req.ContentLength = int64(len(body))
		if hr.chunked {
			req.ContentLength = -1
		}
		if len(body) > 256<<10 {
			// A server may answer a large body without reading it; the
			// client must then not be caught writing it.
			req.Header.Set("Expect", "100-continue")
		}
	}
	res, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return result{status: res.StatusCode, header: res.Header, body: b, err: err}
}

// check says what is wrong with an answer, or "".
func check(fx *fixture, req hostileRequest, r result) string {
	if r.err != nil {
		return "no answer: " + r.err.Error()
	}
	if r.status < 400 || r.status > 499 {
		return fmt.Sprintf("status %d, want a 4xx", r.status)
	}
	if req.want != 0 && r.status != req.want {
		return fmt.Sprintf("status %d, want %d", r.status, req.want)
	}
	for _, secret := range append(slices.Clone(fx.userKeys), fx.guildKeys...) {
		if bytes.Contains(r.body, []byte(secret)) {
			return "the answer holds a key"
		}
	}
	for _, leak := range []string{"goroutine ", "runtime error", "sqlite", "SQL logic"} {
		if bytes.Contains(r.body, []byte(leak)) && !bytes.Contains(req.body, []byte(leak)) && !strings.Contains(req.target, leak) {
			return "the answer leaks internals: " + leak
		}
	}
	switch req.family {
	case famV1:
		return checkProblem(r)
	default:
		return checkAPIKeysError(r)
	}
}

// checkProblem checks the /v1 error shape.
func checkProblem(r result) string {
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Sprintf("Content-Type %q, want application/problem+json", ct)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		return "body is not a JSON object: " + err.Error()
	}
	allowed := map[string]bool{"type": true, "title": true, "status": true, "detail": true, "message": true,
		"errors": true, "success": true, "data": true, "error": true}
	for k := range raw {
		if !allowed[k] {
			return fmt.Sprintf("unexpected member %q", k)
		}
	}
	for _, k := range []string{"type", "title", "status", "detail", "message", "success", "data", "error"} {
		if _, ok := raw[k]; !ok {
			return fmt.Sprintf("member %q missing", k)
		}
	}
	var p struct {
		Type, Title, Detail, Message string
		Status                       int
		Errors                       *map[string]string
		Success                      *bool
		Data                         *map[string]json.RawMessage
		Error                        *struct {
			Code    int
			Message string
		}
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		return "problem members of the wrong type: " + err.Error()
	}
	switch {
	case !strings.HasPrefix(p.Type, "urn:apikeyd:problem:"):
		return fmt.Sprintf("type %q", p.Type)
	case p.Status != r.status:
		return fmt.Sprintf("status member %d, HTTP status %d", p.Status, r.status)
	case p.Title != http.StatusText(r.status):
		return fmt.Sprintf("title %q", p.Title)
	case p.Detail == "":
		return "empty detail"
	case p.Message != p.Title+"! "+p.Detail:
		return fmt.Sprintf("message %q is not title! detail", p.Message)
	case p.Success == nil || *p.Success:
		return "success is not false"
	case p.Data == nil || len(*p.Data) != 0:
		return "data is not {}"
	case p.Error == nil || p.Error.Code != r.status || p.Error.Message != p.Message:
		return "error is not {code: status, message: message}"
	case raw["errors"] != nil && p.Errors == nil && string(raw["errors"]) != "null":
		return "errors is not an object of strings"
	}
	if r.status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") != "Bearer" {
		return "401 without WWW-Authenticate: Bearer"
	}
	return ""
}

// checkAPIKeysError checks the /apiKeys error shape.
func checkAPIKeysError(r result) string {
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		return fmt.Sprintf("Content-Type %q, want application/json", ct)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		return "body is not a JSON object: " + err.Error()
	}
	for k := range raw {
		if k != "error" && k != "catchError" {
			return fmt.Sprintf("unexpected member %q", k)
		}
	}
	var detail map[string]json.RawMessage
	if err := json.Unmarshal(raw["error"], &detail); err != nil || len(detail) != 2 {
		return "error is not {code, message}"
	}
	var e struct {
		Error struct {
			Code    *int
			Message *string
		}
		CatchError *string
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		return "error members of the wrong type: " + err.Error()
	}
	switch {
	case e.Error.Code == nil || *e.Error.Code != r.status:
		return fmt.Sprintf("error.code is not the HTTP status %d", r.status)
	case e.Error.Message == nil || *e.Error.Message == "":
		return "error.message is empty"
	case raw["catchError"] != nil && e.CatchError == nil:
		return "catchError is not a string"
	}
	return ""
}

func describeRequest(r hostileRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s/%s] %s %s", r.family, r.kind, r.method, clip(r.target, 200))
	names := make([]string, 0, len(r.header))
	for k := range r.header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "\n    %s: %s", k, clip(strings.Join(r.header[k], ", "), 120))
	}
	if r.body != nil {
		fmt.Fprintf(&b, "\n    body (%d bytes%s): %s", len(r.body), map[bool]string{true: ", chunked"}[r.chunked], clip(string(r.body), 300))
	}
	return b.String()
}

func describeResult(r result) string {
	if r.err != nil {
		return "error " + r.err.Error()
	}
	return fmt.Sprintf("%d %s %s", r.status, r.header.Get("Content-Type"), clip(string(r.body), 400))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:n], len(s))
}

// ---- generation ----

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

// semantic are values the schema admits but the service must refuse, for
// properties of these names (given the base body of their operation).
func semantic(prop string, schema *openapi3.Schema) []string {
	beyond := []string{`9223372036854775808`, `"9223372036854775808"`, `"9999999999999999999"`, `1e19`}
	switch prop {
	case "guild_id":
		return append(beyond, `0`, `"0"`, `1234`, `"1234"`, `"`+otherGuild.String()+`"`, otherGuild.String(), `1.0`, `-0`)
	case "target", "logs_channel_id":
		return beyond
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

// ---- /v1 ----

func (g *gen) v1(doc *openapi3.T) {
	adm := "Bearer " + adminToken
	ops := operations(doc)
	declared := map[string][]string{}
	for _, o := range ops {
		declared[o.path] = append(declared[o.path], o.method)
	}

	// Wrong methods on every path.
	paths := make([]string, 0, len(declared))
	for p := range declared {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for _, m := range allMethods {
			if !slices.Contains(declared[p], m) {
				g.add(hostileRequest{family: famV1, kind: "wrong method", method: m, target: "/v1" + p,
					header: hdr("Authorization", adm), want: http.StatusMethodNotAllowed})
			}
		}
	}

	for _, o := range ops {
		target := "/v1" + o.path
		base := g.v1Query(o)
		if base != "" {
			target += "?" + base
		}
		var baseBody []byte
		if o.body != nil {
			baseBody = []byte(objectText(g.baseBody(o.body)))
		}
		ct := ""
		if o.body != nil {
			ct = "application/json"
		}
		guildScoped := strings.Contains(base, "guild_id=") || (o.body != nil && o.body.Properties["guild_id"] != nil)

		// Credentials that are missing, unknown, of the other family or
		// of the wrong form: 401; a user without rights: 403.
		if o.secured {
			for _, cred := range g.badCredentials() {
				g.add(hostileRequest{family: famV1, kind: "bad credential", method: o.method, target: target,
					header: hdr("Authorization", cred, "Content-Type", ct), body: baseBody, want: http.StatusUnauthorized})
			}
			if guildScoped {
				g.add(hostileRequest{family: famV1, kind: "no rights on the guild", method: o.method, target: target,
					header: hdr("Authorization", "Bearer "+userToken, "Content-Type", ct), body: baseBody, want: http.StatusForbidden})
			}
		}

		for _, q := range o.query {
			g.v1QueryMutations(o, q, adm)
		}
		if o.body != nil {
			g.v1BodyMutations(o, target, baseBody, adm)
		}
	}

	// Odd paths: none names a route, or the route it names lacks its
	// parameters or body.
	long := strings.Repeat("a", 10<<10)
	odd := []string{
		"/v1/%2e%2e/apiKeys/getKeys", "/v1/..%2fapiKeys/getKeys", "/v1/../apiKeys/getKeys", "/v1/auth/api-key%00",
		"/v1//auth/api-key", "/v1/auth//api-key", "/v1/./auth/api-key", "/v1/auth/./api-key", "/v1/auth/../settings",
		"/v1/" + long, "/v1/auth/" + long, "/v1/settings/" + long, "/v1x", "/v1%2fsettings", "/v1/settings;jsessionid=1",
		"/v1/SETTINGS", "/v1/settings%20", "/v1/%ff", "/v1/%c0%af", "/v1/modules/logging/settings/extra",
		"/v1/auth/api-key//", "/v1/%00", "/v1/%25", "/v1/auth/api-key/%2e%2e", "/v1/modules/%2e%2e/settings",
		"/v1/" + strings.Repeat("a/", 500),
	}
	for _, p := range odd {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			h := hdr("Authorization", adm)
			var body []byte
			if m != "GET" {
				h.Set("Content-Type", "application/json")
				body = []byte(`{}`)
			}
			g.add(hostileRequest{family: famV1, kind: "odd path", method: m, target: p, header: h, body: body})
		}
	}
}

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

// baseBody is a valid body: every required property with a valid value.
func (g *gen) baseBody(s *openapi3.Schema) [][2]string {
	var out [][2]string
	for _, name := range s.Required {
		var v string
		switch name {
		case "guild_id":
			v = `"` + guild.String() + `"`
		case "target":
			v = `"` + admin.String() + `"`
		case "access_token":
			v = `"not-a-token-anyone-knows"`
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

// badCredentials are Authorization headers that name no one who may act:
// missing, empty, malformed, unknown, or a key of the other family.
func (g *gen) badCredentials() []string {
	creds := []string{
		"", "Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer not-a-token-anyone-knows", adminToken,
		"Bearer " + adminToken + "x", "Bearer " + strings.ToUpper(adminToken), "Bearer\t" + adminToken, "Token " + adminToken,
		wellFormedKey(keys.Guild), "Bearer " + wellFormedKey(keys.Guild), "akdg_AGIIXXlxhPtuKA4aZ9x37GoYHcnUuR28tJ7o",
		"Bearer akdg_", "akdg_" + strings.Repeat("0", 200), g.fx.userKey, "Bearer " + g.fx.userKey,
		apptest.SystemKey, "Bearer " + apptest.SystemKey, "Bearer \xff\xfe",
	}
	for _, s := range injections[:12] {
		creds = append(creds, "Bearer "+s)
	}
	return slices.DeleteFunc(creds, func(s string) bool { return !headerSafe(s) })
}

// ---- /apiKeys ----

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
				if strings.EqualFold(v, store.SystemUser) {
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
	}
	if len(out) < 15 {
		panic(fmt.Sprintf("only %d invalid values for %s", len(out), p.Name))
	}
	return out
}

// ---- headers ----

// headers: over 32 KiB of headers, in one header or many, for both
// families: 431 before anything else is looked at.
func (g *gen) headers() {
	targets := []struct{ family, method, target string }{
		{famV1, "GET", "/v1/settings?guild_id=" + guild.String()},
		{famV1, "POST", "/v1/auth/api-key"},
		{famV1, "GET", "/v1/livez"},
		{famAPIKeys, "POST", "/apiKeys/new/alice"},
		{famAPIKeys, "GET", "/apiKeys/getKeys"},
	}
	for _, tg := range targets {
		auth := apptest.SystemKey
		if tg.family == famV1 {
			auth = "Bearer " + adminToken
		}
		for i, h := range []http.Header{
			hdr("X-Padding", strings.Repeat("p", 33<<10)),
			hdr("X-Padding", strings.Repeat("p", 512<<10)),
			hdr("Cookie", "session="+strings.Repeat("c", 40<<10)),
			hdr("Authorization", "Bearer "+strings.Repeat("A", 40<<10)),
			manyHeaders(400, 100),
		} {
			if h.Get("Authorization") == "" {
				h.Set("Authorization", auth)
			}
			var body []byte
			if tg.method == "POST" && tg.family == famV1 {
				h.Set("Content-Type", "application/json")
				body = []byte(`{"guild_id": "` + guild.String() + `"}`)
			}
			g.add(hostileRequest{family: tg.family, kind: fmt.Sprintf("headers over 32 KiB (%d)", i), method: tg.method,
				target: tg.target, header: h, body: body, want: http.StatusRequestHeaderFieldsTooLarge})
		}
	}
	// Hostile but small headers do not change what is refused.
	for _, h := range []http.Header{
		hdr("X-Forwarded-For", "127.0.0.1", "X-Real-IP", "127.0.0.1", "X-Original-URL", "/apiKeys/getKeys"),
		hdr("X-HTTP-Method-Override", "GET", "X-Rewrite-URL", "/apiKeys/getKeys"),
		hdr("User-Agent", "${jndi:ldap://127.0.0.1:1/a}", "Referer", "<script>alert(1)</script>"),
		hdr("Content-Type", "application/json; charset=\xff", "Accept", "*/*;q=\xff"),
	} {
		g.add(hostileRequest{family: famAPIKeys, kind: "hostile headers", method: "POST", target: "/apiKeys/new/mallory", header: h, want: http.StatusForbidden})
		h2 := h.Clone()
		g.add(hostileRequest{family: famV1, kind: "hostile headers", method: "POST", target: "/v1/auth/api-key", header: h2,
			body: []byte(`{"guild_id": "` + guild.String() + `"}`)})
	}
}

func manyHeaders(n, size int) http.Header {
	h := http.Header{}
	for i := range n {
		h.Set(fmt.Sprintf("X-Many-%d", i), strings.Repeat("m", size))
	}
	return h
}
