package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/keys"
)

func TestMetricsCountRequestsAndFailures(t *testing.T) {
	inst := apptest.Start(t, nil)
	inst.Do(t, "GET", "/apiKeys/getKeys", apptest.SystemKey, nil)
	inst.Do(t, "GET", "/apiKeys/getKeys", "not-a-key", nil)
	inst.Do(t, "GET", "/v1/livez", "", nil)
	inst.Do(t, "GET", "/nowhere", "", nil)
	res, body := inst.Do(t, "GET", "/metrics", "", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`apikeyd_http_requests_total{operation="getKeys",status="200"} 1`,
		`apikeyd_http_requests_total{operation="getKeys",status="403"} 1`,
		`apikeyd_http_requests_total{operation="getLivez",status="200"} 1`,
		`apikeyd_http_requests_total{operation="unmatched",status="404"} 1`,
		`apikeyd_auth_failures_total{reason="unknown_key"} 1`,
		`apikeyd_http_request_duration_seconds_bucket{operation="getKeys",le="+Inf"} 2`,
		`apikeyd_database_errors_total 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestRequestIDs(t *testing.T) {
	inst := apptest.Start(t, nil)
	req, _ := http.NewRequest("GET", inst.URL+"/v1/livez", nil)
	req.Header.Set("X-Request-Id", "trace-42.a_b")
	res, _ := apptest.Send(t, req)
	if got := res.Header.Get("X-Request-Id"); got != "trace-42.a_b" {
		t.Errorf("kept id: got %q", got)
	}
	for _, sent := range []string{"", "has space", strings.Repeat("x", 65), "semi;colon"} {
		req, _ := http.NewRequest("GET", inst.URL+"/v1/livez", nil)
		req.Header.Set("X-Request-Id", sent)
		res, _ := apptest.Send(t, req)
		if got := res.Header.Get("X-Request-Id"); len(got) != 32 || got == sent {
			t.Errorf("sent %q: got id %q, want a new 32-digit one", sent, got)
		}
	}
}

func TestDatabaseErrorsAreCounted(t *testing.T) {
	inst := apptest.Start(t, nil)
	inst.Server.Close()
	inst.Do(t, "GET", "/apiKeys/getKeys", apptest.SystemKey, nil)
	_, body := inst.Do(t, "GET", "/metrics", "", nil)
	if !strings.Contains(string(body), "apikeyd_database_errors_total 1") {
		t.Errorf("database error not counted:\n%s", grep(string(body), "database_errors"))
	}
	// /v1 counts them too, and its 503 (a failed database is a
	// dependency's failure) shows nothing of the database's own error.
	key, err := keys.Generate(keys.Guild)
	if err != nil {
		t.Fatal(err)
	}
	res, problem := inst.Do(t, "GET", "/v1/auth/api-key?guild_id=1", "Bearer "+key, nil)
	if res.StatusCode != 503 || strings.Contains(strings.ToLower(string(problem)), "sql") {
		t.Errorf("v1 with the database down: %d %s", res.StatusCode, problem)
	}
	_, body = inst.Do(t, "GET", "/metrics", "", nil)
	if !strings.Contains(string(body), "apikeyd_database_errors_total 2") {
		t.Errorf("v1 database error not counted:\n%s", grep(string(body), "database_errors"))
	}
}

func grep(s, sub string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// serveUntilStopped runs `apikeyd serve` with args until stop, which
// returns once Main has, with its exit code.
func serveUntilStopped(t *testing.T, log *syncBuffer, args ...string) (url string, stop func() int) {
	t.Helper()
	return serveWithHook(t, log, nil, args...)
}

// serveWithHook is serveUntilStopped with env.Listening set to listening.
func serveWithHook(t *testing.T, log *syncBuffer, listening func(*slog.Logger), args ...string) (url string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- app.Main(ctx, app.Env{
			Listening: listening,
			Args:      append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, args...),
			Getenv: func(k string) string {
				if k == "APIKEYD_SYSTEM_KEY" {
					return apptest.SystemKey
				}
				return ""
			},
			Stdout: log, Stderr: log, Schemas: apptest.Schema(t),
		})
	}()
	url = waitListening(t, log, done)
	return url, func() int {
		cancel()
		return <-done
	}
}

// getWithID sends GET path with the request id id, and says which id
// the answer carries.
func getWithID(t *testing.T, url, id string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("X-Request-Id", id)
	res, _ := apptest.Send(t, req)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	return res.Header.Get("X-Request-Id")
}

// TestAShutdownWritesEveryLogLine: the log is written in batches, and a
// clean stop writes what is still held before serve returns.
func TestAShutdownWritesEveryLogLine(t *testing.T) {
	var log syncBuffer
	url, stop := serveUntilStopped(t, &log)
	const n = 300
	for i := range n {
		getWithID(t, url+"/v1/livez", "flush-"+strconv.Itoa(i))
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, log.String())
	}
	out := log.String()
	for i := range n {
		if !strings.Contains(out, "request_id=flush-"+strconv.Itoa(i)+" ") {
			t.Fatalf("no log line of request flush-%d:\n%s", i, out)
		}
	}
	if !strings.HasSuffix(out, "msg=\"apikeyd stopped\"\n") {
		t.Errorf("the log does not end with its stop: %q", out[max(0, len(out)-200):])
	}
}

func TestTheAccessLogCanBeTurnedOff(t *testing.T) {
	var log syncBuffer
	url, stop := serveUntilStopped(t, &log, "--access-log=false")
	if got := getWithID(t, url+"/v1/livez", "quiet-1"); got != "quiet-1" {
		t.Errorf("request id %q, want quiet-1", got)
	}
	_, metrics := apptest.Send(t, mustRequest(t, "GET", url+"/metrics"))
	if !strings.Contains(string(metrics), `apikeyd_http_requests_total{operation="getLivez",status="200"} 1`) {
		t.Errorf("the request is not counted:\n%s", grep(string(metrics), "requests_total"))
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, log.String())
	}
	if out := log.String(); strings.Contains(out, "quiet-1") || strings.Contains(out, "msg=request ") || !strings.Contains(out, "apikeyd stopped") {
		t.Errorf("with --access-log=false:\n%s", out)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestListeningIsCalledOnceBeforeTheFirstAnswer: main turns garbage
// collection back on there, so it must come before any request is served.
func TestListeningIsCalledOnceBeforeTheFirstAnswer(t *testing.T) {
	var log syncBuffer
	var calls atomic.Int32
	url, stop := serveWithHook(t, &log, func(*slog.Logger) { calls.Add(1) })
	getWithID(t, url+"/v1/readyz", "after-listening")
	if n := calls.Load(); n != 1 {
		t.Errorf("Listening called %d times by the first answer, want 1", n)
	}
	if code := stop(); code != 0 || calls.Load() != 1 {
		t.Fatalf("exit %d, Listening called %d times: %s", code, calls.Load(), log.String())
	}
}
