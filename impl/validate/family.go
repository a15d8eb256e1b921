package validate

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/observe"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/openapi"
)

// Family is one API family as it is served: its document, validated,
// authenticated and routed by a Mux, with every error decided outside its
// handlers' typed responses written by its one writer, WriteError.
type Family struct {
	// Document is the family's document in package openapi, such as "v1.yaml".
	Document string
	// BasePath is where the document's paths are mounted, such as "/v1".
	BasePath string
	// Authenticate checks a request's credentials against one security
	// scheme of its operation; see openapi3filter.
	Authenticate openapi3filter.AuthenticationFunc
	// WriteError is the family's one writer of errors. It begins with
	// BeginError.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// InvalidMessage is the message of a request that the generated code
	// cannot read although the validator passed it.
	InvalidMessage string
}

// ErrorHandlers are the family's writer as the generated wrappers take
// it: Invalid for a request they cannot read (the strict server's
// RequestErrorHandlerFunc, the std server's ErrorHandlerFunc), Failed for
// a Go error a handler returns (ResponseErrorHandlerFunc).
type ErrorHandlers struct {
	Invalid, Failed func(w http.ResponseWriter, r *http.Request, err error)
}

// NewFamily loads the family's document (without its examples, which
// validating never reads: openapi.LoadForValidation) and builds its Mux,
// on which register registers the generated server with errs as its error
// handlers. It returns the document too, for what else the family reads
// from it.
func NewFamily(f Family, register func(mux *Mux, errs ErrorHandlers)) (*Mux, *openapi3.T, error) {
	doc, err := openapi.LoadForValidation(f.Document)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.Document, err)
	}
	errs := ErrorHandlers{
		Invalid: func(w http.ResponseWriter, r *http.Request, err error) {
			f.WriteError(w, r, &apierr.Error{Code: apierr.Invalid, Message: f.InvalidMessage, Cause: err})
		},
		Failed: f.WriteError,
	}
	mux, err := NewMux(Config{
		Doc:          doc,
		BasePath:     f.BasePath,
		Authenticate: f.Authenticate,
		WriteError:   f.WriteError,
	}, func(mux *Mux) { register(mux, errs) })
	if err != nil {
		return nil, nil, fmt.Errorf("%s routes: %w", f.Document, err)
	}
	return mux, doc, nil
}

// msgDatabaseDown is the answer to a request that needed the database
// when it failed or could not be reached in time (store.ErrDatabase).
const msgDatabaseDown = "The database failed or could not be reached; try again later."

// Classify is how every error answer begins, written by a family's writer
// or returned by a handler as a typed response: err in the error
// vocabulary, logged and counted. A failure of the database is a
// dependency's, as Discord's is: 503, which a client may retry, and never
// the 500 of a bug.
func Classify(ctx context.Context, o *observe.Observer, err error) *apierr.Error {
	e := apierr.From(err)
	if e.Code == apierr.Internal && errors.Is(err, store.ErrDatabase) {
		e = &apierr.Error{Code: apierr.Unavailable, Message: msgDatabaseDown, Cause: err}
	}
	o.Failed(ctx, e, errors.Is(err, store.ErrDatabase))
	return e
}

// BeginError is how every family's WriteError begins: err classified,
// and the Retry-After it asks for set.
func BeginError(w http.ResponseWriter, r *http.Request, o *observe.Observer, err error) *apierr.Error {
	e := Classify(r.Context(), o, err)
	apierr.SetRetryAfter(w.Header(), e)
	return e
}
