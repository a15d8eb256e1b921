package discord_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

const (
	clientID     = "1187419531237634078"
	clientSecret = "s3cr3tClientDoNotLeak_7Hq"
	redirectURL  = "http://127.0.0.1:8080/dashboard/callback"
)

// oauthFixture is a fake Discord with apikeyd's app registered and a user
// logged in, and the login and identity client sharing one Limiter.
type oauthFixture struct {
	srv      *discordtest.Server
	clk      *clock
	limiter  *discord.Limiter
	oauth    *discord.OAuth
	identity *discord.Client
}

func newOAuthFixture(t *testing.T) *oauthFixture {
	t.Helper()
	f := &oauthFixture{srv: discordtest.NewServer(t), clk: newClock()}
	f.srv.AddApp(clientID, clientSecret, redirectURL)
	f.srv.LoginAs(userID)
	f.limiter = discord.NewLimiter(discord.LimiterConfig{Now: f.clk.Now})
	f.oauth = f.newOAuth(clientSecret)
	f.identity = f.newIdentity()
	return f
}

func (f *oauthFixture) newOAuth(secret string) *discord.OAuth {
	return discord.NewOAuth(discord.OAuthConfig{
		ClientID:     clientID,
		ClientSecret: secret,
		AuthorizeURL: f.srv.AuthorizeURL(),
		APIURL:       f.srv.URL(),
		RedirectURL:  redirectURL,
		HTTPClient:   &http.Client{Timeout: 5 * time.Second},
		Limiter:      f.limiter,
	})
}

// newIdentity is an identity client with an empty cache.
func (f *oauthFixture) newIdentity() *discord.Client {
	return newClient(f.srv, func(cfg *discord.Config) {
		cfg.Limiter = f.limiter
		cfg.Now = f.clk.Now
	})
}

// authorize visits the authorize URL as a browser would and returns the
// query of the redirect back to apikeyd.
func authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURL {
		t.Fatalf("redirected to %q, want %q", got, redirectURL)
	}
	return loc.Query()
}

// login runs the authorize step for verifier and returns the code.
func (f *oauthFixture) login(t *testing.T, verifier string) string {
	t.Helper()
	back := authorize(t, f.oauth.AuthCodeURL("st4te", verifier))
	if back.Get("state") != "st4te" || back.Get("code") == "" {
		t.Fatalf("redirect query %v, want a code and state st4te", back)
	}
	return back.Get("code")
}

// wantRefused checks err's code, its reason when want is Unauthorized, and
// that no secret is in any of its text.
func wantRefused(t *testing.T, err error, want apierr.Code, reason string, secrets ...string) *apierr.Error {
	t.Helper()
	wantCode(t, err, want, "")
	var ae *apierr.Error
	errors.As(err, &ae)
	if reason != "" && ae.Reason != reason {
		t.Errorf("reason = %q, want %q", ae.Reason, reason)
	}
	for _, s := range append(secrets, clientSecret) {
		if s != "" && (strings.Contains(ae.Message, s) || strings.Contains(err.Error(), s)) {
			t.Fatalf("error reveals a secret: %v", err)
		}
	}
	return ae
}

func TestAuthCodeURLAsksForPKCEAndTheScopes(t *testing.T) {
	f := newOAuthFixture(t)
	verifier := discord.NewVerifier()
	if n := len(verifier); n < 43 || n > 128 {
		t.Fatalf("verifier of %d characters, want 43-128", n)
	}
	u, err := url.Parse(f.oauth.AuthCodeURL("st4te", verifier))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"client_id": clientID, "redirect_uri": redirectURL, "response_type": "code",
		"scope": "identify guilds", "state": "st4te", "code_challenge_method": "S256",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Get("code_challenge") == "" || strings.Contains(u.String(), verifier) {
		t.Errorf("code_challenge %q: want the verifier's S256, never the verifier", q.Get("code_challenge"))
	}
	if q.Has("prompt") {
		t.Errorf("prompt = %q, want Discord's default", q.Get("prompt"))
	}
	if !strings.HasPrefix(u.String(), f.srv.AuthorizeURL()+"?") {
		t.Errorf("URL %q is not on the authorize page %q", u, f.srv.AuthorizeURL())
	}
}

func TestExchangeWithPKCE(t *testing.T) {
	f := newOAuthFixture(t)
	ctx := context.Background()

	verifier := discord.NewVerifier()
	code := f.login(t, verifier)
	other := discord.NewVerifier()
	_, err := f.oauth.Exchange(ctx, code, other)
	wantRefused(t, err, apierr.Unauthorized, discord.ReasonRefusedGrant, code, other, verifier)

	verifier = discord.NewVerifier()
	code = f.login(t, verifier)
	tok, err := f.oauth.Exchange(ctx, code, verifier)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || !slices.Equal(tok.Scopes, []string{"identify", "guilds"}) {
		t.Fatalf("token %v: want both tokens and scopes [identify guilds]", tok)
	}
	if left := time.Until(tok.Expiry); left < discordtest.TokenLifetime-time.Minute || left > discordtest.TokenLifetime {
		t.Errorf("expires in %s, want Discord's week", left)
	}
	if id, err := f.identity.UserID(ctx, tok.AccessToken); err != nil || id != userID {
		t.Fatalf("UserID of the new token = %q, %v; want %q", id, err, userID)
	}
	if n := f.srv.Exchanges(); n != 2 {
		t.Errorf("%d exchanges reached Discord, want 2", n)
	}
}

