package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mb = 1 << 20
	if heapMinimum != 4*mb {
		t.Skip("the table is of the default 4 MB heap minimum")
	}
	for _, c := range []struct {
		h     Heap
		floor uint64
		want  int
	}{
		{Heap{}, 16 * mb, 400},                             // before any collection: the runtime's minimum, scaled to the floor
		{Heap{Live: 1 * mb}, 16 * mb, 425},                 // a serving apikeyd: the goal is 17 MB, as the minimum heap sets it
		{Heap{Live: 10 * mb}, 16 * mb, 160},                // the live heap sets the goal: 10 + 16 MB
		{Heap{Live: 8 * mb, Stacks: 2 * mb}, 16 * mb, 160}, // stacks count beside the live heap: 8 + 16 MB
		{Heap{Live: 16 * mb}, 16 * mb, 100},                // from the floor on, Go's default
		{Heap{Live: 64 * mb, Stacks: 8 * mb}, 16 * mb, 100},
		{Heap{Live: 1 * mb}, 0, 100}, // no floor: Go's default
	} {
		if got := Percent(c.h, c.floor); got != c.want {
			t.Errorf("Percent(%+v, %d MB) = %d, want %d", c.h, c.floor/mb, got, c.want)
		}
	}
}

// goal is the runtime's heap goal at a GOGC (runtime/mgcpacer.go, commit).
func goal(h Heap, percent uint64) uint64 {
	return max(heapMinimum*percent/100, h.Live+(h.Live+h.Stacks+h.Globals)*percent/100)
}

// TestPercentReachesTheGoal checks Percent against the runtime's own goal
// formula: below the floor, the heap may grow by the floor past the live
// heap before the next collection, never by much less or more; above it,
// Go's default.
func TestPercentReachesTheGoal(t *testing.T) {
	const floor = DefaultFloor
	for live := uint64(0); live <= 64<<20; live += 256 << 10 {
		for _, stacks := range []uint64{0, 64 << 10, 4 << 20, 32 << 20} {
			h := Heap{Live: live, Stacks: stacks, Globals: 200 << 10}
			p := uint64(Percent(h, floor))
			got := goal(h, p)
			want := live + floor
			if p == defaultPercent {
				// Go's default once the live heap, or what the runtime
				// scans beside it, is the larger: never a goal under the
				// floor's (but for the rounding below).
				want = max(want, goal(h, defaultPercent))
			}
			// Integer percents round down: the goal may fall short by one
			// percent's worth of the larger term.
			slack := max(heapMinimum, live+stacks+h.Globals) / 100
			if got > want || got+slack < want {
				t.Errorf("%+v: GOGC %d gives a goal of %d kB, want %d kB", h, p, got>>10, want>>10)
			}
		}
	}
}

// TestPacerFollowsTheLiveHeap runs a Pacer in this process: the pace is
// set after each collection from the heap it found live, and Stop gives
// back the pace there was before.
func TestPacerFollowsTheLiveHeap(t *testing.T) {
	before := gogc()
	const floor = 8 << 20
	p := Start(floor)
	defer p.Stop()

	// 32 MB live, four times the floor: Go's default pace.
	held := make([][]byte, 32)
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	waitForPace(t, func(got int) bool { return got == defaultPercent }, "Go's default with 32 MB live")
	runtime.KeepAlive(held)

	// Let it go: the heap is small again, and the floor sets the pace.
	held = nil
	waitForPace(t, func(got int) bool { return got > defaultPercent && got == Percent(heapNow(), floor) },
		"above the default once the heap is small")

	p.Stop()
	if got := gogc(); got != before {
		t.Errorf("after Stop, GOGC is %d, want %d as before Start", got, before)
	}
	// A collection after Stop changes nothing.
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if got := gogc(); got != before {
		t.Errorf("a collection after Stop set GOGC to %d, want %d", got, before)
	}
}

// waitForPace collects until the pace satisfies ok: each collection's
// cleanup sets it, soon after the collection.
func waitForPace(t *testing.T, ok func(int) bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
		got := gogc()
		if ok(got) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC is %d with %+v; want %s", got, heapNow(), what)
		}
	}
}

func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// heapNow is what the last collection found, as the Pacer reads it.
func heapNow() Heap {
	s := heapSamples()
	metrics.Read(s)
	return heapOf(s)
}

func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestTheGoalCountsStacks runs a Pacer beside goroutines whose stacks
// together are several times the live heap: the runtime counts scanned
// stacks in its goal at GOGC/100 of them, and the paced goal is still the
// live heap plus the floor, not several times the stacks.
func TestTheGoalCountsStacks(t *testing.T) {
	const floor = 16 << 20
	p := Start(floor)
	defer p.Stop()

	release := make(chan struct{})
	var started sync.WaitGroup
	for range 100 {
		started.Add(1)
		go func() { deepStack(64<<10, &started, release) }()
	}
	started.Wait()
	defer close(release)

	var h Heap
	var g uint64
	near := func(got, want uint64) bool { return got+1<<20 >= want && got <= want+1<<20 }
	waitForPace(t, func(int) bool {
		h, g = heapNow(), heapGoal()
		return h.Stacks > 4<<20 && near(g, h.Live+floor)
	}, "a goal of the live heap plus the floor, with 100 stacks of 64 kB")
}

// deepStack grows its goroutine's stack by about n bytes, then waits.
func deepStack(n int, started *sync.WaitGroup, release <-chan struct{}) {
	var pad [1024]byte
	if n > len(pad) {
		deepStack(n-len(pad), started, release)
		runtime.KeepAlive(&pad)
		return
	}
	started.Done()
	<-release
}

// TestStopRestoresAnOperatorsGOGC: an operator's GOGC (set here as
// SetGCPercent would from the environment) comes back after Stop.
func TestStopRestoresAnOperatorsGOGC(t *testing.T) {
	old := debug.SetGCPercent(250)
	defer debug.SetGCPercent(old)
	Start(DefaultFloor).Stop()
	if got := gogc(); got != 250 {
		t.Errorf("GOGC after Start and Stop = %d, want 250", got)
	}
}
