// Package contract turns an OpenAPI document's examples into test cases:
// every named example of every response of every operation becomes one
// request to replay and the answer it must get. Adding an example to a
// document adds a test.
//
// A response example names the request that produces it:
//   - a parameter's or request body's example of the same name, else the
//     one called "default", else its only or first one;
//   - x-credential: which credential the request carries (the family's
//     tests define the names, and a default);
//   - x-given: named states the service is put in first;
//   - x-request: what the request sends instead, for an answer that only a
//     request the document refuses provokes (a 400, a 413, a 415, a 431):
//     such a request is no example of the operation, whose every example
//     is valid, but the test data of the error it causes. Its fields:
//     path and query (parameters, by name), body (the JSON body),
//     content-type (of the body), body-bytes (the body padded with spaces
//     to that many bytes) and header-bytes (an X-Padding header of that
//     many bytes).
package contract

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Case is one example to replay.
type Case struct {
	Name        string // operationId/status/example
	OperationID string
	Method      string
	Path        string // with parameters substituted and escaped
	Query       url.Values
	Body        []byte // nil when the operation takes none
	// ContentType is the body's media type: application/json unless
	// x-request says otherwise.
	ContentType string
	// Header holds further request headers (x-request's header-bytes).
	Header     http.Header
	Credential string // "" when the example names none
	Given      []string
	Status     int
	MediaType  string
	Want       any // the example's value, decoded from JSON
	// Contains, from x-match: contains, lets an answer's arrays hold more
	// items than the example shows (a long list shown by its first items).
	Contains bool

	route *routers.Route
}

