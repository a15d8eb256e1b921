// Package v1 serves the Husqy-compatible /v1 family: guild API keys
// managed by Discord-authenticated guild administrators. Handlers
// implement the strict interface generated from openapi/v1.yaml; requests
// reach them only after kin-openapi has validated them and authenticated
// their credentials (authenticate.go).
//
// Layout: the operations of each tag of the document are in the file
// named after the tag (api-keys.go, auth.go, helpers.go, logging.go,
// service.go, settings.go), their tests beside them (api-keys_test.go,
// ...). server.go wires the family and writes its errors; authenticate.go
// says who a request acts for; contract_test.go replays the document's
// examples on the fixture of fixture_test.go.
//
// Errors, one way each:
//   - An error the document declares for the operation is returned by its
//     handler as the operation's typed response (api.X403...Response),
//     made by problem, so that the handler reads as its spec.
//   - A Go error leaves a handler only for the unexpected: the database
//     failing (the declared 503) or a bug (500), written by WriteError.
//   - Errors decided before a handler runs (routing, limits, validation,
//     authentication) and requests the generated code cannot read are
//     written by WriteError, the family's one writer.
package v1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/observe"
	"github.com/apikeyd/apikeyd/impl/ratelimit"
	"github.com/apikeyd/apikeyd/impl/session"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/validate"
)

// BasePath is where the family is mounted.
const BasePath = "/v1"

// Identity says which Discord user an OAuth access token belongs to.
type Identity interface {
	UserID(ctx context.Context, token string) (string, error)
	// CachedUserID answers from what is known already, asking no one.
	CachedUserID(token string) (string, bool)
}

// GuildLister lists the Discord guilds of an OAuth access token's user.
type GuildLister interface {
	Guilds(ctx context.Context, token string) ([]discord.Guild, error)
}

// GuildBot lists what apikeyd's Discord bot sees of a guild.
type GuildBot interface {
	Roles(ctx context.Context, guildID string) ([]discord.Role, error)
	Channels(ctx context.Context, guildID string) ([]discord.Channel, error)
	Members(ctx context.Context, guildID string) ([]discord.Member, error)
	Emojis(ctx context.Context, guildID string) ([]discord.Emoji, error)
}

// Config is what the family is built from.
type Config struct {
	Store    *store.Store
	Identity Identity
	Guilds   GuildLister
	// Bot answers the guild helpers (roles, channels, members, emojis).
	Bot GuildBot
	// Sessions resolves the dashboard's session cookie (cookieAuth).
	Sessions        *session.Manager
	MaxKeysPerGuild int
	// Limiter counts failed authentications per client address.
	Limiter  *ratelimit.Limiter
	Observer *observe.Observer
	Log      *slog.Logger
	Now      func() time.Time // nil means time.Now
}

// Server implements the generated strict interface.
type Server struct {
	store    *store.Store
	identity Identity
	guilds   GuildLister
	bot      GuildBot
	sessions *session.Manager
	// crossOrigin refuses changes a browser sent from another site
	// (checkSameOrigin).
	crossOrigin *http.CrossOriginProtection
	maxKeys     int
	limiter     *ratelimit.Limiter
	observer    *observe.Observer
	log         *slog.Logger
	uses        *uses
	handler     http.Handler
	// settingsBodies are GET /settings' answers, encoded.
	settingsBodies *settingsBodies
	// loggingDefaults are the log_* flags of the logging module and their
	// defaults, as the document declares them.
	loggingDefaults map[string]bool
}

var _ api.StrictServerInterface = (*Server)(nil)

