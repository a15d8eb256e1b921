package v1

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/ratelimit"
	"github.com/apikeyd/apikeyd/impl/session"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/validate"
)

// Principal is who a request acts for: a Discord user, or a guild key.
type Principal struct {
	UserID snowflake.ID       // a Discord user, when Key is nil
	Key    *store.GuildKeyRef // a guild API key
	// token is the user's Discord access token: the bearer token, or the
	// one the dashboard session holds. Discord answers what else it knows
	// of the user (their guilds) only to it.
	token string
}

// actor is how the audit log records the principal's changes.
func (p Principal) actor() store.Actor {
	if p.Key != nil {
		return store.APIKeyActor
	}
	return store.Actor{UserID: p.UserID}
}

// The security schemes of openapi/v1.yaml.
const (
	schemeDiscord = "discordToken"
	schemeKey     = "guildKeyBearer"
	schemeKeyBare = "guildKeyBare"
	schemeCookie  = "cookieAuth"
)

// authState resolves a request's credentials once, however many security
// schemes the validator tries, and keeps the result for the handler.
type authState struct {
	addr      string // the client address failures are counted under
	once      sync.Once
	principal Principal
	bearer    bool
	// cookie says that the principal is the dashboard session's, read
	// from its cookie: the request had no Authorization header.
	cookie bool
	err    error
}

type authStateKey struct{}

// requestState is what the family keeps of one request, in one
// allocation (a request's cost is mostly such small ones): the writer
// that negotiates its errors' media type, and its context with the place
// for its principal.
type requestState struct {
	negotiated
	ctx authContext
}

// authContext is a request's context with its authState, as
// context.WithValue would make it but without an allocation of its own.
type authContext struct {
	context.Context
	st authState
}

func (c *authContext) Value(key any) any {
	if _, ok := key.(authStateKey); ok {
		return &c.st
	}
	return c.Context.Value(key)
}

// withRequestState gives each request its negotiated writer (negotiate)
// and a place for its principal.
func (s *Server) withRequestState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &requestState{}
		req.ctx.Context = r.Context()
		req.ctx.st.addr = s.limiter.Address(r)
		if _, ok := w.(*negotiated); !ok {
			req.negotiated = negotiation(w, r)
			w = &req.negotiated
		}
		next.ServeHTTP(w, r.WithContext(&req.ctx))
	})
}

func stateOf(ctx context.Context) *authState {
	st, _ := ctx.Value(authStateKey{}).(*authState)
	return st
}

// principalOf is the authenticated caller of a request that passed the
// validator's security check.
func principalOf(ctx context.Context) (Principal, error) {
	st := stateOf(ctx)
	if st == nil {
		return Principal{}, errors.New("request was not authenticated")
	}
	return st.principal, st.err
}

// authenticate is the validator's AuthenticationFunc: it says whether the
// request's credentials are of the form the scheme describes, and valid.
func (s *Server) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	st := stateOf(r.Context())
	if st == nil {
		return errors.New("authenticate: no auth state in the request context")
	}
	st.once.Do(func() { s.resolveRequest(r, st) })
	if st.err != nil {
		return st.err
	}
	isKey := st.principal.Key != nil
	switch in.SecuritySchemeName {
	case schemeDiscord:
		if isKey {
			// The key is valid but this operation is for users only:
			// the key operations (api-keys.go).
			return keysCannotManageKeys()
		}
		if st.cookie {
			return validate.ErrSchemeNotUsed
		}
		return nil
	case schemeKey, schemeKeyBare:
		if isKey && st.bearer == (in.SecuritySchemeName == schemeKey) {
			return nil
		}
		return validate.ErrSchemeNotUsed
	case schemeCookie:
		if !st.cookie {
			return validate.ErrSchemeNotUsed
		}
		return s.checkSameOrigin(r)
	}
	return validate.ErrSchemeNotUsed
}

// resolveRequest finds who r acts for: the Authorization header's
// credential when there is one (it wins over the cookie), else the
// dashboard session its cookie names.
func (s *Server) resolveRequest(r *http.Request, st *authState) {
	header := r.Header.Get("Authorization")
	if header == "" {
		if c, err := r.Cookie(session.CookieName); err == nil {
			st.cookie = true
			st.principal, st.err = s.resolveSessionLimited(r.Context(), st.addr, c.Value)
			return
		}
	}
	st.principal, st.bearer, st.err = s.resolveLimited(r.Context(), st.addr, header)
}

// checkSameOrigin refuses a change authenticated by the session cookie
// that a browser sent from another site: the browser attaches the cookie
// whichever page sends the request, so the cookie alone does not show
// that the user meant it (cross-site request forgery). Reads pass.
func (s *Server) checkSameOrigin(r *http.Request) error {
	if err := s.crossOrigin.Check(r); err != nil {
		return apierr.New(apierr.Forbidden, "Changes signed in with the dashboard's session cookie are accepted only from apikeyd's own pages, and this request came from another site.").Because("cross_site")
	}
	return nil
}

// resolveSessionLimited is resolveSession for a client address, as
// resolveLimited is for a header: a session id that passes its checksum
// is judged by the database, and waits for its place in the bucket.
func (s *Server) resolveSessionLimited(ctx context.Context, addr, id string) (p Principal, err error) {
	err = s.limiter.Guard(addr, func(a *ratelimit.Attempt) (bool, error) {
		p, err = s.resolveSession(ctx, a, id)
		return apierr.CodeOf(err) == apierr.Unauthorized, err
	})
	return p, err
}