// Cases lists the cases of doc, sorted by name. It fails when a documented
// response has no example, so every status is proven by at least one.
func Cases(doc *openapi3.T) ([]Case, error) {
	var cases []Case
	var missing []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code, ref := range op.Responses.Map() {
				status, err := strconv.Atoi(code)
				if err != nil {
					return nil, fmt.Errorf("%s: response %q: only numeric statuses are replayed", op.OperationID, code)
				}
				n := 0
				for mediaType, mt := range ref.Value.Content {
					for name, ex := range mt.Examples {
						c, err := newCase(item, op, path, method, status, mediaType, name, ex.Value)
						if err != nil {
							return nil, err
						}
						cases = append(cases, c)
						n++
					}
				}
				if n == 0 {
					missing = append(missing, op.OperationID+" "+code)
				}
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("responses without an example: %s", strings.Join(missing, ", "))
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

func newCase(item *openapi3.PathItem, op *openapi3.Operation, path, method string, status int, mediaType, name string, ex *openapi3.Example) (Case, error) {
	c := Case{
		Name:        fmt.Sprintf("%s/%d/%s", op.OperationID, status, name),
		OperationID: op.OperationID,
		Method:      method,
		Query:       url.Values{},
		Status:      status,
		MediaType:   mediaType,
		Want:        ex.Value,
		route:       &routers.Route{Path: path, PathItem: item, Method: strings.ToUpper(method), Operation: op},
	}
	c.Credential, _ = ex.Extensions["x-credential"].(string)
	if m, _ := ex.Extensions["x-match"].(string); m == "contains" {
		c.Contains = true
	} else if m != "" {
		return Case{}, fmt.Errorf("%s: unknown x-match %q", c.Name, m)
	}
	if given, ok := ex.Extensions["x-given"].([]any); ok {
		for _, g := range given {
			c.Given = append(c.Given, fmt.Sprint(g))
		}
	}
	override, err := requestOverride(ex.Extensions["x-request"])
	if err != nil {
		return Case{}, fmt.Errorf("%s: x-request: %w", c.Name, err)
	}
	params := slices.Concat(item.Parameters, op.Parameters)
	for _, ref := range params {
		p := ref.Value
		var v any
		var ok bool
		switch {
		case override.param(p.In, p.Name) != nil:
			v, ok = override.param(p.In, p.Name), true
		case p.Required:
			v, ok = exampleOf(p.Examples, p.Example, name)
		default:
			// An optional parameter is sent only when an example asks.
			v, ok = namedExample(p.Examples, name)
		}
		if !ok {
			if p.Required {
				return Case{}, fmt.Errorf("%s: parameter %s has no example", c.Name, p.Name)
			}
			continue
		}
		s := fmt.Sprint(v)
		switch p.In {
		case openapi3.ParameterInPath:
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(s))
		case openapi3.ParameterInQuery:
			// An array goes as the parameter repeated (style form,
			// explode: the default for the query).
			items, isArray := v.([]any)
			if !isArray {
				items = []any{v}
			}
			for _, item := range items {
				c.Query.Add(p.Name, fmt.Sprint(item))
			}
		default:
			return Case{}, fmt.Errorf("%s: parameters in %s are not replayed", c.Name, p.In)
		}
	}
	c.Path = path
	if rb := op.RequestBody; rb != nil {
		mt := rb.Value.Content.Get("application/json")
		if mt == nil {
			return Case{}, fmt.Errorf("%s: only JSON bodies are replayed", c.Name)
		}
		v, ok := exampleOf(mt.Examples, mt.Example, name)
		if override.Body != nil {
			v, ok = override.Body, true
		}
		if !ok {
			return Case{}, fmt.Errorf("%s: the request body has no example", c.Name)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return Case{}, fmt.Errorf("%s: %w", c.Name, err)
		}
		if pad := override.BodyBytes - len(b); pad > 0 {
			b = append(b, bytes.Repeat([]byte(" "), pad)...)
		}
		c.Body = b
		c.ContentType = cmp.Or(override.ContentType, "application/json")
	}
	if c.Body == nil && override.BodyBytes > 0 {
		// An operation that takes no body still refuses one too large.
		c.Body = bytes.Repeat([]byte(" "), override.BodyBytes)
		c.ContentType = cmp.Or(override.ContentType, "application/json")
	}
	if override.HeaderBytes > 0 {
		c.Header = http.Header{"X-Padding": {strings.Repeat("p", override.HeaderBytes)}}
	}
	return c, nil
}

// request is an x-request extension: what a response example's request
// sends instead of the operation's examples.
type request struct {
	Path        map[string]any `json:"path"`
	Query       map[string]any `json:"query"`
	Body        any            `json:"body"`
	ContentType string         `json:"content-type"`
	BodyBytes   int            `json:"body-bytes"`
	HeaderBytes int            `json:"header-bytes"`
}

func requestOverride(ext any) (request, error) {
	var r request
	if ext == nil {
		return r, nil
	}
	b, err := json.Marshal(ext)
	if err != nil {
		return r, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, err
	}
	return r, nil
}

// param is the value x-request gives a parameter, or nil.
func (r request) param(in, name string) any {
	switch in {
	case openapi3.ParameterInPath:
		return r.Path[name]
	case openapi3.ParameterInQuery:
		return r.Query[name]
	}
	return nil
}

// namedExample picks the example called name, else the one called
// "default".
func namedExample(examples openapi3.Examples, name string) (any, bool) {
	for _, n := range []string{name, "default"} {
		if ex, ok := examples[n]; ok && ex.Value != nil {
			return ex.Value.Value, true
		}
	}
	return nil, false
}

// exampleOf picks the example called name, else the one called
// "default", else the single example, else the first by name.
func exampleOf(examples openapi3.Examples, single any, name string) (any, bool) {
	if v, ok := namedExample(examples, name); ok {
		return v, true
	}
	if single != nil {
		return single, true
	}
	names := make([]string, 0, len(examples))
	for n := range examples {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if ex := examples[n]; ex.Value != nil {
			return ex.Value.Value, true
		}
	}
	return nil, false
}

// Request builds the HTTP request of a case against baseURL (which ends
// where the document's paths begin).
func (c Case) Request(ctx context.Context, baseURL string) (*http.Request, error) {
	u := baseURL + c.Path
	if len(c.Query) > 0 {
		u += "?" + c.Query.Encode()
	}
	var body io.Reader
	if c.Body != nil {
		body = bytes.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(c.Method), u, body)
	if err != nil {
		return nil, err
	}
	if c.Body != nil {
		req.Header.Set("Content-Type", c.ContentType)
	}
	// The example's media type is what the request asks for: an error
	// documented in two media types is answered in the one asked for.
	req.Header.Set("Accept", c.MediaType)
	for name, values := range c.Header {
		req.Header[name] = values
	}
	return req, nil
}

// Check says whether an answer to the case's request is one the document
// allows for its operation.
func (c Case) Check(doc *openapi3.T, req *http.Request, status int, header http.Header, body []byte) error {
	route := *c.route
	route.Spec = doc
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: &route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(req.Context(), in)
}

// keyPattern matches apikeyd's keys, which are random: an example key
// stands for any key of the same kind.
var keyPattern = regexp.MustCompile(`^(akd[gu])_[0-9A-Za-z]{36}$`)

// Match compares a decoded JSON answer with an example: keys match any key
// of the same kind, date-times match any date-time, and everything else
// must be equal. It returns the first difference.
func Match(want, got any) error { return matcher{}.match("$", want, got) }

// MatchContains is Match, except that an answer's array may hold items
// the example's does not, as long as it holds the example's.
func MatchContains(want, got any) error { return matcher{contains: true}.match("$", want, got) }

type matcher struct{ contains bool }

func (m matcher) match(at string, want, got any) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %T, want an object", at, got)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Errorf("%s: unexpected field %q", at, k)
			}
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s: missing field %q", at, k)
			}
			if err := m.match(at+"."+k, wv, gv); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s: got %v, want an array", at, got)
		}
		if m.contains {
			return m.containsAll(at, w, g)
		}
		if len(g) != len(w) {
			return fmt.Errorf("%s: got %d items, want %d", at, len(g), len(w))
		}
		for i := range w {
			if err := m.match(fmt.Sprintf("%s[%d]", at, i), w[i], g[i]); err != nil {
				return err
			}
		}
		return nil
	case string:
		g, ok := got.(string)
		if !ok {
			return fmt.Errorf("%s: got %v, want a string", at, got)
		}
		if m := keyPattern.FindStringSubmatch(w); m != nil {
			if gm := keyPattern.FindStringSubmatch(g); gm == nil || gm[1] != m[1] {
				return fmt.Errorf("%s: got %q, want a key like %q", at, g, w)
			}
			return nil
		}
		if _, err := time.Parse(time.RFC3339, w); err == nil {
			if _, err := time.Parse(time.RFC3339, g); err != nil {
				return fmt.Errorf("%s: got %q, want a date-time", at, g)
			}
			return nil
		}
		if g != w {
			return fmt.Errorf("%s: got %q, want %q", at, g, w)
		}
		return nil
	}
	if !equalScalar(want, got) {
		return fmt.Errorf("%s: got %v, want %v", at, got, want)
	}
	return nil
}

