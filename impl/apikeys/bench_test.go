package apikeys_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
)

// BenchmarkCreateKey is POST /apiKeys/new/{user} through the whole
// handler stack on a database file (WAL, synchronous=FULL), without the
// network: what a created key costs, fsync included.
func BenchmarkCreateKey(b *testing.B) {
	cfg := apptest.Config(b)
	cfg.DB = ""
	inst := apptest.Start(b, &cfg)
	h := inst.Server.Handler()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest("POST", fmt.Sprintf("/apiKeys/new/bench-%d", i), nil)
		req.Header.Set("Authorization", apptest.SystemKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		i++
	}
}
