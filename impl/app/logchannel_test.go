package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

const (
	logGuild   = "1098765432109876543"
	logChannel = "1198765432109876543"
	logAdmin   = "310987654321098765"
	logToken   = "a-logging-admin-token"
)

// logServer is apikeyd with a bot token, its fake Discord holding the
// guild with its logs channel, and an administrator.
type logServer struct {
	*apptest.Instance
	fake *discordtest.Server
}

func startLogServer(t *testing.T, tune func(*app.Config)) logServer {
	t.Helper()
	fake := discordtest.NewServer(t)
	fake.AddUser(logToken, logAdmin, "admin")
	fake.AddBot(testBotToken, true)
	name := "logs"
	fake.AddBotGuild(discordtest.BotGuild{ID: logGuild, Channels: []discordtest.Channel{{ID: logChannel, Name: &name}}})
	cfg := apptest.Config(t)
	cfg.DiscordAPIURL = fake.URL()
	cfg.DiscordBotToken = testBotToken
	cfg.LogChannel = app.LogChannelTuning{PollInterval: 10 * time.Millisecond, FirstBackoff: 10 * time.Millisecond}
	if tune != nil {
		tune(&cfg)
	}
	inst := apptest.Start(t, &cfg)
	if _, err := inst.Server.Store().AddGuildAdmin(context.Background(), mustID(t, logGuild), mustID(t, logAdmin)); err != nil {
		t.Fatal(err)
	}
	return logServer{inst, fake}
}

