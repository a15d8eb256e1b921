// Package apikeys serves the /apiKeys family: user keys managed with the
// System key. Handlers implement the strict interface generated from
// openapi/apikeys.yaml; requests reach them only after kin-openapi has
// validated them and authenticated the System key.
package apikeys

import (
	"context"
	"encoding/json"
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
	"github.com/apikeyd/apikeyd/openapi"
)

// Store is the storage the family needs.
type Store interface {
	CreateUserKey(ctx context.Context, user, note string) (string, error)
	UserKeyOwner(ctx context.Context, token string) (string, error)
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
)

// NewHandler returns the http.Handler for every /apiKeys route.
func NewHandler(st Store, limiter *ratelimit.Limiter, observer *observe.Observer) (http.Handler, error) {
	s := &Server{store: st, limiter: limiter, observer: observer}
	doc, err := openapi.Load("apikeys.yaml")
	if err != nil {
		return nil, fmt.Errorf("apikeys document: %w", err)
	}
	strict := api.NewStrictHandlerWithOptions(s, nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  s.writeInvalid,
		ResponseErrorHandlerFunc: s.writeError,
	})
	mux, err := validate.NewMux(validate.Config{
		Doc:          doc,
		Authenticate: s.authenticate,
		WriteError:   s.writeError,
	}, func(mux *validate.Mux) {
		api.HandlerWithOptions(strict, api.StdHTTPServerOptions{
			BaseRouter:       mux,
			ErrorHandlerFunc: s.writeInvalid,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("apikeys routes: %w", err)
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
	addr := s.limiter.Address(r)
	if wait, blocked := s.limiter.Blocked(addr); blocked {
		return apierr.TooMany(wait)
	}
	if token == "" {
		s.limiter.Fail(addr)
		return apierr.New(apierr.Forbidden, msgNoKey).Because("no_credentials")
	}
	owner, err := s.store.UserKeyOwner(ctx, token)
	switch {
	case apierr.CodeOf(err) == apierr.NotFound:
		s.limiter.Fail(addr)
		return apierr.New(apierr.Forbidden, msgUnknownKey).Because("unknown_key")
	case err != nil:
		return err
	case owner != store.SystemUser:
		return apierr.New(apierr.Forbidden, msgNotSystem).Because("not_system")
	}
	return nil
}

// isSystemName refuses "System" in any casing, Unicode folding included.
func isSystemName(user string) bool { return strings.EqualFold(user, store.SystemUser) }

func (s *Server) writeInvalid(w http.ResponseWriter, r *http.Request, err error) {
	s.writeError(w, r, &apierr.Error{Code: apierr.Invalid, Message: "invalid request", Cause: err})
}

// writeError is the one place where an error becomes this family's body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := apierr.From(err)
	if e.Code == apierr.NotFound && emptyUserSegment(r.URL) {
		// The router cannot match an empty segment; the seed calls this
		// an empty user name.
		e = &apierr.Error{Code: apierr.Invalid, Fields: map[string]string{"user": "must be 1 to 64 characters"}}
	}
	status := apierr.Status(e.Code)
	body := errorBody(status, e.Message)
	apierr.SetRetryAfter(w.Header(), e)
	s.observer.Failed(r, e, store.IsDatabaseError(err))
	switch e.Code {
	case apierr.Internal:
		body.Error.Message = "Internal server error"
	case apierr.Invalid:
		body.Error.Message = "Invalid request"
		if strings.HasPrefix(r.URL.Path, "/apiKeys/new/") {
			body.Error.Message = msgNotCreated
		}
		if catch := catchError(e); catch != "" {
			body.CatchError = &catch
		}
	}
	writeJSON(w, status, body)
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
