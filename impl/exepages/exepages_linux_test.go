package exepages

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestReleaseDropsTheExecutablesReadOnlyPages releases this test binary's
// own pages, and it goes on running from what faults back in.
func TestReleaseDropsTheExecutablesReadOnlyPages(t *testing.T) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	before := residentOf(t, exe)
	if before == 0 {
		t.Fatalf("no resident read-only pages of %s before the release", exe)
	}
	r, err := Release()
	if err != nil {
		t.Fatalf("Release: %v", err)
	}
	// A PIE's relocated read-only data is skipped (go test -buildmode=pie);
	// its text is released either way.
	if r.Mappings < 1 || r.Mappings+r.Skipped < 2 || r.Bytes <= 0 {
		t.Errorf("Release = %+v, want its text and read-only data (2 mappings or more) released or skipped, the text released", r)
	}
	if r.Bytes < before/2 {
		t.Errorf("Release dropped %d bytes of the %d resident before it", r.Bytes, before)
	}
	// Reading smaps again faults back in only the little it runs.
	after := residentOf(t, exe)
	t.Logf("resident read-only pages of the test binary: %d kB before, %d kB after", before>>10, after>>10)
	if after >= before {
		t.Errorf("%d bytes resident after the release, %d before", after, before)
	}
}

// TestReleaseDropsAFilesPagesAndTheyComeBack maps a file as the kernel
// maps an executable's read-only segments: released, none of it stays
// resident, and the next read finds the file's bytes.
func TestReleaseDropsAFilesPagesAndTheyComeBack(t *testing.T) {
	content := bytes.Repeat([]byte("the start's pages "), 100_000) // 1.8 MB
	path, b := mapFile(t, content, syscall.PROT_READ)
	if !bytes.Equal(b, content) { // touches every page
		t.Fatal("the mapping does not read as the file")
	}
	if got := residentOf(t, path); got < int64(len(content))/2 {
		t.Fatalf("%d bytes resident after reading %d, want most of them", got, len(content))
	}
	r, err := releaseMappingsOf(path)
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	if r.Mappings != 1 || r.Skipped != 0 {
		t.Errorf("release = %+v, want the one mapping released", r)
	}
	if got := residentOf(t, path); got != 0 {
		t.Errorf("%d bytes still resident after the release, want 0", got)
	}
	if !bytes.Equal(b, content) {
		t.Error("after the release, the mapping does not read as the file")
	}
}

// TestReleaseKeepsAPrivateCopy: a read-only mapping whose pages were
// written before it was made read-only, as a PIE's relocated data or text
// a debugger patched, would get the file's bytes back in place of the
// copies. It is left alone.
func TestReleaseKeepsAPrivateCopy(t *testing.T) {
	content := bytes.Repeat([]byte{'f'}, 64<<10)
	path, b := mapFile(t, content, syscall.PROT_READ|syscall.PROT_WRITE)
	copy(b, "patched")
	if err := syscall.Mprotect(b, syscall.PROT_READ); err != nil {
		t.Fatal(err)
	}
	r, err := releaseMappingsOf(path)
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	if r.Mappings != 0 || r.Skipped != 1 {
		t.Errorf("release = %+v, want the mapping skipped", r)
	}
	if !bytes.HasPrefix(b, []byte("patched")) {
		t.Errorf("the mapping reads %q after the release, want what was written", b[:7])
	}
}

// TestReleaseLeavesWritableMappingsAlone: the executable's data is
// written at run time; dropping its pages would lose what was written.
func TestReleaseLeavesWritableMappingsAlone(t *testing.T) {
	content := bytes.Repeat([]byte{'d'}, 64<<10)
	path, b := mapFile(t, content, syscall.PROT_READ|syscall.PROT_WRITE)
	copy(b, "written")
	if !hasWritableMapping(t, path) {
		t.Fatalf("no writable mapping of %s in smaps", path)
	}
	r, err := releaseMappingsOf(path)
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	if r != (Released{}) {
		t.Errorf("release = %+v, want nothing released or skipped", r)
	}
	if !bytes.HasPrefix(b, []byte("written")) {
		t.Errorf("the mapping reads %q after the release, want what was written", b[:7])
	}
}

