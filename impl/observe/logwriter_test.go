package observe_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/apikeyd/apikeyd/impl/observe"
)

// lockedBuffer is a log's destination that many goroutines may write.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogWriterCloseWritesEveryLineWhole(t *testing.T) {
	var out lockedBuffer
	lw := observe.NewLogWriter(&out)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(lw, "writer=%d line=%d %s\n", w, i, strings.Repeat("x", 40))
			}
		})
	}
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines written, want %d", len(got), writers*lines)
	}
	next := make([]int, writers)
	for _, line := range got {
		var w, i int
		if _, err := fmt.Sscanf(line, "writer=%d line=%d", &w, &i); err != nil || i != next[w] || !strings.HasSuffix(line, strings.Repeat("x", 40)) {
			t.Fatalf("line %q: torn or out of order (want line %d of writer %d)", line, next[w], w)
		}
		next[w]++
	}
	if out.writes >= writers*lines {
		t.Errorf("%d writes for %d lines: nothing was gathered", out.writes, writers*lines)
	}
}

func TestLogWriterWritesThroughAfterClose(t *testing.T) {
	var out lockedBuffer
	lw := observe.NewLogWriter(&out)
	fmt.Fprintln(lw, "held")
	lw.Flush()
	if out.String() != "held\n" {
		t.Fatalf("after Flush: %q", out.String())
	}
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(lw, "after close")
	if out.String() != "held\nafter close\n" {
		t.Fatalf("after Close: %q", out.String())
	}
}
