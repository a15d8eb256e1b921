package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/apikeyd/apikeyd/bench/internal/harness"
)

// scenario is one request to measure.
type scenario struct {
	name, method, path, auth, body string
	writes                         bool // each request creates something: path names it with %d
}

// wrkRequest is s against base, for wrk to repeat.
func (s scenario) wrkRequest(base string) harness.WrkRequest {
	r := harness.WrkRequest{URL: base + s.path, Method: s.method, Body: s.body, Headers: map[string]string{}}
	if s.auth != "" {
		r.Headers["Authorization"] = s.auth
	}
	if s.body != "" {
		r.Headers["Content-Type"] = "application/json"
	}
	return r
}

func is200(status int) bool { return status == 200 }

// once sends one request of s and returns the answer.
func (e *env) once(ctx context.Context, s scenario) (int, string, []byte, error) {
	req, err := e.request(e.proc.URL, s)(0, -1)
	if err != nil {
		return 0, "", nil, err
	}
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), b, err
}

// request makes the requests of s against base, for the Go load
// generator; writes name a new user each time.
func (e *env) request(base string, s scenario) harness.Request {
	return func(worker, i int) (*http.Request, error) {
		path := s.path
		if s.writes {
			path = fmt.Sprintf(s.path, worker, i)
		}
		req, err := http.NewRequest(s.method, base+path, strings.NewReader(s.body))
		if err != nil {
			return nil, err
		}
		if s.auth != "" {
			req.Header.Set("Authorization", s.auth)
		}
		if s.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	}
}
