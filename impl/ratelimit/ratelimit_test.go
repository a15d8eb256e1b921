package ratelimit

import (
	"net/http/httptest"
	"net/netip"
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
