package store

import (
	"context"
	"testing"
)

// A lookup that read the database before an invalidation must not put
// back what the invalidation removed.
func TestKeyCacheRefusesAStaleFill(t *testing.T) {
	c := newKeyCache[string]()
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
	c := newKeyCache[int]()
	for i := range maxCachedKeys + 10 {
		c.put([]byte{byte(i), byte(i >> 8), byte(i >> 16)}, i, c.generation())
	}
	if len(c.entries) > maxCachedKeys {
		t.Fatalf("%d entries", len(c.entries))
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
