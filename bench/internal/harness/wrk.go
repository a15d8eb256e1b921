package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// CheckTools fails, saying how to install them, unless wrk and taskset
// are on the PATH.
func CheckTools() error {
	var missing []string
	for _, tool := range []string{"wrk", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not found; on Debian install them with: apt-get install -y wrk util-linux",
			strings.Join(missing, " and "))
	}
	return nil
}

// ToolVersions names the versions of wrk and taskset, for the report.
func ToolVersions() string {
	// wrk has no version flag: it prints its version above its usage and
	// exits non-zero.
	out, _ := exec.Command("wrk", "-v").CombinedOutput()
	wrk, _, _ := strings.Cut(string(out), "\n")
	wrk, _, _ = strings.Cut(wrk, " Copyright")
	ts, _ := exec.Command("taskset", "--version").Output()
	return strings.TrimSpace(wrk) + ", " + strings.TrimSpace(string(ts))
}

// WrkRequest is the one request a wrk run repeats.
type WrkRequest struct {
	URL     string // with path and query
	Method  string
	Headers map[string]string
	Body    string
}

// WrkOptions say how wrk runs.
type WrkOptions struct {
	Connections int
	Duration    time.Duration // whole seconds: wrk counts no finer
	CPU         string        // the core wrk is pinned to
	Dir         string        // where its script is written
}

// WrkResult is what one wrk run measured.
type WrkResult struct {
	Requests      int
	Elapsed       time.Duration
	P50, P90, P99 time.Duration
	StatusErrors  int           // answers that were not 2xx or 3xx
	SocketErrors  int           // connect, read, write errors and timeouts
	CPU           time.Duration // processor time wrk itself used
}

// PerSecond is the completed requests per second.
func (r WrkResult) PerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// resultPrefix marks the line the script's done() prints.
const resultPrefix = "bench-result "

// Wrk runs wrk with one thread, pinned to o.CPU, repeating req.
func Wrk(ctx context.Context, req WrkRequest, o WrkOptions) (WrkResult, error) {
	if o.Duration < time.Second || o.Duration%time.Second != 0 {
		return WrkResult{}, fmt.Errorf("wrk runs for whole seconds, not %v", o.Duration)
	}
	script, err := os.CreateTemp(o.Dir, "wrk-*.lua")
	if err != nil {
		return WrkResult{}, err
	}
	defer os.Remove(script.Name())
	_, err = script.WriteString(wrkScript(req))
	if cerr := script.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return WrkResult{}, fmt.Errorf("wrk script: %w", err)
	}
	cmd := exec.CommandContext(ctx, "taskset", "-c", o.CPU, "wrk", "-t1",
		"-c", strconv.Itoa(o.Connections), "-d", fmt.Sprintf("%ds", o.Duration/time.Second),
		"-s", script.Name(), req.URL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return WrkResult{}, fmt.Errorf("wrk: %w: %s%s", err, stderr.Bytes(), stdout.Bytes())
	}
	r, err := parseWrk(stdout.String())
	if err != nil {
		return WrkResult{}, err
	}
	r.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return r, nil
}

// wrkScript sets the request and prints the summary as one JSON line.
// It defines no request() or response() function: wrk then builds the
// request once and runs no Lua per request.
func wrkScript(req WrkRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %s\n", luaString(req.Method))
	if req.Body != "" {
		fmt.Fprintf(&b, "wrk.body = %s\n", luaString(req.Body))
	}
	for k, v := range req.Headers {
		fmt.Fprintf(&b, "wrk.headers[%s] = %s\n", luaString(k), luaString(v))
	}
	b.WriteString(`
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('` + resultPrefix + `{"requests":%.0f,"duration_us":%.0f,"status":%.0f,"socket":%.0f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
`)
	return b.String()
}

// luaString quotes s as a Lua string literal, every byte outside
// printable ASCII as a decimal escape (the one form every Lua reads).
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := range len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%d", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// wrkSummary is the line done() prints; times are in microseconds.
type wrkSummary struct {
	Requests   int   `json:"requests"`
	DurationUS int64 `json:"duration_us"`
	Status     int   `json:"status"`
	Socket     int   `json:"socket"`
	P50US      int64 `json:"p50_us"`
	P90US      int64 `json:"p90_us"`
	P99US      int64 `json:"p99_us"`
}

func parseWrk(out string) (WrkResult, error) {
	for line := range strings.Lines(out) {
		js, ok := strings.CutPrefix(strings.TrimSpace(line), resultPrefix)
		if !ok {
			continue
		}
		var v wrkSummary
		if err := json.Unmarshal([]byte(js), &v); err != nil {
			return WrkResult{}, fmt.Errorf("wrk summary %q: %w", js, err)
		}
		return WrkResult{
			Requests: v.Requests, Elapsed: time.Duration(v.DurationUS) * time.Microsecond,
			P50:          time.Duration(v.P50US) * time.Microsecond,
			P90:          time.Duration(v.P90US) * time.Microsecond,
			P99:          time.Duration(v.P99US) * time.Microsecond,
			StatusErrors: v.Status, SocketErrors: v.Socket,
		}, nil
	}
	return WrkResult{}, errors.New("wrk printed no summary: " + out)
}