// containsAll checks that every item of want matches an item of got.
func (m matcher) containsAll(at string, want, got []any) error {
	for i, w := range want {
		if !slices.ContainsFunc(got, func(g any) bool { return m.match(at, w, g) == nil }) {
			return fmt.Errorf("%s: no item matches the example's item %d (%v)", at, i, w)
		}
	}
	return nil
}

// equalScalar compares numbers by value: examples decode from YAML as
// ints, answers from JSON as float64.
func equalScalar(want, got any) bool {
	wf, wok := number(want)
	gf, gok := number(got)
	if wok && gok {
		return wf == gf
	}
	return want == got
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// Replay runs every case of doc as a subtest: prepare puts a fresh service
// in the case's state and returns the URL its document's paths start at
// and the headers that carry the case's credential (an Authorization
// header, a cookie; none for no credential). Each answer must have the
// example's status and media type, satisfy the document, and Match the
// example.
func Replay(t *testing.T, doc *openapi3.T, prepare func(t *testing.T, c Case) (baseURL string, credential http.Header), more ...AnswerCheck) {
	cases, err := Cases(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			baseURL, credential := prepare(t, c)
			req, err := c.Request(context.Background(), baseURL)
			if err != nil {
				t.Fatal(err)
			}
			for name, values := range credential {
				req.Header[name] = values
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != c.Status {
				t.Fatalf("status: got %d, want %d; body %s", res.StatusCode, c.Status, body)
			}
			if got := res.Header.Get("Content-Type"); got != c.MediaType {
				t.Errorf("Content-Type: got %q, want %q", got, c.MediaType)
			}
			if err := c.Check(doc, req, res.StatusCode, res.Header, body); err != nil {
				t.Errorf("the answer breaks the document: %v\nbody: %s", err, body)
			}
			var got any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, body)
			}
			match := Match
			if c.Contains {
				match = MatchContains
			}
			if err := match(c.Want, got); err != nil {
				t.Errorf("body differs from the example: %v\nbody: %s", err, body)
			}
			for _, check := range more {
				if err := check(c, req, res, body); err != nil {
					t.Errorf("%v\nbody: %s", err, body)
				}
			}
		})
	}
}