func TestMalformedVerifierOrCodeIsRefusedWithoutAsking(t *testing.T) {
	f := newOAuthFixture(t)
	code := f.login(t, discord.NewVerifier())
	for _, tc := range []struct{ code, verifier string }{
		{code, "short"},
		{code, strings.Repeat("a", 129)},
		{code, strings.Repeat("a", 42) + "!"},
		{"", discord.NewVerifier()},
		{"co de", discord.NewVerifier()},
	} {
		_, err := f.oauth.Exchange(context.Background(), tc.code, tc.verifier)
		wantRefused(t, err, apierr.Unauthorized, "", tc.code, tc.verifier)
	}
	if n := f.srv.Exchanges(); n != 0 {
		t.Errorf("%d exchanges reached Discord, want 0", n)
	}
}

func TestCodeUsedTwiceIsRefused(t *testing.T) {
	f := newOAuthFixture(t)
	verifier := discord.NewVerifier()
	code := f.login(t, verifier)
	if _, err := f.oauth.Exchange(context.Background(), code, verifier); err != nil {
		t.Fatalf("first Exchange: %v", err)
	}
	_, err := f.oauth.Exchange(context.Background(), code, verifier)
	ae := wantRefused(t, err, apierr.Unauthorized, discord.ReasonRefusedGrant, code, verifier)
	if !strings.Contains(ae.Message, "log in again") {
		t.Errorf("message %q does not say what to do", ae.Message)
	}
}

func TestExpiredCodeIsRefused(t *testing.T) {
	f := newOAuthFixture(t)
	verifier := discord.NewVerifier()
	code := f.login(t, verifier)
	f.srv.Advance(discordtest.CodeLifetime)
	_, err := f.oauth.Exchange(context.Background(), code, verifier)
	wantRefused(t, err, apierr.Unauthorized, discord.ReasonRefusedGrant, code, verifier)
}

func TestDeniedLoginRedirectsWithAccessDenied(t *testing.T) {
	f := newOAuthFixture(t)
	f.srv.DenyNextLogin()
	back := authorize(t, f.oauth.AuthCodeURL("st4te", discord.NewVerifier()))
	if back.Get("error") != "access_denied" || back.Get("state") != "st4te" || back.Has("code") {
		t.Fatalf("redirect query %v, want error=access_denied with the state and no code", back)
	}
	f.login(t, discord.NewVerifier()) // the next login is allowed again
}

func TestRefreshRotates(t *testing.T) {
	f := newOAuthFixture(t)
	ctx := context.Background()
	verifier := discord.NewVerifier()
	first, err := f.oauth.Exchange(ctx, f.login(t, verifier), verifier)
	if err != nil {
		t.Fatal(err)
	}

	second, err := f.oauth.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken || second.RefreshToken == "" {
		t.Fatal("Refresh did not rotate both tokens")
	}
	if !slices.Equal(second.Scopes, first.Scopes) {
		t.Errorf("scopes %q after refresh, want %q", second.Scopes, first.Scopes)
	}
	if id, err := f.identity.UserID(ctx, second.AccessToken); err != nil || id != userID {
		t.Fatalf("UserID of the refreshed token = %q, %v", id, err)
	}

	_, err = f.oauth.Refresh(ctx, first.RefreshToken)
	wantRefused(t, err, apierr.Unauthorized, discord.ReasonRefusedGrant, first.RefreshToken, first.AccessToken)
	_, err = f.identity.UserID(ctx, first.AccessToken)
	wantCode(t, err, apierr.Unauthorized, first.AccessToken)
	if n := f.srv.Refreshes(); n != 2 {
		t.Errorf("%d refreshes reached Discord, want 2", n)
	}
}

func TestRevokeEndsTheGrantAndIsIdempotent(t *testing.T) {
	f := newOAuthFixture(t)
	ctx := context.Background()
	verifier := discord.NewVerifier()
	tok, err := f.oauth.Exchange(ctx, f.login(t, verifier), verifier)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.identity.Guilds(ctx, tok.AccessToken); err != nil {
		t.Fatalf("Guilds before revocation: %v", err)
	}

	if err := f.oauth.Revoke(ctx, tok.AccessToken); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := f.oauth.Revoke(ctx, tok.AccessToken); err != nil {
		t.Fatalf("Revoke again: %v", err)
	}
	if n := f.srv.Revocations(); n != 2 {
		t.Errorf("%d revocations reached Discord, want 2", n)
	}
	fresh := f.newIdentity()
	_, err = fresh.UserID(ctx, tok.AccessToken)
	wantCode(t, err, apierr.Unauthorized, tok.AccessToken)
	_, err = fresh.Guilds(ctx, tok.AccessToken)
	wantCode(t, err, apierr.Unauthorized, tok.AccessToken)
	_, err = f.oauth.Refresh(ctx, tok.RefreshToken)
	wantRefused(t, err, apierr.Unauthorized, discord.ReasonRefusedGrant, tok.RefreshToken)
}