// New builds the family's handler stack.
func New(cfg Config) (*Server, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{
		store:       cfg.Store,
		identity:    cfg.Identity,
		guilds:      cfg.Guilds,
		bot:         cfg.Bot,
		sessions:    cfg.Sessions,
		crossOrigin: http.NewCrossOriginProtection(),
		maxKeys:     cfg.MaxKeysPerGuild,
		limiter:     cfg.Limiter,
		observer:    cfg.Observer,
		log:         cfg.Log,
		uses:        newUses(cfg.Store, now, cfg.Log, cfg.Observer.DatabaseError),

		settingsBodies: newSettingsBodies(),
	}
	mux, doc, err := validate.NewFamily(validate.Family{
		Document:       "v1.yaml",
		BasePath:       BasePath,
		Authenticate:   s.authenticate,
		WriteError:     s.WriteError,
		InvalidMessage: msgInvalid,
	}, func(mux *validate.Mux, errs validate.ErrorHandlers) {
		strict := api.NewStrictHandlerWithOptions(s, nil, api.StrictHTTPServerOptions{
			RequestErrorHandlerFunc:  errs.Invalid,
			ResponseErrorHandlerFunc: errs.Failed,
		})
		api.HandlerWithOptions(strict, api.StdHTTPServerOptions{
			BaseURL:          BasePath,
			BaseRouter:       mux,
			ErrorHandlerFunc: errs.Invalid,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("v1: %w", err)
	}
	if s.loggingDefaults, err = loggingDefaults(doc); err != nil {
		return nil, fmt.Errorf("v1 document: %w", err)
	}
	s.handler = trimTrailingSlash(s.withRequestState(mux))
	return s, nil
}

// ServeHTTP serves every /v1 route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Run does the family's background work (recording key uses) until ctx
// is done.
func (s *Server) Run(ctx context.Context) { s.uses.Run(ctx) }

// FlushKeyUses writes the key uses recorded so far.
func (s *Server) FlushKeyUses(ctx context.Context) error { return s.uses.Flush(ctx) }

// trimTrailingSlash answers the seed's "/auth/api-key/" like
// "/auth/api-key", and "/v1" like "/v1/".
func trimTrailingSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == BasePath:
			r.URL.Path = BasePath + "/"
		case len(p) > len(BasePath)+1 && strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "//"):
			// One slash only: an empty segment is no route. The raw
			// path keeps its spelling, so that %2F stays no separator.
			r.URL.Path = strings.TrimSuffix(p, "/")
			r.URL.RawPath = strings.TrimSuffix(r.URL.RawPath, "/")
		}
		next.ServeHTTP(w, r)
	})
}

// WriteError is the family's one writer of errors (see the package
// comment); app answers the routes outside both families with it too.
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	w = negotiate(w, r)
	p := problem(validate.BeginError(w, r, s.observer, storeRefusal(err)))
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	w.Header().Set("Content-Type", mediaProblem)
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// msgFileGone says why nothing can be saved, and readiness fails, once
// the database file has gone from under the server (store.ErrDatabaseFileGone).
const msgFileGone = "The database file was deleted or replaced while this server ran"

// msgLogMessageInFlight says why an erasure erased nothing
// (store.ErrLogMessageInFlight).
const msgLogMessageInFlight = "A message for the logs channel that names the member is being posted; nothing was erased. Try again."

// msgMasterKeyRotated says why keys are neither sealed nor opened, and
// readiness fails, once another process has resealed them under a master
// key this server does not hold (store.ErrMasterKeyRotated).
const msgMasterKeyRotated = "The master key was rotated; this server must be restarted."

// storeRefusal words the store's refusals that no operation's handler
// answers itself: a guild the database does not know (authorizeGuild lets
// no request reach one), a master key rotated under the running server,
// a database file gone from under it, and an erasure that waited out a
// post naming the member and found another in flight.
func storeRefusal(err error) error {
	switch {
	case errors.Is(err, store.ErrLogMessageInFlight):
		return &apierr.Error{Code: apierr.Unavailable, Message: msgLogMessageInFlight, RetryAfter: time.Second, Cause: err}
	case errors.Is(err, store.ErrDatabaseFileGone):
		return &apierr.Error{Code: apierr.Unavailable, Message: msgFileGone + "; no change can be saved.", Cause: err}
	case errors.Is(err, store.ErrGuildNotFound):
		return &apierr.Error{Code: apierr.NotFound, Message: "This guild is not registered with apikeyd.", Cause: err}
	case errors.Is(err, store.ErrMasterKeyRotated):
		return &apierr.Error{Code: apierr.Unavailable, Message: msgMasterKeyRotated, Cause: err}
	}
	return err
}