// CheckDocument validates doc and every example in it against its schema:
// each must be valid. (A request that breaks the document, to show a 400,
// is the x-request of its error's example, not an example of the
// operation.)
func CheckDocument(doc *openapi3.T) error {
	ctx := context.Background()
	if err := doc.Validate(ctx, openapi3.DisableExamplesValidation()); err != nil {
		return fmt.Errorf("document: %w", err)
	}
	var errs []error
	check := func(where string, schema *openapi3.SchemaRef, examples openapi3.Examples) {
		for name, ex := range examples {
			if schema == nil || ex.Value == nil {
				continue
			}
			if err := schema.Value.VisitJSON(jsonValue(ex.Value.Value)); err != nil {
				errs = append(errs, fmt.Errorf("%s example %q breaks its schema: %w", where, name, err))
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			at := method + " " + path
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				check(at+" parameter "+p.Value.Name, p.Value.Schema, p.Value.Examples)
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Value.Content {
					check(at+" body", mt.Schema, mt.Examples)
				}
			}
			for code, r := range op.Responses.Map() {
				for _, mt := range r.Value.Content {
					check(at+" "+code, mt.Schema, mt.Examples)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// jsonValue gives a YAML-decoded example the types a JSON body decodes to.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

// AnswerCheck is a further check of a replayed answer.
type AnswerCheck func(c Case, req *http.Request, res *http.Response, body []byte) error

// CompatibleWith checks answers against another document that describes
// some of the same operations (at the same relative paths), such as the
// one a compatible service publishes. Operations it does not describe are
// skipped. It reads an answer's problem+json body as the JSON that such a
// document usually declares for errors. An error status the other document
// does not list for the operation (a client generated from it treats that
// as an error it does not know) must still have the body of the errors it
// does list.
// mount is where ref's paths sit among ours ("" when at the same place,
// "/modules/logging" for a module's own document).
func CompatibleWith(name string, ref *openapi3.T, mount string) AnswerCheck {
	return func(c Case, req *http.Request, res *http.Response, body []byte) error {
		path, ok := strings.CutPrefix(c.route.Path, mount)
		if !ok {
			return nil
		}
		if path == "" {
			path = "/"
		}
		item := ref.Paths.Find(path)
		if item == nil || item.GetOperation(c.route.Method) == nil {
			return nil
		}
		op := item.GetOperation(c.route.Method)
		if op.Responses.Status(res.StatusCode) == nil {
			return checkUndeclaredError(name, ref, op, res.StatusCode, body)
		}
		header := res.Header.Clone()
		if header.Get("Content-Type") == "application/problem+json" {
			header.Set("Content-Type", "application/json")
		}
		route := &routers.Route{Spec: ref, Path: path, PathItem: item, Method: c.route.Method, Operation: op}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
			Status:                 res.StatusCode,
			Header:                 header,
			Body:                   io.NopCloser(bytes.NewReader(body)),
			Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
			return fmt.Errorf("the answer breaks %s: %w", name, err)
		}
		return nil
	}
}

// ProblemSchema is the schema another document gives its errors in
// general, which an error of an operation it lists no error for must
// satisfy (Husqy's ProblemDetailsBase).
const ProblemSchema = "ProblemDetailsBase"

func checkUndeclaredError(name string, ref *openapi3.T, op *openapi3.Operation, status int, body []byte) error {
	if status < 400 {
		return fmt.Errorf("%s does not list status %d for this operation", name, status)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	for code := 400; code < 600; code++ {
		r := op.Responses.Status(code)
		if r == nil || r.Value.Content.Get("application/json") == nil {
			continue
		}
		schema := r.Value.Content.Get("application/json").Schema.Value
		if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			return fmt.Errorf("status %d, not in %s, has a body unlike its %d: %w", status, name, code, err)
		}
		return nil
	}
	// An operation that lists no error at all (a greeting, a probe): a
	// client generated from ref reads the error as ref's errors read.
	general := ref.Components.Schemas[ProblemSchema]
	if general == nil {
		return fmt.Errorf("%s lists no error body for this operation, and no %s", name, ProblemSchema)
	}
	if err := general.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		return fmt.Errorf("status %d, not in %s, has a body unlike its %s: %w", status, name, ProblemSchema, err)
	}
	return nil
}
