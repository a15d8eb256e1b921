package validate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

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
