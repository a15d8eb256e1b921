package apikeys

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/observe"
)

// errorCodes are every code of apierr, and one it does not know.
var errorCodes = []apierr.Code{
	apierr.Invalid, apierr.Unauthorized, apierr.Forbidden, apierr.NotFound, apierr.Conflict,
	apierr.TooLarge, apierr.UnsupportedMedia, apierr.HeaderTooLarge, apierr.MethodNotAllowed,
	apierr.Unprocessable, apierr.TooManyRequests, apierr.Unavailable, apierr.Internal,
	"not-a-code",
}

// errorPaths are request paths writeError looks at.
var errorPaths = []string{"/apiKeys/new/alice", "/apiKeys/new/", "/apiKeys/new//note", "/apiKeys/new/alice/note", "/apiKeys/getKeys", "/apiKeys/remove/bob"}

// FuzzErrorBody: whatever error writeError is given, the answer is JSON in
// this family's shape, {"error": {"code", "message"}}, with the HTTP status
// as its code; an internal error says nothing of its cause.
//
// kind: bits 0-3 pick the code, bit 4 wraps the error, bit 5 passes a plain
// error instead (an internal one); path picks the request path.
func FuzzErrorBody(f *testing.F) {
	s := &Server{observer: observe.New(slog.New(slog.DiscardHandler), true)}
	f.Add(uint8(0), uint8(0), "user: must be 1 to 64 characters", "user", "must be 1 to 64 characters", uint32(0))
	f.Add(uint8(3), uint8(1), "no such route", "", "", uint32(0))
	f.Add(uint8(10), uint8(4), "Too many failed authentications", "", "", uint32(1500))
	f.Add(uint8(32), uint8(5), "database is locked: SELECT * FROM user_keys", "", "", uint32(0))
	f.Fuzz(func(t *testing.T, kind, path uint8, message, field, what string, retryMillis uint32) {
		e := &apierr.Error{
			Code:       errorCodes[int(kind&15)%len(errorCodes)],
			Message:    message,
			RetryAfter: time.Duration(retryMillis) * time.Millisecond,
		}
		if field != "" || what != "" {
			e.Fields = map[string]string{field: what}
		}
		var err error = e
		switch {
		case kind&32 != 0:
			err = errors.New(message)
		case kind&16 != 0:
			err = fmt.Errorf("wrapped: %w", e)
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", errorPaths[int(path)%len(errorPaths)], nil)
		s.writeError(rec, req, err)

		if rec.Code < 400 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		body := rec.Body.Bytes()
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("not a JSON object: %v: %s", err, body)
		}
		var got struct {
			Error struct {
				Code    *int    `json:"code"`
				Message *string `json:"message"`
			} `json:"error"`
			CatchError *string `json:"catchError"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("members of the wrong type: %v: %s", err, body)
		}
		for k := range raw {
			if k != "error" && k != "catchError" {
				t.Fatalf("unexpected member %q: %s", k, body)
			}
		}
		if got.Error.Code == nil || *got.Error.Code != rec.Code || got.Error.Message == nil {
			t.Fatalf("error is not {code: %d, message}: %s", rec.Code, body)
		}
		if rec.Code == 500 {
			if *got.Error.Message != "Internal server error" || got.CatchError != nil {
				t.Fatalf("an internal error says more than that it happened: %s", body)
			}
		}
		if ra := rec.Header().Get("Retry-After"); ra != "" {
			if n, err := strconv.Atoi(ra); err != nil || n < 1 {
				t.Fatalf("Retry-After %q", ra)
			}
		} else if e.Code == apierr.TooManyRequests && e.RetryAfter > 0 && kind&32 == 0 {
			t.Fatalf("429 without Retry-After for %v", e.RetryAfter)
		}
	})
}