// resolveSession finds the user of a dashboard session. A session id
// that fails its prefix or checksum is refused without a lookup, as a
// key is.
func (s *Server) resolveSession(ctx context.Context, a *ratelimit.Attempt, id string) (Principal, error) {
	if !session.WellFormed(id) {
		return Principal{}, apierr.New(apierr.Unauthorized, "The dashboard session cookie is not valid; log in again.").Because("bad_session")
	}
	if err := a.Unproven(); err != nil {
		return Principal{}, err
	}
	sess, err := s.sessions.Resolve(ctx, id)
	if err != nil {
		return Principal{}, err
	}
	return Principal{UserID: sess.UserID, token: sess.Tokens.AccessToken}, nil
}

// resolveLimited is resolve for a client address: each failure is
// charged to it, and a credential only Discord or the database can judge
// waits for its bucket (ratelimit.Guard).
func (s *Server) resolveLimited(ctx context.Context, addr, header string) (p Principal, bearer bool, err error) {
	err = s.limiter.Guard(addr, func(a *ratelimit.Attempt) (bool, error) {
		p, bearer, err = s.resolve(ctx, a, header)
		return apierr.CodeOf(err) == apierr.Unauthorized, err
	})
	return p, bearer, err
}

// resolve finds who an Authorization header speaks for. A guild key may be
// sent bare or as a Bearer token; a Discord token only as a Bearer token.
// apikeyd's own secrets are told apart first and never sent to Discord.
func (s *Server) resolve(ctx context.Context, a *ratelimit.Attempt, header string) (p Principal, bearer bool, err error) {
	token, bearer := validate.CutBearer(header)
	if token == "" {
		return Principal{}, false, apierr.New(apierr.Unauthorized, "Send a Discord access token or an API key in the Authorization header.").Because("no_credentials")
	}
	if kind, ours := keys.Ours(token); ours {
		if kind != keys.Guild {
			return Principal{}, false, notForV1()
		}
		ref, err := s.keyOf(ctx, a, token)
		if err != nil {
			return Principal{}, false, err
		}
		return Principal{Key: &ref}, bearer, nil
	}
	if !bearer {
		return Principal{}, false, apierr.New(apierr.Unauthorized, "The credentials are not valid.").Because("bare_token")
	}
	if s.store.IsSystemKey(token) || s.store.IsMasterKey(token) {
		return Principal{}, false, notForV1()
	}
	id, err := s.userOf(ctx, a, token)
	if err != nil {
		return Principal{}, false, err
	}
	return Principal{UserID: id, token: token}, true, nil
}

// notForV1 refuses a secret of apikeyd's that /v1 does not take: the
// System key, a key of /apiKeys, a master key.
func notForV1() error {
	return apierr.New(apierr.Unauthorized, "The credentials are not valid: /v1 takes a Discord access token or a guild API key.").Because("own_secret")
}

// keyOf authenticates a guild key; a key that fails its checksum is
// refused, and one the key cache holds is found, without a database
// lookup. One the cache holds but cannot vouch for now (PostgreSQL's
// change feed silent) is looked up without waiting for the limiter: it
// authenticated here before, and is no guess.
func (s *Server) keyOf(ctx context.Context, a *ratelimit.Attempt, token string) (store.GuildKeyRef, error) {
	if kind, err := keys.Parse(token); err != nil || kind != keys.Guild {
		return store.GuildKeyRef{}, apierr.New(apierr.Unauthorized, "The credentials are not valid.").Because("bad_checksum")
	}
	ref, cached := s.store.CachedGuildKey(token)
	if !cached {
		if !s.store.SeenGuildKey(token) {
			if err := a.Unproven(); err != nil {
				return store.GuildKeyRef{}, err
			}
		}
		var err error
		ref, err = s.store.GuildKeyByToken(ctx, token)
		if errors.Is(err, store.ErrKeyNotFound) {
			return store.GuildKeyRef{}, apierr.New(apierr.Unauthorized, "The credentials are not valid.").Because("unknown_key")
		}
		if err != nil {
			return store.GuildKeyRef{}, err
		}
	}
	s.uses.Record(ref)
	return ref, nil
}

// userOf is whose Discord token this is: from the identity cache, else
// from Discord.
func (s *Server) userOf(ctx context.Context, a *ratelimit.Attempt, token string) (snowflake.ID, error) {
	id, cached := s.identity.CachedUserID(token)
	if !cached {
		if err := a.Unproven(); err != nil {
			return 0, err
		}
		var err error
		if id, err = s.identity.UserID(ctx, token); err != nil {
			return 0, err
		}
	}
	uid, err := snowflake.Parse(id)
	if err != nil {
		return 0, apierr.New(apierr.Unavailable, "Discord answered with an invalid user id.")
	}
	return uid, nil
}

// authorizeGuild checks that the caller may act on guild: a key only on
// its own guild, a user only where the database says they administer it.
func (s *Server) authorizeGuild(ctx context.Context, guild snowflake.ID) (Principal, error) {
	p, err := principalOf(ctx)
	if err != nil {
		return Principal{}, err
	}
	if p.Key != nil {
		if p.Key.GuildID != guild {
			return Principal{}, apierr.New(apierr.Forbidden, "This API key belongs to another guild.").Because("wrong_guild")
		}
		return p, nil
	}
	ok, err := s.store.IsGuildAdmin(ctx, guild, p.UserID)
	if err != nil {
		return Principal{}, err
	}
	if !ok {
		return Principal{}, apierr.New(apierr.Forbidden, "You do not administer this guild.").Because("not_admin")
	}
	return p, nil
}
