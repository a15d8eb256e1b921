// Package validate checks requests against an OpenAPI document before any
// handler runs, with kin-openapi's openapi3filter, and reports every
// failure as an *apierr.Error so that each API family writes it in its own
// error shape.
package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/observe"
)

// Config describes one API family.
type Config struct {
	Doc *openapi3.T
	// BasePath is where the document's paths are mounted, such as "/v1".
	BasePath string
	// Authenticate checks the credentials of a request against one of the
	// security schemes its operation accepts; see openapi3filter.
	Authenticate openapi3filter.AuthenticationFunc
	// WriteError writes an error in the family's shape.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
}

// Validator checks the requests of one API family; its Mux serves them.
type Validator struct {
	// routes holds each operation as a *route (newRoutes).
	routes   *http.ServeMux
	cfg      Config
	options  *openapi3filter.Options
	basePath string
}

// newValidator builds a validator from a document; the document is not
// modified.
func newValidator(cfg Config) (*Validator, error) {
	// Routes are matched on the base path and the document's paths,
	// whatever servers the document advertises to clients.
	routes, err := newRoutes(cfg.Doc, cfg.BasePath)
	if err != nil {
		return nil, fmt.Errorf("build routes: %w", err)
	}
	// No AuthenticationFunc: the routes' security checks requirements
	// (security.go), and openapi3filter sees none.
	// Schema errors in our words (describe), given as one option built
	// here: WithCustomSchemaErrorFunc would have openapi3filter build it
	// again for every parameter and body it checks.
	opts := &openapi3filter.Options{
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.SetSchemaErrorMessageCustomizer(func(err *openapi3.SchemaError) string { return describe(err) }),
		},
	}
	return &Validator{routes: routes, cfg: cfg, options: opts, basePath: cfg.BasePath}, nil
}

// serve validates a request and passes a valid one to the handler of its
// operation, with its path parameters set.
func (v *Validator) serve(w http.ResponseWriter, r *http.Request, handlers map[*openapi3.Operation]http.Handler) {
	body := r.Body
	fail := func(r *http.Request, e *apierr.Error) {
		if e.Code == apierr.TooLarge {
			drain(body)
		}
		v.cfg.WriteError(w, r, e)
	}
	data, e := readWithinLimits(w, r)
	if e != nil {
		fail(r, e)
		return
	}

	route, params, ok := v.match(r)
	if !ok {
		if allowed := v.allowedMethods(r); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			fail(r, apierr.New(apierr.MethodNotAllowed, "method %s is not allowed here", r.Method))
			return
		}
		fail(r, apierr.New(apierr.NotFound, "no such route"))
		return
	}
	if r.Method == http.MethodHead && route.method == http.MethodGet {
		// HEAD is answered wherever GET is, as GET: net/http sends no
		// body to a HEAD request, whatever the handler writes.
		r = withMethod(r, http.MethodGet)
	}
	observe.SetOperation(r.Context(), route.op.OperationID)
	if err := checkJSONBody(r, route, data); err != nil {
		fail(r, err)
		return
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      &route.kin,
		Options:    v.options,
	}
	// The document's security first, as openapi3filter would check it.
	if err := route.security.check(r.Context(), v.cfg.Authenticate, input); err != nil {
		fail(r, classify(err))
		return
	}
	if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
		fail(r, classify(err))
		return
	}
	next := handlers[route.op]
	if next == nil { // NewMux refuses to build such a Mux
		fail(r, apierr.New(apierr.Internal, "%s %s has no handler", route.method, route.kin.Path))
		return
	}
	for name, value := range params {
		r.SetPathValue(name, value)
	}
	next.ServeHTTP(w, r)
}

// checkJSONBody refuses a JSON body with anything but white space after
// its value: kin-openapi and the generated handlers read the first value
// and would act on it, ignoring the rest. body is the request's, as serve
// read it.
func checkJSONBody(r *http.Request, route *route, body []byte) *apierr.Error {
	if route.op.RequestBody == nil || len(body) == 0 {
		return nil
	}
	// As kin-openapi reads it: the part before ";", whatever follows.
	mediaType, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if !strings.EqualFold(strings.TrimSpace(mediaType), "application/json") {
		return nil // the validator answers 415
	}
	if json.Valid(body) {
		return nil // one value and white space: the common body, told without a copy
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var value json.RawMessage
	if err := dec.Decode(&value); err != nil {
		return nil // not JSON at all: the validator says so
	}
	if _, err := dec.Token(); err != io.EOF {
		return &apierr.Error{Code: apierr.Invalid, Message: "body: must be one JSON value, with nothing after it",
			Fields: map[string]string{"body": "must be one JSON value, with nothing after it"}}
	}
	return nil
}
