package datadir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func TestCreateNeverReplacesAFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := Create(path, "first"); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := Create(path, "second"); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create over an existing file: %v, want fs.ErrExist", err)
	}
	assertFile(t, path, "first\n")
	assertOnly(t, dir, "secret")
}

func TestCreateRaceHasOneWinner(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	const n = 8
	var (
		wg   sync.WaitGroup
		errs [n]error
	)
	for i := range n {
		wg.Go(func() { errs[i] = Create(path, "text") })
	}
	wg.Wait()
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("Create %d: %v", i, err)
		}
	}
	if winners != 1 {
		t.Errorf("%d calls created the file, want 1", winners)
	}
	assertFile(t, path, "text\n")
	assertOnly(t, dir, "secret")
}

func TestWriteReplacesAFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	for _, text := range []string{"first", "second"} {
		if err := Write(path, text); err != nil {
			t.Fatalf("Write %s: %v", text, err)
		}
		assertFile(t, path, text+"\n")
	}
	assertOnly(t, dir, "secret")
}

// assertFile checks a file's content, and that only its owner may read it.
func assertFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != want {
		t.Errorf("%s holds %q, want %q", path, got, want)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 && runtime.GOOS != "windows" {
		t.Errorf("mode of %s = %#o, want 0600", path, got)
	}
}

// assertOnly checks that no temporary file is left beside the one written.
func assertOnly(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %v, want only %s", dir, names, name)
	}
}
