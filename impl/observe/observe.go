// Package observe gives every request an id, logs it, and counts it for
// Prometheus: requests by operation and status, their latency,
// authentication failures by reason, and database errors.
package observe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// RequestIDHeader carries a request's id, from the client if it sent a
// usable one, back in every answer.
const RequestIDHeader = "X-Request-Id"

// Observer holds the metrics of one server; it is not global, so that
// tests can run servers side by side.
type Observer struct {
	log *slog.Logger
	// accessLog says whether every request is logged, or only failures.
	accessLog    bool
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
	dbErrors     prometheus.Counter
	logMessages  *prometheus.CounterVec
	// statusLabels are the status codes 100 to 599 as the requests
	// counter's label, made once instead of by strconv on every answer.
	statusLabels [500]string

	// series holds each operation and status's series once found: a Vec
	// finds one by hashing its label values under a lock on every call.
	// Operations are the documents' (and "unmatched"), statuses those
	// net/http lets a handler write (100 to 999), so it stays small.
	seriesMu sync.RWMutex
	series   map[seriesKey]opSeries
}

type seriesKey struct {
	operation string
	status    int
}

// opSeries are the requests counter and latency histogram a request with
// an operation and status counts in.
type opSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// New registers apikeyd's metrics, and Go's and the process's; with
// accessLog every request is logged, without it only those that failed.
func New(log *slog.Logger, accessLog bool) *Observer {
	o := &Observer{
		log:       log,
		accessLog: accessLog,
		series:    make(map[seriesKey]opSeries),
		registry:  prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apikeyd_http_requests_total",
			Help: "HTTP requests answered, by operationId (\"unmatched\" for no route) and status.",
		}, []string{"operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apikeyd_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by operationId.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"operation"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apikeyd_auth_failures_total",
			Help: "Requests refused for their credentials, by reason.",
		}, []string{"reason"}),
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "apikeyd_database_errors_total",
			Help: "Database operations that failed, answered with 500 or logged by background work.",
		}),
		logMessages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apikeyd_log_messages_total",
			Help: "Messages for the logging module's channels, by outcome: delivered, or given_up after repeated failures.",
		}, []string{"outcome"}),
	}
	for i := range o.statusLabels {
		o.statusLabels[i] = strconv.Itoa(100 + i)
	}
	o.registry.MustRegister(o.requests, o.latency, o.authFailures, o.dbErrors, o.logMessages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return o
}

// MetricsHandler serves the metrics in Prometheus's text format.
func (o *Observer) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(o.registry, promhttp.HandlerOpts{Registry: o.registry})
}

// AuthFailure counts a request refused for its credentials.
func (o *Observer) AuthFailure(reason string) {
	if reason == "" {
		reason = "other"
	}
	o.authFailures.WithLabelValues(reason).Inc()
}

// DatabaseError counts a failed database operation.
func (o *Observer) DatabaseError() { o.dbErrors.Inc() }

// Outcomes of a message for a logs channel.
const (
	LogMessageDelivered = "delivered"
	LogMessageGivenUp   = "given_up"
)

// LogMessage counts a message for a logs channel delivered or given up.
func (o *Observer) LogMessage(outcome string) { o.logMessages.WithLabelValues(outcome).Inc() }

// info is what the layers below tell the middleware about a request.
type info struct {
	id, method, path string
	operation        string
}

type infoKey struct{}

// request is what the middleware keeps of one request, in one allocation
// (a request's cost is mostly such small ones): its info, the writer that
// remembers its status, the context that carries the info, and the value
// of its X-Request-Id header.
type request struct {
	info
	statusWriter
	ctx      infoContext
	idHeader [1]string
}

// infoContext is a request's context with its info, as context.WithValue
// would make it but without an allocation of its own.
type infoContext struct {
	context.Context
	in *info
}

func (c *infoContext) Value(key any) any {
	if _, ok := key.(infoKey); ok {
		return c.in
	}
	return c.Context.Value(key)
}

// SetOperation records which operation a request matched.
func SetOperation(ctx context.Context, operationID string) {
	if in, ok := ctx.Value(infoKey{}).(*info); ok {
		in.operation = operationID
	}
}

// RequestID is the id of the request ctx belongs to, "" outside one.
func RequestID(ctx context.Context) string {
	if in, ok := ctx.Value(infoKey{}).(*info); ok {
		return in.id
	}
	return ""
}

