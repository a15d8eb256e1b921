// Command bench measures apikeyd against a bare net/http server answering
// the same paths with bodies of the same size, driven by the same
// closed-loop clients, and writes the table to BENCHMARKS.md.
//
//	go run ./bench                       # the full run, a few minutes
//	go run ./bench -duration 1s -out -   # a quick look, printed only
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/apikeyd/apikeyd/bench/internal/harness"
)

func main() {
	duration := flag.Duration("duration", 3*time.Second, "how long each measurement runs")
	out := flag.String("out", "BENCHMARKS.md", `where to write the report ("-": standard output only)`)
	entries := flag.Int("entries", 1_000_000, "audit entries of the large guild")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	report, err := run(ctx, *duration, *entries)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Print(report)
	if *out != "-" {
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

// concurrencies are the numbers of closed-loop clients of each scenario.
var concurrencies = []int{1, 8, 32}

func run(ctx context.Context, d time.Duration, largeEntries int) (string, error) {
	env, err := setUp(ctx, largeEntries)
	if err != nil {
		return "", err
	}
	defer env.close()
	var r report
	r.machine = describeMachine()
	r.ready = env.proc.Ready
	time.Sleep(time.Second) // let start-up work settle before reading idle memory
	if r.idleRSS, _, err = env.proc.RSS(); err != nil {
		return "", err
	}
	began := time.Now()
	for _, s := range env.scenarios() {
		fmt.Fprintf(os.Stderr, "%s\n", s.name)
		row, err := env.measure(ctx, s, d)
		if err != nil {
			return "", fmt.Errorf("%s: %w", s.name, err)
		}
		r.rows = append(r.rows, row...)
	}
	inserts, err := env.measureInserts(ctx, d)
	if err != nil {
		return "", err
	}
	r.rows = append(r.rows, inserts...)
	r.entries, err = env.measureEntries(ctx, d)
	if err != nil {
		return "", err
	}
	r.elapsed = time.Since(began)
	r.discordCalls = env.discord.Calls(env.discord.AdminToken)
	if _, r.peakRSS, err = env.proc.RSS(); err != nil {
		return "", err
	}
	r.largeEntries = largeEntries
	r.errorLogs = len(env.proc.ErrorLogs())
	return r.String(), nil
}

// scenario is one request to measure, against apikeyd and its bare twin.
type scenario struct {
	name, method, path, auth, body string
	writes                         bool // each request creates something
}

// measure runs s against apikeyd and against a bare server that answers
// s's path with apikeyd's own answer, at each concurrency.
func (e *env) measure(ctx context.Context, s scenario, d time.Duration) ([]row, error) {
	status, contentType, body, err := e.once(ctx, s)
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, fmt.Errorf("%s %s: %d %s", s.method, s.path, status, body)
	}
	bare := startBare(s.method, pathOnly(s.path), contentType, body)
	defer bare.Close()
	var rows []row
	for _, c := range concurrencies {
		client := harness.Client(c)
		got := harness.Run(ctx, client, c, d, e.request(e.proc.URL, s), is200)
		base := harness.Run(ctx, client, c, d, e.request(bare.URL, s), is200)
		if got.Errors > 0 {
			return nil, fmt.Errorf("%d errors at %d clients: %+v", got.Errors, c, got.Samples)
		}
		rows = append(rows, row{name: s.name, clients: c, got: got, base: base, baseName: "bare net/http"})
	}
	return rows, nil
}

func is200(status int) bool { return status == 200 }

func pathOnly(p string) string {
	path, _, _ := strings.Cut(p, "?")
	return path
}

// once sends one request of s and returns the answer.
func (e *env) once(ctx context.Context, s scenario) (int, string, []byte, error) {
	req, err := e.request(e.proc.URL, s)(0, -1)
	if err != nil {
		return 0, "", nil, err
	}
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), b, err
}

// request makes the requests of s against base; writes name a new user
// each time.
func (e *env) request(base string, s scenario) harness.Request {
	return func(worker, i int) (*http.Request, error) {
		path := s.path
		if s.writes {
			path = fmt.Sprintf(s.path, worker, i)
		}
		req, err := http.NewRequest(s.method, base+path, strings.NewReader(s.body))
		if err != nil {
			return nil, err
		}
		if s.auth != "" {
			req.Header.Set("Authorization", s.auth)
		}
		if s.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	}
}

// startBare serves body at path, as fast as net/http can.
func startBare(method, path, contentType string, body []byte) *bareServer {
	mux := http.NewServeMux()
	pattern := path
	if strings.Contains(path, "%d") {
		pattern = path[:strings.Index(path, "%d")]
	}
	mux.HandleFunc(method+" "+pattern, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	})
	return newBareServer(mux)
}
