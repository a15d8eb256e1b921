package hostile_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Sending the battery: every request verbatim, from a few workers over
// shared connections.

// newClient reuses connections across the battery's workers.
func newClient() *http.Client {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       30 * time.Second,
		ExpectContinueTimeout: 5 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// result is what came back for one request.
type result struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// send sends every request from a few workers over shared connections.
func send(t *testing.T, base string, client *http.Client, reqs []hostileRequest) []result {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	results := make([]result, len(reqs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				results[i] = sendOne(client, u, reqs[i])
			}
		})
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

func sendOne(client *http.Client, base *url.URL, hr hostileRequest) result {
	req, err := newRequest(base, hr)
	if err != nil {
		return result{err: err}
	}
	res, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return result{status: res.StatusCode, header: res.Header, body: b, err: err}
}

// newRequest is hr sent to base, its target verbatim.
func newRequest(base *url.URL, hr hostileRequest) (*http.Request, error) {
	req, err := http.NewRequest(hr.method, base.String(), nil)
	if err != nil {
		return nil, err
	}
	path, query, _ := strings.Cut(hr.target, "?")
	req.URL.Opaque = path
	req.URL.RawQuery = query
	req.URL.Path = ""
	for name, values := range hr.header {
		req.Header[name] = values
	}
	if hr.body != nil {
		body := hr.body
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.Body, _ = req.GetBody()
		req.ContentLength = int64(len(body))
		if hr.chunked {
			req.ContentLength = -1
		}
		if len(body) > 256<<10 {
			// A server may answer a large body without reading it; the
			// client must then not be caught writing it.
			req.Header.Set("Expect", "100-continue")
		}
	}
	return req, nil
}
