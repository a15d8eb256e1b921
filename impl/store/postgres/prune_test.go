package postgres_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/store/postgres"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
	"github.com/apikeyd/apikeyd/impl/store/storetest"
)

// TestTheChangeLogIsPruned: a listener prunes the change log of the rows
// older than an hour, and keeps the others.
func TestTheChangeLogIsPruned(t *testing.T) {
	url := pgtest.NewDatabase(t)
	open(t, url) // migrated, and nobody listening yet
	admin := connect(t, url)
	ctx := context.Background()
	if _, err := admin.Exec(ctx, `INSERT INTO changes (recorded_at, kind, key) VALUES
		(now() - interval '2 hours', 'guild_key', 'old'),
		(now() - interval '61 minutes', 'guild_key', 'old'),
		(now() - interval '59 minutes', 'guild_key', 'recent')`); err != nil {
		t.Fatal(err)
	}
	count := func(key string) int {
		var n int
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM changes WHERE key = $1", []byte(key)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	listeningStores(t, url, 1)
	storetest.WaitFor(t, "the rows older than an hour pruned", 5*time.Second, func() bool { return count("old") == 0 })
	if n := count("recent"); n != 1 {
		t.Fatalf("%d rows of the last hour left, want 1", n)
	}
}

// TestAListenerAwayTooLongDropsAllCaches: a listener whose read of the
// change log took longer than its silence limit (5 s) may have missed a
// change that the window it re-reads (10 s) no longer holds, or that was
// pruned: it drops every cache. Here its read waits on a lock for 6 s,
// within the engine's timeout so that its connection holds, while a key
// it has cached is deleted with no change recorded; once the read returns,
// the key is refused.
func TestAListenerAwayTooLongDropsAllCaches(t *testing.T) {
	url := pgtest.NewDatabase(t)
	sealer, err := keys.NewSealer(keys.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	engine, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: postgresSchema(t), Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, engine, store.Config{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wg.Go(func() { st.Listen(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))) })
	created := cachedKeys(t, st, st, 2)
	key, probe := created[0], created[1]

	locker, err := connect(t, url).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Rollback(ctx)
	if _, err := locker.Exec(ctx, "LOCK TABLE changes IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	if _, err := locker.Exec(ctx, "DELETE FROM guild_keys WHERE key_hash = $1", keys.Hash(key.Token)); err != nil {
		t.Fatal(err)
	}
	// Nothing reads the key meanwhile: a read through to the database
	// would find it gone and drop it by itself.
	time.Sleep(6 * time.Second)
	if err := locker.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.WaitFor(t, "the caches trusted again once the listener has read", 5*time.Second, func() bool {
		if _, err := st.GuildKeyByToken(ctx, probe.Token); err != nil {
			t.Fatal(err)
		}
		_, cached := st.CachedGuildKey(probe.Token)
		return cached
	})
	if _, err := st.GuildKeyByToken(ctx, key.Token); !errors.Is(err, store.ErrKeyNotFound) {
		t.Fatalf("the key deleted while the listener was away: %v, want ErrKeyNotFound", err)
	}
}
