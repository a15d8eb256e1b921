package v1_test

import (
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
)

const msgRotated = "The master key was rotated; this server must be restarted."

// TestAMasterKeyRotatedBesideTheServer: every key resealed beside a
// running server (as rotate-master-key did before it took the server's
// lock; driven here through a store of its own) under a master key the
// server does not hold. The server still deletes a key, as its answer
// needs only the key the request names; it says why it cannot list or
// create keys, and is not ready. Before, a delete was committed and then
// answered 500 "nothing was changed", a list 500 and readiness 200.
func TestAMasterKeyRotatedBesideTheServer(t *testing.T) {
	w := newWorld(t, apptest.FileDatabase)
	admin := "Bearer " + adminToken
	deleted, kept := w.key(t, guild), w.key(t, guild)
	w.RotateMasterKey(t)

	res, body := w.call(t, "DELETE", "/v1/auth/api-key", admin,
		`{"guild_id": "1098765432109876543", "api_key": "`+deleted+`"}`)
	if res.StatusCode != 200 || decodeData[struct {
		APIKey apiKeyBody `json:"api_key"`
	}](t, body).APIKey.APIKey != deleted {
		t.Fatalf("delete: %d %s, want 200 with the deleted key", res.StatusCode, body)
	}
	res, _ = w.call(t, "POST", "/v1/auth/validate-user-permissions", "Bearer "+deleted,
		`{"guild_id": "1098765432109876543", "target": "310987654321098765"}`)
	if res.StatusCode != 401 {
		t.Fatalf("deleted key: got %d, want 401", res.StatusCode)
	}
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/v1/auth/api-key?guild_id=1098765432109876543", ""},
		{"POST", "/v1/auth/api-key", `{"guild_id": "1098765432109876543"}`},
		{"GET", "/v1/readyz", ""},
		{"GET", "/v1/modules/logging/readyz", ""},
	} {
		res, body := w.call(t, req.method, req.path, admin, req.body)
		if res.StatusCode != 503 || !strings.Contains(string(body), msgRotated) {
			t.Errorf("%s %s: %d %s, want 503 saying why", req.method, req.path, res.StatusCode, body)
		}
	}

	// Restarted with the new master key, the server holds exactly what
	// was answered: the deleted key gone, no key from the refused create.
	cfg := w.Config
	if err := w.Server.Close(); err != nil {
		t.Fatal(err)
	}
	restarted := &world{Instance: apptest.Start(t, &cfg), discord: w.discord}
	listed := restarted.listKeys(t)
	if len(listed) != 1 || listed[0].APIKey != kept {
		t.Fatalf("after a restart: %+v, want only the kept key", listed)
	}
}