// mapFile writes content to a new file and maps it privately with prot.
func mapFile(t *testing.T, content []byte, prot int) (string, []byte) {
	t.Helper()
	// smaps names the file by its resolved path: TMPDIR may be a symlink.
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "segment")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := syscall.Mmap(int(f.Fd()), 0, len(content), prot, syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(b) })
	return path, b
}

// hasWritableMapping says whether smaps shows a writable mapping of path.
func hasWritableMapping(t *testing.T, path string) bool {
	t.Helper()
	return slices.ContainsFunc(smapsOf(t), func(m mapping) bool { return m.path == path && m.writable })
}

// smapsOf is this process's smaps, parsed.
func smapsOf(t *testing.T) []mapping {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	maps, err := parseSmaps(f)
	if err != nil {
		t.Fatal(err)
	}
	return maps
}

// residentOf is the resident size of path's read-only mappings.
func residentOf(t *testing.T, path string) int64 {
	t.Helper()
	var n int64
	for _, m := range smapsOf(t) {
		if m.path == path && !m.writable {
			n += m.rss
		}
	}
	return n
}

func TestParseSmaps(t *testing.T) {
	const smaps = `00400000-00f66000 r-xp 00000000 fe:00 1234                               /opt/api keyd/apikeyd (deleted)
Size:              11656 kB
Rss:                9492 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me dw sd
01ce9000-01da0000 rw-p 018e8000 fe:00 1234                               /opt/api keyd/apikeyd (deleted)
Rss:                 604 kB
Anonymous:           204 kB
03e00000-04600000 rw-p 00000000 00:00 0 
Rss:                2936 kB
Anonymous:          2936 kB
Swap:                128 kB
7ffd1000-7ffd3000 r-xp 00000000 00:00 0                                  [vdso]
Rss:                   8 kB
VmFlags: rd ex mr mw me de sd lo
`
	maps, err := parseSmaps(strings.NewReader(smaps))
	if err != nil {
		t.Fatal(err)
	}
	want := []mapping{
		{start: 0x400000, end: 0xf66000, path: "/opt/api keyd/apikeyd (deleted)", rss: 9492 << 10},
		{start: 0x1ce9000, end: 0x1da0000, writable: true, path: "/opt/api keyd/apikeyd (deleted)", rss: 604 << 10, anonymous: 204 << 10},
		{start: 0x3e00000, end: 0x4600000, writable: true, rss: 2936 << 10, anonymous: 2936 << 10, swap: 128 << 10},
		{start: 0x7ffd1000, end: 0x7ffd3000, path: "[vdso]", rss: 8 << 10, locked: true},
	}
	if len(maps) != len(want) {
		t.Fatalf("parsed %d mappings, want %d: %+v", len(maps), len(want), maps)
	}
	for i := range want {
		if maps[i] != want[i] {
			t.Errorf("mapping %d = %+v, want %+v", i, maps[i], want[i])
		}
	}
}

// TestReleasableOnlyWithoutPrivateCopies: a copy swapped out is as
// private as one present.
func TestReleasableOnlyWithoutPrivateCopies(t *testing.T) {
	for _, c := range []struct {
		name string
		m    mapping
		want bool
	}{
		{"the file's pages only", mapping{rss: 4 << 20}, true},
		{"a private copy present", mapping{rss: 4 << 20, anonymous: 4 << 10}, false},
		{"a private copy swapped out", mapping{rss: 4 << 20, swap: 4 << 10}, false},
		{"locked", mapping{rss: 4 << 20, locked: true}, false},
	} {
		if got := c.m.releasable(); got != c.want {
			t.Errorf("%s: releasable = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseSmapsRefusesWhatItCannotRead(t *testing.T) {
	for name, smaps := range map[string]string{
		"a field before any mapping": "Rss: 4 kB\n",
		"a short header":             "00400000-00f66000 r-xp 00000000\n",
		"an address range backwards": "00f66000-00400000 r-xp 00000000 fe:00 1234 /x\n",
		"an address not hex":         "0040000g-00f66000 r-xp 00000000 fe:00 1234 /x\n",
		"a size without kB":          "00400000-00f66000 r-xp 00000000 fe:00 1234 /x\nRss: 4\n",
		"a negative size":            "00400000-00f66000 r-xp 00000000 fe:00 1234 /x\nAnonymous: -4 kB\n",
	} {
		if maps, err := parseSmaps(strings.NewReader(smaps)); err == nil {
			t.Errorf("%s: parsed as %+v, want an error", name, maps)
		}
	}
}
