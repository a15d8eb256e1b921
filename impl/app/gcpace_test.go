package app_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestTheServerPacesItsCollector starts the real binary: serving, it
// collects at gcpace's pace (a GOGC above Go's default while its live
// heap is small), and an operator's GOGC is left as it is. The pace is
// process-wide, set in main, so only the binary shows it; /metrics
// reports it as go_gc_gogc_percent.
func TestTheServerPacesItsCollector(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)

	// GOGC= is unset, for Go and for apikeyd alike, whatever this test's
	// own environment holds.
	paced := startServer(t, bin, t.TempDir(), newSecrets(), "GOGC=")
	if got := waitForGOGC(t, paced.url, func(p int) bool { return p > 100 }); got <= 100 {
		t.Errorf("serving without GOGC, go_gc_gogc_percent = %d, want above Go's default of 100", got)
	}

	chosen := startServer(t, bin, t.TempDir(), newSecrets(), "GOGC=150")
	// Give a pacer, if one ran, time to change it: the server collects
	// 100 ms after it listens.
	time.Sleep(300 * time.Millisecond)
	if got := gogcOf(t, chosen.url); got != 150 {
		t.Errorf("serving with GOGC=150, go_gc_gogc_percent = %d, want 150", got)
	}
}

// waitForGOGC reads the server's pace until ok holds or 5 s pass, and
// returns the last reading.
func waitForGOGC(t *testing.T, url string, ok func(int) bool) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := gogcOf(t, url)
		if ok(got) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gogcOf is the GOGC a server's /metrics reports.
func gogcOf(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	m := regexp.MustCompile(`(?m)^go_gc_gogc_percent ([0-9]+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no go_gc_gogc_percent in /metrics:\n%s", body)
	}
	p, err := strconv.Atoi(string(m[1]))
	if err != nil {
		t.Fatalf("go_gc_gogc_percent %q: %v", m[1], err)
	}
	return p
}
