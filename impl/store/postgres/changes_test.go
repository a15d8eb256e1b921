package postgres_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/store/postgres"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
	"github.com/apikeyd/apikeyd/impl/store/storetest"
)

// listeningStores opens n stores on the database at url, each on an
// engine of its own as replicas have, sealing under one master key, each
// listening for the others' changes until the test ends.
func listeningStores(t *testing.T, url string, n int) []*store.Store {
	t.Helper()
	engines := make([]*postgres.Engine, n)
	for i := range engines {
		engines[i] = open(t, url)
	}
	return listeningOn(t, engines...)
}

// listeningOn opens a store on each of engines, sealing under one master
// key, each listening for the others' changes until the test ends.
func listeningOn(t *testing.T, engines ...*postgres.Engine) []*store.Store {
	t.Helper()
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
	var stores []*store.Store
	for _, e := range engines {
		st, err := store.Open(ctx, e, store.Config{Sealer: sealer})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { st.Listen(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))) })
		stores = append(stores, st)
	}
	return stores
}

// cachedKeys creates n guild keys through writer and returns them once
// reader has them all cached.
func cachedKeys(t *testing.T, writer, reader *store.Store, n int) []store.GuildKey {
	t.Helper()
	ctx := context.Background()
	var created []store.GuildKey
	for range n {
		k, err := writer.CreateGuildKey(ctx, 7, store.APIKeyActor, 25)
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, k)
	}
	storetest.WaitFor(t, "the keys cached", 5*time.Second, func() bool {
		all := true
		for _, k := range created {
			if _, err := reader.GuildKeyByToken(ctx, k.Token); err != nil {
				t.Fatal(err)
			}
			_, cached := reader.CachedGuildKey(k.Token)
			all = all && cached
		}
		return all
	})
	return created
}

// TestADeletedKeyIsForgottenByEveryStore: a guild key that one store has
// cached is refused by it once another store deletes it, well within the
// second the revocation bound allows.
func TestADeletedKeyIsForgottenByEveryStore(t *testing.T) {
	stores := listeningStores(t, pgtest.NewDatabase(t), 2)
	writer, reader := stores[0], stores[1]
	ctx := context.Background()
	key, err := writer.CreateGuildKey(ctx, 7, store.APIKeyActor, 25)
	if err != nil {
		t.Fatal(err)
	}
	storetest.WaitFor(t, "the reader's caches trusted", 5*time.Second, func() bool {
		_, err := reader.GuildKeyByToken(ctx, key.Token)
		if err != nil {
			t.Fatal(err)
		}
		_, cached := reader.CachedGuildKey(key.Token)
		return cached
	})
	if _, err := writer.DeleteGuildKey(ctx, 7, store.APIKeyActor, key.Token); err != nil {
		t.Fatal(err)
	}
	took := storetest.WaitFor(t, "the deleted key forgotten by the reader", time.Second, func() bool {
		_, err := reader.GuildKeyByToken(ctx, key.Token)
		return errors.Is(err, store.ErrKeyNotFound)
	})
	t.Logf("the reader refused the deleted key %v after the delete was acknowledged", took)
}

