package app

import (
	"net/http"
	"strings"
)

// apiHeaders marks every answer outside the docs page (both API families,
// the documents, metrics, errors included) as neither to be cached, since
// answers carry keys, nor to be sniffed into another content type. The
// docs page sets its own headers, for its assets and its nonce.
func apiHeaders(next http.Handler) http.Handler {
	// Every answer shares these two values, without an allocation each: a
	// Header's values are replaced, or appended to (into a new array, as
	// their capacity is full), never written in place.
	noStore, noSniff := []string{"no-store"}, []string{"nosniff"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != "/docs" && !strings.HasPrefix(p, "/docs/") {
			h := w.Header()
			h["Cache-Control"] = noStore
			h["X-Content-Type-Options"] = noSniff
		}
		next.ServeHTTP(w, r)
	})
}
