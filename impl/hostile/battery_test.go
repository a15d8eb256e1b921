// Package hostile_test throws requests at a running apikeyd that it must
// refuse: malformed, mistyped, oversized, unauthenticated or plainly
// malicious ones, generated from the two OpenAPI documents. Each must get a
// 4xx in its family's error shape, and none may change the database.
//
// battery_test.go runs the battery; generate_test.go, v1_test.go,
// v1query_test.go, v1body_test.go, apikeys_test.go and headers_test.go make
// its requests; send_test.go sends them; answers_test.go checks each answer
// and database_test.go that nothing changed. conditions_test.go and
// conditions_unix_test.go put the service under hostile conditions rather
// than hostile requests: floods, apikeyd's own secrets offered as Discord
// tokens, its files deleted, rekeyed or unlocked under it, and starts on a
// hostile setup.
package hostile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
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
	s := startService(t)
	ctx := context.Background()
	fx := populate(t, s.Instance, s.client)

	ro := openReadOnly(t, s.Config.DBPath())
	before := snapshot(t, ro)

	reqs := generate(t, fx)
	if len(reqs) < 1000 {
		t.Fatalf("generated only %d requests, want at least 1000", len(reqs))
	}
	results := send(t, s.URL, s.client, reqs)

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

	if err := s.Server.FlushKeyUses(ctx); err != nil {
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
	checkNoSecretReachedDiscord(t, s.discord, fx)
}

// service is a running apikeyd on a database file (<data-dir>/apikeyd.db,
// which a second connection can read), beside a fake Discord that knows
// adminToken, an administrator of guild, and userToken, who administers
// nothing.
type service struct {
	*apptest.Instance
	discord *discordtest.Server
	client  *http.Client
}

// startService starts a service, with its configuration changed by
// options.
func startService(t *testing.T, options ...func(*app.Config)) *service {
	t.Helper()
	fake := discordtest.NewServer(t)
	fake.AddUser(adminToken, admin.String(), "admin")
	fake.AddUser(userToken, someone.String(), "someone")
	cfg := apptest.Config(t)
	apptest.FileDatabase(&cfg)
	cfg.DiscordAPIURL = fake.URL()
	for _, option := range options {
		option(&cfg)
	}
	inst := apptest.Start(t, &cfg)
	if _, err := inst.Server.Store().AddGuildAdmin(context.Background(), guild, admin); err != nil {
		t.Fatal(err)
	}
	client := newClient()
	t.Cleanup(client.CloseIdleConnections)
	return &service{Instance: inst, discord: fake, client: client}
}

// answer sends one request and returns what came back.
func (s *service) answer(t *testing.T, hr hostileRequest) result {
	t.Helper()
	base, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return sendOne(s.client, base, hr)
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
