package observe

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// attrs are the line's attributes, in order, for a slog handler.
func (a accessLine) attrs() []slog.Attr {
	return []slog.Attr{slog.String("request_id", a.requestID), slog.String("method", a.method), slog.String("path", a.path),
		slog.String("operation", a.operation), slog.Int("status", a.status), slog.Duration("duration", a.duration)}
}

// slogLine is the line slog's own handler writes for the access record.
func slogLine(t *testing.T, json bool, at time.Time, a accessLine) string {
	t.Helper()
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if json {
		h = slog.NewJSONHandler(&buf, nil)
	}
	rec := slog.NewRecord(at, slog.LevelInfo, "request", 0)
	rec.AddAttrs(a.attrs()...)
	if err := h.Handle(context.Background(), rec); err != nil {
		t.Fatalf("slog's handler: %v", err)
	}
	return buf.String()
}

// ordinary strings are plain for both handlers, so their line must be
// written by LogHandler itself.
var ordinary = regexp.MustCompile(`^[A-Za-z0-9/_.:~-]+$`)

func allOrdinary(ss ...string) bool {
	for _, s := range ss {
		if !ordinary.MatchString(s) {
			return false
		}
	}
	return true
}

func FuzzAccessLineIsSlogs(f *testing.F) {
	f.Add(false, "0123456789abcdef0123456789abcdef", "GET", "/v1/settings", "getSettings", 200, int64(81*time.Microsecond), int64(1764710058958123456), 0)
	f.Add(true, "0123456789abcdef0123456789abcdef", "POST", "/v1/auth/authorize", "authorize", 401, int64(1500*time.Millisecond), int64(1764710058000000000), 60)
	f.Add(false, "req-1", "GET", "/v1/a path", "unmatched", 404, int64(0), int64(0), -330)
	f.Add(true, "req-1", "GET", `/v1/"quoted"\`, "unmatched", 404, int64(-5), int64(-1), 0)
	f.Add(false, "", "GET", "/v1/é", "unmatched", 999, int64(1), int64(253402300800000000), 0)
	f.Add(true, "x", "GET", "/v1/<a>&b", "op", 200, int64(1), int64(1764710058999999999), 840)
	f.Add(false, "x", "GET", "/v1/a=b", "op", 200, int64(1), int64(1764710058999500000), 0)
	f.Fuzz(func(t *testing.T, json bool, id, method, path, op string, status int, dur, unixNano int64, zoneMinutes int) {
		a := accessLine{requestID: id, method: method, path: path, operation: op, status: status, duration: time.Duration(dur)}
		zone := time.FixedZone("", (zoneMinutes%(24*60))*60)
		var buf bytes.Buffer
		h := NewLogHandler(&buf, json)
		// The same millisecond in two locations, then the next: the
		// text handler's time is formatted once a millisecond and
		// location, and must not be reused across either.
		at := time.Unix(0, unixNano).In(zone)
		for _, at := range []time.Time{at, at.UTC(), at.Add(time.Millisecond / 2), at.Add(time.Millisecond)} {
			buf.Reset()
			done, err := h.writeAccess(at, a)
			if err != nil {
				t.Fatalf("writeAccess: %v", err)
			}
			if !done {
				if y := at.Year(); allOrdinary(id, method, path, op) && y >= 0 && y <= 9999 {
					t.Fatalf("a line of ordinary strings at %v was left to slog: %+v", at, a)
				}
				if buf.Len() != 0 {
					t.Fatalf("a line left to slog was written too: %q", buf.String())
				}
				continue
			}
			if got, want := buf.String(), slogLine(t, json, at, a); got != want {
				t.Fatalf("at %v:\n got %q\nwant %q", at, got, want)
			}
		}
	})
}

// TestTheMiddlewaresLineIsSlogs serves requests through the middleware
// twice, with a LogHandler and with slog's own handler, and compares
// their lines but for the time and the duration.
func TestTheMiddlewaresLineIsSlogs(t *testing.T) {
	varying := regexp.MustCompile(`(time|duration)(=|":)("[^"]*"|[^ ,}]*)`)
	for _, json := range []bool{false, true} {
		for _, path := range []string{"/v1/settings", "/v1/a%20path", "/v1/%22q%22"} {
			var got, want bytes.Buffer
			for _, h := range []slog.Handler{NewLogHandler(&got, json), map[bool]slog.Handler{false: slog.NewTextHandler(&want, nil), true: slog.NewJSONHandler(&want, nil)}[json]} {
				o := New(slog.New(h), true)
				srv := httptest.NewServer(o.Middleware(http.NotFoundHandler()))
				req, err := http.NewRequest(http.MethodGet, srv.URL+path+"?q=1", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set(RequestIDHeader, "req-1")
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				srv.Close()
			}
			g, w := varying.ReplaceAllString(got.String(), "$1$2_"), varying.ReplaceAllString(want.String(), "$1$2_")
			if g != w || !strings.Contains(g, "req-1") {
				t.Errorf("json %v, %s:\n got %q\nwant %q", json, path, g, w)
			}
		}
	}
}

// exclusive fails the test if two writes ever overlap.
type exclusive struct {
	t       *testing.T
	busy    atomic.Bool
	mu      sync.Mutex
	lines   []string
	overlap atomic.Bool
}

func (e *exclusive) Write(p []byte) (int, error) {
	if !e.busy.CompareAndSwap(false, true) {
		e.overlap.Store(true)
	}
	time.Sleep(10 * time.Microsecond) // widen the window an overlap would need
	e.mu.Lock()
	e.lines = append(e.lines, string(p))
	e.mu.Unlock()
	e.busy.Store(false)
	return len(p), nil
}

func TestAccessLinesAndOtherRecordsAreWrittenOneAtATime(t *testing.T) {
	w := &exclusive{t: t}
	h := NewLogHandler(w, false)
	log := slog.New(h).With("component", "test") // a derived handler shares the lock
	var wg sync.WaitGroup
	const each = 200
	for range 4 {
		wg.Go(func() {
			for range each {
				log.Info("other")
			}
		})
		wg.Go(func() {
			for range each {
				if done, err := h.writeAccess(time.Now(), accessLine{requestID: "r", method: "GET", path: "/", operation: "op", status: 200}); !done || err != nil {
					t.Errorf("writeAccess: %v, %v", done, err)
				}
			}
		})
	}
	wg.Wait()
	if w.overlap.Load() {
		t.Fatal("two lines were written at once")
	}
	if len(w.lines) != 8*each {
		t.Fatalf("%d lines, want %d", len(w.lines), 8*each)
	}
	for _, l := range w.lines {
		if strings.Count(l, "\n") != 1 || !strings.HasSuffix(l, "\n") {
			t.Fatalf("a write that is not one line: %q", l)
		}
	}
}

// BenchmarkAccessLogLine is the request log's line to /dev/null, by
// slog's text handler (as before step 26) and by LogHandler, written
// straight (a write call each) and through a LogWriter (one a batch).
func BenchmarkAccessLogLine(b *testing.B) {
	for _, batched := range []bool{false, true} {
		for _, own := range []bool{false, true} {
			name := map[bool]string{false: "direct", true: "batched"}[batched] + "/" + map[bool]string{false: "slog", true: "LogHandler"}[own]
			b.Run(name, func(b *testing.B) {
				f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				var w io.Writer = f
				if batched {
					lw := NewLogWriter(f)
					defer lw.Close()
					w = lw
				}
				var h slog.Handler = slog.NewTextHandler(w, nil)
				if own {
					h = NewLogHandler(w, false)
				}
				o := New(slog.New(h), true)
				r := httptest.NewRequest(http.MethodGet, "/v1/settings", nil)
				in := &info{id: "0123456789abcdef0123456789abcdef", operation: "getSettings"}
				b.ReportAllocs()
				for b.Loop() {
					o.logRequest(r, in, http.StatusOK, time.Now(), 81*time.Microsecond)
				}
			})
		}
	}
}
