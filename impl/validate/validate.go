// Package validate checks requests against an OpenAPI document before any
// handler runs, with kin-openapi's openapi3filter, and reports every
// failure as an *apierr.Error so that each API family writes it in its own
// error shape.
package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/observe"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// MaxHeaderBytes bounds a request's headers. The HTTP server refuses far
// larger ones itself, in plain text; this limit answers in the family's
// shape well before that.
const MaxHeaderBytes = 32 << 10

// ErrSchemeNotUsed is what an Authenticate function returns for a security
// scheme the request does not use (a bare key offered to a Bearer scheme),
// so that the error of the scheme it does use is the one reported.
var ErrSchemeNotUsed = errors.New("security scheme not used by this request")

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
	router   routers.Router
	cfg      Config
	options  *openapi3filter.Options
	basePath string
}

// newValidator builds a validator from a document; the document is not
// modified.
func newValidator(cfg Config) (*Validator, error) {
	doc := *cfg.Doc
	// Routes are matched on paths relative to BasePath, whatever servers
	// the document advertises to clients.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(&doc)
	if err != nil {
		return nil, fmt.Errorf("build router: %w", err)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc: cfg.Authenticate,
	}
	opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string { return describe(err) })
	return &Validator{router: router, cfg: cfg, options: opts, basePath: cfg.BasePath}, nil
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
	if headerBytes(r.Header) > MaxHeaderBytes {
		fail(r, apierr.New(apierr.HeaderTooLarge, "the headers are over %d bytes", MaxHeaderBytes))
		return
	}
	if r.ContentLength > MaxBodyBytes {
		fail(r, apierr.New(apierr.TooLarge, "the body is over %d bytes", MaxBodyBytes))
		return
	}
	var data []byte
	if r.Body != nil && r.Body != http.NoBody {
		// A bodiless request keeps NoBody, which the validator skips.
		// Any other body is read here, whole, so that a body that cannot
		// be read (a broken chunk, a client gone) is the client's 400
		// and not a failure of whichever check reads it first.
		// Not closed: a body refused as too large is drained, from the
		// request's own reader, before the answer.
		var err error
		data, err = io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			fail(r, apierr.New(apierr.TooLarge, "the body is over %d bytes", MaxBodyBytes))
			return
		case err != nil:
			fail(r, &apierr.Error{Code: apierr.Invalid, Message: "body: could not be read", Fields: map[string]string{"body": "could not be read"}, Cause: err})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		if len(data) == 0 {
			r.Body = http.NoBody
		}
	}

	route, params, err := v.findRoute(r)
	if err != nil {
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			fail(r, apierr.New(apierr.MethodNotAllowed, "method %s is not allowed here", r.Method))
			return
		}
		fail(r, apierr.New(apierr.NotFound, "no such route"))
		return
	}
	observe.SetOperation(r.Context(), route.Operation.OperationID)
	if err := checkJSONBody(r, route, data); err != nil {
		fail(r, err)
		return
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options:    v.options,
	}
	if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
		fail(r, classify(err))
		return
	}
	next := handlers[route.Operation]
	if next == nil { // NewMux refuses to build such a Mux
		fail(r, apierr.New(apierr.Internal, "%s %s has no handler", route.Method, route.Path))
		return
	}
	for name, value := range params {
		r.SetPathValue(name, value)
	}
	next.ServeHTTP(w, r)
}

// maxDrainBytes bounds how much of a refused body is read and thrown away.
const maxDrainBytes = 8 << 20

// drain reads what is left of a body that is too large (up to a bound),
// so that a client still sending it reads the 413 instead of a reset
// connection; the server closes the connection after the answer.
func drain(body io.ReadCloser) {
	if body != nil {
		io.CopyN(io.Discard, body, maxDrainBytes)
	}
}

