package apikeys_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/contract"
	"github.com/apikeyd/apikeyd/openapi"
)

// TestContract replays every example of openapi/apikeys.yaml against the
// real handler stack on a fresh SQLite database.
func TestContract(t *testing.T) {
	doc, err := openapi.Load("apikeys.yaml")
	if err != nil {
		t.Fatal(err)
	}
	contract.Replay(t, doc, func(t *testing.T, c contract.Case) (string, http.Header) {
		cfg := apptest.Config(t)
		// A second process can open a database file, not one in memory.
		if slices.Contains(c.Given, "database-file-gone") || slices.Contains(c.Given, "master-key-rotated") {
			apptest.FileDatabase(&cfg)
		}
		if slices.Contains(c.Given, "failed-authentications-limit") {
			// One key failed or in flight per address, given back only
			// after hours: an address that has failed too often.
			cfg.AuthFailureBurst = 1
			cfg.AuthFailureRate = 0.0001
		}
		inst := apptest.Start(t, &cfg)
		auth := credential(t, inst, c.Credential)
		for _, g := range c.Given {
			given(t, inst, g)
		}
		if auth == "" {
			return inst.URL, nil
		}
		return inst.URL, http.Header{"Authorization": {auth}}
	})
}

// credential is the Authorization header an example names; by default
// the System key.
func credential(t *testing.T, inst *apptest.Instance, name string) string {
	switch name {
	case "", "system":
		return apptest.SystemKey
	case "none":
		return ""
	case "unknown":
		return "akdu_0000000000000000000000000000000000aa"
	case "user":
		return createKey(t, inst, "dave", "")
	}
	t.Fatalf("unknown x-credential %q", name)
	return ""
}

// given puts the service in a named state of the document's examples.
func given(t *testing.T, inst *apptest.Instance, state string) {
	switch state {
	case "alice-has-keys":
		createKey(t, inst, "alice", "")
		createKey(t, inst, "alice", "deploy bot")
	case "carol-has-a-key":
		createKey(t, inst, "carol", "")
	case "database-down":
		if err := inst.Server.Close(); err != nil {
			t.Fatal(err)
		}
	case "database-file-gone":
		inst.DeleteDatabase(t)
	case "master-key-rotated":
		inst.RotateMasterKey(t)
	case "failed-authentications-limit":
		// The address's one place taken by a key never issued.
		res, body := inst.Do(t, "GET", "/apiKeys/getKeys", "akdu_4JjNbwUdTHd6wyqjt4c8YqZAShGeS1H2Um2b", nil)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("the failed authentication got %d: %s", res.StatusCode, body)
		}
	default:
		t.Fatalf("unknown x-given %q", state)
	}
}
