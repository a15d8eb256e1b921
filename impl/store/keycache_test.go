package store

import (
	"context"
	"testing"
)

// A lookup that read the database before an invalidation must not put
// back what the invalidation removed.
func TestKeyCacheRefusesAStaleFill(t *testing.T) {
	c := newKeyCache[string](alwaysFresh)
	h := []byte("hash")
	gen := c.generation() // a lookup starts and reads the key
	c.forget(h)           // meanwhile the key is deleted
	c.put(h, "alice", gen)
	if _, ok := c.get(h); ok {
		t.Fatal("a stale lookup filled the cache")
	}
	c.put(h, "alice", c.generation())
	if got, ok := c.get(h); !ok || got != "alice" {
		t.Fatalf("got %q %v", got, ok)
	}
	c.forgetWhere(func(user string) bool { return user == "alice" })
	if _, ok := c.get(h); ok {
		t.Fatal("forgetWhere kept the key")
	}
}

func TestKeyCacheIsBounded(t *testing.T) {
	c := newKeyCache[int](alwaysFresh)
	for i := range maxCachedKeys + 10 {
		c.put([]byte{byte(i), byte(i >> 8), byte(i >> 16)}, i, c.generation())
	}
	if len(c.entries) > maxCachedKeys {
		t.Fatalf("%d entries", len(c.entries))
	}
}

// TestAnswerCacheIsBoundedByWeight: a cache of lists counts their
// lengths towards its bound, however few the lists.
func TestAnswerCacheIsBoundedByWeight(t *testing.T) {
	const bound = 100
	c := answerCache(alwaysFresh, bound, func(l []int) int { return len(l) })
	for i := range 30 {
		c.put([]byte{byte(i)}, make([]int, 7), c.generation())
		held := 0
		for _, l := range c.entries {
			held += len(l)
		}
		if held > bound || held != c.weight {
			t.Fatalf("after %d lists: %d held, weight %d, bound %d", i+1, held, c.weight, bound)
		}
	}
	c.forget([]byte{29})
	c.forgetWhere(func(l []int) bool { return true })
	if c.weight != 0 || len(c.entries) != 0 {
		t.Fatalf("emptied: weight %d, %d entries", c.weight, len(c.entries))
	}
}

// TestCachedLookupsReadNoDatabase: the Cached lookups know a key once a
// lookup found it, and forget it when it is deleted; they never read the
// database themselves.
func TestCachedLookupsReadNoDatabase(t *testing.T) {
	ctx := context.Background()
	st := openReal(t, ":memory:")
	guildKey, err := st.CreateGuildKey(ctx, 42, Actor{UserID: 7}, 25)
	if err != nil {
		t.Fatal(err)
	}
	userKey, err := st.CreateUserKey(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.CachedGuildKey(guildKey.Token); ok {
		t.Fatal("a guild key never looked up is cached")
	}
	if _, ok := st.CachedUserKeyOwner(userKey); ok {
		t.Fatal("a user key never looked up is cached")
	}
	if _, err := st.GuildKeyByToken(ctx, guildKey.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UserKeyOwner(ctx, userKey); err != nil {
		t.Fatal(err)
	}
	if ref, ok := st.CachedGuildKey(guildKey.Token); !ok || ref.GuildID != 42 {
		t.Fatalf("CachedGuildKey after a lookup: %+v, %v", ref, ok)
	}
	if owner, ok := st.CachedUserKeyOwner(userKey); !ok || owner != "alice" {
		t.Fatalf("CachedUserKeyOwner after a lookup: %q, %v", owner, ok)
	}
	if _, err := st.DeleteGuildKey(ctx, 42, Actor{UserID: 7}, guildKey.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeleteUserKeys(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.CachedGuildKey(guildKey.Token); ok {
		t.Fatal("a deleted guild key is still cached")
	}
	if _, ok := st.CachedUserKeyOwner(userKey); ok {
		t.Fatal("a deleted user key is still cached")
	}
}

// alwaysFresh is the freshness of a cache whose change log is always
// read up to date.
func alwaysFresh() bool { return true }

// TestWhatWasSeenOutlivesForgetAll: dropping every entry, when changes
// may have been missed, leaves the keys seen (no guesses to the limiter)
// but answers none of them; a change that removes a key, or a lookup
// that finds it gone, makes it unseen.
func TestWhatWasSeenOutlivesForgetAll(t *testing.T) {
	c := newKeyCache[string](alwaysFresh)
	alice, bob := []byte("alice's key"), []byte("bob's key")
	c.put(alice, "alice", c.generation())
	c.put(bob, "bob", c.generation())
	c.forgetAll()
	for _, k := range [][]byte{alice, bob} {
		if _, ok := c.get(k); ok {
			t.Errorf("%s answered after forgetAll", k)
		}
		if !c.held(k) {
			t.Errorf("%s not seen after forgetAll", k)
		}
	}
	c.forgetWhere(func(owner string) bool { return owner == "alice" })
	c.forgetGone(bob)
	for _, k := range [][]byte{alice, bob} {
		if c.held(k) {
			t.Errorf("%s still seen once removed", k)
		}
	}
}
