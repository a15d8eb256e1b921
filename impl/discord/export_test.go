package discord

// CacheLen is the number of cached identities, for tests of the bound.
func CacheLen(c *Client) int { return c.identities.len() }

// GuildCacheLen is the number of cached guild lists.
func GuildCacheLen(c *Client) int { return c.guilds.len() }

// Waiters is how many callers wait on the in-flight identity request for
// token.
func Waiters(c *Client, token string) int { return c.identities.waiters(keyOf(token)) }

// LimitsHeld is how many limits l keeps.
func LimitsHeld(l *Limiter) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets) + len(l.shared)
}