// TestCachesReadThroughWithoutAHeartbeat: with the listening connection
// cut (pg_terminate_backend) and the new one unable to read the change
// log (locked), no heartbeat comes and the store reads through to the
// database: a key deleted behind the change log's back (as if its change
// were lost) is refused at once, and nothing cached is served, while a
// key that authenticated before still skips the failed authentications'
// limiter. Once the listener reads again its caches are trusted again,
// after it dropped what it held.
func TestCachesReadThroughWithoutAHeartbeat(t *testing.T) {
	url := pgtest.NewDatabase(t)
	st := listeningStores(t, url, 1)[0]
	ctx := context.Background()
	created := cachedKeys(t, st, st, 2)
	kept, gone := created[0], created[1]
	cached := func(token string) bool {
		_, ok := st.CachedGuildKey(token)
		return ok
	}

	// The change log locked, the listener's reads of it wait; its
	// connection cut, it connects again and waits there too: no
	// heartbeat until the lock goes.
	locker, err := connect(t, url).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := locker.Exec(ctx, "LOCK TABLE changes IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	var cut int
	err = connect(t, url).QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'apikeyd-listener' AND datname = current_database()`).Scan(&cut)
	if err != nil || cut != 1 {
		t.Fatalf("cut the listener: %d cut, %v", cut, err)
	}
	storetest.WaitFor(t, "the caches untrusted without a heartbeat", postgres.FreshFor+2*time.Second, func() bool {
		return !cached(kept.Token)
	})
	admin := connect(t, url)
	if _, err := admin.Exec(ctx, "DELETE FROM guild_keys WHERE key_hash = $1", keys.Hash(gone.Token)); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := st.GuildKeyByToken(ctx, gone.Token); !errors.Is(err, store.ErrKeyNotFound) {
			t.Fatalf("the key deleted while the listener was cut: %v, want ErrKeyNotFound", err)
		}
		if _, err := st.GuildKeyByToken(ctx, kept.Token); err != nil {
			t.Fatalf("the kept key: %v", err)
		}
		if cached(kept.Token) {
			t.Fatal("a cached key served without a heartbeat")
		}
		// Seen keys skip the failed authentications' limiter; a key
		// found gone is seen no more.
		if !st.SeenGuildKey(kept.Token) || st.SeenGuildKey(gone.Token) {
			t.Fatalf("seen: the kept key %v, the deleted one %v", st.SeenGuildKey(kept.Token), st.SeenGuildKey(gone.Token))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := locker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	refusedOnceTrusted(t, st, kept.Token, gone.Token)
}

// refusedOnceTrusted looks the guild key kept up through st until st has
// it cached (its caches are trusted again, after the listener was away),
// then checks that the key gone, deleted meanwhile with no change
// recorded, is refused.
func refusedOnceTrusted(t *testing.T, st *store.Store, kept, gone string) {
	t.Helper()
	ctx := context.Background()
	storetest.WaitFor(t, "the caches trusted again once the listener is back", 5*time.Second, func() bool {
		if _, err := st.GuildKeyByToken(ctx, kept); err != nil {
			t.Fatal(err)
		}
		_, cached := st.CachedGuildKey(kept)
		return cached
	})
	if _, err := st.GuildKeyByToken(ctx, gone); !errors.Is(err, store.ErrKeyNotFound) {
		t.Fatalf("the key deleted while the listener was away: %v, want ErrKeyNotFound", err)
	}
}

// deleteUncommitted deletes the guild key token in a transaction of its
// own, recording no change, and leaves it to the test to commit; it is
// rolled back when the test ends if not.
func deleteUncommitted(t *testing.T, url, token string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := connect(t, url).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, "DELETE FROM guild_keys WHERE key_hash = $1", keys.Hash(token)); err != nil {
		t.Fatal(err)
	}
	return tx
}

// TestAChangeThatCommitsLateIsNotMissed: a change takes its sequence
// number when it is written, so one can commit after a later one that
// the listener has read already. The listener re-reads a window behind
// its mark and drops what the late change made stale.
func TestAChangeThatCommitsLateIsNotMissed(t *testing.T) {
	url := pgtest.NewDatabase(t)
	stores := listeningStores(t, url, 2)
	writer, reader := stores[0], stores[1]
	ctx := context.Background()
	created := cachedKeys(t, writer, reader, 2)
	late, early := created[0], created[1]
	// The late transaction takes its sequence number first...
	tx := deleteUncommitted(t, url, late.Token)
	if _, err := tx.Exec(ctx, "INSERT INTO changes (kind, key) VALUES ('guild_key', $1)", keys.Hash(late.Token)); err != nil {
		t.Fatal(err)
	}
	// ...a later change commits and is read...
	if _, err := writer.DeleteGuildKey(ctx, 7, store.APIKeyActor, early.Token); err != nil {
		t.Fatal(err)
	}
	storetest.WaitFor(t, "the early delete read by the reader", time.Second, func() bool {
		_, cached := reader.CachedGuildKey(early.Token)
		return !cached
	})
	// ...and then the late one commits, below the mark.
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.WaitFor(t, "the late delete read by the reader", time.Second, func() bool {
		_, err := reader.GuildKeyByToken(ctx, late.Token)
		return errors.Is(err, store.ErrKeyNotFound)
	})
}

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
	ctx := context.Background()
	engine, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: postgresSchema(t), Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	st := listeningOn(t, engine)[0]
	created := cachedKeys(t, st, st, 2)
	key, probe := created[0], created[1]

	locker := deleteUncommitted(t, url, key.Token)
	if _, err := locker.Exec(ctx, "LOCK TABLE changes IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	// Nothing reads the key meanwhile: a read through to the database
	// would find it gone and drop it by itself.
	time.Sleep(6 * time.Second)
	if err := locker.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	refusedOnceTrusted(t, st, probe.Token, key.Token)
}
