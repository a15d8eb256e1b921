// Package gcpace paces Go's garbage collector for a server whose live heap
// is small and whose requests allocate.
//
// Go's default (GOGC=100) sets the next collection's goal at the live heap
// plus as much again (and the stacks and globals it scans), and no lower
// than 4 MB. A serving apikeyd keeps about 1 MB live, so its heap is
// collected whenever its requests have allocated 3 MB: at tens of
// thousands of requests a second, a collection every few milliseconds,
// each with its marking, assists, write barriers and sweeping
// (BENCHMARKS.md, "the collector paced by the live heap"). A Pacer lets the
// heap grow by a floor past the live heap before the next collection while
// the live heap is smaller than the floor, and by the live heap (Go's own
// pace) once it is larger.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// DefaultFloor is how far a serving apikeyd's heap may grow past its live
// heap before a collection: what the heap grows to under load, and how
// often a small heap is collected.
const DefaultFloor = 16 << 20

// defaultPercent is Go's own GOGC, the pace once the live heap is larger
// than the floor.
const defaultPercent = 100

// Heap is what the last collection found: the live heap, and the stacks
// and globals it scanned, which the runtime's goal counts beside it.
type Heap struct {
	Live, Stacks, Globals uint64
}

// Percent is the GOGC whose next goal is the live heap plus max(floor,
// live). The runtime's goal is the larger of its minimum, heapMinimum ×
// GOGC/100, and live + (live + stacks + globals) × GOGC/100
// (runtime/mgcpacer.go), so the pace is the smaller of the two that reach
// it, and never below Go's default.
func Percent(h Heap, floor uint64) int {
	grow := max(floor, h.Live)
	p := (h.Live + grow) * 100 / heapMinimum
	if scanned := h.Live + h.Stacks + h.Globals; scanned > 0 {
		p = min(p, grow*100/scanned)
	}
	return max(int(p), defaultPercent)
}

// Pacer sets the collector's pace after each collection, from the live
// heap that collection found. The pace is process-wide: start one Pacer,
// in main, not in code that tests run side by side.
type Pacer struct {
	floor uint64

	mu       sync.Mutex
	stopped  bool
	previous int // the GOGC before Start, restored by Stop
	sample   []metrics.Sample
}

// Start paces the collector from now until Stop; the pace follows each
// collection (the first, when it comes, sets it from its live heap).
func Start(floor uint64) *Pacer {
	p := &Pacer{floor: floor, sample: heapSamples()}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.previous = debug.SetGCPercent(p.percentLocked())
	p.arm()
	return p
}

// Stop gives the collector back the pace it had before Start.
func (p *Pacer) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
		debug.SetGCPercent(p.previous)
	}
}

// arm has the collection that finds a fresh object unreachable call
// after: a cleanup runs once its object has been collected, so each one
// runs after a cycle and arms the next.
func (p *Pacer) arm() {
	sentinel := new([16]byte) // not a tiny allocation: those share a block, and live as long as its neighbours
	runtime.AddCleanup(sentinel, func(p *Pacer) { p.after() }, p)
}

// after sets the pace from the live heap of the collection that just ran.
func (p *Pacer) after() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	debug.SetGCPercent(p.percentLocked())
	p.arm()
}

// percentLocked is the pace for the heap the last collection found
// (before the first, none: the floor alone).
func (p *Pacer) percentLocked() int {
	metrics.Read(p.sample)
	return Percent(heapOf(p.sample), p.floor)
}

// heapSamples are the runtime's metrics a Heap is read from, in heapOf's
// order.
func heapSamples() []metrics.Sample {
	return []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
}

// heapOf is the Heap in samples that heapSamples made and metrics.Read
// filled.
func heapOf(s []metrics.Sample) Heap {
	return Heap{Live: s[0].Value.Uint64(), Stacks: s[1].Value.Uint64(), Globals: s[2].Value.Uint64()}
}
