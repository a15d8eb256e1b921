// Package apikeys serves the /apiKeys family: user keys managed with the
// System key. Handlers implement the strict interface generated from
// openapi/apikeys.yaml; requests reach them only after kin-openapi has
// validated them and authenticated the System key.
//
// Layout: the document has one tag, keys, whose operations are in
// keys.go with their tests in keys_test.go. server.go wires the family,
// authenticates and writes its errors (server_test.go); contract_test.go
// replays the document's examples on the fixture of fixture_test.go.
//
// Errors, one way each:
//   - An error the document declares for the operation is returned by its
//     handler as the operation's typed response (api.CreateKey403JSONResponse).
//   - A Go error leaves a handler only for the unexpected: the database
//     failing (the declared 503) or a bug (500), written by writeError.
//   - Errors decided before a handler runs (routing, limits, validation,
//     authentication) and requests the generated code cannot read are
//     written by writeError, the family's one writer.
package apikeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"

	api "github.com/apikeyd/apikeyd/gen/apikeys"
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/observe"
	"github.com/apikeyd/apikeyd/impl/ratelimit"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/validate"
)

// Store is the storage the family needs.
type Store interface {
	CreateUserKey(ctx context.Context, user, note string) (string, error)
	UserKeyOwner(ctx context.Context, token string) (string, error)
	CachedUserKeyOwner(token string) (string, bool)
	SeenUserKey(token string) bool
	ListUserKeys(ctx context.Context, user string) ([]store.UserKey, error)
	ListAllUserKeys(ctx context.Context) ([]store.UserKey, error)
	DeleteUserKeys(ctx context.Context, user string) (int64, error)
}

// Server implements the generated strict interface.
type Server struct {
	store    Store
	limiter  *ratelimit.Limiter
	observer *observe.Observer
}

var _ api.StrictServerInterface = (*Server)(nil)

// The seed's messages, word for word (note the capital K of the third).
const (
	msgNoKey      = "Please specify an authorization key!"
	msgUnknownKey = "Invalid authorization key!"
	msgNotSystem  = "Invalid authorization Key!"
	msgSystemName = "Invalid name, name cannot be System!"
	msgNotCreated = "Could not create a new auth key"
	// msgInvalid is the message of the other routes' 400s.
	msgInvalid = "Invalid request"
)

// NewHandler returns the http.Handler for every /apiKeys route.
func NewHandler(st Store, limiter *ratelimit.Limiter, observer *observe.Observer) (http.Handler, error) {
	s := &Server{store: st, limiter: limiter, observer: observer}
	mux, _, err := validate.NewFamily(validate.Family{
		Document:       "apikeys.yaml",
		Authenticate:   s.authenticate,
		WriteError:     s.writeError,
		InvalidMessage: "invalid request",
	}, func(mux *validate.Mux, errs validate.ErrorHandlers) {
		strict := api.NewStrictHandlerWithOptions(s, nil, api.StrictHTTPServerOptions{
			RequestErrorHandlerFunc:  errs.Invalid,
			ResponseErrorHandlerFunc: errs.Failed,
		})
		api.HandlerWithOptions(strict, api.StdHTTPServerOptions{
			BaseRouter:       mux,
			ErrorHandlerFunc: errs.Invalid,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("apikeys: %w", err)
	}
	return mux, nil
}

// authenticate admits the System key only. Both schemes read the same
// header; each answers only for the form (bare or Bearer) it describes.
func (s *Server) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	header := r.Header.Get("Authorization")
	token, bearer := validate.CutBearer(header)
	if bearer != (in.SecuritySchemeName == "systemKeyBearer") {
		return validate.ErrSchemeNotUsed
	}
	return s.limiter.Guard(s.limiter.Address(r), func(a *ratelimit.Attempt) (bool, error) { return s.checkSystemKey(ctx, a, token) })
}

// checkSystemKey admits the System key; failed says whether the refusal
// counts against the client address (a missing or unknown key: guessing).
// A key the key cache holds is judged without the database; one it holds
// but cannot vouch for now (PostgreSQL's change feed silent) is looked up
// at once; any other waits for the address's bucket (ratelimit.Guard)
// before it is looked up.
func (s *Server) checkSystemKey(ctx context.Context, a *ratelimit.Attempt, token string) (failed bool, err error) {
	if token == "" {
		return true, apierr.New(apierr.Forbidden, msgNoKey).Because("no_credentials")
	}
	owner, cached := s.store.CachedUserKeyOwner(token)
	if !cached {
		if !s.store.SeenUserKey(token) {
			if err := a.Unproven(); err != nil {
				return false, err
			}
		}
		owner, err = s.store.UserKeyOwner(ctx, token)
	}
	switch {
	case errors.Is(err, store.ErrKeyNotFound):
		return true, apierr.New(apierr.Forbidden, msgUnknownKey).Because("unknown_key")
	case err != nil:
		return false, err
	case owner != store.SystemUser:
		return false, apierr.New(apierr.Forbidden, msgNotSystem).Because("not_system")
	}
	return false, nil
}

// writeError is the family's one writer of errors (see the package
// comment).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := validate.BeginError(w, r, s.observer, storeRefusal(err))
	if e.Code == apierr.NotFound && emptyUserSegment(r.URL) {
		// The router cannot match an empty segment; the seed calls this
		// an empty user name.
		e = &apierr.Error{Code: apierr.Invalid, Fields: map[string]string{"user": "must be 1 to 64 characters"}}
	}
	status := apierr.Status(e.Code)
	body := errorBody(status, e.Message)
	switch e.Code {
	case apierr.Internal:
		body.Error.Message = "Internal server error"
	case apierr.Invalid:
		body.Error.Message = msgInvalid
		if strings.HasPrefix(r.URL.Path, "/apiKeys/new/") {
			body.Error.Message = msgNotCreated
		}
		if catch := catchError(e); catch != "" {
			body.CatchError = &catch
		}
	}
	writeJSON(w, status, body)
}

// storeRefusal words the store's refusals that reach the writer: a
// master key rotated under the running server, and a database file gone
// from under it.
func storeRefusal(err error) error {
	switch {
	case errors.Is(err, store.ErrMasterKeyRotated):
		return &apierr.Error{Code: apierr.Unavailable, Message: "The master key was rotated; this server must be restarted.", Cause: err}
	case errors.Is(err, store.ErrDatabaseFileGone):
		return &apierr.Error{Code: apierr.Unavailable, Message: "The database file was deleted or replaced while this server ran; no change can be saved.", Cause: err}
	}
	return err
}

// emptyUserSegment reads the escaped path, where an escaped "/" inside a
// name is no empty segment.
func emptyUserSegment(u *url.URL) bool {
	path := validate.EscapedPath(u)
	return path == "/apiKeys/new/" || strings.HasPrefix(path, "/apiKeys/new//")
}

// catchError lists what is wrong with each field, in a stable order.
func catchError(e *apierr.Error) string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, 0, len(e.Fields))
	for field, msg := range e.Fields {
		parts = append(parts, field+": "+msg)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func errorBody(status int, message string) api.Error {
	return api.Error{Error: api.ErrorDetail{Code: status, Message: message}}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
