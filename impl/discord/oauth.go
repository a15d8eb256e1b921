package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/apikeyd/apikeyd/impl/apierr"
)

// DefaultAuthorizeURL is Discord's authorize page, outside its API.
const DefaultAuthorizeURL = "https://discord.com/oauth2/authorize"

// ReasonRefusedGrant is the Reason of the Unauthorized error of an
// authorization code or refresh token Discord refused: the user must log
// in again.
const ReasonRefusedGrant = "discord_refused_grant"

// OAuthConfig configures the dashboard's login with Discord.
type OAuthConfig struct {
	ClientID, ClientSecret string
	// AuthorizeURL is where browsers are sent to log in (""
	// DefaultAuthorizeURL).
	AuthorizeURL string
	// APIURL is Discord's API root, e.g. "https://discord.com/api/v10":
	// tokens are exchanged at <APIURL>/oauth2/token and revoked at
	// <APIURL>/oauth2/token/revoke.
	APIURL string
	// RedirectURL is where Discord sends the browser back, as registered in
	// Discord's developer portal.
	RedirectURL string
	// HTTPClient sends the requests, as Config.HTTPClient.
	HTTPClient *http.Client
	// Limiter holds calls back under Discord's rate limits; share the
	// process's one (nil: a Limiter of its own).
	Limiter *Limiter
}

// OAuth is Discord's OAuth2 authorization code grant with PKCE, for scopes
// "identify guilds", and the refresh and revocation of its tokens. It is
// safe for concurrent use.
type OAuth struct {
	conf       oauth2.Config
	revokeURL  string
	http       *http.Client // through the Limiter
	ctxTimeout time.Duration
}

// Token is what Discord granted.
type Token struct {
	AccessToken, RefreshToken string
	// Expiry is when AccessToken stops working; zero when Discord did not
	// say.
	Expiry time.Time
	// Scopes are the scopes Discord granted, which need not be all those
	// asked for.
	Scopes []string
}

// String keeps the tokens out of anything that prints a Token.
func (t Token) String() string {
	return fmt.Sprintf("discord.Token{expiry: %s, scopes: %q}", t.Expiry.Format(time.RFC3339), t.Scopes)
}

// GoString keeps the tokens out of %#v.
func (t Token) GoString() string { return t.String() }

// LogValue keeps the tokens out of logs.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.Time("expiry", t.Expiry), slog.Any("scopes", t.Scopes))
}

// NewOAuth returns the login for cfg.
func NewOAuth(cfg OAuthConfig) *OAuth {
	authorizeURL := cfg.AuthorizeURL
	if authorizeURL == "" {
		authorizeURL = DefaultAuthorizeURL
	}
	api := strings.TrimRight(cfg.APIURL, "/")
	base := cfg.HTTPClient
	if base == nil {
		base = defaultHTTPClient()
	}
	named := *base
	named.Transport = userAgent{next: base.Transport}
	limiter := cfg.Limiter
	if limiter == nil {
		limiter = NewLimiter(LimiterConfig{})
	}
	o := &OAuth{
		conf: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint: oauth2.Endpoint{
				AuthURL:  authorizeURL,
				TokenURL: api + "/oauth2/token",
				// Discord takes HTTP Basic client authentication. Said
				// outright, so that x/oauth2 never probes by sending the
				// request again the other way: a code would go twice.
				AuthStyle: oauth2.AuthStyleInHeader,
			},
			RedirectURL: cfg.RedirectURL,
			Scopes:      []string{"identify", "guilds"},
		},
		revokeURL: api + "/oauth2/token/revoke",
		http:      limiter.Client(&named),
	}
	if o.http.Timeout <= 0 {
		o.ctxTimeout = DefaultTimeout
	}
	return o
}

