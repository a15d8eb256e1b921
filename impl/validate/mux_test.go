package validate_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/apikeyd/apikeyd/impl/validate"
)

const muxDoc = `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /:
    get:
      operationId: home
      responses: {"200": {description: ok}}
  /things/{name}:
    parameters:
      - {name: name, in: path, required: true, schema: {type: string, minLength: 1}}
    get:
      operationId: getThing
      responses: {"200": {description: ok}}
    delete:
      operationId: deleteThing
      responses: {"204": {description: gone}}
`

// newMux builds the Mux of muxDoc, with register registering handlers.
func newMux(t *testing.T, register func(*validate.Mux)) (*validate.Mux, error) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(muxDoc))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return validate.NewMux(validate.Config{
		Doc:      doc,
		BasePath: "/base",
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "refused: "+err.Error(), 418)
		},
	}, register)
}

// completeMux has a handler for every operation of muxDoc.
func completeMux(t *testing.T) *validate.Mux {
	t.Helper()
	mux, err := newMux(t, func(mux *validate.Mux) {
		mux.HandleFunc("GET /base/{$}", echo)
		mux.HandleFunc("GET /base/things/{name}", echo)
		mux.HandleFunc("DELETE /base/things/{name}", echo)
	})
	if err != nil {
		t.Fatal(err)
	}
	return mux
}

func echo(w http.ResponseWriter, r *http.Request) { w.Write([]byte("name=" + r.PathValue("name"))) }

func TestNewMuxFindsWhatDisagrees(t *testing.T) {
	_, err := newMux(t, func(mux *validate.Mux) {
		mux.HandleFunc("GET /base/{$}", echo)
		mux.HandleFunc("GET /base/things/{name}", echo)
		mux.HandleFunc("GET /base/things/{name}", echo)
		mux.HandleFunc("PUT /base/things/{name}", echo)
		mux.HandleFunc("GET /elsewhere/things/{name}", echo)
	})
	if err == nil {
		t.Fatal("NewMux: no error")
	}
	for _, want := range []string{
		`"GET /base/things/{name}" registered twice`,
		`"PUT /base/things/{name}" is no operation of the document`,
		`"GET /elsewhere/things/{name}" is no operation of the document`,
		`DELETE /base/things/{name} (deleteThing) has no handler`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("NewMux: %v\nwant it to say %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "(home)") || strings.Contains(err.Error(), "(getThing)") {
		t.Errorf("NewMux reports a registered operation: %v", err)
	}
}

// TestMuxRoutesByTheDocument: each segment is one path parameter, decoded
// once, whatever it holds; what the document does not have is refused by
// the family's error writer, never by a plain-text 404.
func TestMuxRoutesByTheDocument(t *testing.T) {
	mux := completeMux(t)
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/base/", "name="},
		{"GET", "/base/things/a", "name=a"},
		{"DELETE", "/base/things/a", "name=a"},
		{"GET", "/base/things/%2F", "name=/"},
		{"GET", "/base/things/%2f%2F", "name=//"},
		{"GET", "/base/things/a%2Fb", "name=a/b"},
		{"GET", "/base/things/%252F", "name=%2F"},
		{"GET", "/base/things/.", "name=."},
		{"GET", "/base/things/..", "name=.."},
		{"GET", "/base/things/%2E%2e", "name=.."},
		{"HEAD", "/base/things/a", "name=a"},
		{"GET", "/base", "refused: "},
		{"GET", "/base/./things/a", "refused: "},
		{"GET", "/base/x/../things/a", "refused: "},
		{"GET", "/base/things/", "refused: "},
		{"GET", "/base/things//x", "refused: "},
		{"GET", "/base/things/a/b", "refused: "},
		{"PUT", "/base/things/a", "refused: "},
		{"GET", "/things/a", "refused: "},
	} {
		req := httptest.NewRequest(c.method, "http://x"+c.path, nil)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if got := w.Body.String(); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s %s: %d %q, want %q", c.method, c.path, w.Code, got, c.want)
		}
	}
}

// TestMuxKeepsEscapedSlashesBesideOddBytes: a raw path with a byte that
// net/url would have escaped ("|", a quote, non-ASCII) still keeps "%2F"
// inside its segment.
func TestMuxKeepsEscapedSlashesBesideOddBytes(t *testing.T) {
	mux := completeMux(t)
	for _, c := range []struct{ raw, want string }{
		{"/base/things/a%2Fb|", "name=a/b|"},
		{"/base/things/na\xc3\xafve%2Fbar", "name=naïve/bar"},
		{"/base/things/%2F\"", "name=/\""},
		{"/base/things/a|/b", "refused: "},
	} {
		req := httptest.NewRequest("GET", "http://x/", nil)
		req.URL.Path, req.URL.RawPath = mustUnescape(t, c.raw), c.raw
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if got := w.Body.String(); !strings.HasPrefix(got, c.want) {
			t.Errorf("%q: %d %q, want %q", c.raw, w.Code, got, c.want)
		}
	}
}

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	p, err := url.PathUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const securedDoc = `
openapi: 3.0.3
info: {title: t, version: "1"}
security: [{one: []}]
components:
  securitySchemes:
    one: {type: apiKey, in: header, name: X-One}
    two: {type: apiKey, in: header, name: X-Two}
    three: {type: apiKey, in: header, name: X-Three}
paths:
  /both-or-three:
    get:
      operationId: bothOrThree
      security: [{two: [], one: []}, {three: []}]
      responses: {"200": {description: ok}}
  /default:
    get:
      operationId: byDefault
      responses: {"200": {description: ok}}
  /open:
    get:
      operationId: open
      security: []
      responses: {"200": {description: ok}}
`

// TestMuxChecksTheDocumentsSecurity: requirements in order, each scheme
// of one in name order and all of them needed, the document's own where
// an operation states none, and the failures of each requirement tried.
func TestMuxChecksTheDocumentsSecurity(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(securedDoc))
	if err != nil {
		t.Fatal(err)
	}
	var tried []string
	mux, err := validate.NewMux(validate.Config{
		Doc: doc,
		Authenticate: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			tried = append(tried, in.SecuritySchemeName)
			if in.RequestValidationInput.Request.Header.Get(in.SecurityScheme.Name) == "" {
				return errors.New("no " + in.SecuritySchemeName)
			}
			return nil
		},
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "refused: "+err.Error(), 418)
		},
	}, func(mux *validate.Mux) {
		mux.HandleFunc("GET /both-or-three", echo)
		mux.HandleFunc("GET /default", echo)
		mux.HandleFunc("GET /open", echo)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path    string
		headers []string
		code    int
		tried   string
	}{
		{"/both-or-three", []string{"X-One", "X-Two"}, 200, "one two"},
		{"/both-or-three", []string{"X-Two"}, 418, "one three"},
		{"/both-or-three", []string{"X-One"}, 418, "one two three"},
		{"/both-or-three", []string{"X-One", "X-Three"}, 200, "one two three"},
		{"/default", []string{"X-One"}, 200, "one"},
		{"/default", nil, 418, "one"},
		{"/open", nil, 200, ""},
	} {
		tried = nil
		req := httptest.NewRequest("GET", c.path, nil)
		for _, h := range c.headers {
			req.Header.Set(h, "x")
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != c.code || strings.Join(tried, " ") != c.tried {
			t.Errorf("%s with %v: %d, tried %v; want %d, tried %s", c.path, c.headers, w.Code, tried, c.code, c.tried)
		}
	}
}
