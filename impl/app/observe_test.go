package app_test

import (
	"net/http"
	"strings"
	"testing"

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
