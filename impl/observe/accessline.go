package observe

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// LogHandler is slog's text or JSON handler, writing to w, that also
// writes the access line itself. slog's handlers spend more on that line
// than the rest of the middleware does (BenchmarkAccessLogLine, 1.3 µs;
// BENCHMARKS.md, step 26), most of it in their generality: a pooled state
// per record, groups, ReplaceAttr, and checking each string for quoting.
// The access line has fixed keys, and its values are nearly always plain;
// a line whose strings are all plain is written here, byte for byte as
// the handler would write it (FuzzAccessLineIsSlogs), and any other goes
// to the handler.
type LogHandler struct {
	slog.Handler
	out  *lockedWriter
	json bool
	// millis is the text line's time, as slog formats it, for the
	// millisecond it was last formatted for: a busy server writes many
	// lines a millisecond.
	millis atomic.Pointer[millisText]
	// buffers hold lines being written; a line is about 150 bytes.
	buffers sync.Pool
}

// NewLogHandler is slog.NewTextHandler(w, nil), or slog.NewJSONHandler
// with json, with the faster access line.
func NewLogHandler(w io.Writer, json bool) *LogHandler {
	h := &LogHandler{out: &lockedWriter{w: w}, json: json}
	h.buffers.New = func() any { b := make([]byte, 0, 256); return &b }
	if json {
		h.Handler = slog.NewJSONHandler(h.out, nil)
	} else {
		h.Handler = slog.NewTextHandler(h.out, nil)
	}
	return h
}

// lockedWriter lets the handler's records and the access lines share w
// without interleaving: each is one Write, made under one lock.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// accessLine is what a request's access line says, besides its time.
type accessLine struct {
	requestID, method, path, operation string
	status                             int
	duration                           time.Duration
}

// writeAccess writes the line for a record at t at level Info with the
// message "request", as the handler would, and reports whether it did:
// a line with a string the handler would quote or escape is left to it.
func (h *LogHandler) writeAccess(t time.Time, a accessLine) (bool, error) {
	if !plain(a.requestID) || !plain(a.method) || !plain(a.path) || !plain(a.operation) {
		return false, nil
	}
	t = t.Round(0) // as slog does, dropping the monotonic reading
	if y := t.Year(); y < 0 || y > 9999 {
		return false, nil // slog's JSON handler reports these
	}
	bp := h.buffers.Get().(*[]byte)
	defer h.buffers.Put(bp)
	b := (*bp)[:0]
	if h.json {
		b = append(b, `{"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","level":"INFO","msg":"request","request_id":"`...)
		b = append(b, a.requestID...)
		b = append(b, `","method":"`...)
		b = append(b, a.method...)
		b = append(b, `","path":"`...)
		b = append(b, a.path...)
		b = append(b, `","operation":"`...)
		b = append(b, a.operation...)
		b = append(b, `","status":`...)
		b = strconv.AppendInt(b, int64(a.status), 10)
		b = append(b, `,"duration":`...)
		b = strconv.AppendInt(b, int64(a.duration), 10)
		b = append(b, "}\n"...)
	} else {
		b = append(b, "time="...)
		b = h.appendMillis(b, t)
		b = append(b, " level=INFO msg=request request_id="...)
		b = append(b, a.requestID...)
		b = append(b, " method="...)
		b = append(b, a.method...)
		b = append(b, " path="...)
		b = append(b, a.path...)
		b = append(b, " operation="...)
		b = append(b, a.operation...)
		b = append(b, " status="...)
		b = strconv.AppendInt(b, int64(a.status), 10)
		b = append(b, " duration="...)
		b = append(b, a.duration.String()...)
		b = append(b, '\n')
	}
	*bp = b
	_, err := h.out.Write(b)
	return true, err
}

// plain says whether slog's text and JSON handlers both write s as it is
// (the JSON one between quotes): printable ASCII but for the quote, the
// backslash and '=', and not empty.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '=' {
			return false
		}
	}
	return true
}

// millisText is a time as the text handler writes it, for one
// millisecond in one location.
type millisText struct {
	milli int64
	loc   *time.Location
	text  string
}

// appendMillis appends t as the text handler does (RFC 3339 to the
// millisecond, in t's location), formatting it once a millisecond.
func (h *LogHandler) appendMillis(b []byte, t time.Time) []byte {
	t = t.Truncate(time.Millisecond)
	milli, loc := t.UnixMilli(), t.Location()
	if m := h.millis.Load(); m != nil && m.milli == milli && m.loc == loc {
		return append(b, m.text...)
	}
	n := len(b)
	b = appendRFC3339Millis(b, t)
	h.millis.Store(&millisText{milli: milli, loc: loc, text: string(b[n:])})
	return b
}

// appendRFC3339Millis is slog's own (log/slog/handler.go): RFC3339Nano,
// which is fast but drops trailing zeros, of a time a tenth of a
// millisecond on, with the fourth digit of the fraction cut.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}
