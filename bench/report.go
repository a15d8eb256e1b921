package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

type report struct {
	settings              settings
	machine, tools        string
	loadBefore, loadAfter string
	ready                 time.Duration
	ciStartup             startup
	idleRSS, peakRSS      int64
	servedRSS             int64 // idle again after one request of each scenario
	comparisons           []comparison
	inserts               []insertRow
	discordCalls          int
	elapsed               time.Duration
	errorLogs             int
	revocation            revocation
	// starts counts the apikeyd processes the run measured, each with
	// its own identity cache to fill.
	starts int
}

func (r report) String() string {
	var b strings.Builder
	s := r.settings
	b.WriteString("## Measured\n\n")
	fmt.Fprintf(&b, "Written by `go run ./bench` (see README.md), %s, from %s; every number below comes from that one run.\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), commit())
	b.WriteString("apikeyd runs as its own process, built from this tree, on a database file (WAL, synchronous=FULL)\n")
	b.WriteString("with a fake Discord on loopback.")
	if s.postgres != "" {
		b.WriteString(" The rows marked PostgreSQL are the same apikeyd, pinned alike, on a PostgreSQL database on loopback (synchronous_commit=on);\n")
		b.WriteString("the PostgreSQL server is not pinned and works on both cores, wrk's too, so those rows' ratios are lower bounds.")
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "- Machine: %s.\n", r.machine)
	fmt.Fprintf(&b, "- Load: wrk with one thread and %d connections, pinned to core %s with taskset (%s). This command (apikeyd's log reader, the fake Discord) is pinned to core %s too.\n", s.connections, s.loadCPU, r.tools, s.loadCPU)
	fmt.Fprintf(&b, "- Servers: apikeyd pinned to core %s; the baseline, a bare net/http server (bench/internal/bareserver) answering the same route with apikeyd's Content-Type and body, pinned to the same core. Go sizes GOMAXPROCS to the pinning: 1.\n", s.serverCPU)
	fmt.Fprintf(&b, "- Rounds: a warm-up of %v against each server, then alternating rounds of %v, %d against each; each figure is the median over the rounds, the ratio the median of the rounds' ratios.\n", s.warmUp, s.round, s.rounds)
	b.WriteString("- CPU/req: the server process's user+system time (`/proc/<pid>/stat`, all threads) over a round, divided by the requests wrk completed in it.\n")
	fmt.Fprintf(&b, "- Other work on the machine: load average (1, 5, 15 min) %s at the start, %s at the end. Above about 2 the cores were shared with other processes and every figure is disturbed.\n\n", r.loadBefore, r.loadAfter)

	b.WriteString("| scenario | apikeyd req/s | p50 | p90 | p99 | CPU/req | baseline | req/s | p50 | p90 | p99 | CPU/req | ratio | each round |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, c := range r.comparisons {
		got, base := summarize(c.got), summarize(c.base)
		unit := "req/s"
		if c.latency {
			unit = "p50"
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %.2fx %s | %s |\n",
			c.name, got.perSecond, us(got.p50), us(got.p90), us(got.p99), us(got.cpuPerRequest),
			c.baseName, base.perSecond, us(base.p50), us(base.p90), us(base.p99), us(base.cpuPerRequest),
			median(c.ratios()), unit, roundRatios(c.ratios()))
	}
	if r.settings.entries > 0 {
		b.WriteString("\nThe entries ratio is the small guild's p50 latency over the large guild's: 1.00x means the size of the log costs nothing.\n")
	}

	b.WriteString("\nIs the baseline a ceiling? Only if the bare server, not wrk, is what saturates: the bare server should use nearly all of its core, wrk less than all of its own.\n")
	b.WriteString("Shares are of one core's time over a round (medians): the server process's, anything's on the server core (the server, interrupts, other processes), and wrk's.\n\n")
	b.WriteString("| scenario | server | req/s | server process | server core busy | wrk |\n|---|---|---:|---:|---:|---:|\n")
	var warnings []string
	for _, c := range r.comparisons {
		for _, x := range []struct {
			name   string
			rounds []round
		}{{"apikeyd", c.got}, {c.baseName, c.base}} {
			sm := summarize(x.rounds)
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f%% | %.0f%% | %.0f%% |\n", c.name, x.name, sm.perSecond, 100*sm.serverShare, 100*sm.serverCore, 100*sm.wrkShare)
			warnings = append(warnings, sm.warnings(c.name, x.name)...)
		}
	}
	if len(warnings) > 0 {
		b.WriteString("\n**Not a clean measurement:**\n\n")
		for _, w := range warnings {
			fmt.Fprintf(&b, "- %s\n", w)
		}
	}

	b.WriteString("\nKey creation is compared with a raw SQLite insert loop, which is not HTTP, so wrk cannot drive it; the Go load generator (bench/internal/harness) does, closed-loop, one request per client at a time.\n")
	b.WriteString("Both are bound by fsync at a few thousand a second, far below the ~47k req/s where that generator saturates. The insert loop runs in this command, on the load core.\n\n")
	b.WriteString("| POST /apiKeys/new/{user} | keys/s | p50 | p99 | CPU/key | raw SQLite insert rows/s | p50 | p99 | ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, x := range r.inserts {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %s | %.0f | %s | %s | %.2fx |\n",
			clients(x.clients)+onEngine(x.engine), x.got.PerSecond(), us(x.got.P50), us(x.got.P99), us(perRequest(x.cpu, x.got.Requests)),
			x.base.PerSecond(), us(x.base.P50), us(x.base.P99), x.got.PerSecond()/x.base.PerSecond())
	}

	b.WriteString("\n| measure | value | target |\n|---|---:|---|\n")
	fmt.Fprintf(&b, "| start to ready (exec to the first 200 of /v1/readyz, pinned to one core, existing data directory) | %v | < 50 ms |\n", r.ready.Round(100*time.Microsecond))
	b.WriteString(r.ciStartup.row())
	fmt.Fprintf(&b, "| idle RSS (ready, 1 s later) | %.1f MB | < 20 MB |\n", mb(r.idleRSS))
	fmt.Fprintf(&b, "| idle RSS after one request each of settings, keys by a user and authorize, and a key creation (1 s later) | %.1f MB | |\n", mb(r.servedRSS))
	fmt.Fprintf(&b, "| peak RSS (whole run) | %.1f MB | |\n", mb(r.peakRSS))
	fmt.Fprintf(&b, "| Discord calls for the one user token, over %v of load (cache TTL 60 s; apikeyd started %d times) | %d | at most one per TTL and start: %d |\n",
		r.elapsed.Round(time.Second), r.starts, r.discordCalls, r.starts+int(r.elapsed/time.Minute))
	fmt.Fprintf(&b, "| errors logged by apikeyd | %d | 0 |\n", r.errorLogs)
	b.WriteString(r.revocation.String())
	return b.String()
}

