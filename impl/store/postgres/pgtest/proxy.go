package pgtest

import (
	"net"
	neturl "net/url"
	"sync"
	"testing"
	"time"
)

// Proxy forwards TCP connections to a PostgreSQL server, and can stop
// forwarding or drop them all: the database unreachable or down, for
// tests of what apikeyd answers then.
type Proxy struct {
	target string

	mu     sync.Mutex
	silent bool // connections stay open and say nothing
	down   bool // connections are refused
	conns  []net.Conn
}

// NewProxy starts a proxy to the database at url, closed when the test
// ends, and returns it with the URL that reaches the database through it.
func NewProxy(t testing.TB, url string) (p *Proxy, proxied string) {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p = &Proxy{target: u.Host}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(p.drop)
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *Proxy) serve(client net.Conn) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, client, server)
	p.mu.Unlock()
	go p.pipe(server, client)
	p.pipe(client, server)
}

// pipe copies from src to dst, holding back (not closing) while silent.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.isSilent() {
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			// One side gone, the other goes too, as PostgreSQL's
			// protocol has no half-closed connections: a backend whose
			// client closed must see it, or it holds its transaction
			// (and apikeyd's write lock) open.
			dst.Close()
			return
		}
	}
}

func (p *Proxy) isSilent() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.silent
}

// Silence stops forwarding: connections stay open and say nothing, and
// new ones are accepted and say nothing either.
func (p *Proxy) Silence() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent = true
}

// GoDown closes every connection and refuses new ones, as a database
// that went down.
func (p *Proxy) GoDown() {
	p.mu.Lock()
	p.down = true
	p.mu.Unlock()
	p.drop()
}

// drop closes every connection.
func (p *Proxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Restore forwards again; connections held back while silent are dropped,
// as a network that comes back after its peers gave up.
func (p *Proxy) Restore() {
	p.mu.Lock()
	silent := p.silent
	p.silent, p.down = false, false
	p.mu.Unlock()
	if silent {
		p.drop()
	}
}

// Outage is one way the proxy cuts the database off, started by Start
// and ended by Restore.
type Outage struct {
	Name  string
	Start func()
}

// Outages are the database unreachable (Silence) and down (GoDown).
func (p *Proxy) Outages() []Outage {
	return []Outage{{"silent", p.Silence}, {"down", p.GoDown}}
}
