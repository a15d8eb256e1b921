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
// Changes made by other processes on the database (PostgreSQL replicas)
// arrive through the engine's driver.Changes (Store.Listen), which drops
// the entries they made stale; while it cannot say that every change has
// arrived (Changes.Fresh), the cache answers nothing and reads go to the
// database.
type keyCache[V any] struct {
	fresh   func() bool
	mu      sync.Mutex
	gen     uint64 // counts invalidations
	entries map[string]V
	// seen holds what lookups found, as entries, but is never an answer:
	// a key in it authenticated in this process, so it is no guess (held).
	// Dropping every entry (forgetAll, when changes may have been
	// missed) keeps it; a change that removes an entry removes it here
	// too, and so does a lookup that finds it gone (forgetGone).
	seen map[string]V
}

func newKeyCache[V any](fresh func() bool) *keyCache[V] {
	return &keyCache[V]{fresh: fresh, entries: map[string]V{}, seen: map[string]V{}}
}

func (c *keyCache[V]) get(hash []byte) (V, bool) {
	if !c.fresh() {
		var none V
		return none, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.entries[string(hash)]
	return v, ok
}

// held reports whether a lookup found hash, and no change or lookup
// since said it is gone.
func (c *keyCache[V]) held(hash []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.seen[string(hash)]
	return ok
}

// forgetGone drops hash, which the database says is gone, if the cache
// still holds it (its change unheard, or dropped by forgetAll).
func (c *keyCache[V]) forgetGone(hash []byte) {
	if c.held(hash) {
		c.forget(hash)
	}
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
	if len(c.seen) >= maxCachedKeys {
		c.seen = map[string]V{}
	}
	c.seen[string(hash)] = v
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
	delete(c.seen, string(hash))
}

// forgetAll drops every key it could answer with; what was seen stays
// seen.
func (c *keyCache[V]) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries = map[string]V{}
}

// forgetWhere drops every key for which drop is true.
func (c *keyCache[V]) forgetWhere(drop func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, m := range []map[string]V{c.entries, c.seen} {
		for k, v := range m {
			if drop(v) {
				delete(m, k)
			}
		}
	}
}

// CachedGuildKey is the guild key token when the key cache holds it,
// without a database read. A caller that limits what it asks the database
// lets these through; GuildKeyByToken finds the others.
func (s *Store) CachedGuildKey(token string) (GuildKeyRef, bool) {
	return s.guildKeys.get(keys.Hash(token))
}

// SeenGuildKey reports whether token authenticated in this process and
// was not found gone since, whether or not the cache can answer for it
// now: it is no guess, and its lookup need not wait for the failed
// authentications' limiter, though it is looked up when CachedGuildKey
// cannot answer.
func (s *Store) SeenGuildKey(token string) bool { return s.guildKeys.held(keys.Hash(token)) }

// SeenUserKey is SeenGuildKey for user keys (the System key among them).
func (s *Store) SeenUserKey(token string) bool { return s.userKeys.held(keys.Hash(token)) }

// CachedUserKeyOwner is whose key token is when the key cache holds it,
// without a database read; UserKeyOwner finds the others.
func (s *Store) CachedUserKeyOwner(token string) (string, bool) {
	return s.userKeys.get(keys.Hash(token))
}