// ratios are each round's apikeyd over its baseline: of req/s, or for a
// latency comparison of the baseline's p50 over apikeyd's.
func (c comparison) ratios() []float64 {
	var rs []float64
	for i := range c.got {
		g, b := c.got[i].wrk, c.base[i].wrk
		if c.latency {
			rs = append(rs, float64(b.P50)/float64(g.P50))
		} else {
			rs = append(rs, g.PerSecond()/b.PerSecond())
		}
	}
	return rs
}

// summary is the medians over the rounds against one server.
type summary struct {
	perSecond                         float64
	p50, p90, p99, cpuPerRequest      time.Duration
	serverShare, serverCore, wrkShare float64
}

// warnings say when a server's rounds did not measure the server: wrk
// saturated first, or other work took the server's core.
func (s summary) warnings(scenario, server string) []string {
	var ws []string
	if s.wrkShare >= 0.9 {
		ws = append(ws, fmt.Sprintf("%s, %s: wrk used %.0f%% of its core: the load generator, not the server, may be the limit.", scenario, server, 100*s.wrkShare))
	}
	if other := s.serverCore - s.serverShare; other > 0.2 {
		ws = append(ws, fmt.Sprintf("%s, %s: %.0f%% of the server core went to something other than the server: its figures are disturbed.", scenario, server, 100*other))
	}
	return ws
}

func summarize(rounds []round) summary {
	pick := func(f func(round) float64) float64 {
		var xs []float64
		for _, r := range rounds {
			xs = append(xs, f(r))
		}
		return median(xs)
	}
	dur := func(f func(round) time.Duration) time.Duration {
		return time.Duration(pick(func(r round) float64 { return float64(f(r)) }))
	}
	return summary{
		perSecond:     pick(func(r round) float64 { return r.wrk.PerSecond() }),
		p50:           dur(func(r round) time.Duration { return r.wrk.P50 }),
		p90:           dur(func(r round) time.Duration { return r.wrk.P90 }),
		p99:           dur(func(r round) time.Duration { return r.wrk.P99 }),
		cpuPerRequest: dur(func(r round) time.Duration { return perRequest(r.cpu, r.wrk.Requests) }),
		serverShare:   pick(func(r round) float64 { return r.cpu.Seconds() / r.wrk.Elapsed.Seconds() }),
		serverCore:    pick(func(r round) float64 { return r.serverCore }),
		wrkShare:      pick(func(r round) float64 { return r.wrk.CPU.Seconds() / r.wrk.Elapsed.Seconds() }),
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func roundRatios(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%.2f", r)
	}
	return strings.Join(parts, " ")
}

// onEngine names a database other than SQLite's file.
func onEngine(engine string) string {
	if engine == "" {
		return ""
	}
	return ", " + engine
}

func clients(n int) string {
	if n == 1 {
		return "1 client"
	}
	return fmt.Sprintf("%d clients", n)
}

func perRequest(cpu time.Duration, requests int) time.Duration {
	if requests == 0 {
		return 0
	}
	return cpu / time.Duration(requests)
}

// us formats a duration to a tenth of a microsecond below 10 µs, where
// CPU per request lives.
func us(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// thousands writes n with thousands separators: 1,000,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// commit names the tree apikeyd was built from; BENCHMARKS.md, which
// this run is about to rewrite, does not make it dirty.
func commit() string {
	head, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "an unknown commit"
	}
	c := "commit " + strings.TrimSpace(string(head))
	changed, err := exec.Command("git", "status", "--porcelain", "--", ".", ":(exclude)BENCHMARKS.md").Output()
	if err != nil || len(changed) > 0 {
		c += " with uncommitted changes"
	}
	return c
}

// describeMachine names the CPU, cores, memory, OS and Go of this run.
func describeMachine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		mem = ", " + strings.Join(strings.Fields(line)[1:], " ") + " memory"
	}
	kernel, _ := exec.Command("uname", "-sr").Output()
	return fmt.Sprintf("%s, %d logical CPUs%s, %s, %s/%s, %s",
		cpu, runtime.NumCPU(), mem, strings.TrimSpace(string(kernel)), runtime.GOOS, runtime.GOARCH, runtime.Version())
}
