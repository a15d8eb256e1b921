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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != "/docs" && !strings.HasPrefix(p, "/docs/") {
			h := w.Header()
			h.Set("Cache-Control", "no-store")
			h.Set("X-Content-Type-Options", "nosniff")
		}
		next.ServeHTTP(w, r)
	})
}
