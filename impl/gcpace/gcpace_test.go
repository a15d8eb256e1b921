package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		want        int
	}{
		{0, 16 * mb, 400},       // before any collection: the runtime's minimum, scaled to the floor
		{1 * mb, 16 * mb, 425},  // a serving apikeyd: the goal is 17 MB, as the minimum heap sets it
		{10 * mb, 16 * mb, 160}, // the live heap sets the goal: 10 + 16 MB
		{16 * mb, 16 * mb, 100}, // from the floor on, Go's default
		{64 * mb, 16 * mb, 100},
		{1 * mb, 0, 100}, // no floor: Go's default
	} {
		if got := Percent(c.live, c.floor); got != c.want {
			t.Errorf("Percent(%d MB, %d MB) = %d, want %d", c.live/mb, c.floor/mb, got, c.want)
		}
	}
}

// TestPercentReachesTheGoal checks Percent against the runtime's own goal
// formula: the heap may grow by max(floor, live) before the next
// collection, never by less.
func TestPercentReachesTheGoal(t *testing.T) {
	const floor = DefaultFloor
	for live := uint64(0); live <= 64<<20; live += 256 << 10 {
		p := uint64(Percent(live, floor))
		goal := max(heapMinimum*p/100, live+live*p/100)
		want := live + max(floor, live)
		// Integer percents round down: the goal may fall short by one
		// percent's worth of the larger term.
		slack := max(heapMinimum, live) / 100
		if goal > want || goal+slack < want {
			t.Errorf("live %d kB: GOGC %d gives a goal of %d kB, want %d kB", live>>10, p, goal>>10, want>>10)
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
	waitForPace(t, func(got int) bool { return got > defaultPercent && got == Percent(liveHeap(), floor) },
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
			t.Fatalf("GOGC is %d with %d kB live; want %s", got, liveHeap()>>10, what)
		}
	}
}

func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
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
