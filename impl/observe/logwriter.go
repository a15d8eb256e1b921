package observe

import (
	"io"
	"sync"
	"time"
)

// LogFlushDelay is the longest a log line waits in a LogWriter: what a
// crash may lose.
const LogFlushDelay = 5 * time.Millisecond

// maxBufferedLog is what a LogWriter holds before it writes at once,
// whatever the delay: a burst does not grow the buffer without bound.
const maxBufferedLog = 64 << 10

// LogWriter gathers log lines and writes them to w together, at most
// LogFlushDelay after the first of them, so that a busy server makes one
// write call per batch instead of one per request. Close writes what is
// left; a crash loses at most the last LogFlushDelay of lines. slog's
// handlers write each record in one Write call, so lines never tear.
type LogWriter struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	timer  *time.Timer
	closed bool
	err    error // the first failed write, returned by Close
}

// NewLogWriter buffers writes to w until Close.
func NewLogWriter(w io.Writer) *LogWriter {
	lw := &LogWriter{w: w}
	lw.timer = time.AfterFunc(time.Hour, func() { lw.Flush() })
	lw.timer.Stop()
	return lw
}

// Write holds p for the next flush; after Close it writes p through.
func (lw *LogWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.closed {
		return lw.w.Write(p)
	}
	if len(lw.buf) == 0 {
		lw.timer.Reset(LogFlushDelay)
	}
	lw.buf = append(lw.buf, p...)
	if len(lw.buf) >= maxBufferedLog {
		lw.flushLocked()
	}
	return len(p), nil
}

// Flush writes what is held now.
func (lw *LogWriter) Flush() {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.flushLocked()
}

func (lw *LogWriter) flushLocked() {
	if len(lw.buf) == 0 {
		return
	}
	if _, err := lw.w.Write(lw.buf); err != nil && lw.err == nil {
		lw.err = err
	}
	lw.buf = lw.buf[:0]
}

// Close writes every line held and makes later writes go straight
// through; it returns the first write that failed.
func (lw *LogWriter) Close() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.timer.Stop()
	lw.flushLocked()
	lw.closed = true
	return lw.err
}
