package ratelimit

import (
	"errors"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
)

// unproven is a check that sends its credential to be judged, which
// fails or not.
func unproven(failed bool) func(*Attempt) (bool, error) {
	return func(a *Attempt) (bool, error) {
		if err := a.Unproven(); err != nil {
			return false, err
		}
		return failed, nil
	}
}

// waitOf is the Retry-After of a 429, and whether err is one.
func waitOf(err error) (time.Duration, bool) {
	var e *apierr.Error
	if errors.As(err, &e) && e.Code == apierr.TooManyRequests {
		return e.RetryAfter, true
	}
	return 0, false
}

func TestFailuresAreLimitedPerAddress(t *testing.T) {
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	l := New(Config{PerSecond: 0.5, Burst: 3, Now: func() time.Time { return now }})
	for i := range 3 {
		if err := l.Guard("a", unproven(true)); err != nil {
			t.Fatalf("limited after %d failures: %v", i, err)
		}
	}
	wait, limited := waitOf(l.Guard("a", unproven(true)))
	if !limited || wait != 2*time.Second {
		t.Fatalf("after the burst: limited=%v wait=%v, want true 2s", limited, wait)
	}
	if err := l.Guard("b", unproven(true)); err != nil {
		t.Fatalf("another address is limited too: %v", err)
	}
	now = now.Add(2 * time.Second)
	if err := l.Guard("a", unproven(true)); err != nil {
		t.Fatalf("still limited after the wait: %v", err)
	}
}

// TestInFlightCredentialsHoldTheirPlace: a credential takes its place in
// the bucket before it is judged, so no more than the burst are judged at
// once; one that proves valid gives its place back.
func TestInFlightCredentialsHoldTheirPlace(t *testing.T) {
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	l := New(Config{PerSecond: 0.5, Burst: 2, Now: func() time.Time { return now }})
	first, second, third := &Attempt{limiter: l, addr: "a"}, &Attempt{limiter: l, addr: "a"}, &Attempt{limiter: l, addr: "a"}
	if first.Unproven() != nil || second.Unproven() != nil {
		t.Fatal("two in flight within a burst of two were limited")
	}
	if _, limited := waitOf(third.Unproven()); !limited {
		t.Fatal("a third in flight was not limited")
	}
	first.settle(false)
	second.settle(false)
	for i := range 10 {
		if err := l.Guard("a", unproven(false)); err != nil {
			t.Fatalf("valid credential %d after both gave their places back: %v", i, err)
		}
	}
}

// TestLocalFailuresAreChargedNotLimited: a failure decided without
// sending the credential anywhere is never answered 429, but it uses up
// the bucket for credentials that would be sent.
func TestLocalFailuresAreChargedNotLimited(t *testing.T) {
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	l := New(Config{PerSecond: 0.5, Burst: 3, Now: func() time.Time { return now }})
	local := func(*Attempt) (bool, error) { return true, nil }
	for i := range 10 {
		if err := l.Guard("a", local); err != nil {
			t.Fatalf("local failure %d: %v", i, err)
		}
	}
	if _, limited := waitOf(l.Guard("a", unproven(false))); !limited {
		t.Fatal("an unproven credential after local failures was not limited")
	}
}

func TestZeroRateTurnsLimitingOff(t *testing.T) {
	l := New(Config{})
	for range 100 {
		if err := l.Guard("a", unproven(true)); err != nil {
			t.Fatalf("limited with limiting off: %v", err)
		}
	}
}

func TestAddressesAreBounded(t *testing.T) {
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	l := New(Config{PerSecond: 1, Burst: 5, MaxAddresses: 10, Now: func() time.Time { return now }})
	for i := range 100 {
		_ = l.Guard(string(rune('A'+i)), unproven(true))
	}
	if got := len(l.buckets); got > 10 {
		t.Fatalf("%d buckets, want at most 10", got)
	}
}

func TestAddressTrustsOnlyTheConfiguredProxies(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	trusting := New(Config{PerSecond: 1, Burst: 1, TrustedProxies: proxies})
	plain := New(Config{PerSecond: 1, Burst: 1})
	cases := []struct {
		name, peer string
		xff        []string
		want       string // with the proxies trusted
		wantPlain  string // with none
	}{
		{"direct client", "203.0.113.7:5000", nil, "203.0.113.7", "203.0.113.7"},
		{"direct client naming another", "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7", "203.0.113.7"},
		{"through a proxy", "10.0.0.2:80", []string{"198.51.100.1"}, "198.51.100.1", "10.0.0.2"},
		{"a forged start is skipped", "10.0.0.2:80", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1", "10.0.0.2"},
		{"two proxies", "10.0.0.2:80", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1", "10.0.0.2"},
		{"two headers", "10.0.0.2:80", []string{"198.51.100.1", "10.9.9.9"}, "198.51.100.1", "10.0.0.2"},
		{"with ports", "10.0.0.2:80", []string{"198.51.100.1:4711"}, "198.51.100.1", "10.0.0.2"},
		{"proxy without header", "10.0.0.2:80", nil, "10.0.0.2", "10.0.0.2"},
		{"garbage entry", "10.0.0.2:80", []string{"198.51.100.1, nonsense"}, "10.0.0.2", "10.0.0.2"},
		{"only proxies", "10.0.0.2:80", []string{"10.1.1.1"}, "10.1.1.1", "10.0.0.2"},
		{"IPv6 counts as its /64", "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"IPv6 through a proxy", "[fd00::1]:443", []string{"[2001:db8::9]:1234"}, "2001:db8::/64", "fd00::/64"},
		{"IPv4-mapped peer", "[::ffff:203.0.113.7]:5000", nil, "203.0.113.7", "203.0.113.7"},
		{"no port", "203.0.113.7", nil, "203.0.113.7", "203.0.113.7"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := trusting.Address(r); got != c.want {
			t.Errorf("%s, proxies trusted: got %q, want %q", c.name, got, c.want)
		}
		if got := plain.Address(r); got != c.wantPlain {
			t.Errorf("%s, no proxy trusted: got %q, want %q", c.name, got, c.wantPlain)
		}
	}
}
