package validate

import (
	"net/url"
	"strings"
)

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
