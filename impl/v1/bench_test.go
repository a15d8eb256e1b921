package v1_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkMiddlewareChain is a key-authenticated GET /v1/settings through
// the whole handler stack (validation, authentication, handler, database,
// JSON) without the network.
func BenchmarkMiddlewareChain(b *testing.B) {
	w := newWorld(b)
	key := "Bearer " + w.key(b, guild)
	h := w.Server.Handler()
	req := httptest.NewRequest("GET", "/v1/settings?guild_id="+guild.String(), nil)
	req.Header.Set("Authorization", key)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
