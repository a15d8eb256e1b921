package store

import "testing"

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