// declared is the body of an error its operation declares, for the
// handler to return as the operation's typed response; it is logged and
// counted as WriteError would.
func (s *Server) declared(ctx context.Context, err error) api.Problem {
	return problem(validate.Classify(ctx, s.observer, err))
}

// keysForbidden, keysChangeForbidden and guildForbidden are the typed 403,
// and botGuildNotFound the typed 404, of an operation whose error is a
// shared response of the document (components/responses), which
// oapi-codegen generates as a struct around the shared one.
func keysForbidden[R ~struct {
	api.ApiKeysForbiddenApplicationProblemPlusJSONResponse
}](p api.Problem) R {
	return R{api.ApiKeysForbiddenApplicationProblemPlusJSONResponse(p)}
}

func keysChangeForbidden[R ~struct {
	api.ApiKeysChangeForbiddenApplicationProblemPlusJSONResponse
}](p api.Problem) R {
	return R{api.ApiKeysChangeForbiddenApplicationProblemPlusJSONResponse(p)}
}

func botGuildNotFound[R ~struct {
	api.BotGuildNotFoundApplicationProblemPlusJSONResponse
}](p api.Problem) R {
	return R{api.BotGuildNotFoundApplicationProblemPlusJSONResponse(p)}
}

func guildForbidden[R ~struct {
	api.GuildForbiddenApplicationProblemPlusJSONResponse
}](p api.Problem) R {
	return R{api.GuildForbiddenApplicationProblemPlusJSONResponse(p)}
}

var problemTypes = map[apierr.Code]api.ProblemType{
	apierr.Invalid:          api.UrnApikeydProblemBadRequest,
	apierr.Unauthorized:     api.UrnApikeydProblemUnauthorized,
	apierr.Forbidden:        api.UrnApikeydProblemForbidden,
	apierr.NotFound:         api.UrnApikeydProblemNotFound,
	apierr.MethodNotAllowed: api.UrnApikeydProblemMethodNotAllowed,
	apierr.Conflict:         api.UrnApikeydProblemConflict,
	apierr.TooLarge:         api.UrnApikeydProblemPayloadTooLarge,
	apierr.UnsupportedMedia: api.UrnApikeydProblemUnsupportedMediaType,
	apierr.HeaderTooLarge:   api.UrnApikeydProblemRequestHeaderFieldsTooLarge,
	apierr.Unprocessable:    api.UrnApikeydProblemUnprocessableEntity,
	apierr.TooManyRequests:  api.UrnApikeydProblemTooManyRequests,
	apierr.Unavailable:      api.UrnApikeydProblemUnavailable,
	apierr.Internal:         api.UrnApikeydProblemInternal,
}

// problem is the body of an error: RFC 9457 fields and the seed's.
func problem(e *apierr.Error) api.Problem {
	status := apierr.Status(e.Code)
	title := http.StatusText(status)
	detail := e.Message
	if e.Code == apierr.Internal {
		detail = "Something failed on our side; nothing was changed. Try again later"
	}
	if detail == "" {
		detail = title
	}
	if !strings.HasSuffix(detail, ".") {
		detail += "."
	}
	typ, ok := problemTypes[e.Code]
	if !ok {
		typ = api.UrnApikeydProblemInternal
	}
	message := title + "! " + detail
	p := api.Problem{
		Type:    typ,
		Title:   title,
		Status:  status,
		Detail:  detail,
		Message: message,
		Success: false,
		Error:   api.ProblemError{Code: status, Message: message},
	}
	if len(e.Fields) > 0 {
		fields := e.Fields
		p.Errors = &fields
	}
	return p
}