// do sends a /v1 request as auth ("Bearer ..." or a bare key) and wants 200.
func (s logServer) do(t *testing.T, method, path, auth, body string) map[string]any {
	t.Helper()
	res, b := s.Do(t, method, path, auth, strings.NewReader(body))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

// turnOn sets the logs channel and enables the module.
func (s logServer) turnOn(t *testing.T) {
	t.Helper()
	s.do(t, "PUT", "/v1/modules/logging/settings", "Bearer "+logToken, `{"guild_id": "`+logGuild+`", "logs_channel_id": "`+logChannel+`"}`)
	s.do(t, "POST", "/v1/modules/logging/enable", "Bearer "+logToken, `{"guild_id": "`+logGuild+`"}`)
}

// waitPosted waits until the channel holds n messages, and returns them.
func (s logServer) waitPosted(t *testing.T, n int) []discordtest.Posted {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		posted := s.fake.Posted(logChannel)
		if len(posted) >= n || time.Now().After(deadline) {
			if len(posted) != n {
				t.Fatalf("%d messages posted, want %d: %v", len(posted), n, titlesOf(posted))
			}
			return posted
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func titlesOf(posted []discordtest.Posted) []string {
	var out []string
	for _, p := range posted {
		embeds, _ := p.Body["embeds"].([]any)
		if len(embeds) == 1 {
			e, _ := embeds[0].(map[string]any)
			title, _ := e["title"].(string)
			desc, _ := e["description"].(string)
			out = append(out, title+" | "+desc)
		}
	}
	return out
}

// Each change made through /v1 is posted to the logs channel, in order,
// with nothing that pings and a nonce Discord enforces; a key's actor is
// exactly "An API key", and no part of any key is in any message. Once
// the module is disabled, that is the last message.
func TestTheLoggingModulePostsEachChange(t *testing.T) {
	s := startLogServer(t, nil)
	// Before the module is on, nothing is posted.
	s.do(t, "PUT", "/v1/settings", "Bearer "+logToken, `{"guild_id": "`+logGuild+`", "language": "de"}`)
	s.turnOn(t)
	created := s.do(t, "POST", "/v1/auth/api-key", "Bearer "+logToken, `{"guild_id": "`+logGuild+`"}`)
	key := created["data"].(map[string]any)["api_key"].(map[string]any)["api_key"].(string)
	// The key changes settings: its actor is "An API key".
	s.do(t, "PUT", "/v1/settings", "Bearer "+key, `{"guild_id": "`+logGuild+`", "language": "en"}`)
	s.do(t, "DELETE", "/v1/auth/api-key", "Bearer "+logToken, `{"guild_id": "`+logGuild+`", "api_key": "`+key+`"}`)
	s.do(t, "POST", "/v1/modules/logging/disable", "Bearer "+logToken, `{"guild_id": "`+logGuild+`"}`)
	// After the module is off, nothing more.
	s.do(t, "PUT", "/v1/settings", "Bearer "+logToken, `{"guild_id": "`+logGuild+`", "language": "fr"}`)

	posted := s.waitPosted(t, 5)
	want := []string{
		"Logging module enabled | By <@" + logAdmin + ">\n`module_logging`: true",
		"API key created | By <@" + logAdmin + ">\n`id`: ",
		"Settings changed | By An API key\n`language`: en",
		"API key deleted | By <@" + logAdmin + ">\n`id`: ",
		"Logging module disabled | By <@" + logAdmin + ">\n`module_logging`: false",
	}
	got := titlesOf(posted)
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("message %d: %q, want it to start %q", i, got[i], want[i])
		}
	}
	nonces := map[string]bool{}
	for _, p := range posted {
		if strings.Contains(p.Raw, key) || strings.Contains(p.Raw, key[len(key)-4:]) || strings.Contains(p.Raw, key[:12]) {
			t.Errorf("a posted message holds part of the key: %s", p.Raw)
		}
		if am, _ := json.Marshal(p.Body["allowed_mentions"]); string(am) != `{"parse":[]}` {
			t.Errorf("allowed_mentions %s, want {\"parse\":[]}", am)
		}
		if p.Body["enforce_nonce"] != true || p.Nonce == "" || len(p.Nonce) > 25 || nonces[p.Nonce] {
			t.Errorf("nonce %q enforce_nonce %v: want a new one of at most 25 characters, enforced", p.Nonce, p.Body["enforce_nonce"])
		}
		nonces[p.Nonce] = true
	}
	time.Sleep(100 * time.Millisecond) // the sender polls every 10 ms: long enough to post one more, if it would
	if n := len(s.fake.Posted(logChannel)); n != 5 {
		t.Errorf("%d messages after the module was disabled, want 5", n)
	}
}

// Without a bot token nothing is queued; a flag turned off posts nothing
// of its kind.
func TestTheLoggingModuleFollowsItsFlags(t *testing.T) {
	s := startLogServer(t, nil)
	s.turnOn(t)
	s.do(t, "PUT", "/v1/modules/logging/settings", "Bearer "+logToken, `{"guild_id": "`+logGuild+`", "log_api_keys": false}`)
	s.do(t, "POST", "/v1/auth/api-key", "Bearer "+logToken, `{"guild_id": "`+logGuild+`"}`)
	s.do(t, "PUT", "/v1/settings", "Bearer "+logToken, `{"guild_id": "`+logGuild+`", "language": "de"}`)
	got := titlesOf(s.waitPosted(t, 3))
	if !strings.HasPrefix(got[1], "Logging settings changed") || !strings.HasPrefix(got[2], "Settings changed") {
		t.Errorf("posted %q; want the flag change and the settings, not the key", got)
	}
}

// Discord failing: each message is retried with backoff, then given up
// after MaxAttempts: counted in a metric, and its audit entry says it was
// not delivered. 429s are waited out and not counted as failures; the
// messages after it still go, in order.
func TestAMessageThatFailsIsGivenUp(t *testing.T) {
	s := startLogServer(t, func(c *app.Config) { c.LogChannel.MaxAttempts = 3 })
	// Once apikeyd knows the admin's token, Discord failing fails only
	// the messages.
	s.do(t, "GET", "/v1/modules/logging/status?guild_id="+logGuild, "Bearer "+logToken, "")
	s.fake.FailWith(http.StatusInternalServerError)
	s.turnOn(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		page := s.do(t, "GET", "/v1/modules/logging/entries?guild_id="+logGuild, "Bearer "+logToken, "")
		entries := page["data"].(map[string]any)["entries"].([]any)
		newest := entries[0].(map[string]any)
		if newest["undelivered"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the entry was never marked undelivered: %v", newest)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res, metrics := s.Do(t, "GET", "/metrics", "", nil)
	if res.StatusCode != 200 || !strings.Contains(string(metrics), `apikeyd_log_messages_total{outcome="given_up"} 1`) {
		t.Errorf("metrics do not count the message given up:\n%s", metrics)
	}
	s.fake.FailWith(0)
	s.fake.RateLimit("user", time.Second)
	s.do(t, "PUT", "/v1/settings", "Bearer "+logToken, `{"guild_id": "`+logGuild+`", "language": "de"}`)
	time.Sleep(300 * time.Millisecond) // held back by the 429s meanwhile: several attempts, none counted
	s.fake.RateLimit("", 0)
	if got := titlesOf(s.waitPosted(t, 1)); !strings.HasPrefix(got[0], "Settings changed") {
		t.Errorf("posted %q", got)
	}
}

// A Discord that answers 429 forever holds no message forever: once a
// message has waited MaxAge, its next 429 gives it up, its audit entry
// marked undelivered; an event given up, which has no entry of its own,
// gets one (logging.event, naming the event alone), marked so too.
func TestRateLimitedForeverIsGivenUp(t *testing.T) {
	s := startLogServer(t, func(c *app.Config) { c.LogChannel.MaxAge = 300 * time.Millisecond })
	// Once apikeyd knows the admin's token, the 429s hold back only the
	// messages.
	s.do(t, "GET", "/v1/modules/logging/status?guild_id="+logGuild, "Bearer "+logToken, "")
	s.fake.RateLimit("user", 50*time.Millisecond)
	s.turnOn(t)
	s.do(t, "POST", "/v1/modules/logging/events/check", "Bearer "+logToken, `{"guild_id": "`+logGuild+`", "event_info": {"category": "errors", "success": false, "reason": "<@`+logAdmin+`> failed"}}`)
	var entries []any
	deadline := time.Now().Add(10 * time.Second)
	for {
		page := s.do(t, "GET", "/v1/modules/logging/entries?guild_id="+logGuild, "Bearer "+logToken, "")
		entries = page["data"].(map[string]any)["entries"].([]any)
		if newest := entries[0].(map[string]any); newest["action"] == "logging.event" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the event was never given up: %v", entries)
		}
		time.Sleep(10 * time.Millisecond)
	}
	event, enabled := entries[0].(map[string]any), entries[1].(map[string]any)
	if changes, _ := json.Marshal(event["changes"]); event["undelivered"] != true || event["actor"] != "<@"+logAdmin+">" || string(changes) != `{"event":"errors"}` {
		t.Errorf("the given-up event's entry: %v, want undelivered, the admin's, naming the event alone", event)
	}
	if enabled["action"] != "logging.enabled" || enabled["undelivered"] != true {
		t.Errorf("the entry before it: %v, want logging.enabled undelivered", enabled)
	}
	if _, metrics := s.Do(t, "GET", "/metrics", "", nil); !strings.Contains(string(metrics), `apikeyd_log_messages_total{outcome="given_up"} 2`) {
		t.Errorf("metrics do not count the two messages given up:\n%s", metrics)
	}
	if n := len(s.fake.Posted(logChannel)); n != 0 {
		t.Errorf("%d messages posted through the 429s, want 0", n)
	}
}

// TestKill9LosesNoLogMessage kills the real server with SIGKILL while it
// creates keys and posts their messages, and starts it again on the same
// database, several times, on SQLite or, with APIKEYD_TEST_POSTGRES, on
// PostgreSQL: in the end every key whose creation was acknowledged is
// posted exactly once, and no message twice (the nonce).
func TestKill9LosesNoLogMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	const cycles = 3
	p := newLogProcesses(t, logDatabase(t))
	acked := map[string]bool{}
	for cycle := range cycles {
		srv := p.start(t)
		if cycle == 0 {
			p.turnOn(t, srv)
		}
		// 8 keys a cycle: the guild's 25 are never reached. The kill comes
		// right after the last, while its messages are being sent.
		for range 8 {
			id, _ := p.createKey(t, srv)
			acked[id] = true
		}
		srv.kill(t)
	}
	p.start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		seen := map[string]int{}
		for _, title := range titlesOf(p.fake.Posted(logChannel)) {
			if id, ok := strings.CutPrefix(title, "API key created | By <@"+logAdmin+">\n`id`: "); ok {
				seen[id]++
			}
		}
		missing := 0
		for id := range acked {
			if seen[id] == 0 {
				missing++
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Fatalf("key %s posted %d times", id, n)
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged keys never posted", missing, len(acked))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendTo sends a /v1 request to the server at url.
func sendTo(t *testing.T, url, method, path, auth, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// loggingEntriesOf is the logging module's privacy count of member, asked
// with key.
func (s logServer) loggingEntriesOf(t *testing.T, key, member string) int {
	t.Helper()
	data := s.do(t, "GET", "/v1/modules/logging/privacy/get-user-entries?guild_id="+logGuild+"&privacy_member_id="+member, "Bearer "+key, "")["data"]
	n, _ := data.(map[string]any)["id"].(float64)
	return int(n)
}

// Erasing a member's logging data rewrites the queued messages that name
// them: the actor reads "A deleted user", and no message posted after the
// erasure holds their id. The privacy count includes the queued messages,
// and is 0 after the erasure.
func TestErasureRewritesQueuedMessages(t *testing.T) {
	s := startLogServer(t, func(c *app.Config) { c.LogChannel.MaxAttempts = 1000 })
	s.turnOn(t)
	s.waitPosted(t, 1)
	created := s.do(t, "POST", "/v1/auth/api-key", "Bearer "+logToken, `{"guild_id": "`+logGuild+`"}`)
	key := created["data"].(map[string]any)["api_key"].(map[string]any)["api_key"].(string)
	s.waitPosted(t, 2)
	// Discord fails: the admin's next changes stay queued.
	s.fake.FailWith(http.StatusInternalServerError)
	s.do(t, "PUT", "/v1/settings", "Bearer "+logToken, `{"guild_id": "`+logGuild+`", "language": "de"}`)
	s.do(t, "PUT", "/v1/settings", "Bearer "+key, `{"guild_id": "`+logGuild+`", "language": "en"}`)
	// What the logging module holds of the member: their four audit
	// entries (the logs channel set, the module enabled, the key created,
	// the language) and the language's message, queued.
	if n := s.loggingEntriesOf(t, key, logAdmin); n != 5 {
		t.Errorf("the member's logging entries: %d, want 5 (4 audit entries, 1 queued message)", n)
	}
	s.do(t, "DELETE", "/v1/modules/logging/privacy/delete-user-entries", "Bearer "+key, `{"guild_id": "`+logGuild+`", "privacy_member_id": "`+logAdmin+`"}`)
	if n := s.loggingEntriesOf(t, key, logAdmin); n != 0 {
		t.Errorf("the member's logging entries after the erasure: %d, want 0", n)
	}
	s.fake.FailWith(0)
	got := titlesOf(s.waitPosted(t, 5))[2:]
	want := []string{"Settings changed | By A deleted user\n`language`: de", "Settings changed | By An API key\n`language`: en", "A member's data erased | By An API key"}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("message %d after the erasure: %q, want it to start %q", i, got[i], want[i])
		}
	}
	for _, p := range s.fake.Posted(logChannel)[2:] {
		if strings.Contains(p.Raw, logAdmin) {
			t.Errorf("a message posted after the erasure names the member: %s", p.Raw)
		}
	}
}

// erasureAnswer is how an erasure started in the background answered:
// its status and body, when, and how many messages the channel held by
// then.
type erasureAnswer struct {
	status int
	body   []byte
	at     time.Time
	posted int
}

// eraseInBackground erases member's logging entries with key, answering
// on the returned channel.
func (s logServer) eraseInBackground(t *testing.T, key, member string) <-chan erasureAnswer {
	done := make(chan erasureAnswer, 1)
	go func() {
		status, body := sendTo(t, s.URL, "DELETE", "/v1/modules/logging/privacy/delete-user-entries", "Bearer "+key, `{"guild_id": "`+logGuild+`", "privacy_member_id": "`+member+`"}`)
		done <- erasureAnswer{status: status, body: body, at: time.Now(), posted: len(s.fake.Posted(logChannel))}
	}()
	return done
}

// holdAPostNamingTheAdmin has the administrator enable the module, whose
// message names them as its actor, and holds that message's post, the
// channel's first, at the fake Discord until release.
func (s logServer) holdAPostNamingTheAdmin(t *testing.T) (release func()) {
	t.Helper()
	// Before the hold: what asks Discord (the administrator's identity,
	// the guild's channels) is cached then, and the bot's post is the one
	// request held.
	s.do(t, "PUT", "/v1/modules/logging/settings", "Bearer "+logToken, `{"guild_id": "`+logGuild+`", "logs_channel_id": "`+logChannel+`"}`)
	release = s.fake.Hold()
	t.Cleanup(release)
	s.do(t, "POST", "/v1/modules/logging/enable", "Bearer "+logToken, `{"guild_id": "`+logGuild+`"}`)
	deadline := time.Now().Add(10 * time.Second)
	for s.fake.MostConcurrentPosts(logChannel) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the message naming the administrator was not posted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return release
}

// An erasure that arrives while a message naming the member is being
// posted answers only once that post has settled (it was posted: already
// beyond apikeyd's reach), and nothing posted after its answer names the
// member (issue #13: the sender had read the message before the erasure
// rewrote it, and posted the old text after the erasure answered).
func TestErasureWaitsForAPostInFlight(t *testing.T) {
	s := startLogServer(t, func(c *app.Config) { c.LogChannel.MaxAttempts = 1000 })
	// The key is created while the module is off: no message.
	created := s.do(t, "POST", "/v1/auth/api-key", "Bearer "+logToken, `{"guild_id": "`+logGuild+`"}`)
	key := created["data"].(map[string]any)["api_key"].(map[string]any)["api_key"].(string)
	release := s.holdAPostNamingTheAdmin(t)
	done := s.eraseInBackground(t, key, logAdmin)
	select {
	case a := <-done:
		t.Fatalf("the erasure answered %d %s while a message naming the member was being posted", a.status, a.body)
	case <-time.After(300 * time.Millisecond):
	}
	released := time.Now()
	release()
	a := <-done
	if a.status != http.StatusOK {
		t.Fatalf("the erasure: %d %s", a.status, a.body)
	}
	if !a.at.After(released) {
		t.Errorf("the erasure answered at %v, before the post in flight was released at %v", a.at, released)
	}
	posted := s.waitPosted(t, 2)
	if a.posted < 1 || !strings.HasPrefix(titlesOf(posted)[0], "Logging module enabled | By <@"+logAdmin+">") {
		t.Errorf("the post in flight had not settled when the erasure answered: %d messages then, %v", a.posted, titlesOf(posted))
	}
	for _, p := range posted[a.posted:] {
		if strings.Contains(p.Raw, logAdmin) || strings.Contains(p.Raw, "admin") {
			t.Errorf("a message posted after the erasure answered names the member: %s", p.Raw)
		}
	}
}

// POST /v1/modules/logging/events/check posts the event through the same
// outbox and flags, cut to Discord's bounds and pinging no one; an
// erasure rewrites a queued event that mentions the member.
func TestEventsArePostedThroughTheOutbox(t *testing.T) {
	s := startLogServer(t, func(c *app.Config) { c.LogChannel.MaxAttempts = 1000 })
	event := func(auth, body string) string {
		t.Helper()
		return s.do(t, "POST", "/v1/modules/logging/events/check", auth, body)["data"].(map[string]any)["message"].(string)
	}
	errorEvent := `{"guild_id": "` + logGuild + `", "event_info": {"category": "errors", "success": false, "reason": "@everyone <@` + logAdmin + `> ran it", "data": {"big": "` + strings.Repeat("x", 900) + `", "more": "` + strings.Repeat("y", 900) + `", "most": "` + strings.Repeat("z", 900) + `", "all": "` + strings.Repeat("w", 900) + `", "end": "` + strings.Repeat("v", 900) + `"}}}`
	if got := event("Bearer "+logToken, errorEvent); got != "Not logged: the logging module is off." {
		t.Errorf("module off: %q", got)
	}
	s.turnOn(t)
	if got := event("Bearer "+logToken, `{"guild_id": "`+logGuild+`", "event_info": {"category": "nothing_we_log", "success": true}}`); got != "Not logged: the logging module has no flag log_nothing_we_log." {
		t.Errorf("no such flag: %q", got)
	}
	s.waitPosted(t, 1)
	s.fake.FailWith(http.StatusInternalServerError)
	if got := event("Bearer "+logToken, errorEvent); got != "The event is queued for the logs channel." {
		t.Errorf("queued: %q", got)
	}
	created := s.do(t, "POST", "/v1/auth/api-key", "Bearer "+logToken, `{"guild_id": "`+logGuild+`"}`)
	key := created["data"].(map[string]any)["api_key"].(map[string]any)["api_key"].(string)
	// A member the queued event only mentions: it counts as theirs.
	const mentioned = "320987654321098765"
	event("Bearer "+key, `{"guild_id": "`+logGuild+`", "event_info": {"category": "errors", "success": false, "reason": "<@`+mentioned+`> did it"}}`)
	if n := s.loggingEntriesOf(t, key, mentioned); n != 1 {
		t.Errorf("the logging entries of a member a queued event mentions: %d, want 1", n)
	}
	s.do(t, "DELETE", "/v1/modules/logging/privacy/delete-user-entries", "Bearer "+key, `{"guild_id": "`+logGuild+`", "privacy_member_id": "`+logAdmin+`"}`)
	s.fake.FailWith(0)
	posted := s.waitPosted(t, 5)
	got := titlesOf(posted)[1]
	if !strings.HasPrefix(got, "Event: errors | By A deleted user\n") || !strings.Contains(got, "`reason`: @everyone a deleted user ran it") {
		t.Errorf("the event's message: %q", got)
	}
	if n := len([]rune(strings.SplitN(got, " | ", 2)[1])); n > 4096 {
		t.Errorf("the description is %d characters, over Discord's 4096", n)
	}
	if am, _ := json.Marshal(posted[1].Body["allowed_mentions"]); string(am) != `{"parse":[]}` || strings.Contains(posted[1].Raw, logAdmin) {
		t.Errorf("allowed_mentions %s; body %s", am, posted[1].Raw)
	}
	s.do(t, "PUT", "/v1/modules/logging/settings", "Bearer "+logToken, `{"guild_id": "`+logGuild+`", "log_errors": false}`)
	if got := event("Bearer "+key, errorEvent); got != "Not logged: log_errors is off." {
		t.Errorf("flag off: %q", got)
	}
}
