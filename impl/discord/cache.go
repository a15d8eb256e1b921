package discord

import (
	"container/list"
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// tokenKey is SHA-256 of a token: the only form in which a token is kept.
type tokenKey [sha256.Size]byte

func keyOf(token string) tokenKey { return tokenKey(sha256.Sum256([]byte(token))) }

// tokenCache holds one kind of Discord answer (an identity, a guild list)
// per token for a while, and lets the callers asking about the same token
// at the same time share one request. It is bounded, so that a flood of
// distinct tokens cannot exhaust memory, and never holds a failure.
type tokenCache[V any] struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu       sync.Mutex
	entries  map[tokenKey]*list.Element // values are *entry[V]
	order    *list.List                 // entries, oldest insertion first
	inflight map[tokenKey]*call[V]
}

type entry[V any] struct {
	key     tokenKey
	value   V
	expires time.Time
}

// call is one upstream request shared by every caller asking about the same
// token while it runs. done is closed once value/err are set.
type call[V any] struct {
	done    chan struct{}
	value   V
	err     error
	waiters int                // callers still waiting; guarded by tokenCache.mu
	cancel  context.CancelFunc // stops the request when no one waits
	forget  bool               // forget ran meanwhile: do not cache the result
}

func newTokenCache[V any](ttl time.Duration, max int, now func() time.Time) *tokenCache[V] {
	return &tokenCache[V]{
		ttl:      ttl,
		max:      max,
		now:      now,
		entries:  make(map[tokenKey]*list.Element),
		order:    list.New(),
		inflight: make(map[tokenKey]*call[V]),
	}
}

// get returns the cached answer for key, or else the answer of fetch, run
// once for every caller waiting on key meanwhile. If ctx ends first,
// ctx.Err() is returned unwrapped; fetch goes on for any other caller, and
// is cancelled once no caller waits.
func (tc *tokenCache[V]) get(ctx context.Context, key tokenKey, fetch func(context.Context) (V, error)) (V, error) {
	var zero V
	tc.mu.Lock()
	if v, ok := tc.lookupLocked(key); ok {
		tc.mu.Unlock()
		return v, nil
	}
	if err := ctx.Err(); err != nil {
		tc.mu.Unlock()
		return zero, err
	}
	cl, ok := tc.inflight[key]
	if !ok {
		// Detached from ctx: the first caller leaving must not fail the
		// others. Values (e.g. trace ids) are kept.
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cl = &call[V]{done: make(chan struct{}), cancel: cancel}
		tc.inflight[key] = cl
		go tc.run(fctx, key, fetch, cl)
	}
	cl.waiters++
	tc.mu.Unlock()

	select {
	case <-cl.done:
		return cl.value, cl.err
	case <-ctx.Done():
		tc.mu.Lock()
		cl.waiters--
		if cl.waiters == 0 {
			// No one wants the answer any more: stop asking Discord, and let
			// the next caller start afresh rather than join a dying call.
			cl.cancel()
			if tc.inflight[key] == cl {
				delete(tc.inflight, key)
			}
		}
		tc.mu.Unlock()
		return zero, ctx.Err()
	}
}

// run performs the upstream request for cl and publishes its result.
func (tc *tokenCache[V]) run(ctx context.Context, key tokenKey, fetch func(context.Context) (V, error), cl *call[V]) {
	defer cl.cancel()
	v, err := fetch(ctx)

	tc.mu.Lock()
	if tc.inflight[key] == cl {
		delete(tc.inflight, key)
	}
	if err == nil && !cl.forget {
		tc.storeLocked(key, v)
	}
	cl.value, cl.err = v, err
	close(cl.done)
	tc.mu.Unlock()
}

// cached is the answer for key when the cache holds one.
func (tc *tokenCache[V]) cached(key tokenKey) (V, bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.lookupLocked(key)
}

// forget drops the answer for key; a request for it already in flight is
// not cached either.
func (tc *tokenCache[V]) forget(key tokenKey) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if el, ok := tc.entries[key]; ok {
		tc.removeLocked(el)
	}
	if cl, ok := tc.inflight[key]; ok {
		cl.forget = true
	}
}

func (tc *tokenCache[V]) len() int {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return len(tc.entries)
}

func (tc *tokenCache[V]) waiters(key tokenKey) int {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if cl, ok := tc.inflight[key]; ok {
		return cl.waiters
	}
	return 0
}

// lookupLocked returns a cached, unexpired answer; an expired one is
// dropped on the way.
func (tc *tokenCache[V]) lookupLocked(key tokenKey) (V, bool) {
	el, ok := tc.entries[key]
	if !ok {
		var zero V
		return zero, false
	}
	e := el.Value.(*entry[V])
	if !tc.now().Before(e.expires) {
		tc.removeLocked(el)
		var zero V
		return zero, false
	}
	return e.value, true
}

// storeLocked caches an answer, keeping the cache within max entries:
// expired entries go first, then the oldest ones. With one TTL for all
// entries, insertion order is expiry order, so both are found at the front.
func (tc *tokenCache[V]) storeLocked(key tokenKey, v V) {
	now := tc.now()
	if el, ok := tc.entries[key]; ok {
		tc.removeLocked(el)
	}
	for el := tc.order.Front(); el != nil; el = tc.order.Front() {
		if now.Before(el.Value.(*entry[V]).expires) {
			break
		}
		tc.removeLocked(el)
	}
	for tc.order.Len() >= tc.max {
		tc.removeLocked(tc.order.Front())
	}
	tc.entries[key] = tc.order.PushBack(&entry[V]{key: key, value: v, expires: now.Add(tc.ttl)})
}

func (tc *tokenCache[V]) removeLocked(el *list.Element) {
	delete(tc.entries, el.Value.(*entry[V]).key)
	tc.order.Remove(el)
}
