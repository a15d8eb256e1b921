package session_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/session"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

const (
	user         snowflake.ID = 310987654321098765
	clientID                  = "1234567890123456789"
	clientSecret              = "the-client-secret"
	redirectURI               = "http://127.0.0.1/dashboard/callback"
)

// world is a Manager on a real store, talking to a fake Discord through
// an HTTP client whose transport can hold or follow the token endpoint's
// answers (what another process or a slow Discord would do meanwhile).
type world struct {
	fake     *discordtest.Server
	store    *store.Store
	oauth    *discord.OAuth
	identity *discord.Client
	now      *clock
	log      *lockedBuffer
	hooks    *tokenHooks
}

// lockedBuffer is the Managers' log, which a test reads while a sweep
// may be writing.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// clock is the store's and the Manager's clock, which tests move.
type clock struct{ at atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.at.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.at.Add(int64(d)) }

func newWorld(t *testing.T) *world {
	t.Helper()
	fake := discordtest.NewServer(t)
	fake.AddApp(clientID, clientSecret, redirectURI)
	fake.LoginAs(user.String())
	w := &world{fake: fake, now: &clock{}, log: &lockedBuffer{}, hooks: &tokenHooks{}}
	w.now.at.Store(time.Now().UnixNano())
	w.store = openStore(t, w.now.Now)
	httpClient := &http.Client{Transport: w.hooks, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	w.oauth = discord.NewOAuth(discord.OAuthConfig{
		ClientID: clientID, ClientSecret: clientSecret,
		AuthorizeURL: fake.AuthorizeURL(), APIURL: fake.URL(), RedirectURL: redirectURI,
		HTTPClient: httpClient,
	})
	w.identity = discord.NewClient(discord.Config{BaseURL: fake.URL()})
	return w
}

// openStore is a store of its own on a new database (PostgreSQL when the
// tests are given one), on the test's clock.
func openStore(t *testing.T, now func() time.Time) *store.Store {
	t.Helper()
	sealer, err := keys.NewSealer(keys.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	st, err := apptest.OpenStore(t, apptest.Config(t), store.Config{Sealer: sealer, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// manager is a Manager of w; dashboardOn gives it Discord's OAuth, as
// apikeyd does when the dashboard is configured. Its sessions outlast
// the access tokens, which Discord issues for a week, the default idle
// limit.
func (w *world) manager(dashboardOn bool) *session.Manager {
	cfg := session.Config{
		Store: w.store, Forget: w.identity, Now: w.now.Now,
		Idle: 4 * discordtest.TokenLifetime, Absolute: 8 * discordtest.TokenLifetime,
		Log: slog.New(slog.NewTextHandler(w.log, nil)),
	}
	if dashboardOn {
		cfg.OAuth = w.oauth
	}
	return session.New(cfg)
}

// signIn logs the fake's user in through the authorize page and trades
// the code for Discord's tokens, as the dashboard's callback does.
func (w *world) signIn(t *testing.T) discord.Token {
	t.Helper()
	verifier := discord.NewVerifier()
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(w.oauth.AuthCodeURL("state", verifier))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("authorize page: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	tok, err := w.oauth.Exchange(context.Background(), back.Query().Get("code"), verifier)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// start signs in and starts a session, returning its cookie's id.
func (w *world) start(t *testing.T, m *session.Manager) (string, discord.Token) {
	t.Helper()
	tok := w.signIn(t)
	id, err := m.Start(context.Background(), user, tok)
	if err != nil {
		t.Fatal(err)
	}
	return id, tok
}

// expire moves the clock past the access token's lifetime.
func (w *world) expire() { w.now.Advance(discordtest.TokenLifetime) }

// discordHonours says whether the fake still takes token at /users/@me.
func (w *world) discordHonours(t *testing.T, token string) bool {
	t.Helper()
	_, err := discord.NewClient(discord.Config{BaseURL: w.fake.URL()}).UserID(context.Background(), token)
	if err != nil && apierr.CodeOf(err) != apierr.Unauthorized {
		t.Fatal(err)
	}
	return err == nil
}

// tokenHooks is the OAuth client's transport: before a request to the
// token endpoint it calls before, and after Discord's answer, after.
type tokenHooks struct {
	mu            sync.Mutex
	before, after func()
}

func (h *tokenHooks) set(before, after func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.before, h.after = before, after
}

func (h *tokenHooks) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	before, after := h.before, h.after
	h.mu.Unlock()
	token := strings.HasSuffix(r.URL.Path, "/oauth2/token")
	if token && before != nil {
		before()
	}
	res, err := http.DefaultTransport.RoundTrip(r)
	if token && after != nil {
		after()
	}
	return res, err
}

// saveOnDiscordsAnswer has another replica save saved as sess's tokens
// as soon as Discord has answered the next token request: between that
// answer and this replica's own save.
func (w *world) saveOnDiscordsAnswer(t *testing.T, sess store.Session, saved store.SessionTokens) {
	w.hooks.set(nil, func() {
		w.hooks.set(nil, nil)
		if ok, err := w.store.UpdateSessionTokens(context.Background(), sess.ID, sess.Tokens, saved); !ok || err != nil {
			t.Errorf("the other replica's save: %v, %v", ok, err)
		}
	})
}

// wantResolvedWith resolves id and wants want's tokens.
func wantResolvedWith(t *testing.T, m *session.Manager, id string, want store.SessionTokens) {
	t.Helper()
	got, err := m.Resolve(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !sameGrant(got.Tokens, want) {
		t.Fatalf("resolved with %+v, want the other replica's tokens %+v", got.Tokens, want)
	}
}

// sameGrant compares tokens as the store keeps them: the expiry to the
// millisecond.
func sameGrant(a, b store.SessionTokens) bool {
	return a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken &&
		a.Expiry.UnixMilli() == b.Expiry.UnixMilli()
}

func wantEnded(t *testing.T, err error) {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) || e.Code != apierr.Unauthorized || e.Reason != "session_ended" {
		t.Fatalf("got %v, want the Unauthorized session_ended refusal", err)
	}
}

func TestAFreshSessionIsFoundWithoutAskingDiscord(t *testing.T) {
	w := newWorld(t)
	m := w.manager(true)
	id, tok := w.start(t, m)
	sess, err := m.Resolve(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if sess.UserID != user || sess.Tokens.AccessToken != tok.AccessToken || sess.Tokens.RefreshToken != tok.RefreshToken {
		t.Fatalf("resolved %+v, want the user %s with the sign-in's tokens", sess, user)
	}
	if n := w.fake.Refreshes(); n != 0 {
		t.Fatalf("%d refreshes of a token that has not expired", n)
	}
}

func TestIdsThatNameNoSessionAreRefused(t *testing.T) {
	w := newWorld(t)
	m := w.manager(true)
	unknown, err := keys.Generate(keys.Session)
	if err != nil {
		t.Fatal(err)
	}
	guildKey, err := keys.Generate(keys.Guild)
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]string{
		"empty": "", "garbage": "not a session id", "unknown": unknown, "a guild key": guildKey,
		"bad checksum": unknown[:len(unknown)-1] + string(unknown[len(unknown)-1]^1),
	} {
		t.Run(name, func(t *testing.T) {
			if session.WellFormed(id) != (name == "unknown") {
				t.Errorf("WellFormed(%q) = %v", id, session.WellFormed(id))
			}
			_, err := m.Resolve(context.Background(), id)
			wantEnded(t, err)
			ended, err := m.End(context.Background(), id)
			if ended || err != nil {
				t.Fatalf("End = %v, %v; want false, nil", ended, err)
			}
		})
	}
}

func TestConcurrentRequestsOfAnExpiredSessionRefreshOnce(t *testing.T) {
	w := newWorld(t)
	m := w.manager(true)
	id, tok := w.start(t, m)
	w.expire()
	const requests = 8
	got := make([]store.Session, requests)
	errs := make([]error, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() { got[i], errs[i] = m.Resolve(context.Background(), id) })
	}
	wg.Wait()
	for i := range requests {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if !sameGrant(got[i].Tokens, got[0].Tokens) {
			t.Fatalf("requests got different tokens: %+v and %+v", got[0].Tokens, got[i].Tokens)
		}
	}
	if n := w.fake.Refreshes(); n != 1 {
		t.Fatalf("%d refreshes, want 1 (Discord spends a refresh token once)", n)
	}
	renewed := got[0].Tokens
	if renewed.AccessToken == tok.AccessToken || renewed.RefreshToken == tok.RefreshToken {
		t.Fatal("the session kept the expired grant's tokens")
	}
	if !renewed.Expiry.After(w.now.Now()) {
		t.Fatalf("renewed token expires at %v, before now (%v)", renewed.Expiry, w.now.Now())
	}
	// Saved: the next request, in this process or another, uses the new
	// tokens without refreshing again.
	again, err := w.manager(true).Resolve(context.Background(), id)
	if err != nil || !sameGrant(again.Tokens, renewed) {
		t.Fatalf("after the renewal: %+v, %v; want the renewed tokens", again.Tokens, err)
	}
	if n := w.fake.Refreshes(); n != 1 {
		t.Fatalf("%d refreshes after the renewal was saved", n)
	}
}

func TestAnExpiredSessionEndsWhileTheDashboardIsOff(t *testing.T) {
	w := newWorld(t)
	id, _ := w.start(t, w.manager(true))
	w.expire()
	_, err := w.manager(false).Resolve(context.Background(), id)
	wantEnded(t, err)
	if n := w.fake.Refreshes(); n != 0 {
		t.Fatalf("%d refreshes without the dashboard's OAuth client", n)
	}
}

func TestASessionWhoseGrantDiscordRevokedEnds(t *testing.T) {
	w := newWorld(t)
	m := w.manager(true)
	id, tok := w.start(t, m)
	// The user removed the app in Discord: its refresh token is refused.
	if err := w.oauth.Revoke(context.Background(), tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	w.expire()
	_, err := m.Resolve(context.Background(), id)
	wantEnded(t, err)
}

func TestARenewalSavedByAnotherProcessIsTaken(t *testing.T) {
	w := newWorld(t)
	m := w.manager(true)
	id, tok := w.start(t, m)
	w.expire()
	sess, err := w.store.SessionByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	// Another replica spends the refresh token first; its answer is saved
	// while this one's refresh, refused for the spent token, is on its way
	// back.
	theirs, err := w.oauth.Refresh(context.Background(), tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	saved := store.SessionTokens{AccessToken: theirs.AccessToken, RefreshToken: theirs.RefreshToken, Expiry: w.now.Now().Add(discordtest.TokenLifetime)}
	w.saveOnDiscordsAnswer(t, sess, saved)
	wantResolvedWith(t, m, id, saved)
}

func TestARenewalThatLosesTheRaceTakesTheSavedOne(t *testing.T) {
	w := newWorld(t)
	m := w.manager(true)
	id, _ := w.start(t, m)
	w.expire()
	sess, err := w.store.SessionByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	// Another replica saves its tokens between Discord's answer to this
	// refresh and this one's save: the store's compare-and-swap keeps
	// theirs, and this request takes them.
	theirs := w.signIn(t)
	saved := store.SessionTokens{AccessToken: theirs.AccessToken, RefreshToken: theirs.RefreshToken, Expiry: w.now.Now().Add(discordtest.TokenLifetime)}
	w.saveOnDiscordsAnswer(t, sess, saved)
	wantResolvedWith(t, m, id, saved)
	if n := w.fake.Refreshes(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

func TestALogoutDuringARenewalRevokesTheNewGrant(t *testing.T) {
	w := newWorld(t)
	m := w.manager(true)
	id, _ := w.start(t, m)
	w.expire()
	// The user logs out (in another tab, on another replica) while
	// Discord is answering this request's refresh.
	w.hooks.set(nil, func() {
		w.hooks.set(nil, nil)
		if _, err := w.store.DeleteSession(context.Background(), id); err != nil {
			t.Errorf("logout: %v", err)
		}
	})
	_, err := m.Resolve(context.Background(), id)
	wantEnded(t, err)
	if n := w.fake.Revocations(); n != 1 {
		t.Fatalf("%d revocations, want the new grant's", n)
	}
}

func TestARequestThatLeavesDoesNotStrandTheRenewal(t *testing.T) {
	w := newWorld(t)
	m := w.manager(true)
	id, tok := w.start(t, m)
	w.expire()
	inDiscord, release := make(chan struct{}), make(chan struct{})
	w.hooks.set(func() { close(inDiscord); <-release }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() { _, err := m.Resolve(ctx, id); left <- err }()
	<-inDiscord
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("the request that left got %v, want context.Canceled", err)
	}
	w.hooks.set(nil, nil)
	close(release)
	// The renewal went on without it, and saved what Discord rotated: the
	// next request gets the new tokens, and the spent refresh token is
	// not sent again.
	var got store.Session
	var err error
	for range 100 {
		if got, err = m.Resolve(context.Background(), id); err != nil || got.Tokens.RefreshToken != tok.RefreshToken {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || got.Tokens.RefreshToken == tok.RefreshToken {
		t.Fatalf("after the renewal: %+v, %v", got.Tokens, err)
	}
	if n := w.fake.Refreshes(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

func TestEndRevokesTheGrantAndForgetsTheToken(t *testing.T) {
	w := newWorld(t)
	m := w.manager(true)
	id, tok := w.start(t, m)
	if _, err := w.identity.UserID(context.Background(), tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, cached := w.identity.CachedUserID(tok.AccessToken); !cached {
		t.Fatal("the identity was not cached")
	}
	ended, err := m.End(context.Background(), id)
	if !ended || err != nil {
		t.Fatalf("End = %v, %v; want true, nil", ended, err)
	}
	if _, cached := w.identity.CachedUserID(tok.AccessToken); cached {
		t.Error("the ended session's access token is still cached")
	}
	if w.discordHonours(t, tok.AccessToken) {
		t.Error("Discord still honours the ended session's access token")
	}
	_, err = m.Resolve(context.Background(), id)
	wantEnded(t, err)
	if ended, err := m.End(context.Background(), id); ended || err != nil {
		t.Fatalf("a second End = %v, %v; want false, nil", ended, err)
	}
}

func TestEndWhileDiscordIsDownStillEnds(t *testing.T) {
	w := newWorld(t)
	m := w.manager(true)
	id, tok := w.start(t, m)
	if _, err := w.identity.UserID(context.Background(), tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	w.fake.Close()
	ended, err := m.End(context.Background(), id)
	if !ended || err != nil {
		t.Fatalf("End = %v, %v; want true, nil", ended, err)
	}
	if _, cached := w.identity.CachedUserID(tok.AccessToken); cached {
		t.Error("the ended session's access token is still cached")
	}
	if !strings.Contains(w.log.String(), "could not revoke") {
		t.Errorf("the failed revocation is not logged:\n%s", w.log)
	}
	_, err = m.Resolve(context.Background(), id)
	wantEnded(t, err)
}

func TestSweepDeletesEndedSessions(t *testing.T) {
	w := newWorld(t)
	m := session.New(session.Config{Store: w.store, Now: w.now.Now, Idle: time.Hour, Absolute: 24 * time.Hour,
		Log: slog.New(slog.NewTextHandler(w.log, nil))})
	idle, _ := w.start(t, m)
	w.now.Advance(30 * time.Minute)
	live, _ := w.start(t, m)
	w.now.Advance(45 * time.Minute) // idle is 75 minutes old, live 45
	ctx, cancel := context.WithCancel(context.Background())
	swept := make(chan struct{})
	go func() { defer close(swept); m.Sweep(ctx, time.Hour) }()
	// Sweep's first pass is at once; the next would be an hour later.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(w.log.String(), "swept ended dashboard sessions"); {
		if time.Now().After(deadline) {
			t.Fatalf("no sweep logged:\n%s", w.log)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-swept
	if !strings.Contains(w.log.String(), "count=1") {
		t.Fatalf("the sweep's log:\n%s", w.log)
	}
	if _, err := m.Resolve(context.Background(), live); err != nil {
		t.Fatalf("the live session: %v", err)
	}
	_, err := m.Resolve(context.Background(), idle)
	wantEnded(t, err)
}
