package harness

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Bare is a running bare net/http server (bench/internal/bareserver),
// the baseline apikeyd is compared with.
type Bare struct {
	URL string
	cmd *exec.Cmd
}

// BareAnswer is what a bare server answers, and to which request.
type BareAnswer struct {
	Method, Path, ContentType string
	Body                      []byte
}

// StartBare runs the bare server binary bin, pinned to cpus, answering a;
// dir holds the file of its body.
func StartBare(ctx context.Context, bin, cpus, dir string, a BareAnswer) (*Bare, error) {
	f, err := os.CreateTemp(dir, "bare-body-")
	if err != nil {
		return nil, err
	}
	_, err = f.Write(a.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("bare body: %w", err)
	}
	cmd := exec.Command("taskset", "-c", cpus, bin, "-method", a.Method, "-path", a.Path,
		"-content-type", a.ContentType, "-body", f.Name())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start bare server: %w", err)
	}
	b := &Bare{cmd: cmd}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case a := <-addr:
		if a == "" {
			b.Stop()
			return nil, fmt.Errorf("bare server exited before listening")
		}
		b.URL = "http://" + a
	case <-time.After(10 * time.Second):
		b.Stop()
		return nil, fmt.Errorf("bare server did not listen within 10 s")
	case <-ctx.Done():
		b.Stop()
		return nil, ctx.Err()
	}
	return b, nil
}

// Pid is the bare server's process id.
func (b *Bare) Pid() int { return b.cmd.Process.Pid }

// Stop kills the bare server: it holds nothing worth a clean shutdown.
func (b *Bare) Stop() {
	b.cmd.Process.Kill()
	b.cmd.Wait()
}

// BareBinary builds the bare server into dir.
func BareBinary(ctx context.Context, root, dir string) (string, error) {
	return BuildCommand(ctx, root, "./bench/internal/bareserver", filepath.Join(dir, "bareserver"))
}
