package discord

import "crypto/sha256"

// CacheLen is the number of cached identities, for tests of the bound.
func CacheLen(c *Client) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cache)
}

// Waiters is how many callers wait on the in-flight request for token.
func Waiters(c *Client, token string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.inflight[tokenKey(sha256.Sum256([]byte(token)))]; ok {
		return cl.waiters
	}
	return 0
}

// LimitsHeld is how many limits l keeps.
func LimitsHeld(l *Limiter) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets) + len(l.shared)
}
