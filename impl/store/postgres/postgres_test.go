package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/store/driver"
	"github.com/apikeyd/apikeyd/impl/store/postgres"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

func open(t *testing.T, url string) *postgres.Engine {
	t.Helper()
	e, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: postgresSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestServersStartingTogetherMigrateOnce: engines opening a new database
// at once apply each migration once (the advisory lock), and all open.
func TestServersStartingTogetherMigrateOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			e, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: postgresSchema(t)})
			if err == nil {
				e.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("server %d: %v", i, err)
		}
	}
	conn := connect(t, url)
	var version int
	if err := conn.QueryRow(context.Background(), "SELECT version FROM apikeyd_schema").Scan(&version); err != nil {
		t.Fatal(err)
	}
	steps, _ := driver.ParseMigrations(postgresSchema(t))
	if version != len(steps) {
		t.Fatalf("schema version %d, want %d", version, len(steps))
	}
}

// TestServersShareTheDatabaseAndCommandsHoldItAlone: servers hold the
// server lock together; a command that must run alone is refused while
// one does, and a server while the command holds it.
func TestServersShareTheDatabaseAndCommandsHoldItAlone(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	first, err := postgres.LockServer(ctx, url, postgres.LockShared)
	if err != nil {
		t.Fatal(err)
	}
	second, err := postgres.LockServer(ctx, url, postgres.LockShared)
	if err != nil {
		t.Fatalf("a second server: %v", err)
	}
	if _, err := postgres.LockServer(ctx, url, postgres.LockExclusive); !errors.Is(err, postgres.ErrServerLocked) {
		t.Fatalf("a command beside servers: %v, want ErrServerLocked", err)
	}
	for _, release := range []func() error{first, second} {
		if err := release(); err != nil {
			t.Fatal(err)
		}
	}
	alone, err := postgres.LockServer(ctx, url, postgres.LockExclusive)
	if err != nil {
		t.Fatalf("a command once the servers are gone: %v", err)
	}
	defer alone()
	for _, mode := range []postgres.LockMode{postgres.LockShared, postgres.LockExclusive} {
		if _, err := postgres.LockServer(ctx, url, mode); !errors.Is(err, postgres.ErrServerLocked) {
			t.Fatalf("beside a command (exclusive %v): %v, want ErrServerLocked", mode, err)
		}
	}
}

// TestADatabaseThatDoesNotAnswerFailsInTime: behind a proxy that stops
// forwarding (the database unreachable, its connections open but
// silent) or drops every connection (the database down), reads, writes
// and readiness fail with ErrDatabase within the engine's timeout, never
// hanging; once the database answers again the store serves by itself.
func TestADatabaseThatDoesNotAnswerFailsInTime(t *testing.T) {
	url := pgtest.NewDatabase(t)
	p, proxied := pgtest.NewProxy(t, url)
	const timeout = 2 * time.Second
	e, err := postgres.Open(context.Background(), postgres.Config{URL: proxied, Schema: postgresSchema(t), Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := keys.NewSealer(keys.NewMasterKey())
	st, err := store.Open(context.Background(), e, store.Config{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	token, err := st.CreateUserKey(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"Ready":          func() error { return st.Ready(ctx) },
		"CreateUserKey":  func() error { _, err := st.CreateUserKey(ctx, "bob", ""); return err },
		"ListUserKeys":   func() error { _, err := st.ListUserKeys(ctx, "alice"); return err },
		"CreateGuildKey": func() error { _, err := st.CreateGuildKey(ctx, 1, store.APIKeyActor, 25); return err },
	}
	for _, outage := range p.Outages() {
		t.Run(outage.Name, func(t *testing.T) {
			outage.Start()
			for name, call := range calls {
				began := time.Now()
				err := call()
				if took := time.Since(began); took > timeout+time.Second {
					t.Errorf("%s took %v, want at most %v", name, took, timeout)
				}
				if !errors.Is(err, store.ErrDatabase) {
					t.Errorf("%s: %v, want ErrDatabase", name, err)
				}
			}
			p.Restore()
			deadline := time.Now().Add(10 * time.Second)
			for st.Ready(ctx) != nil {
				if time.Now().After(deadline) {
					t.Fatalf("not ready again after the outage: %v", st.Ready(ctx))
				}
				time.Sleep(50 * time.Millisecond)
			}
			if owner, err := st.UserKeyOwner(ctx, token); err != nil || owner != "alice" {
				t.Fatalf("after the outage: %q, %v", owner, err)
			}
			if _, err := st.CreateUserKey(ctx, "carol", ""); err != nil {
				t.Fatalf("write after the outage: %v", err)
			}
		})
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
