package apikeys_test

import (
	"context"
	"encoding/json"
	"testing"

	api "github.com/apikeyd/apikeyd/gen/apikeys"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/contract"
)

// TestContract replays every example of openapi/apikeys.yaml against the
// real handler stack on a fresh SQLite database.
func TestContract(t *testing.T) {
	doc, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := contract.Cases(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			inst := apptest.Start(t, nil)
			for _, g := range c.Given {
				given(t, inst, g)
			}
			req, err := c.Request(context.Background(), inst.URL)
			if err != nil {
				t.Fatal(err)
			}
			if auth := credential(t, inst, c.Credential); auth != "" {
				req.Header.Set("Authorization", auth)
			}
			res, body := apptest.Send(t, req)
			if res.StatusCode != c.Status {
				t.Fatalf("status: got %d, want %d; body %s", res.StatusCode, c.Status, body)
			}
			if got := res.Header.Get("Content-Type"); got != c.MediaType {
				t.Errorf("Content-Type: got %q, want %q", got, c.MediaType)
			}
			if err := c.Check(doc, req, res.StatusCode, res.Header, body); err != nil {
				t.Errorf("the answer breaks the document: %v\nbody: %s", err, body)
			}
			var got any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, body)
			}
			if err := contract.Match(c.Want, got); err != nil {
				t.Errorf("body differs from the example: %v\nbody: %s", err, body)
			}
		})
	}
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
	default:
		t.Fatalf("unknown x-given %q", state)
	}
}

func createKey(t *testing.T, inst *apptest.Instance, user, note string) string {
	t.Helper()
	token, err := inst.Server.Store().CreateUserKey(context.Background(), user, note)
	if err != nil {
		t.Fatal(err)
	}
	return token
}
