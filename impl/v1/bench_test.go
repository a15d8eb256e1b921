package v1_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkMiddlewareChain is a key-authenticated GET /v1/settings through
// the whole handler stack (validation, authentication, handler, database,
// JSON) without the network.
func BenchmarkMiddlewareChain(b *testing.B) {
	w := newWorld(b)
	key := "Bearer " + w.key(b, guild)
	req := httptest.NewRequest("GET", "/v1/settings?guild_id="+guild.String(), nil)
	req.Header.Set("Authorization", key)
	benchmarkRequest(b, w, func() *http.Request { return req })
}

// BenchmarkListKeysCachedUser is GET /v1/auth/api-key by a user whose
// Discord identity is cached, through the whole handler stack.
func BenchmarkListKeysCachedUser(b *testing.B) {
	w := newWorld(b)
	w.key(b, guild)
	req := httptest.NewRequest("GET", "/v1/auth/api-key?guild_id="+guild.String(), nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	benchmarkRequest(b, w, func() *http.Request { return req })
}

// BenchmarkAuthorizeKey is POST /v1/auth/authorize with a guild key in
// its body, through the whole handler stack; each request gets its body
// anew (two allocations of the benchmark's own).
func BenchmarkAuthorizeKey(b *testing.B) {
	w := newWorld(b)
	body := `{"access_token": "` + w.key(b, guild) + `"}`
	req := httptest.NewRequest("POST", "/v1/auth/authorize", nil)
	req.Header.Set("Content-Type", "application/json")
	benchmarkRequest(b, w, func() *http.Request {
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body)) // as net/http's server sets it
		return req
	})
}

// benchmarkRequest serves nextRequest's requests, each expected to be
// answered 200; the first, before the loop, fills the caches.
func benchmarkRequest(b *testing.B, w *world, nextRequest func() *http.Request) {
	h := w.Server.Handler()
	serve := func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, nextRequest())
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	serve()
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}
