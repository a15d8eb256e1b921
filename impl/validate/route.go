package validate

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/routers"
)

// findRoute matches a request to an operation of the document, on its path
// below the base path as the client escaped it, and returns the path
// parameters unescaped.
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

// allowedMethods lists the methods the request's path answers, for the
// Allow header of a 405 (RFC 9110 requires it): HEAD wherever GET.
func (v *Validator) allowedMethods(r *http.Request) []string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if _, _, err := v.findRoute(withMethod(r, m)); err == nil {
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
