package harness

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func TestLuaStringEscapesEverythingButPrintableASCII(t *testing.T) {
	got := luaString("a\"b\\c\nd é")
	want := `"a\34b\92c\10d \195\169"`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestParseWrkReadsTheScriptsSummary(t *testing.T) {
	out := "Running 3s test @ http://127.0.0.1:1/\n  1 threads and 8 connections\n" +
		resultPrefix + `{"requests":120000,"duration_us":3000000,"status":2,"socket":1,"p50_us":61,"p90_us":80,"p99_us":170}` + "\n" +
		"Requests/sec:  40000.00\n"
	got, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	want := WrkResult{Requests: 120000, Elapsed: 3 * time.Second, P50: 61 * time.Microsecond,
		P90: 80 * time.Microsecond, P99: 170 * time.Microsecond, StatusErrors: 2, SocketErrors: 1}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got.PerSecond() != 40000 {
		t.Errorf("PerSecond() = %v, want 40000", got.PerSecond())
	}
	if _, err := parseWrk("Requests/sec: 1\n"); err == nil {
		t.Error("no error without the summary line")
	}
}

func TestCPUTimeAgreesWithGetrusage(t *testing.T) {
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the kernel's own account says 100 ms of work, however
	// long that takes on a busy machine.
	start := rusageCPU(t)
	for rusageCPU(t)-start < 100*time.Millisecond {
	}
	after, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// /proc counts in 10 ms ticks.
	if d := after - before; d < 80*time.Millisecond {
		t.Errorf("CPUTime grew by %v over 100 ms of work", d)
	}
}

func rusageCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
