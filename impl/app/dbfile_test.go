package app_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apptest"
)

const fileGone = "The database file was deleted or replaced while this server ran"

// TestADeletedDatabaseAcknowledgesNoWrite deletes apikeyd.db with its -wal
// and -shm under a running server, while writes are in flight. SQLite
// would go on writing to files that no path leads to, and every change
// would be acknowledged, then lost when the process ends. No write sent
// after the deletion may be acknowledged: each gets 503 saying why, and
// readiness fails.
func TestADeletedDatabaseAcknowledgesNoWrite(t *testing.T) {
	cfg := fileConfig(t)
	inst := apptest.Start(t, &cfg)
	alice := inst.CreateUserKey(t, apptest.SystemKey, "alice")

	var deleted atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				after := deleted.Load()
				status, body := post(t, inst.URL+fmt.Sprintf("/apiKeys/new/w%d-%d", w, i))
				if after && status != 503 {
					t.Errorf("a write sent after the deletion got %d %s, want 503", status, body)
					return
				}
			}
		})
	}
	// The writers run for a while on either side of the deletion; this
	// waits, it asserts nothing.
	time.Sleep(50 * time.Millisecond)
	inst.DeleteDatabase(t)
	deleted.Store(true)
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()

	for _, req := range []struct{ method, path string }{
		{"POST", "/apiKeys/new/bob"},
		{"DELETE", "/apiKeys/remove/alice"},
	} {
		res, body := inst.Do(t, req.method, req.path, apptest.SystemKey, nil)
		if res.StatusCode != 503 || !strings.Contains(string(body), fileGone) {
			t.Errorf("%s %s: %d %s, want 503 saying the file is gone", req.method, req.path, res.StatusCode, body)
		}
	}
	res, body := inst.Do(t, "GET", "/v1/readyz", "", nil)
	if res.StatusCode != 503 || !strings.Contains(string(body), fileGone) {
		t.Errorf("readyz: %d %s, want 503 saying the file is gone", res.StatusCode, body)
	}
	// The refused removal changed nothing that the server still serves.
	if res, body := inst.Do(t, "GET", "/apiKeys/getUserKeys/alice", apptest.SystemKey, nil); res.StatusCode != 200 || !strings.Contains(string(body), alice) {
		t.Errorf("alice's keys after a refused removal: %d %s", res.StatusCode, body)
	}
}

// post creates a key from a goroutine other than the test's, where
// t.Fatal may not be called.
func post(t *testing.T, url string) (int, string) {
	req, err := http.NewRequest("POST", url, nil)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	req.Header.Set("Authorization", apptest.SystemKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
