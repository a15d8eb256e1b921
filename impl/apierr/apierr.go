// Package apierr is the one error vocabulary of apikeyd. Code below the HTTP
// layer says what went wrong with a Code; each API family turns an *Error
// into its own body in exactly one place, and Status maps a Code to HTTP.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Code classifies an error independently of any API family's wire format.
type Code string

const (
	Invalid          Code = "invalid"           // the request does not match the document
	Unauthorized     Code = "unauthorized"      // no credentials, or unknown ones
	Forbidden        Code = "forbidden"         // a known identity without access
	NotFound         Code = "not_found"         // no such resource
	Conflict         Code = "conflict"          // already in the requested state
	TooLarge         Code = "too_large"         // body over the limit
	UnsupportedMedia Code = "unsupported_media" // body that is not JSON
	HeaderTooLarge   Code = "header_too_large"  // headers over the limit
	MethodNotAllowed Code = "method_not_allowed"
	Unprocessable    Code = "unprocessable"     // well-formed, but cannot be done
	TooManyRequests  Code = "too_many_requests" // rate limited
	Unavailable      Code = "unavailable"       // a dependency (Discord) failed
	Internal         Code = "internal"          // a bug or a database failure
)

var statusOf = map[Code]int{
	Invalid:          http.StatusBadRequest,
	Unauthorized:     http.StatusUnauthorized,
	Forbidden:        http.StatusForbidden,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	Conflict:         http.StatusConflict,
	TooLarge:         http.StatusRequestEntityTooLarge,
	UnsupportedMedia: http.StatusUnsupportedMediaType,
	HeaderTooLarge:   http.StatusRequestHeaderFieldsTooLarge,
	Unprocessable:    http.StatusUnprocessableEntity,
	TooManyRequests:  http.StatusTooManyRequests,
	Unavailable:      http.StatusServiceUnavailable,
	Internal:         http.StatusInternalServerError,
}

// Status is the HTTP status of a code; unknown codes are internal errors.
func Status(c Code) int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is an error that is safe to show to a client: Message and Fields
// never hold secrets, SQL or internal details. Cause is for logs only.
type Error struct {
	Code    Code
	Message string
	// Fields maps a request field to what is wrong with it.
	Fields map[string]string
	// RetryAfter, for TooManyRequests and Unavailable, is when the client
	// may try again.
	RetryAfter time.Duration
	// Reason names why credentials were refused, for metrics.
	Reason string
	Cause  error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// Because sets the reason credentials were refused, for metrics.
func (e *Error) Because(reason string) *Error {
	e.Reason = reason
	return e
}

// New returns an error with a client-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// From returns err as an *Error; anything unclassified (or classified
// with a code this package does not know) becomes an internal error whose
// message reveals nothing of the cause.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if _, known := statusOf[e.Code]; known {
			return e
		}
	}
	return &Error{Code: Internal, Message: "internal error", Cause: err}
}

// CodeOf is the code of err, Internal when it carries none.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return From(err).Code
}

// SetRetryAfter sets the Retry-After header an error asks for.
func SetRetryAfter(h http.Header, e *Error) {
	if secs, ok := e.RetryAfterSeconds(); ok {
		h.Set("Retry-After", strconv.Itoa(secs))
	}
}

// RetryAfterSeconds is the wait the error asks for in whole seconds,
// rounded up, as Retry-After carries it; false when it asks for none.
func (e *Error) RetryAfterSeconds() (int, bool) {
	if e.RetryAfter <= 0 {
		return 0, false
	}
	return int((e.RetryAfter + time.Second - 1) / time.Second), true
}

// TooMany is the answer to an address that has failed to authenticate too
// often.
func TooMany(wait time.Duration) *Error {
	return &Error{Code: TooManyRequests, Message: "Too many failed authentications from this address; try again later.", RetryAfter: wait, Reason: "rate_limited"}
}
