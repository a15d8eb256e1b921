// Package ratelimit slows down guessing: each client address has a token
// bucket that only failed authentications draw from. While it is empty the
// address gets 429 before its credentials are even looked at; traffic that
// authenticates never touches the bucket, so it is never slowed.
package ratelimit

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config sets how many failures an address may make: Burst at once, then
// one per 1/PerSecond seconds.
type Config struct {
	PerSecond float64
	Burst     int
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client (see Address); none by default, since anyone can send the
	// header.
	TrustedProxies []netip.Prefix
	// MaxAddresses bounds memory; 0 means 100000.
	MaxAddresses int
	Now          func() time.Time // nil means time.Now
}

// Limiter tracks failed authentications per client address.
type Limiter struct {
	cfg     Config
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// New returns a limiter; a zero PerSecond turns limiting off.
func New(cfg Config) *Limiter {
	if cfg.MaxAddresses == 0 {
		cfg.MaxAddresses = 100000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg, buckets: map[string]*rate.Limiter{}}
}

// Address is the client address a request is counted under: the peer's
// IP, unless the peer is one of Config.TrustedProxies. Then it is the
// nearest address in X-Forwarded-For that is not a trusted proxy: a client
// can write anything at the start of that header, but not after what the
// proxies append to it. An IPv6 address counts as its /64, the block one
// client usually holds.
func (l *Limiter) Address(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr := peer.Unmap().WithZone("")
	if l != nil && l.trusted(addr) {
		addr = l.forwardedClient(addr, r.Header.Values("X-Forwarded-For"))
	}
	if addr.Is4() && addr == peer {
		return host // no allocation for the common case
	}
	if addr.Is6() {
		return netip.PrefixFrom(addr, 64).Masked().String()
	}
	return addr.String()
}

func (l *Limiter) trusted(addr netip.Addr) bool {
	for _, p := range l.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// forwardedClient walks X-Forwarded-For from its end while the hop that
// added each entry is trusted, and stops at the first address that is not
// a trusted proxy, or at an entry that is no address.
func (l *Limiter) forwardedClient(peer netip.Addr, headers []string) netip.Addr {
	var hops []string
	for _, h := range headers {
		hops = append(hops, strings.Split(h, ",")...)
	}
	addr := peer
	for i := len(hops) - 1; i >= 0 && l.trusted(addr); i-- {
		next, ok := parseHop(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		addr = next
	}
	return addr
}

// parseHop reads one X-Forwarded-For entry: an IP, possibly with a port
// (IPv6 then in brackets).
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// Blocked reports whether addr has used up its failures, and for how long
// it must wait for the next one.
func (l *Limiter) Blocked(addr string) (time.Duration, bool) {
	if l == nil || l.cfg.PerSecond <= 0 {
		return 0, false
	}
	l.mu.Lock()
	b := l.buckets[addr]
	l.mu.Unlock()
	if b == nil {
		return 0, false
	}
	tokens := b.TokensAt(l.cfg.Now())
	if tokens >= 1 {
		return 0, false
	}
	wait := time.Duration(math.Ceil((1 - tokens) / l.cfg.PerSecond * float64(time.Second)))
	return wait, true
}

// Fail records a failed authentication from addr.
func (l *Limiter) Fail(addr string) {
	if l == nil || l.cfg.PerSecond <= 0 {
		return
	}
	now := l.cfg.Now()
	l.mu.Lock()
	b := l.buckets[addr]
	if b == nil {
		if len(l.buckets) >= l.cfg.MaxAddresses {
			l.forgetFull(now)
		}
		b = rate.NewLimiter(rate.Limit(l.cfg.PerSecond), l.cfg.Burst)
		l.buckets[addr] = b
	}
	l.mu.Unlock()
	b.AllowN(now, 1)
}

// forgetFull drops the buckets that have refilled: they hold no memory of
// failures worth keeping. Called with mu held.
func (l *Limiter) forgetFull(now time.Time) {
	for addr, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.cfg.Burst) {
			delete(l.buckets, addr)
		}
	}
	// Under a flood of addresses, forget arbitrary ones rather than grow.
	for addr := range l.buckets {
		if len(l.buckets) < l.cfg.MaxAddresses {
			break
		}
		delete(l.buckets, addr)
	}
}