// Middleware gives each request its id, and logs and counts its answer.
func (o *Observer) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		req := &request{
			info:         info{id: requestID(r.Header.Get(RequestIDHeader)), method: r.Method, path: r.URL.Path, operation: "unmatched"},
			statusWriter: statusWriter{ResponseWriter: w, status: http.StatusOK},
		}
		in, sw := &req.info, &req.statusWriter
		req.ctx = infoContext{Context: r.Context(), in: in}
		// The header's value is the request's own array: a Header's values
		// are replaced, or appended to (into a new array, as its capacity
		// is full), never written in place.
		req.idHeader[0] = in.id
		w.Header()[RequestIDHeader] = req.idHeader[:]
		next.ServeHTTP(sw, r.WithContext(&req.ctx))
		elapsed := time.Since(start)
		m := o.seriesOf(in.operation, sw.status)
		m.requests.Inc()
		m.latency.Observe(elapsed.Seconds())
		if !o.accessLog {
			return
		}
		o.logRequest(r, in, sw.status, start.Add(elapsed), elapsed)
	})
}

// logRequest writes a request's access line: by the LogHandler itself
// when the logger has one, otherwise as a record sent to the handler as
// Logger.LogAttrs would send it, but without the caller's program
// counter, which finding walks the stack on every request: no handler
// here is asked for sources (app's newLogger gives its handlers no
// options; one with AddSource would print no source for this line). Its
// time is the one the middleware read at the end of the request.
func (o *Observer) logRequest(r *http.Request, in *info, status int, now time.Time, elapsed time.Duration) {
	h := o.log.Handler()
	if !h.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	// The query is left out: it is the caller's, and may be long.
	line := accessLine{requestID: in.id, method: r.Method, path: r.URL.Path, operation: in.operation, status: status, duration: elapsed}
	if lh, ok := h.(*LogHandler); ok {
		if done, _ := lh.writeAccess(now, line); done {
			return // a failed write is the writer's to report, as with a handler
		}
	}
	rec := slog.NewRecord(now, slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("request_id", line.requestID), slog.String("method", line.method), slog.String("path", line.path),
		slog.String("operation", line.operation), slog.Int("status", line.status), slog.Duration("duration", line.duration))
	_ = h.Handle(r.Context(), rec) // as Logger.LogAttrs does: a handler reports its own failures
}

// seriesOf finds the series of an operation and status, the first time
// from the Vecs.
func (o *Observer) seriesOf(operation string, status int) opSeries {
	k := seriesKey{operation, status}
	o.seriesMu.RLock()
	m, ok := o.series[k]
	o.seriesMu.RUnlock()
	if ok {
		return m
	}
	m = opSeries{requests: o.requests.WithLabelValues(operation, o.statusLabel(status)), latency: o.latency.WithLabelValues(operation)}
	o.seriesMu.Lock()
	o.series[k] = m
	o.seriesMu.Unlock()
	return m
}

// statusLabel is a status code as the requests counter's label.
func (o *Observer) statusLabel(code int) string {
	if 100 <= code && code < 100+len(o.statusLabels) {
		return o.statusLabels[code-100]
	}
	return strconv.Itoa(code)
}

// requestID keeps a client's id if it is short and plain, so that it can
// be followed across services, and makes one otherwise.
func requestID(sent string) string {
	if n := len(sent); n > 0 && n <= 64 {
		ok := true
		for i := 0; i < n && ok; i++ {
			c := sent[i]
			ok = c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		}
		if ok {
			return sent
		}
	}
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Failed logs and counts an error a family is about to answer with,
// whether its writer writes it or a handler returns it as a typed
// response: refused credentials by reason, and server-side failures, which
// are database errors when isDatabase says so. A request whose client went
// away (its context ended) failed because of that: it is logged at info,
// so that errors mean something is wrong with the server.
func (o *Observer) Failed(ctx context.Context, e *apierr.Error, isDatabase bool) {
	switch e.Code {
	case apierr.Unauthorized, apierr.Forbidden, apierr.TooManyRequests:
		o.AuthFailure(e.Reason)
	case apierr.Internal, apierr.Unavailable:
		if isDatabase {
			o.DatabaseError()
		}
		if e.Code == apierr.Unavailable && !isDatabase {
			return // Discord failing is logged where it is seen
		}
		level := slog.LevelError
		if ctx.Err() != nil {
			level = slog.LevelInfo
		}
		var method, path string
		if in, ok := ctx.Value(infoKey{}).(*info); ok {
			method, path = in.method, in.path
		}
		o.log.Log(ctx, level, "request failed", "request_id", RequestID(ctx),
			"method", method, "path", path, "err", e)
	}
}
