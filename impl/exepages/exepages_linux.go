package exepages

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Release drops from the page tables the resident pages of every
// read-only mapping of the running executable that maps only the file's
// own pages: such a page is refilled from the page cache (or the file) at
// its next touch, with its neighbourhood. Left alone are the mappings
// where dropping could lose something (see releasable), and those the
// kernel refuses to drop (locked or huge-page ones). A debugger or uprobe
// that patches the text between the read of smaps and the madvise, a few
// microseconds once per start, would lose its patch in this process.
func Release() (Released, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return Released{}, fmt.Errorf("release the executable's pages: %w", err)
	}
	return releaseMappingsOf(exe)
}

// releaseMappingsOf is Release for the mappings of the file at path.
func releaseMappingsOf(path string) (Released, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return Released{}, fmt.Errorf("release the pages of %s: %w", path, err)
	}
	defer f.Close()
	maps, err := parseSmaps(f)
	if err != nil {
		return Released{}, fmt.Errorf("release the pages of %s: %w", path, err)
	}
	var r Released
	for _, m := range maps {
		if m.path != path || m.writable {
			continue
		}
		if !m.releasable() {
			r.Skipped++
			continue
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); errno != 0 {
			return r, fmt.Errorf("release the pages of %s at %#x: %w", path, m.start, errno)
		}
		r.Mappings++
		r.Bytes += m.rss
	}
	return r, nil
}

// releasable says whether dropping m's pages loses nothing and the kernel
// will do it. A private copy of a page, present (Anonymous) or swapped
// out (Swap), would come back as the file's bytes: a PIE's relocated
// read-only data, text a debugger or uprobe patched. madvise refuses
// locked (lo) and hugetlb (ht) mappings.
func (m mapping) releasable() bool {
	return m.anonymous == 0 && m.swap == 0 && !m.locked
}

// mapping is one entry of /proc/self/smaps.
type mapping struct {
	start, end           uintptr
	writable             bool
	locked               bool // VmFlags has lo (mlock) or ht (hugetlb)
	path                 string
	rss, anonymous, swap int64 // bytes
}

// parseSmaps reads the format of proc(5)'s /proc/pid/smaps: a header line
// per mapping ("start-end perms offset dev inode [path]") followed by
// "Field: value kB" lines.
func parseSmaps(r io.Reader) ([]mapping, error) {
	var maps []mapping
	s := bufio.NewScanner(r)
	for s.Scan() {
		line := s.Text()
		name, value, isField := strings.Cut(line, ":")
		if isField && !strings.Contains(name, " ") {
			if len(maps) == 0 {
				return nil, fmt.Errorf("smaps: field %q before any mapping", name)
			}
			m := &maps[len(maps)-1]
			switch name {
			case "Rss":
				m.rss, isField = kilobytes(value)
			case "Anonymous":
				m.anonymous, isField = kilobytes(value)
			case "Swap":
				m.swap, isField = kilobytes(value)
			case "VmFlags":
				m.locked = slices.ContainsFunc(strings.Fields(value), func(f string) bool { return f == "lo" || f == "ht" })
			}
			if !isField {
				return nil, fmt.Errorf("smaps: %q", line)
			}
			continue
		}
		m, ok := parseHeader(line)
		if !ok {
			return nil, fmt.Errorf("smaps: %q", line)
		}
		maps = append(maps, m)
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("smaps: %w", err)
	}
	return maps, nil
}

// parseHeader reads "start-end perms offset dev inode [path]"; the path
// may hold spaces, and ends " (deleted)" once the file is replaced.
func parseHeader(line string) (mapping, bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return mapping{}, false
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if !ok || err1 != nil || err2 != nil || end < start || len(f[1]) != 4 {
		return mapping{}, false
	}
	m := mapping{start: uintptr(start), end: uintptr(end), writable: f[1][1] == 'w'}
	if len(f) > 5 {
		// The path is what follows the inode, spaces and all.
		rest := line
		for range 5 {
			rest = strings.TrimLeft(rest, " ")
			rest = rest[strings.IndexByte(rest, ' ')+1:]
		}
		m.path = strings.TrimLeft(rest, " ")
	}
	return m, true
}

// kilobytes reads smaps' " 1234 kB".
func kilobytes(v string) (int64, bool) {
	n, ok := strings.CutSuffix(strings.TrimSpace(v), " kB")
	if !ok {
		return 0, false
	}
	k, err := strconv.ParseInt(n, 10, 64)
	return k << 10, err == nil && k >= 0
}
