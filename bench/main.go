// Command bench measures apikeyd the way a user would: wrk with one
// thread and 8 connections on one core, apikeyd pinned to the other, and
// as the baseline a bare net/http server answering a body of the same
// size, pinned to the same core as apikeyd. Rounds against the two
// alternate, and the median ratio is reported. It writes its part of
// BENCHMARKS.md, between the bench:begin and bench:end markers.
//
//	go run ./bench          # the full run, a few minutes
//	go run ./bench -quick   # one short round of each, printed only: proves the harness works
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/apikeyd/apikeyd/bench/internal/harness"
)

// settings of a run.
type settings struct {
	rounds      int
	round       time.Duration // each round of wrk
	warmUp      time.Duration // against each server, before the rounds
	connections int
	entries     int   // audit entries of the large guild
	clients     []int // closed-loop clients of the key creation rows
	startups    int   // starts in CI mode, for their start-to-ready time
	serverCPU   string
	loadCPU     string
	quick       bool
	// postgres names a PostgreSQL server for the revocation scenario;
	// empty, it is skipped.
	postgres string
}

func main() {
	var s settings
	flag.IntVar(&s.rounds, "rounds", 5, "alternating rounds against apikeyd and its baseline")
	flag.DurationVar(&s.round, "duration", 3*time.Second, "how long each round runs (whole seconds)")
	flag.DurationVar(&s.warmUp, "warmup", 2*time.Second, "warm-up against each server before the rounds (whole seconds)")
	flag.IntVar(&s.connections, "connections", 8, "wrk's connections")
	flag.IntVar(&s.entries, "entries", 1_000_000, "audit entries of the large guild")
	flag.StringVar(&s.serverCPU, "server-cpu", "1", "the core apikeyd and the bare server are pinned to")
	flag.StringVar(&s.loadCPU, "load-cpu", "0", "the core wrk and this command are pinned to")
	flag.StringVar(&s.postgres, "postgres", os.Getenv("APIKEYD_BENCH_POSTGRES"), "URL of a PostgreSQL database whose role may create databases, for the revocation scenario across replicas (skipped when empty)")
	flag.BoolVar(&s.quick, "quick", false, "no warm-up and one 1 s round of each scenario on a small guild, printed and not written: proves the harness works")
	out := flag.String("out", "BENCHMARKS.md", `the file whose marked part the report replaces ("-": standard output only)`)
	flag.Parse()
	s.clients, s.startups = []int{1, 8, 32}, 11
	if s.quick {
		s.rounds, s.round, s.warmUp, s.entries, s.clients, s.startups, *out = 1, time.Second, 0, 10_000, []int{8}, 3, "-"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	report, err := run(ctx, s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Print(report)
	if *out != "-" {
		if err := writeMarked(*out, report); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, s settings) (string, error) {
	if err := harness.CheckTools(); err != nil {
		return "", err
	}
	r := report{settings: s, machine: describeMachine(), tools: harness.ToolVersions(), loadBefore: loadAverage()}
	env, err := setUp(ctx, s)
	if err != nil {
		return "", err
	}
	defer env.close()
	// This command reads apikeyd's log and serves the fake Discord: kept
	// on the load generator's core, it takes nothing from the server's.
	// (Pinned after the build and the seeding, which want both cores.)
	if err := harness.Pin(os.Getpid(), s.loadCPU); err != nil {
		return "", err
	}
	r.ready = env.proc.Ready
	if r.idleRSS, err = env.idleRSS(); err != nil {
		return "", err
	}
	if r.servedRSS, err = env.rssAfterEachOnce(ctx); err != nil {
		return "", err
	}
	began := time.Now()
	for _, sc := range env.scenarios() {
		fmt.Fprintln(os.Stderr, sc.name)
		c, err := env.compareWithBare(ctx, sc)
		if err != nil {
			return "", fmt.Errorf("%s: %w", sc.name, err)
		}
		r.comparisons = append(r.comparisons, c)
	}
	fmt.Fprintln(os.Stderr, "audit entries, large guild vs small")
	entries, err := env.compareEntries(ctx)
	if err != nil {
		return "", fmt.Errorf("entries: %w", err)
	}
	r.comparisons = append(r.comparisons, entries)
	fmt.Fprintln(os.Stderr, "key creation vs raw inserts")
	if r.inserts, err = env.measureInserts(ctx); err != nil {
		return "", err
	}
	// The same requests with the access log off, from a server started
	// again without it: what the line per request costs.
	if err := env.recordProcess(&r); err != nil {
		return "", err
	}
	if err := env.restart(ctx, "--access-log=false"); err != nil {
		return "", fmt.Errorf("restart without the access log: %w", err)
	}
	for _, sc := range env.scenarios() {
		sc.name += ", access log off"
		fmt.Fprintln(os.Stderr, sc.name)
		c, err := env.compareWithBare(ctx, sc)
		if err != nil {
			return "", fmt.Errorf("%s: %w", sc.name, err)
		}
		r.comparisons = append(r.comparisons, c)
	}
	r.elapsed = time.Since(began)
	if s.postgres == "" {
		fmt.Fprintln(os.Stderr, "revocation across replicas: skipped, no PostgreSQL named (-postgres URL or APIKEYD_BENCH_POSTGRES)")
	} else {
		fmt.Fprintln(os.Stderr, "revocation across replicas on PostgreSQL")
		if r.revocation, err = measureRevocation(ctx, env.bin, env.discord, s.postgres); err != nil {
			return "", fmt.Errorf("revocation: %w", err)
		}
	}
	fmt.Fprintln(os.Stderr, "start to ready in CI mode")
	if r.ciStartup, err = measureStartup(ctx, s.serverCPU, s.startups); err != nil {
		return "", fmt.Errorf("start-up: %w", err)
	}
	r.discordCalls = env.discord.Calls(env.discord.AdminToken)
	if err := env.recordProcess(&r); err != nil {
		return "", err
	}
	if s.postgres != "" {
		// After the SQLite server's figures: the PostgreSQL server asks
		// the fake Discord about the user token for itself.
		pgRows, pgInserts, err := env.postgresRows(ctx, s.postgres)
		if err != nil {
			return "", fmt.Errorf("postgres: %w", err)
		}
		r.comparisons = append(r.comparisons, pgRows...)
		r.inserts = append(r.inserts, pgInserts...)
	}
	r.loadAfter = loadAverage()
	return r.String(), nil
}

// recordProcess adds what the running apikeyd logged as errors to r, and
// raises r's peak RSS to its own.
func (e *env) recordProcess(r *report) error {
	_, peak, err := e.proc.RSS()
	if err != nil {
		return err
	}
	r.peakRSS = max(r.peakRSS, peak)
	r.errorLogs += len(e.proc.ErrorLogs())
	r.starts++
	return nil
}

// side is one server of a comparison, and the request wrk repeats to it.
type side struct {
	pid int
	req harness.WrkRequest
}

// round is one wrk run against one side.
type round struct {
	wrk harness.WrkResult
	cpu time.Duration // the server process's processor time over the run
	// serverCore and loadCore are the shares of the pinned cores that
	// anything (the server, wrk, interrupts, other processes) used.
	serverCore, loadCore float64
}

// comparison is rounds against apikeyd and its baseline, alternating.
type comparison struct {
	name, baseName string
	got, base      []round
	latency        bool // the ratio is of p50 latency, baseline over apikeyd's
}

// compare warms both sides up, then alternates rounds between them.
func (e *env) compare(ctx context.Context, name, baseName string, got, base side, latency bool) (comparison, error) {
	c := comparison{name: name, baseName: baseName, latency: latency}
	for _, sd := range []side{got, base} {
		if e.settings.warmUp == 0 {
			break
		}
		if _, err := e.round(ctx, sd, e.settings.warmUp); err != nil {
			return c, fmt.Errorf("warm-up: %w", err)
		}
	}
	for range e.settings.rounds {
		g, err := e.round(ctx, got, e.settings.round)
		if err != nil {
			return c, err
		}
		b, err := e.round(ctx, base, e.settings.round)
		if err != nil {
			return c, err
		}
		c.got, c.base = append(c.got, g), append(c.base, b)
	}
	return c, nil
}

// round runs wrk against sd for d and reads what the server used.
func (e *env) round(ctx context.Context, sd side, d time.Duration) (round, error) {
	coresBefore, err := harness.ReadCoreTimes()
	if err != nil {
		return round{}, err
	}
	cpuBefore, err := harness.CPUTime(sd.pid)
	if err != nil {
		return round{}, err
	}
	w, err := harness.Wrk(ctx, sd.req, harness.WrkOptions{
		Connections: e.settings.connections, Duration: d, CPU: e.settings.loadCPU, Dir: e.dir,
	})
	if err != nil {
		return round{}, err
	}
	cpuAfter, err := harness.CPUTime(sd.pid)
	if err != nil {
		return round{}, err
	}
	coresAfter, err := harness.ReadCoreTimes()
	if err != nil {
		return round{}, err
	}
	if w.StatusErrors > 0 || w.SocketErrors > 0 || w.Requests == 0 {
		return round{}, fmt.Errorf("%s %s: %d requests, %d answers not 2xx, %d socket errors",
			sd.req.Method, sd.req.URL, w.Requests, w.StatusErrors, w.SocketErrors)
	}
	return round{
		wrk: w, cpu: cpuAfter - cpuBefore,
		serverCore: coresAfter.Busy(coresBefore, cpuIndex(e.settings.serverCPU)),
		loadCore:   coresAfter.Busy(coresBefore, cpuIndex(e.settings.loadCPU)),
	}, nil
}

// compareWithBare measures sc against apikeyd and against a bare server
// answering sc's route with apikeyd's own answer.
func (e *env) compareWithBare(ctx context.Context, sc scenario) (comparison, error) {
	status, contentType, body, err := e.once(ctx, sc)
	if err != nil {
		return comparison{}, err
	}
	if status != 200 {
		return comparison{}, fmt.Errorf("%s %s: %d %s", sc.method, sc.path, status, body)
	}
	path, _, _ := strings.Cut(sc.path, "?")
	bare, err := harness.StartBare(ctx, e.bareBin, e.settings.serverCPU, e.dir, harness.BareAnswer{
		Method: sc.method, Path: path, ContentType: contentType, Body: body,
	})
	if err != nil {
		return comparison{}, err
	}
	defer bare.Stop()
	return e.compare(ctx, sc.name, "bare net/http",
		side{pid: e.proc.Pid(), req: sc.wrkRequest(e.proc.URL)},
		side{pid: bare.Pid(), req: sc.wrkRequest(bare.URL)}, false)
}

// compareEntries compares a page of the large guild's audit log with one
// of the small guild's: both from apikeyd, by latency.
func (e *env) compareEntries(ctx context.Context) (comparison, error) {
	page := func(guild string) side {
		sc := scenario{method: "GET", path: "/v1/modules/logging/entries?guild_id=" + guild + "&limit=50", auth: "Bearer " + e.discord.AdminToken}
		return side{pid: e.proc.Pid(), req: sc.wrkRequest(e.proc.URL)}
	}
	name := fmt.Sprintf("GET /v1/modules/logging/entries, %s entries vs %s", thousands(e.settings.entries), thousands(smallCount))
	return e.compare(ctx, name, "same, "+thousands(smallCount)+" entries", page(largeGuild), page(smallGuild), true)
}

// cpuIndex is the core of a single-core taskset list.
func cpuIndex(cpus string) int {
	var n int
	fmt.Sscanf(cpus, "%d", &n)
	return n
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

const (
	beginMarker = "<!-- bench:begin"
	endMarker   = "<!-- bench:end -->"
)

// writeMarked replaces the part of the file at path between the bench
// markers with report, keeping everything outside them; a missing file
// is created with the markers.
func writeMarked(path, report string) error {
	block := beginMarker + ": written by `go run ./bench`; edits here are lost at its next run -->\n" + report + endMarker + "\n"
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return os.WriteFile(path, []byte("# Benchmarks\n\n"+block), 0o644)
	}
	if err != nil {
		return err
	}
	begin := strings.Index(string(old), beginMarker)
	end := strings.Index(string(old), endMarker)
	if begin < 0 || end < begin {
		return fmt.Errorf("%s has no %s --> ... %s: put them around the part go run ./bench writes", path, beginMarker, endMarker)
	}
	updated := string(old[:begin]) + block + strings.TrimPrefix(string(old[end+len(endMarker):]), "\n")
	return os.WriteFile(path, []byte(updated), 0o644)
}
