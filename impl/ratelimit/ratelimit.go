// Package ratelimit slows down guessing: each client address has a token
// bucket of failed authentications. A credential that only Discord or the
// database can judge takes a token before it is sent there, and gives it
// back if it proves valid: so at most the bucket's burst of one address's
// unproven credentials are in flight or failed at once, and while the
// bucket is empty such a credential gets 429 without being sent anywhere.
// Credentials answered from a cache or refused locally never wait for the
// bucket (a local refusal still empties it a little), so traffic that
// authenticates from a cache is never slowed.
package ratelimit

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Config sets how many credentials an address may have in flight or
// failed: Burst at once, then one more per 1/PerSecond seconds.
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

// Limiter tracks each client address's credentials in flight and failed.
type Limiter struct {
	cfg     Config
	mu      sync.Mutex
	buckets map[string]*bucket
}

// New returns a limiter; a zero PerSecond turns limiting off.
func New(cfg Config) *Limiter {
	if cfg.MaxAddresses == 0 {
		cfg.MaxAddresses = 100000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg, buckets: map[string]*bucket{}}
}

func (l *Limiter) enabled() bool { return l != nil && l.cfg.PerSecond > 0 }

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

// take takes one failure from addr's bucket, or says how long until the
// bucket holds one.
func (l *Limiter) take(addr string) (wait time.Duration, ok bool) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(addr, now)
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration(math.Ceil((1 - b.tokens) / l.cfg.PerSecond * float64(time.Second))), false
}

// charge takes one failure from addr's bucket if it holds one; an empty
// bucket stays empty.
func (l *Limiter) charge(addr string) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(addr, now)
	b.tokens = max(b.tokens-1, 0)
}

// giveBack returns a failure taken from addr's bucket.
func (l *Limiter) giveBack(addr string) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(addr, now)
	b.tokens = min(b.tokens+1, float64(l.cfg.Burst))
}

// bucketLocked is addr's bucket, refilled up to now; a new address starts
// with a full one. Called with mu held.
func (l *Limiter) bucketLocked(addr string, now time.Time) *bucket {
	b := l.buckets[addr]
	if b == nil {
		if len(l.buckets) >= l.cfg.MaxAddresses {
			l.forgetFull(now)
		}
		b = &bucket{tokens: float64(l.cfg.Burst), at: now}
		l.buckets[addr] = b
	}
	b.refill(now, l.cfg.PerSecond, l.cfg.Burst)
	return b
}

// bucket is a token bucket of failures: PerSecond tokens a second, up to
// Burst.
type bucket struct {
	tokens float64
	at     time.Time // when tokens was last refilled
}

func (b *bucket) refill(now time.Time, perSecond float64, burst int) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(b.tokens+elapsed.Seconds()*perSecond, float64(burst))
		b.at = now
	}
}

// forgetFull drops the buckets that have refilled: they hold no memory of
// failures worth keeping. Called with mu held.
func (l *Limiter) forgetFull(now time.Time) {
	for addr, b := range l.buckets {
		if b.refill(now, l.cfg.PerSecond, l.cfg.Burst); b.tokens >= float64(l.cfg.Burst) {
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