// checkJSONBody refuses a JSON body with anything but white space after
// its value: kin-openapi and the generated handlers read the first value
// and would act on it, ignoring the rest. body is the request's, as serve
// read it.
func checkJSONBody(r *http.Request, route *routers.Route, body []byte) *apierr.Error {
	if route.Operation.RequestBody == nil || len(body) == 0 {
		return nil
	}
	// As kin-openapi reads it: the part before ";", whatever follows.
	mediaType, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if !strings.EqualFold(strings.TrimSpace(mediaType), "application/json") {
		return nil // the validator answers 415
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

func headerBytes(h http.Header) int {
	n := 0
	for name, values := range h {
		for _, v := range values {
			n += len(name) + len(v) + 4 // ": " and CRLF
		}
	}
	return n
}

func (v *Validator) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	rel := *r
	u := *r.URL
	rel.URL = &u
	var ok bool
	// An empty segment is no route: the router would clean it away and
	// match another one. (An escaped "/" inside a segment is no empty one.)
	escaped := EscapedPath(r.URL)
	if strings.Contains(escaped, "//") {
		return nil, nil, routers.ErrPathNotFound
	}
	if u.Path, ok = strings.CutPrefix(u.Path, v.basePath); !ok {
		return nil, nil, routers.ErrPathNotFound
	}
	if u.RawPath != "" {
		// The router reads EscapedPath, which now keeps this spelling.
		u.RawPath = strings.TrimPrefix(escaped, v.basePath)
	}
	route, params, err := v.router.FindRoute(&rel)
	if err != nil {
		return nil, nil, err
	}
	// The router matches the escaped path, so that an escaped "/" stays
	// inside its segment; values are validated as the handler will see them.
	for name, raw := range params {
		if params[name], err = url.PathUnescape(raw); err != nil {
			return nil, nil, routers.ErrPathNotFound
		}
	}
	return route, params, nil
}

// classify turns what openapi3filter reports into the error vocabulary.
func classify(err error) *apierr.Error {
	var secErr *openapi3filter.SecurityRequirementsError
	if errors.As(err, &secErr) {
		var unexpected error
		for _, e := range secErr.Errors {
			var ae *apierr.Error
			switch {
			case errors.As(e, &ae):
				return ae
			case !errors.Is(e, ErrSchemeNotUsed):
				unexpected = e
			}
		}
		if unexpected != nil {
			return apierr.From(unexpected)
		}
		return apierr.New(apierr.Unauthorized, "credentials are missing or invalid").Because("no_credentials")
	}
	var reqErr *openapi3filter.RequestError
	if !errors.As(err, &reqErr) {
		return &apierr.Error{Code: apierr.Invalid, Message: "invalid request", Cause: err}
	}
	switch {
	case reqErr.Parameter != nil:
		return invalidField(reqErr.Parameter.Name, reqErr)
	case reqErr.RequestBody != nil:
		if strings.HasPrefix(reqErr.Reason, "header Content-Type has unexpected value") {
			return apierr.New(apierr.UnsupportedMedia, "the body must be application/json")
		}
		var se *openapi3.SchemaError
		if errors.As(reqErr.Err, &se) {
			return invalidField(bodyField(se), reqErr)
		}
		if errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired) {
			return invalidField("body", reqErr)
		}
		return &apierr.Error{Code: apierr.Invalid, Message: "the body is not valid JSON", Fields: map[string]string{"body": "must be a JSON object"}, Cause: err}
	}
	return &apierr.Error{Code: apierr.Invalid, Message: "invalid request", Cause: err}
}

func invalidField(field string, err *openapi3filter.RequestError) *apierr.Error {
	msg := err.Reason
	var se *openapi3.SchemaError
	switch {
	case errors.As(err.Err, &se):
		msg = describe(se)
	case errors.Is(err.Err, openapi3filter.ErrInvalidRequired):
		msg = "is required"
	case msg == "" && err.Err != nil:
		msg = "is not valid"
	}
	return &apierr.Error{
		Code:    apierr.Invalid,
		Message: field + ": " + msg,
		Fields:  map[string]string{field: msg},
		Cause:   err,
	}
}

// bodyField names the body field a schema error is about, as a dotted path.
func bodyField(se *openapi3.SchemaError) string {
	path := se.JSONPointer()
	// kin-openapi puts a missing property in the pointer already; an
	// unknown one it names only in the reason.
	if unknownProperty(se) {
		if name, ok := quoted(se.Reason); ok {
			path = append(slices.Clip(path), name)
		}
	}
	if len(path) == 0 {
		return "body"
	}
	return strings.Join(path, ".")
}

// quoted returns the first double-quoted word of s, which is how
// kin-openapi names a missing or unexpected property.
func quoted(s string) (string, bool) {
	_, rest, ok := strings.Cut(s, `"`)
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, `"`)
	return name, ok
}

// describe says what is wrong with a value in words a client can act on,
// without echoing the value (it may be a secret) or dumping the schema.
func describe(se *openapi3.SchemaError) string {
	s := se.Schema
	switch se.SchemaField {
	case "minLength", "maxLength":
		if s.MaxLength != nil {
			return fmt.Sprintf("must be %d to %d characters", s.MinLength, *s.MaxLength)
		}
		return fmt.Sprintf("must be at least %d characters", s.MinLength)
	case "pattern":
		if msg, ok := s.Extensions["x-pattern-message"].(string); ok {
			return msg
		}
		return "has an invalid format"
	case "required":
		return "is required"
	case "additionalProperties", "properties":
		if unknownProperty(se) {
			return "is not a known field"
		}
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		return boundsMessage(s)
	case "enum":
		return "must be one of the documented values"
	}
	return se.Reason
}

func unknownProperty(se *openapi3.SchemaError) bool {
	return se.SchemaField == "additionalProperties" ||
		se.SchemaField == "properties" && strings.HasSuffix(se.Reason, " is unsupported")
}

func boundsMessage(s *openapi3.Schema) string {
	switch {
	case s.Min != nil && s.Max != nil:
		return fmt.Sprintf("must be between %v and %v", *s.Min, *s.Max)
	case s.Min != nil:
		return fmt.Sprintf("must be at least %v", *s.Min)
	case s.Max != nil:
		return fmt.Sprintf("must be at most %v", *s.Max)
	}
	return "is out of range"
}

// CutBearer strips a case-insensitive "Bearer " scheme from an
// Authorization header value, and says whether there was one.
func CutBearer(header string) (token string, bearer bool) {
	const prefix = "bearer "
	if len(header) >= len(prefix) && strings.EqualFold(header[:len(prefix)], prefix) {
		return strings.TrimSpace(header[len(prefix):]), true
	}
	return strings.TrimSpace(header), false
}
