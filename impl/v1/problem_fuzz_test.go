package v1

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apierr"
)

// problemCodes are every code of apierr, and one it does not know.
var problemCodes = []apierr.Code{
	apierr.Invalid, apierr.Unauthorized, apierr.Forbidden, apierr.NotFound, apierr.Conflict,
	apierr.TooLarge, apierr.UnsupportedMedia, apierr.HeaderTooLarge, apierr.MethodNotAllowed,
	apierr.Unprocessable, apierr.TooManyRequests, apierr.Unavailable, apierr.Internal,
	"not-a-code",
}

// FuzzProblem: whatever an error says, its problem is well-formed JSON
// whose status is an error status and whose message is "title! detail".
func FuzzProblem(f *testing.F) {
	f.Add(uint8(0), "guild_id: must be a Discord id in digits", "guild_id", "must be a Discord id in digits")
	f.Fuzz(func(t *testing.T, code uint8, message, field, what string) {
		e := &apierr.Error{
			Code:    problemCodes[int(code)%len(problemCodes)],
			Message: message,
			Fields:  map[string]string{field: what},
		}
		p := problem(e)
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if !json.Valid(b) {
			t.Fatalf("not JSON: %s", b)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		switch {
		case p.Status < 400 || p.Status > 599:
			t.Fatalf("status %d", p.Status)
		case p.Status != apierr.Status(e.Code):
			t.Fatalf("status %d for code %q", p.Status, e.Code)
		case p.Title != http.StatusText(p.Status):
			t.Fatalf("title %q for %d", p.Title, p.Status)
		case !strings.HasSuffix(p.Detail, "."):
			t.Fatalf("detail %q does not end in a period", p.Detail)
		case p.Message != p.Title+"! "+p.Detail:
			t.Fatalf("message %q is not title! detail", p.Message)
		case p.Error.Code != p.Status || p.Error.Message != p.Message:
			t.Fatalf("error %+v does not repeat status and message", p.Error)
		case bool(p.Success):
			t.Fatal("success is true")
		case !strings.HasPrefix(string(p.Type), "urn:apikeyd:problem:"):
			t.Fatalf("type %q", p.Type)
		case p.Errors == nil || (*p.Errors)[field] != what:
			t.Fatalf("errors %v do not name %q", p.Errors, field)
		}
		if e.Code == apierr.Internal {
			// An internal error's detail says nothing of its cause.
			other := problem(&apierr.Error{Code: apierr.Internal, Message: message + " other"})
			if other.Detail != p.Detail {
				t.Fatalf("internal detail depends on the message: %q", p.Detail)
			}
		}
		if back["data"] == nil || len(back["data"].(map[string]any)) != 0 {
			t.Fatalf("data is not {}: %s", b)
		}
	})
}
