package v1

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/store/sqlite"
)

func openStore(t *testing.T) *store.Store {
	master := make([]byte, 32)
	rand.Read(master)
	sealer, err := keys.NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	// apptest.Schema would import this package: read the file directly.
	schema, err := os.ReadFile("../../schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	engine, err := sqlite.Open(context.Background(), sqlite.Config{Path: ":memory:", Schema: string(schema)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), engine, store.Config{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestKeyUseIsWrittenAtMostOncePerMinute: a key in constant use costs one
// write a minute, and a use shows after the next flush.
func TestKeyUseIsWrittenAtMostOncePerMinute(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	const guild snowflake.ID = 42
	key, err := st.CreateGuildKey(ctx, guild, store.Actor{UserID: 7}, 25)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	u := newUses(st, func() time.Time { return now }, nil, func() {})
	// Lookups may come from the store's cache, with a stale LastUse.
	lookup := func() store.GuildKeyRef {
		ref, err := st.GuildKeyByToken(ctx, key.Token)
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	stored := func() *time.Time {
		list, err := st.ListGuildKeys(ctx, guild)
		if err != nil {
			t.Fatal(err)
		}
		return list[0].LastUse
	}

	u.Record(lookup())
	u.Record(lookup()) // the same use, still queued
	if len(u.pending) != 1 {
		t.Fatalf("queued: %d, want 1", len(u.pending))
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stored(); got == nil || !got.Equal(now) {
		t.Fatalf("last use: got %v, want %v", got, now)
	}

	now = now.Add(59 * time.Second)
	u.Record(lookup())
	if len(u.pending) != 0 {
		t.Fatal("a use within the minute queued a write")
	}
	now = now.Add(time.Second)
	u.Record(lookup())
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stored(); !got.Equal(now) {
		t.Fatalf("last use after a minute: got %v, want %v", got, now)
	}
}

// TestRecordedUsesAreForgotten: the memory of recent uses holds the keys
// used in the last two minutes, however many keys were ever used.
func TestRecordedUsesAreForgotten(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	u := newUses(openStore(t), func() time.Time { return now }, nil, func() {})
	const perMinute = 100
	var id int64
	for minute := range 10 {
		for range perMinute {
			id++
			u.Record(store.GuildKeyRef{ID: id})
		}
		if err := u.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(u.recorded); n > 2*perMinute {
			t.Fatalf("minute %d: %d uses remembered, want at most %d", minute, n, 2*perMinute)
		}
		now = now.Add(useInterval)
	}
	// A key used again after its use was forgotten is written again.
	u.Record(store.GuildKeyRef{ID: 1})
	if _, ok := u.pending[1]; !ok {
		t.Fatal("a use after the interval queued no write")
	}
}
