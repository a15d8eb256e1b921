package store

import (
	"sync"

	"github.com/apikeyd/apikeyd/impl/keys"
)

// maxCachedKeys bounds the memory of a key cache; when full it starts over.
const maxCachedKeys = 100_000

// keyCache remembers what hot reads found (keys that authenticated, by
// hash; a guild's settings, by id), so that such a request costs no
// database read. Only what exists is kept: creating needs no invalidation.
// A change invalidates its entries before it is acknowledged, so the next
// request sees it.
//
// It is correct because every change that makes an entry stale (deleting
// keys, changing settings) goes through this process's Store. A store shared by several
// processes (PostgreSQL replicas) must invalidate on the database's
// change notifications (LISTEN/NOTIFY) instead.
type keyCache[V any] struct {
	mu      sync.Mutex
	gen     uint64 // counts invalidations
	entries map[string]V
}

func newKeyCache[V any]() *keyCache[V] {
	return &keyCache[V]{entries: map[string]V{}}
}

func (c *keyCache[V]) get(hash []byte) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.entries[string(hash)]
	return v, ok
}

// generation is read before a database lookup, and given to put after it.
func (c *keyCache[V]) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put remembers v unless an invalidation happened since gen was read: the
// lookup may then have read what that invalidation removed.
func (c *keyCache[V]) put(hash []byte, v V, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= maxCachedKeys {
		c.entries = map[string]V{}
	}
	c.entries[string(hash)] = v
}

// forget drops one key.
func (c *keyCache[V]) forget(hash []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, string(hash))
}

// forgetWhere drops every key for which drop is true.
func (c *keyCache[V]) forgetWhere(drop func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, v := range c.entries {
		if drop(v) {
			delete(c.entries, k)
		}
	}
}

// CachedGuildKey is the guild key token when the key cache holds it,
// without a database read. A caller that limits what it asks the database
// lets these through; GuildKeyByToken finds the others.
func (s *Store) CachedGuildKey(token string) (GuildKeyRef, bool) {
	return s.guildKeys.get(keys.Hash(token))
}

// CachedUserKeyOwner is whose key token is when the key cache holds it,
// without a database read; UserKeyOwner finds the others.
func (s *Store) CachedUserKeyOwner(token string) (string, bool) {
	return s.userKeys.get(keys.Hash(token))
}
