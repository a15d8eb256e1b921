package store

import (
	"sync"

	"github.com/apikeyd/apikeyd/impl/keys"
)

// The bounds of the caches' memory; a cache that reaches its bound starts
// over.
const (
	// maxCachedKeys bounds each key cache and the grants cache, in
	// entries.
	maxCachedKeys = 100_000
	// maxCachedListedKeys bounds the cache of guilds' key lists in keys
	// (a sealed key is about 250 bytes): about 25 MB, whatever the
	// guilds' limit of keys.
	maxCachedListedKeys = 100_000
)

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
	fresh func() bool
	// weigh is what an entry counts towards max; nil counts each as 1.
	weigh   func(V) int
	max     int
	mu      sync.Mutex
	gen     uint64 // counts invalidations
	entries map[string]V
	weight  int // of entries
	// seen holds what lookups found, as entries, but is never an answer:
	// a key in it authenticated in this process, so it is no guess (held).
	// Dropping every entry (forgetAll, when changes may have been
	// missed) keeps it; a change that removes an entry removes it here
	// too, and so does a lookup that finds it gone (forgetGone). It is
	// nil in a cache of answers that are no keys (answerCache).
	seen map[string]V
	// committed, when set, is the engine's driver.Changes.Committed: the
	// entries are dropped whenever its stamp moves from lastCommit, and
	// none is an answer while it cannot be read.
	committed  func() (uint64, bool)
	lastCommit uint64
}

func newKeyCache[V any](fresh func() bool) *keyCache[V] {
	return &keyCache[V]{fresh: fresh, max: maxCachedKeys, entries: map[string]V{}, seen: map[string]V{}}
}

// answerCache is a keyCache of what reads answered (grants, lists of
// keys) rather than of keys, so nothing is seen; weigh, when not nil, is
// what each entry counts towards max.
func answerCache[V any](fresh func() bool, max int, weigh func(V) int) *keyCache[V] {
	return &keyCache[V]{fresh: fresh, weigh: weigh, max: max, entries: map[string]V{}}
}

func (c *keyCache[V]) weightOf(v V) int {
	if c.weigh == nil {
		return 1
	}
	return c.weigh(v)
}

func (c *keyCache[V]) get(hash []byte) (V, bool) {
	var none V
	if !c.fresh() {
		return none, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.committed != nil {
		stamp, ok := c.committed()
		if !ok || stamp != c.lastCommit {
			// Something committed since the entries were read, or may
			// have: every put before now is suspect, and a lookup under
			// way puts nothing (gen).
			c.dropEntries()
			if ok {
				c.lastCommit = stamp
			}
			return none, false
		}
	}
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
	if c.seen != nil {
		if len(c.seen) >= c.max {
			c.seen = map[string]V{}
		}
		c.seen[string(hash)] = v
	}
	if gen != c.gen {
		return
	}
	if old, ok := c.entries[string(hash)]; ok {
		c.weight -= c.weightOf(old)
	}
	w := c.weightOf(v)
	if c.weight+w > c.max {
		c.entries, c.weight = map[string]V{}, 0
	}
	c.entries[string(hash)] = v
	c.weight += w
}

// forget drops one key.
func (c *keyCache[V]) forget(hash []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if old, ok := c.entries[string(hash)]; ok {
		c.weight -= c.weightOf(old)
		delete(c.entries, string(hash))
	}
	delete(c.seen, string(hash))
}

// forgetAll drops every key it could answer with; what was seen stays
// seen.
func (c *keyCache[V]) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropEntries()
}

// dropEntries drops every entry, and makes a lookup under way put
// nothing (gen); c.mu is held.
func (c *keyCache[V]) dropEntries() {
	c.gen++
	c.entries, c.weight = map[string]V{}, 0
}

// forgetWhere drops every key for which drop is true.
func (c *keyCache[V]) forgetWhere(drop func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, v := range c.entries {
		if drop(v) {
			c.weight -= c.weightOf(v)
			delete(c.entries, k)
		}
	}
	for k, v := range c.seen {
		if drop(v) {
			delete(c.seen, k)
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
