// Package postgres is the store's PostgreSQL engine (pgx v5 and its pool):
// its migrations under an advisory lock, durability checked at open, every
// statement bounded in time, and which of its errors are failures of the
// database.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	pgdb "github.com/apikeyd/apikeyd/gen/db/postgres"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// DefaultTimeout bounds each statement and each transaction: a request
// that needs a database that is down or unreachable is answered (503)
// within 5 s, and never waits on a connection that does not answer.
const DefaultTimeout = 4 * time.Second

// The advisory locks apikeyd takes, all in one class ("apkd") of the
// database's advisory lock space.
const (
	// lockMigrations is held while migrations are read and applied, so
	// that servers starting together apply each once.
	lockMigrations int64 = 0x61706b64_00000001
	// lockWrites is taken by every transaction: apikeyd's transactions
	// are serialized, as on SQLite, so that what one reads still holds
	// when it writes (driver.Engine).
	lockWrites int64 = 0x61706b64_00000002
	// lockServer is held shared by every server on the database, and
	// exclusively by a command that must run alone (LockServer).
	lockServer int64 = 0x61706b64_00000003
)

// IsURL reports whether db names a PostgreSQL database rather than a
// SQLite file.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Config says which database to use.
type Config struct {
	// URL is a postgres:// or postgresql:// connection URL.
	URL string
	// Schema is schema.postgres.sql: the migration log applied at open.
	Schema string
	// Timeout bounds each statement and transaction; zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// Engine is an open, migrated PostgreSQL database.
type Engine struct {
	pool    *pgxpool.Pool
	gen     *pgdb.Queries
	timeout time.Duration
	changes *changeFeed
}

var _ driver.Engine = (*Engine)(nil)

// Open connects, refuses a server that would not keep acknowledged
// writes, and migrates the database.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// pgconn's error masks the URL's password.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if c := pcfg.ConnConfig.ConnectTimeout; c <= 0 || c > timeout {
		pcfg.ConnConfig.ConnectTimeout = timeout
	}
	// An acknowledged write must be on disk: set on every connection,
	// whatever the server, the database or the role says.
	pcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", dbError(ctx, err))
	}
	e := &Engine{pool: pool, gen: pgdb.New(pool), timeout: timeout, changes: newChangeFeed(pcfg.ConnConfig, timeout)}
	if err := e.checkDurable(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := e.migrate(ctx, cfg.Schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return e, nil
}

// errNotDurable is a server that may lose acknowledged writes.
var errNotDurable = errors.New("the PostgreSQL server may lose acknowledged writes")

// checkDurable refuses a server running with fsync off, which loses
// committed transactions on a crash, and makes sure synchronous_commit
// took.
func (e *Engine) checkDurable(ctx context.Context) error {
	for setting, want := range map[string]string{"fsync": "on", "synchronous_commit": "on"} {
		var got string
		if err := e.pool.QueryRow(ctx, "SELECT current_setting($1)", setting).Scan(&got); err != nil {
			return fmt.Errorf("read %s: %w", setting, dbError(ctx, err))
		}
		if got != want {
			return fmt.Errorf("%w: it runs with %s = %s; set it to %s", errNotDurable, setting, got, want)
		}
	}
	return nil
}

// migrate applies the sections of schema that the database has not seen,
// each in a transaction, holding lockMigrations throughout on a
// connection of its own.
func (e *Engine) migrate(ctx context.Context, schema string) error {
	steps, err := driver.ParseMigrations(schema)
	if err != nil {
		return err
	}
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", dbError(ctx, err))
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockMigrations); err != nil {
		return fmt.Errorf("migrate: %w", dbError(ctx, err))
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockMigrations)
	// The log of applied migrations, PostgreSQL's user_version.
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS apikeyd_schema (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", dbError(ctx, err))
	}
	var current int
	err = conn.QueryRow(ctx, "SELECT version FROM apikeyd_schema").Scan(&current)
	if errors.Is(err, pgx.ErrNoRows) {
		_, err = conn.Exec(ctx, "INSERT INTO apikeyd_schema (version) VALUES (0)")
	}
	if err != nil {
		return fmt.Errorf("read schema version: %w", dbError(ctx, err))
	}
	if current > len(steps) {
		return driver.NewerSchema(current, len(steps))
	}
	for i := current; i < len(steps); i++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, steps[i]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "UPDATE apikeyd_schema SET version = $1", i+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, dbError(ctx, err))
		}
	}
	return nil
}

