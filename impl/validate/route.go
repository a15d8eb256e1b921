package validate

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// route is one operation of the document as the validator serves it.
type route struct {
	op     *openapi3.Operation // the document's
	method string
	// kin is what openapi3filter validates a request against: op without
	// its security requirements, which security checks instead.
	kin      routers.Route
	security security
	params   []pathParam
}

// pathParam is a path parameter of a route's template: its name, and the
// index of its segment in the escaped path (the base path's included).
type pathParam struct {
	name    string
	segment int
}

// ServeHTTP is never called: the validator only asks its ServeMux which
// route a request matches (http.ServeMux.Handler), and a Handler is what
// a ServeMux holds.
func (*route) ServeHTTP(http.ResponseWriter, *http.Request) {}

// newRoutes registers every operation of doc on a ServeMux, as "METHOD
// PATH" with PATH the base path and the operation's template, so that a
// request is matched by one lookup instead of a regular expression a
// route (kin-openapi's gorilla/mux router, whose compiled expressions
// also stayed on the heap).
func newRoutes(doc *openapi3.T, basePath string) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	for path, item := range doc.Paths.Map() {
		pattern, params, err := muxPattern(basePath, path)
		if err != nil {
			return nil, err
		}
		for method, op := range item.Operations() {
			sec, err := securityOf(doc, op)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			unsecured := *op
			unsecured.Security = &openapi3.SecurityRequirements{}
			rt := &route{
				op:       op,
				method:   method,
				kin:      routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: &unsecured},
				security: sec,
				params:   params,
			}
			if err := handle(mux, method+" "+pattern, rt); err != nil {
				return nil, err
			}
		}
	}
	return mux, nil
}

// muxPattern is the ServeMux path pattern of a document's path template
// below basePath, and the template's parameters. Wildcards are named by
// their place, as parameter names need not be Go identifiers; the values
// are read from the path itself (match).
func muxPattern(basePath, template string) (string, []pathParam, error) {
	if template == "/" {
		return basePath + "/{$}", nil, nil // this path exactly
	}
	segments := strings.Split(template, "/")
	if segments[0] != "" {
		return "", nil, fmt.Errorf("path %q: does not begin with /", template)
	}
	base := strings.Count(basePath, "/")
	var params []pathParam
	for i, seg := range segments[1:] {
		name, isParam := strings.CutPrefix(seg, "{")
		name, closed := strings.CutSuffix(name, "}")
		switch {
		case seg == "":
			return "", nil, fmt.Errorf("path %q: an empty segment", template)
		case isParam && closed && name != "" && !strings.ContainsAny(name, "{}"):
			params = append(params, pathParam{name: name, segment: base + 1 + i})
			segments[i+1] = "{p" + strconv.Itoa(len(params)) + "}"
		case strings.ContainsAny(seg, "{}"):
			return "", nil, fmt.Errorf("path %q: a parameter must be a whole segment", template)
		}
	}
	return basePath + strings.Join(segments, "/"), params, nil
}

// handle registers h at pattern; ServeMux reports a pattern it cannot
// take, or one that conflicts with another, only by panicking.
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("route %q: %v", pattern, p)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// match finds the route of a request on its path as the client escaped
// it, and returns the path parameters unescaped. ok is false when the
// document has no operation for the request's method and path.
func (v *Validator) match(r *http.Request) (rt *route, params map[string]string, ok bool) {
	escaped := EscapedPath(r.URL)
	// An empty segment is no route: ServeMux would clean it away and
	// match another one. (An escaped "/" inside a segment is no empty one.)
	if strings.Contains(escaped, "//") {
		return nil, nil, false
	}
	lookup := r
	if p, changed := lookupPath(escaped); changed || r.URL.RawPath != "" {
		lookup = withEscapedPath(r, p)
	}
	h, _ := v.routes.Handler(lookup)
	if rt, ok = h.(*route); !ok {
		return nil, nil, false
	}
	if len(rt.params) == 0 {
		return rt, nil, true
	}
	params = make(map[string]string, len(rt.params))
	for _, p := range rt.params {
		value, err := url.PathUnescape(segment(escaped, p.segment))
		if err != nil {
			return nil, nil, false
		}
		params[p.name] = value
	}
	return rt, params, true
}

// placeholder stands, in the path a ServeMux matches, for a segment it
// would not take as a wildcard's value although the document does: "."
// and ".." (which it cleans away, redirecting) and an escaped "/" alone
// (which it takes for a trailing slash). It unescapes to "//", which no
// literal segment can equal, so it matches exactly the wildcards such a
// segment matches; the values are read from the request's own path.
const placeholder = "%2F%2F"

// lookupPath is the escaped path with each such segment replaced by the
// placeholder, and whether there was one.
func lookupPath(escaped string) (string, bool) {
	if !strings.Contains(escaped, "/.") && !strings.Contains(escaped, "%2") {
		return escaped, false // the common path, without a copy
	}
	segments := strings.Split(escaped, "/")
	changed := false
	for i, seg := range segments {
		if seg == "." || seg == ".." || strings.EqualFold(seg, "%2F") {
			segments[i] = placeholder
			changed = true
		}
	}
	return strings.Join(segments, "/"), changed
}

// withEscapedPath is a shallow copy of r whose URL's EscapedPath is
// escaped, which is valid: it comes from EscapedPath or lookupPath.
func withEscapedPath(r *http.Request, escaped string) *http.Request {
	u := *r.URL
	u.RawPath = escaped
	u.Path, _ = url.PathUnescape(escaped)
	c := r.WithContext(r.Context())
	c.URL = &u
	return c
}

// segment is the i-th segment of an escaped path ("" before its first "/").
func segment(path string, i int) string {
	for ; i > 0; i-- {
		_, path, _ = strings.Cut(path, "/")
	}
	seg, _, _ := strings.Cut(path, "/")
	return seg
}

// allowedMethods lists the methods the request's path answers, for the
// Allow header of a 405 (RFC 9110 requires it): HEAD wherever GET.
func (v *Validator) allowedMethods(r *http.Request) []string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if _, _, ok := v.match(withMethod(r, m)); ok {
			allowed = append(allowed, m)
			if m == http.MethodGet {
				allowed = append(allowed, http.MethodHead)
			}
		}
	}
	return allowed
}

// withMethod is a shallow copy of r with another method.
func withMethod(r *http.Request, method string) *http.Request {
	c := r.WithContext(r.Context())
	c.Method = method
	return c
}

// EscapedPath is the request path as the client escaped it, so that an
// escaped "/" stays inside its segment. url.URL.EscapedPath gives up on a
// raw path holding a byte it would have escaped itself (such as "|", a
// quote or any non-ASCII byte) and escapes the decoded path again, which
// turns "%2F" into a separator; here only those bytes are escaped.
func EscapedPath(u *url.URL) string {
	if u.RawPath == "" {
		return u.EscapedPath()
	}
	var b strings.Builder
	b.Grow(len(u.RawPath))
	for i := 0; i < len(u.RawPath); i++ {
		c := u.RawPath[i]
		if keptInPath(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	esc := b.String()
	if p, err := url.PathUnescape(esc); err != nil || p != u.Path {
		return u.EscapedPath() // RawPath is not this path's spelling
	}
	return esc
}

// keptInPath: the bytes RFC 3986 allows unescaped in a path (unreserved,
// sub-delims, ":", "@", "/"), and "%" of the escapes already there.
func keptInPath(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/%", c) >= 0
}