// NewVerifier returns a fresh PKCE code verifier: 43 characters, of 256
// random bits.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// AuthCodeURL is the authorize URL to send the browser to: its state is
// echoed back to the redirect URL, and Discord will only exchange the code
// along with verifier (PKCE S256), which never leaves apikeyd. verifier
// must come from NewVerifier.
func (o *OAuth) AuthCodeURL(state, verifier string) string {
	return o.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Exchange trades an authorization code, with the verifier of its login,
// for a token.
//
// Errors: *apierr.Error with Code Unauthorized (Reason ReasonRefusedGrant)
// when Discord refuses the code (expired, used already, another login's
// verifier) or it is malformed, Unavailable when Discord cannot answer
// (with RetryAfter when Discord or the Limiter says how long), Internal
// when Discord refuses apikeyd itself (its client id or secret). If ctx
// ends first, ctx.Err() is returned unwrapped.
func (o *OAuth) Exchange(ctx context.Context, code, verifier string) (Token, error) {
	if err := checkValue(code, "authorization code"); err != nil {
		return Token{}, err
	}
	if !isVerifier(verifier) {
		return Token{}, apierr.New(apierr.Unauthorized, "malformed PKCE code verifier").Because("malformed_verifier")
	}
	tctx, cancel := o.context(ctx)
	defer cancel()
	tok, err := o.conf.Exchange(tctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Token{}, o.failed(ctx, opExchange, err, code, verifier)
	}
	return tokenOf(tok, code, verifier)
}

// Refresh trades a refresh token for a new token. Discord rotates refresh
// tokens: the one given stops working, so a caller must store the new one
// and never refresh twice with the same.
//
// Errors: as Exchange; Unauthorized when Discord refuses the refresh token
// (revoked, or used already).
func (o *OAuth) Refresh(ctx context.Context, refreshToken string) (Token, error) {
	if err := checkValue(refreshToken, "Discord refresh token"); err != nil {
		return Token{}, err
	}
	tctx, cancel := o.context(ctx)
	defer cancel()
	tok, err := o.conf.TokenSource(tctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return Token{}, o.failed(ctx, opRefresh, err, refreshToken)
	}
	return tokenOf(tok, refreshToken)
}

// Revoke ends the grant of token, an access or a refresh token: Discord
// revokes both tokens of that grant. Revoking a token that is already
// revoked, or unknown to Discord, succeeds.
//
// Errors: Unavailable when Discord cannot answer, Internal when it refuses
// apikeyd's client credentials; ctx.Err() as Exchange.
func (o *OAuth) Revoke(ctx context.Context, token string) error {
	if err := checkValue(token, "Discord token"); err != nil {
		return err
	}
	tctx, cancel := o.context(ctx)
	defer cancel()
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(tctx, http.MethodPost, o.revokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return &apierr.Error{Code: apierr.Internal, Message: "invalid Discord API URL", Cause: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// Form-encoded first, as RFC 6749 asks and x/oauth2 does for the token
	// endpoint.
	req.SetBasicAuth(url.QueryEscape(o.conf.ClientID), url.QueryEscape(o.conf.ClientSecret))
	resp, err := o.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return transportError(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return o.refused(opRevoke, resp.StatusCode, resp.Header, body, token)
}

// context is ctx carrying the limited client for x/oauth2, with the
// default timeout when the client has none.
func (o *OAuth) context(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, o.http)
	if o.ctxTimeout > 0 {
		return context.WithTimeout(ctx, o.ctxTimeout)
	}
	return context.WithCancel(ctx)
}

// oauthOp names a call to Discord's token endpoints, for messages and logs.
type oauthOp string

const (
	opExchange oauthOp = "exchange"
	opRefresh  oauthOp = "refresh"
	opRevoke   oauthOp = "revoke"
)

// failed classifies an error of x/oauth2; secrets are what the request
// carried, kept out of every text.
func (o *OAuth) failed(ctx context.Context, op oauthOp, err error, secrets ...string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return o.refused(op, re.Response.StatusCode, re.Response.Header, re.Body, secrets...)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// No answer: the method and URL of the token endpoint, no secret.
		return transportError(err)
	}
	// x/oauth2 could not read a 2xx answer as a token.
	return unavailable("Discord's answer is not a token", errors.New(o.redact(err.Error(), secrets)))
}

// refused classifies an answer of the token endpoints other than success.
func (o *OAuth) refused(op oauthOp, status int, h http.Header, body []byte, secrets ...string) error {
	var d struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &d)
	cause := &oauthError{op: op, status: status, code: o.redact(d.Error, secrets), description: o.redact(d.Description, secrets)}
	switch {
	case status == http.StatusTooManyRequests:
		wait, _ := rateLimitOf(h, body)
		return &apierr.Error{Code: apierr.Unavailable, Message: msgRateLimited, RetryAfter: wait, Cause: cause}
	case status < 400 || status >= 500:
		return unavailable("Discord could not answer", cause)
	case op == opExchange && (d.Error == "invalid_grant" || d.Error == "invalid_request"):
		// What the browser brought back cannot be exchanged: the remedy is
		// to log in again, whether the code is spent or the login's
		// verifier is not the code's.
		return &apierr.Error{Code: apierr.Unauthorized, Message: "Discord refused the login: its code has expired, was used already or belongs to another login; log in again", Reason: ReasonRefusedGrant, Cause: cause}
	case op == opRefresh && d.Error == "invalid_grant":
		return &apierr.Error{Code: apierr.Unauthorized, Message: "Discord refused to renew the login (it was revoked or renewed already); log in again", Reason: ReasonRefusedGrant, Cause: cause}
	default:
		// invalid_client and the like: apikeyd's configuration (its client
		// id or secret) or its request is wrong, not the user's login.
		return &apierr.Error{Code: apierr.Internal, Message: "Discord refused apikeyd's OAuth2 request", Cause: cause}
	}
}

// redact keeps secrets and the client secret out of text from Discord,
// should it ever echo them, and keeps it short.
func (o *OAuth) redact(s string, secrets []string) string {
	return truncate(redactEach(s, append(secrets, o.conf.ClientSecret)...))
}

// oauthError is a refusal of Discord's token endpoints, for logs.
type oauthError struct {
	op                oauthOp
	status            int
	code, description string
}

func (e *oauthError) Error() string {
	switch {
	case e.code == "":
		return fmt.Sprintf("discord: oauth2 %s: status %d", e.op, e.status)
	case e.description == "":
		return fmt.Sprintf("discord: oauth2 %s: status %d: %s", e.op, e.status, e.code)
	default:
		return fmt.Sprintf("discord: oauth2 %s: status %d: %s: %q", e.op, e.status, e.code, e.description)
	}
}

// tokenOf is the Token of x/oauth2's answer, which must be a bearer token.
func tokenOf(tok *oauth2.Token, secrets ...string) (Token, error) {
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		return Token{}, unavailable("Discord's answer is not a token", fmt.Errorf("token_type %q is not Bearer", truncate(redactEach(tok.TokenType, append(secrets, tok.AccessToken, tok.RefreshToken)...))))
	}
	if checkToken(tok.AccessToken) != nil {
		return Token{}, unavailable("Discord's answer is not a token", errors.New("access_token is not a usable token"))
	}
	scope, _ := tok.Extra("scope").(string)
	return Token{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		Expiry:       tok.Expiry,
		Scopes:       strings.Fields(scope),
	}, nil
}

// isVerifier is RFC 7636's code_verifier, which Discord requires: 43 to 128
// characters of A-Z, a-z, 0-9 and "-._~".
func isVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// userAgent names apikeyd on every request, as Discord asks of API
// clients; x/oauth2 sets none.
type userAgent struct{ next http.RoundTripper }

func (t userAgent) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	req = req.Clone(req.Context())
	req.Header.Set("User-Agent", UserAgent)
	return next.RoundTrip(req)
}
