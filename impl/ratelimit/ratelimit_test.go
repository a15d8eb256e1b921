package ratelimit

import (
	"testing"
	"time"
)

func TestFailuresAreLimitedPerAddress(t *testing.T) {
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	l := New(Config{PerSecond: 0.5, Burst: 3, Now: func() time.Time { return now }})
	for i := range 3 {
		if _, blocked := l.Blocked("a"); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		l.Fail("a")
	}
	wait, blocked := l.Blocked("a")
	if !blocked || wait != 2*time.Second {
		t.Fatalf("after the burst: blocked=%v wait=%v, want true 2s", blocked, wait)
	}
	if _, blocked := l.Blocked("b"); blocked {
		t.Fatal("another address is blocked too")
	}
	now = now.Add(2 * time.Second)
	if _, blocked := l.Blocked("a"); blocked {
		t.Fatal("still blocked after the wait")
	}
}

func TestZeroRateTurnsLimitingOff(t *testing.T) {
	l := New(Config{})
	for range 100 {
		l.Fail("a")
	}
	if _, blocked := l.Blocked("a"); blocked {
		t.Fatal("blocked with limiting off")
	}
}

func TestAddressesAreBounded(t *testing.T) {
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	l := New(Config{PerSecond: 1, Burst: 5, MaxAddresses: 10, Now: func() time.Time { return now }})
	for i := range 100 {
		l.Fail(string(rune('A' + i)))
	}
	if got := len(l.buckets); got > 10 {
		t.Fatalf("%d buckets, want at most 10", got)
	}
}
