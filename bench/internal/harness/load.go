package harness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Request makes the next request of a worker; i counts the worker's
// requests, so that writes can name new things.
type Request func(worker, i int) (*http.Request, error)

// Result is what a closed-loop run measured.
type Result struct {
	Requests int
	Errors   int           // transport errors and statuses not in OK
	Statuses map[int]int   // every status seen
	Elapsed  time.Duration // wall time of the run
	P50, P99 time.Duration // request latencies
	Samples  []ErrorSample // a few of the errors
}

// ErrorSample is one failed request, for the report.
type ErrorSample struct {
	Status int
	Body   string
	Err    string
}

// PerSecond is the completed requests per second.
func (r Result) PerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// Client is an HTTP client fit for closed-loop load: one kept-alive
// connection per worker.
func Client(workers int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        workers * 2,
			MaxIdleConnsPerHost: workers * 2,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// Op is one operation of a closed-loop worker: i counts the worker's
// operations. It returns the answer's status (and body, for the report),
// or err when there was no answer.
type Op func(ctx context.Context, worker, i int) (status int, body string, err error)

// Run drives workers closed-loop HTTP clients for d: each sends its next
// request as soon as the previous answer is read. ok says which statuses
// count as success.
func Run(ctx context.Context, client *http.Client, workers int, d time.Duration, next Request, ok func(status int) bool) Result {
	return Loop(ctx, workers, d, func(ctx context.Context, worker, i int) (int, string, error) {
		req, err := next(worker, i)
		if err != nil {
			return 0, "", err
		}
		res, err := client.Do(req.WithContext(ctx))
		if err != nil {
			return 0, "", err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(body), err
	}, ok)
}

// Loop runs op from workers goroutines for d, each starting its next
// operation when the last one ends, and measures them: an operation that
// returned an error or a status ok refuses counts as an error; one cut
// short by the end of the run does not count at all.
func Loop(ctx context.Context, workers int, d time.Duration, op Op, ok func(status int) bool) Result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tallies := make([]tally, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := &tallies[w]
			t.statuses = map[int]int{}
			for i := 0; ctx.Err() == nil; i++ {
				began := time.Now()
				status, body, err := op(ctx, w, i)
				if ctx.Err() != nil {
					return // the run ended mid-operation: not an error
				}
				if err == nil {
					t.latencies = append(t.latencies, time.Since(began))
					t.statuses[status]++
				}
				if err != nil || !ok(status) {
					t.errors++
					t.sample(status, body, err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	statuses := map[int]int{}
	var errors int
	var samples []ErrorSample
	for _, t := range tallies {
		all = append(all, t.latencies...)
		errors += t.errors
		for s, n := range t.statuses {
			statuses[s] += n
		}
		if len(samples) < 5 {
			samples = append(samples, t.samples...)
		}
	}
	r := Summarize(all, elapsed)
	r.Errors, r.Statuses, r.Samples = errors, statuses, samples
	return r
}

// tally is one worker's count, merged when the run ends.
type tally struct {
	latencies []time.Duration
	statuses  map[int]int
	errors    int
	samples   []ErrorSample
}

func (t *tally) sample(status int, body string, err error) {
	if len(t.samples) >= 3 {
		return
	}
	s := ErrorSample{Status: status, Body: body}
	if err != nil {
		s.Err = err.Error()
	}
	if len(s.Body) > 300 {
		s.Body = s.Body[:300]
	}
	t.samples = append(t.samples, s)
}

// String formats a result on one line.
func (r Result) String() string {
	return fmt.Sprintf("%8.0f req/s  p50 %-9v p99 %-9v %d requests, %d errors", r.PerSecond(), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Requests, r.Errors)
}

// Summarize makes a result of latencies measured some other way.
func Summarize(latencies []time.Duration, elapsed time.Duration) Result {
	r := Result{Requests: len(latencies), Elapsed: elapsed, Statuses: map[int]int{}}
	if len(latencies) > 0 {
		slices.Sort(latencies)
		r.P50 = latencies[len(latencies)/2]
		r.P99 = latencies[len(latencies)*99/100]
	}
	return r
}
