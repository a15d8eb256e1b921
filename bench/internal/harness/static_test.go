package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The build the bench measures is the one README.md documents and DESIGN.md
// promises: one static binary.
func TestApikeydIsBuiltStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds apikeyd")
	}
	bin, err := Build(context.Background(), "../../..", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckStatic(bin); err != nil {
		t.Error(err)
	}
}

// A program built with cgo, as a plain `go build` with a C compiler makes
// of anything importing net, is told apart.
func TestCheckStaticRefusesABinaryLinkedWithLibc(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with cgo")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no C compiler: cgo cannot link libc here")
	}
	dir := t.TempDir()
	src := "package main\n\nimport \"net\"\n\nfunc main() { net.LookupHost(\"localhost\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module cgoprobe\n\ngo 1.26.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "probe")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build with cgo: %v\n%s", err, out)
	}
	err := CheckStatic(bin)
	if err == nil || !strings.Contains(err.Error(), "linked dynamically") {
		t.Errorf("CheckStatic of a cgo build = %v, want it linked dynamically", err)
	}
}