// Queries runs statements outside any transaction, each bounded by the
// engine's timeout.
func (e *Engine) Queries() driver.Queries { return queries{gen: e.gen, timeout: e.timeout} }

// InTx runs fn in a transaction that takes lockWrites first, and commits
// it if fn succeeds; the whole transaction is bounded by the engine's
// timeout.
func (e *Engine) InTx(ctx context.Context, fn func(driver.Queries) error) error {
	deadline := time.Now().Add(e.timeout)
	bounded, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	tx, err := e.pool.Begin(bounded)
	if err != nil {
		return dbError(ctx, err)
	}
	// After a commit this does nothing.
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(bounded, "SELECT pg_advisory_xact_lock($1)", lockWrites); err != nil {
		return dbError(ctx, err)
	}
	if err := fn(queries{gen: e.gen.WithTx(tx), deadline: deadline, tx: tx}); err != nil {
		return err
	}
	return dbError(ctx, tx.Commit(bounded))
}

// Write runs fn in a transaction of its own: PostgreSQL shares the
// flushes of concurrent commits by itself.
func (e *Engine) Write(ctx context.Context, fn func(context.Context, driver.Queries) error) error {
	return e.InTx(ctx, func(q driver.Queries) error { return fn(ctx, q) })
}

// Ready reports whether the database answers.
func (e *Engine) Ready(ctx context.Context) error {
	bounded, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	return dbError(ctx, e.pool.Ping(bounded))
}

// Close closes every connection.
func (e *Engine) Close() error {
	e.pool.Close()
	return nil
}

// ErrServerLocked: another process holds the database's server lock in
// a mode that excludes the one asked for (LockServer).
var ErrServerLocked = errors.New("another apikeyd process holds the database's server lock")

// LockMode is how LockServer holds the server lock.
type LockMode bool

const (
	// LockShared is a server's: servers share a database, telling each
	// other of their changes (the change log).
	LockShared LockMode = false
	// LockExclusive is a command's that must run with no server beside
	// it (rotate-master-key, rotate-system-key).
	LockExclusive LockMode = true
)

// LockServer takes the server lock of the database at url in mode on a
// connection of its own and holds it until release; it fails at once
// with ErrServerLocked when the lock is held in a mode that excludes
// mode. If the connection breaks (the database restarted), the lock goes
// with it.
func LockServer(ctx context.Context, url string, mode LockMode) (release func() error, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("lock the database: %w", err)
	}
	if cfg.ConnectTimeout <= 0 || cfg.ConnectTimeout > DefaultTimeout {
		cfg.ConnectTimeout = DefaultTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("lock the database: %w", dbError(ctx, err))
	}
	try := "SELECT pg_try_advisory_lock_shared($1)"
	if mode == LockExclusive {
		try = "SELECT pg_try_advisory_lock($1)"
	}
	var locked bool
	if err := conn.QueryRow(ctx, try, lockServer).Scan(&locked); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("lock the database: %w", dbError(ctx, err))
	}
	if !locked {
		conn.Close(context.Background())
		return nil, ErrServerLocked
	}
	return func() error { return conn.Close(context.Background()) }, nil
}

// dbError marks an error that pgx returned as driver.ErrDatabase. No row
// is an answer rather than a failure (pgx.ErrNoRows is sql.ErrNoRows),
// and when the caller's context has ended the caller gave up; a statement
// that ran out of the engine's own time is a failure of the database.
func dbError(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) || ctx.Err() != nil {
		return err
	}
	return fmt.Errorf("%w: %w", driver.ErrDatabase, err)
}
