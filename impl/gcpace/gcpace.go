// Package gcpace paces Go's garbage collector for a server whose live heap
// is small and whose requests allocate.
//
// Go's default (GOGC=100) starts a collection once the heap has grown by as
// much as was live after the last one, and no sooner than at 4 MB. A serving
// apikeyd keeps about 1 MB live, so it collects after every 3 MB its requests
// allocate: at tens of thousands of requests a second, a collection every
// few milliseconds, and most of a request's cost in marking, assists and
// write barriers (BENCHMARKS.md). A Pacer keeps at least a floor of
// allocation between two collections, and Go's default pace above it: the
// heap may then grow by the floor while the live heap is smaller than the
// floor, and by the live heap once it is larger.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// DefaultFloor is the allocation a serving apikeyd may make between two
// collections: it bounds what the heap grows to under load (about the
// floor plus the live heap) and sets how often a small heap is collected.
const DefaultFloor = 16 << 20

// defaultPercent is Go's own GOGC, the pace once the live heap is larger
// than the floor.
const defaultPercent = 100

// heapMinimum is the runtime's least heap goal at GOGC=100; it scales with
// GOGC (runtime/mgcpacer.go: 4 MB × GOGC/100).
const heapMinimum = 4 << 20

// Percent is the GOGC whose next collection comes once the heap has grown
// by max(floor, live) past the live bytes the last one found. The goal is
// the larger of the runtime's minimum (heapMinimum × GOGC/100) and live ×
// (1 + GOGC/100), so the pace is the smaller of the two that reach it.
func Percent(live, floor uint64) int {
	grow := max(floor, live)
	p := (live + grow) * 100 / heapMinimum
	if live > 0 {
		p = min(p, grow*100/live)
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
	p := &Pacer{floor: floor, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
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

// percentLocked is the pace for the live heap the last collection found
// (before the first, none: the floor alone).
func (p *Pacer) percentLocked() int {
	metrics.Read(p.sample)
	return Percent(p.sample[0].Value.Uint64(), p.floor)
}
