package app_test

import (
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTheServerReleasesTheStartsPages starts the real binary: once it has
// settled, it drops the pages of its executable that its start touched
// (impl/exepages, called from main), holds fewer of them than it dropped,
// and goes on answering from what faults back in.
func TestTheServerReleasesTheStartsPages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the release reads /proc/self/smaps")
	}
	s := startServer(t, buildBinary(t), t.TempDir(), newSecrets())
	released := regexp.MustCompile(`msg="released the start's pages of the executable" mappings=(\d+) bytes=(\d+) skipped=(\d+)`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		m = released.FindStringSubmatch(s.log.String())
	}
	if m == nil {
		t.Fatalf("no release logged within 10 s:\n%s", s.log.String())
	}
	mappings, _ := strconv.Atoi(m[1])
	bytes, _ := strconv.ParseInt(m[2], 10, 64)
	skipped, _ := strconv.Atoi(m[3])
	// A PIE's relocated read-only data is skipped; its text is released
	// either way.
	if mappings < 1 || mappings+skipped < 2 {
		t.Errorf("released %d mappings, skipped %d: want its text and read-only data (2 or more) released or skipped, the text released", mappings, skipped)
	}
	if bytes < 4<<20 {
		t.Errorf("released %d bytes, want the start's megabytes", bytes)
	}
	if held := fileBacked(t, s.cmd.Process.Pid); held >= bytes {
		t.Errorf("after releasing %d bytes of its executable, the server holds %d bytes of files", bytes, held)
	}
	res, err := http.Get(s.url + "/v1/readyz")
	if err != nil {
		t.Fatalf("GET /v1/readyz after the release: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/readyz after the release: %d", res.StatusCode)
	}
}

// fileBacked is the RssFile of process pid, in bytes.
func fileBacked(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("RssFile %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no RssFile in /proc/%d/status", pid)
	return 0
}
