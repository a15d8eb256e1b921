package hostile_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// What every answer must be: a 4xx in its family's error shape that holds
// no key and leaks no internals; and how a failure is reported.

// check says what is wrong with an answer, or "".
func check(fx *fixture, req hostileRequest, r result) string {
	if r.err != nil {
		return "no answer: " + r.err.Error()
	}
	if r.status < 400 || r.status > 499 {
		return fmt.Sprintf("status %d, want a 4xx", r.status)
	}
	if req.want != 0 && r.status != req.want {
		return fmt.Sprintf("status %d, want %d", r.status, req.want)
	}
	return checkShape(fx, req, r)
}

// checkShape says what is wrong with an error answer of any status, or "":
// it is in its family's shape, holds no key and leaks no internals.
func checkShape(fx *fixture, req hostileRequest, r result) string {
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		return "the answer may be stored or sniffed: no Cache-Control: no-store or X-Content-Type-Options: nosniff"
	}
	if r.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
		return "a 405 without Allow"
	}
	for _, secret := range append(slices.Clone(fx.userKeys), fx.guildKeys...) {
		if bytes.Contains(r.body, []byte(secret)) {
			return "the answer holds a key"
		}
	}
	for _, leak := range []string{"goroutine ", "runtime error", "sqlite", "SQL logic"} {
		if bytes.Contains(r.body, []byte(leak)) && !bytes.Contains(req.body, []byte(leak)) && !strings.Contains(req.target, leak) {
			return "the answer leaks internals: " + leak
		}
	}
	switch req.family {
	case famV1:
		return checkProblem(r)
	default:
		return checkAPIKeysError(r)
	}
}

// checkProblem checks the /v1 error shape.
func checkProblem(r result) string {
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Sprintf("Content-Type %q, want application/problem+json", ct)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		return "body is not a JSON object: " + err.Error()
	}
	allowed := map[string]bool{"type": true, "title": true, "status": true, "detail": true, "message": true,
		"errors": true, "success": true, "data": true, "error": true}
	for k := range raw {
		if !allowed[k] {
			return fmt.Sprintf("unexpected member %q", k)
		}
	}
	for _, k := range []string{"type", "title", "status", "detail", "message", "success", "data", "error"} {
		if _, ok := raw[k]; !ok {
			return fmt.Sprintf("member %q missing", k)
		}
	}
	var p struct {
		Type, Title, Detail, Message string
		Status                       int
		Errors                       *map[string]string
		Success                      *bool
		Data                         *map[string]json.RawMessage
		Error                        *struct {
			Code    int
			Message string
		}
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		return "problem members of the wrong type: " + err.Error()
	}
	switch {
	case !strings.HasPrefix(p.Type, "urn:apikeyd:problem:"):
		return fmt.Sprintf("type %q", p.Type)
	case p.Status != r.status:
		return fmt.Sprintf("status member %d, HTTP status %d", p.Status, r.status)
	case p.Title != http.StatusText(r.status):
		return fmt.Sprintf("title %q", p.Title)
	case p.Detail == "":
		return "empty detail"
	case p.Message != p.Title+"! "+p.Detail:
		return fmt.Sprintf("message %q is not title! detail", p.Message)
	case p.Success == nil || *p.Success:
		return "success is not false"
	case p.Data == nil || len(*p.Data) != 0:
		return "data is not {}"
	case p.Error == nil || p.Error.Code != r.status || p.Error.Message != p.Message:
		return "error is not {code: status, message: message}"
	case raw["errors"] != nil && p.Errors == nil && string(raw["errors"]) != "null":
		return "errors is not an object of strings"
	}
	if r.status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") != "Bearer" {
		return "401 without WWW-Authenticate: Bearer"
	}
	return ""
}

// checkAPIKeysError checks the /apiKeys error shape.
func checkAPIKeysError(r result) string {
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		return fmt.Sprintf("Content-Type %q, want application/json", ct)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		return "body is not a JSON object: " + err.Error()
	}
	for k := range raw {
		if k != "error" && k != "catchError" {
			return fmt.Sprintf("unexpected member %q", k)
		}
	}
	var detail map[string]json.RawMessage
	if err := json.Unmarshal(raw["error"], &detail); err != nil || len(detail) != 2 {
		return "error is not {code, message}"
	}
	var e struct {
		Error struct {
			Code    *int
			Message *string
		}
		CatchError *string
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		return "error members of the wrong type: " + err.Error()
	}
	switch {
	case e.Error.Code == nil || *e.Error.Code != r.status:
		return fmt.Sprintf("error.code is not the HTTP status %d", r.status)
	case e.Error.Message == nil || *e.Error.Message == "":
		return "error.message is empty"
	case raw["catchError"] != nil && e.CatchError == nil:
		return "catchError is not a string"
	}
	return ""
}

func describeRequest(r hostileRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s/%s] %s %s", r.family, r.kind, r.method, clip(r.target, 200))
	names := make([]string, 0, len(r.header))
	for k := range r.header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "\n    %s: %s", k, clip(strings.Join(r.header[k], ", "), 120))
	}
	if r.body != nil {
		fmt.Fprintf(&b, "\n    body (%d bytes%s): %s", len(r.body), map[bool]string{true: ", chunked"}[r.chunked], clip(string(r.body), 300))
	}
	return b.String()
}

func describeResult(r result) string {
	if r.err != nil {
		return "error " + r.err.Error()
	}
	return fmt.Sprintf("%d %s %s", r.status, r.header.Get("Content-Type"), clip(string(r.body), 400))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:n], len(s))
}
