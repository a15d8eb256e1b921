// Package exepages releases the pages of apikeyd's own executable that its
// start-up mapped and serving does not need.
//
// A Go program cannot keep the code its start runs apart from the code it
// serves with: every linked package's init, the runtime's start, SQLite's
// open and the documents' builders lie scattered through the text, and the
// kernel maps each fault's neighbourhood (64 kB by fault-around, or on
// recent kernels a whole large folio of the page cache), so a start that
// touches a few hundred scattered functions leaves most of the binary
// resident, of which an idle server uses little (BENCHMARKS.md, step 24,
// measures both). The Linux kernel frees its own init sections once it has
// booted; Release does what a user program can: it drops the read-only
// mappings' pages from the page tables, so that what serving then touches
// faults back in from the page cache, and what only the start touched is
// no longer held by this process (the page cache still has it, unmapped,
// which the kernel reclaims more readily than mapped code).
package exepages

// Released is what a Release dropped from the process's resident set.
type Released struct {
	Mappings int   // the executable's read-only mappings released
	Bytes    int64 // their resident pages, as smaps counted them
	Skipped  int   // read-only mappings of it left alone: private copies of pages, or locked
}
