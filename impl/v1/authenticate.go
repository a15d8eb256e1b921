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
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/validate"
)

// Principal is who a request acts for: a Discord user, or a guild key.
type Principal struct {
	UserID snowflake.ID       // a Discord user, when Key is nil
	Key    *store.GuildKeyRef // a guild API key
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
	schemeKey     = "apiKey"
	schemeKeyBare = "apiKeyBare"
)

// authState resolves a request's credentials once, however many security
// schemes the validator tries, and keeps the result for the handler.
type authState struct {
	addr      string // the client address failures are counted under
	once      sync.Once
	principal Principal
	bearer    bool
	err       error
}

type authStateKey struct{}

// withAuthState gives each request a place for its principal.
func (s *Server) withAuthState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), authStateKey{}, &authState{addr: s.limiter.Address(r)})
		next.ServeHTTP(w, r.WithContext(ctx))
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
	st.once.Do(func() {
		st.principal, st.bearer, st.err = s.resolveLimited(r.Context(), st.addr, r.Header.Get("Authorization"))
	})
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
		return nil
	case schemeKey, schemeKeyBare:
		if isKey && st.bearer == (in.SecuritySchemeName == schemeKey) {
			return nil
		}
		return validate.ErrSchemeNotUsed
	}
	return validate.ErrSchemeNotUsed
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
	if s.store.IsSystemKey(token) {
		return Principal{}, false, notForV1()
	}
	id, err := s.userOf(ctx, a, token)
	if err != nil {
		return Principal{}, false, err
	}
	return Principal{UserID: id}, true, nil
}

// notForV1 refuses a secret of apikeyd's that /v1 does not take: the
// System key, a key of /apiKeys.
func notForV1() error {
	return apierr.New(apierr.Unauthorized, "The credentials are not valid: /v1 takes a Discord access token or a guild API key.").Because("own_secret")
}

// keyOf authenticates a guild key; a key that fails its checksum is
// refused, and one the key cache holds is found, without a database
// lookup.
func (s *Server) keyOf(ctx context.Context, a *ratelimit.Attempt, token string) (store.GuildKeyRef, error) {
	if kind, err := keys.Parse(token); err != nil || kind != keys.Guild {
		return store.GuildKeyRef{}, apierr.New(apierr.Unauthorized, "The credentials are not valid.").Because("bad_checksum")
	}
	ref, cached := s.store.CachedGuildKey(token)
	if !cached {
		if err := a.Unproven(); err != nil {
			return store.GuildKeyRef{}, err
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