func TestWrongClientSecretIsInternal(t *testing.T) {
	f := newOAuthFixture(t)
	ctx := context.Background()
	wrong := "wr0ngSecretDoNotLeak_5Zp"
	bad := f.newOAuth(wrong)
	verifier := discord.NewVerifier()
	code := f.login(t, verifier)

	_, err := bad.Exchange(ctx, code, verifier)
	wantRefused(t, err, apierr.Internal, "", wrong, code, verifier)
	_, err = bad.Refresh(ctx, "someRefreshToken")
	wantRefused(t, err, apierr.Internal, "", wrong, "someRefreshToken")
	err = bad.Revoke(ctx, "someAccessToken")
	wantRefused(t, err, apierr.Internal, "", wrong, "someAccessToken")
}

// A 429 of the token endpoint is a 503 with Discord's wait, and the shared
// Limiter then holds back every call to Discord, the identity's too.
func TestTokenEndpointRateLimitIsUnavailableWithRetryAfter(t *testing.T) {
	f := newOAuthFixture(t)
	ctx := context.Background()
	verifier := discord.NewVerifier()
	code := f.login(t, verifier)
	f.srv.AddUser(token, userID, "nelly")

	f.srv.RateLimit("global", 3*time.Second)
	_, err := f.oauth.Exchange(ctx, code, verifier)
	ae := wantRefused(t, err, apierr.Unavailable, "", code, verifier)
	if ae.RetryAfter != 3*time.Second {
		t.Fatalf("RetryAfter %s, want 3s", ae.RetryAfter)
	}
	f.srv.RateLimit("", 0)

	_, err = f.oauth.Refresh(ctx, "someRefreshToken")
	if ae = wantRefused(t, err, apierr.Unavailable, "", "someRefreshToken"); ae.RetryAfter <= 0 {
		t.Errorf("Refresh held back without a RetryAfter")
	}
	err = f.oauth.Revoke(ctx, token)
	wantRefused(t, err, apierr.Unavailable, "", token)
	_, err = f.identity.UserID(ctx, token)
	wantCode(t, err, apierr.Unavailable, token)
	if n := f.srv.Exchanges() + f.srv.Refreshes() + f.srv.Revocations() + f.srv.TotalCalls(); n != 1 {
		t.Fatalf("%d calls reached Discord, want the one answered 429", n)
	}

	f.clk.Advance(3 * time.Second)
	if _, err := f.oauth.Exchange(ctx, f.login(t, verifier), verifier); err != nil {
		t.Fatalf("Exchange after the wait: %v", err)
	}
}

func TestDiscordFailingIsUnavailable(t *testing.T) {
	f := newOAuthFixture(t)
	ctx := context.Background()
	verifier := discord.NewVerifier()
	code := f.login(t, verifier)

	f.srv.FailWith(http.StatusBadGateway)
	_, err := f.oauth.Exchange(ctx, code, verifier)
	wantRefused(t, err, apierr.Unavailable, "", code, verifier)
	_, err = f.oauth.Refresh(ctx, "someRefreshToken")
	wantRefused(t, err, apierr.Unavailable, "", "someRefreshToken")
	err = f.oauth.Revoke(ctx, "someAccessToken")
	wantRefused(t, err, apierr.Unavailable, "", "someAccessToken")

	f.srv.Close()
	_, err = f.oauth.Exchange(ctx, code, verifier)
	wantRefused(t, err, apierr.Unavailable, "", code, verifier)
	err = f.oauth.Revoke(ctx, "someAccessToken")
	wantRefused(t, err, apierr.Unavailable, "", "someAccessToken")
}

func TestCancelledExchangeReturnsContextError(t *testing.T) {
	f := newOAuthFixture(t)
	verifier := discord.NewVerifier()
	code := f.login(t, verifier)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.oauth.Exchange(ctx, code, verifier); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if err := f.oauth.Revoke(ctx, "someAccessToken"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Revoke: err = %v, want context.Canceled", err)
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	tok := discord.Token{AccessToken: token, RefreshToken: "r3fr3shDoNotLeak", Scopes: []string{"identify"}}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "token", tok)
	printed := []string{logged.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		printed = append(printed, fmt.Sprintf(verb, tok))
	}
	for _, p := range printed {
		if strings.Contains(p, token) || strings.Contains(p, "r3fr3shDoNotLeak") {
			t.Fatalf("a token is printed: %s", p)
		}
	}
}
