// Package harness starts a real apikeyd with a fake Discord and drives it
// with concurrent closed-loop clients, for the benchmark and load commands.
package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

// SystemKey is the System key of every apikeyd the harness starts.
const SystemKey = "bench-system-key-0123456789"

// Build compiles apikeyd from the module at root into dir.
func Build(ctx context.Context, root, dir string) (string, error) {
	return BuildCommand(ctx, root, ".", filepath.Join(dir, "apikeyd"))
}

// BuildCommand compiles the command pkg of the module at root to bin, as
// README.md tells users to build apikeyd: static (CGO_ENABLED=0), so that
// what is measured maps neither libc nor the dynamic loader. With cgo on,
// a C compiler present makes net and os/user link libc.
func BuildCommand(ctx context.Context, root, pkg, bin string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	if err := CheckStatic(bin); err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	return bin, nil
}

// Process is a running apikeyd.
type Process struct {
	URL     string
	DataDir string
	// Ready is how long it took from exec to the first 200 of /v1/readyz.
	Ready time.Duration
	cmd   *exec.Cmd
	exit  chan error

	mu        sync.Mutex
	errorLogs []string // lines apikeyd logged at level ERROR
}

// ErrorLogs are the lines apikeyd has logged at level ERROR so far.
func (p *Process) ErrorLogs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.errorLogs)
}

// Options configure a started apikeyd.
type Options struct {
	Binary, DataDir, DiscordURL string
	MasterKey                   string // base64; "" generates one
	Args                        []string
	// CPUs, when set, pins apikeyd to these cores (taskset's list form);
	// Go then sizes GOMAXPROCS to them.
	CPUs string
	// Env holds further APIKEYD_ settings, such as APIKEYD_DB.
	Env []string
}

// NewMasterKey returns a random master key in APIKEYD_MASTER_KEY's form.
func NewMasterKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

var listening = regexp.MustCompile(`msg="apikeyd listening" addr=(\S+)`)

// Start runs apikeyd serve and waits until it is ready.
func Start(ctx context.Context, o Options) (*Process, error) {
	if o.MasterKey == "" {
		o.MasterKey = NewMasterKey()
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", o.DataDir,
		"--discord-api-url", o.DiscordURL}, o.Args...)
	cmd := exec.Command(o.Binary, args...)
	if o.CPUs != "" {
		// taskset execs apikeyd in its own process: the pid is apikeyd's.
		cmd = exec.Command("taskset", append([]string{"-c", o.CPUs, o.Binary}, args...)...)
	}
	cmd.Env = append(os.Environ(), "APIKEYD_SYSTEM_KEY="+SystemKey, "APIKEYD_MASTER_KEY="+o.MasterKey)
	cmd.Env = append(cmd.Env, o.Env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start apikeyd: %w", err)
	}
	p := &Process{DataDir: o.DataDir, cmd: cmd, exit: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		// Under load this reads a log line per request, on the load
		// generator's core: after the address, it only looks for errors.
		found := false
		for sc.Scan() {
			line := sc.Bytes()
			if !found {
				if m := listening.FindSubmatch(line); m != nil {
					addr <- string(m[1])
					found = true
				}
			}
			if bytes.Contains(line, []byte("level=ERROR")) {
				p.mu.Lock()
				p.errorLogs = append(p.errorLogs, string(line))
				p.mu.Unlock()
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { p.exit <- cmd.Wait() }()
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case err := <-p.exit:
		return nil, fmt.Errorf("apikeyd exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		p.Kill()
		return nil, errors.New("apikeyd did not listen within 30 s")
	}
	if err := waitReady(ctx, p.URL); err != nil {
		p.Kill()
		return nil, err
	}
	p.Ready = time.Since(start)
	return p, nil
}

func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/readyz", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return errors.New("apikeyd was not ready within 30 s")
}

// Pid is the process id of apikeyd.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM and waits for a clean exit.
func (p *Process) Stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exit:
		return err
	case <-time.After(30 * time.Second):
		p.Kill()
		return errors.New("apikeyd did not stop within 30 s of SIGTERM")
	}
}

// Kill stops the process at once.
func (p *Process) Kill() {
	p.cmd.Process.Kill()
	<-p.exit
}

// RSS reads the process's resident set size now and at its peak, in bytes.
func (p *Process) RSS() (now, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(b)) {
		field, rest, _ := strings.Cut(line, ":")
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch field {
		case "VmRSS":
			now = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return now, peak, nil
}

// Discord is a fake Discord that knows one administrator.
type Discord struct {
	*discordtest.Server
	AdminToken string
	AdminID    string
}

// StartDiscord starts a fake Discord with one user.
func StartDiscord() *Discord {
	d := &Discord{Server: discordtest.Start(), AdminToken: "bench-admin-token", AdminID: "310987654321098765"}
	d.AddUser(d.AdminToken, d.AdminID, "bench-admin")
	return d
}

// GuildAdmin runs `apikeyd guild-admin add` on a data directory, with
// env's further APIKEYD_ settings (APIKEYD_DB).
func GuildAdmin(ctx context.Context, binary, dataDir, masterKey, guild, user string, env ...string) error {
	cmd := exec.CommandContext(ctx, binary, "guild-admin", "add", "--guild", guild, "--user", user, "--data-dir", dataDir)
	cmd.Env = append(append(os.Environ(), "APIKEYD_MASTER_KEY="+masterKey), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("guild-admin add: %v: %s", err, out)
	}
	return nil
}
