// Package sqlite is the store's SQLite engine (modernc.org/sqlite, pure
// Go): its connections and their pragmas, its migrations (PRAGMA
// user_version), its group commit, the check that the database file is
// still the one it opened, and which of its errors are failures of the
// database.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"

	sqlitedb "github.com/apikeyd/apikeyd/gen/db/sqlite"
	"github.com/apikeyd/apikeyd/impl/store/driver"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Config says where the database is.
type Config struct {
	// Path is a file path, or ":memory:" for a database that lives as long
	// as the process.
	Path string
	// Schema is schema.sql: the migration log applied at open.
	Schema string
}

// Engine is an open, migrated SQLite database.
type Engine struct {
	db     *sql.DB
	stmts  *stmts
	q      *sqlitedb.Queries // outside any transaction
	file   dbFile
	writes *groupCommit
	wal    *walIndex // nil for ":memory:"
}

var _ driver.Engine = (*Engine)(nil)

// Open opens (creating if needed) and migrates the database.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if err := createPrivate(cfg.Path); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	sqldb, err := sql.Open("sqlite", dsn(cfg.Path))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", dbError(err))
	}
	// Connections are kept, not reopened: each carries its pragmas and its
	// prepared statements, and database/sql would otherwise close all but
	// two idle ones after every burst. Readers run in parallel under WAL;
	// writers queue on the write lock.
	conns := max(4, 2*runtime.GOMAXPROCS(0))
	if cfg.Path == ":memory:" {
		// Every connection to ":memory:" is a database of its own: keep one.
		conns = 1
	}
	sqldb.SetMaxOpenConns(conns)
	sqldb.SetMaxIdleConns(conns)
	sqldb.SetConnMaxIdleTime(0)
	sqldb.SetConnMaxLifetime(0)
	// The identity every later commit is checked against (dbFile) is that
	// of the file SQLite holds open, so it is read once a connection is.
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open sqlite: %w", dbError(err))
	}
	file, err := openedFile(cfg.Path)
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if err := migrate(ctx, sqldb, file, cfg.Schema); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	st := newStmts(sqldb)
	e := &Engine{db: sqldb, stmts: st, q: st.queries(), file: file}
	if cfg.Path != ":memory:" {
		// Opened once migrating has made it, and kept until Close.
		e.wal = openWALIndex(cfg.Path)
	}
	e.writes = newGroupCommit(sqldb, file, st)
	return e, nil
}

// dsn sets the pragmas on every connection the pool opens:
//   - busy_timeout first, so that even the other pragmas wait for a lock
//     held by another process (apikeyd guild-admin) instead of failing;
//   - WAL, so readers never block the writer or each other;
//   - synchronous(FULL): with WAL, NORMAL may lose the last commits on a
//     power cut, and an acknowledged key must survive one;
//   - foreign_keys, which SQLite leaves off by default;
//   - _txlock=immediate: a transaction takes the write lock when it begins,
//     so two writers queue on busy_timeout instead of one failing with
//     SQLITE_BUSY when it upgrades from reading to writing. It is also
//     what serializes transactions, as driver.Engine promises;
//   - mode=rw: the file exists (createPrivate made it), and a connection
//     the pool opens after it was deleted must not make an empty one.
func dsn(path string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	if path == ":memory:" {
		return "file::memory:?" + q.Encode()
	}
	q.Set("mode", "rw")
	return "file:" + path + "?" + q.Encode()
}

// Queries runs statements outside any transaction.
func (e *Engine) Queries() driver.Queries { return queries{e.q, e.file} }

// InTx runs fn in a transaction (see inTx).
func (e *Engine) InTx(ctx context.Context, fn func(driver.Queries) error) error {
	err := inTx(ctx, e.db, e.file, func(tx *sql.Tx) error { return fn(queries{e.stmts.inTx(tx), e.file}) })
	e.stmts.prepareMissed(ctx)
	return err
}

// Write runs fn in the next group commit.
func (e *Engine) Write(ctx context.Context, fn func(context.Context, driver.Queries) error) error {
	return e.writes.do(ctx, fn)
}

// Ready reports whether the path still leads to the database file that
// was opened (else driver.ErrDatabaseFileGone).
func (e *Engine) Ready(context.Context) error { return e.file.check() }

// Changes is driver.OneProcess, with the wal-index's stamp: one server
// holds a SQLite database (its file lock) and drops what it changes
// itself; apikeyd guild-admin writes beside it.
func (e *Engine) Changes() driver.Changes { return changes{wal: e.wal} }

// Close closes the database.
func (e *Engine) Close() error {
	e.writes.close()
	err := errors.Join(e.stmts.Close(), e.db.Close())
	if e.wal != nil {
		err = errors.Join(err, e.wal.close())
	}
	return err
}

// DB is the database itself, for tests that look beneath the store (a
// query plan, a file's bytes after a checkpoint).
func (e *Engine) DB() *sql.DB { return e.db }

// migrate applies the sections of schema that the database has not seen.
func migrate(ctx context.Context, sqldb *sql.DB, file dbFile, schema string) error {
	steps, err := driver.ParseMigrations(schema)
	if err != nil {
		return err
	}
	var current int
	if err := sqldb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", dbError(err))
	}
	if current > len(steps) {
		return driver.NewerSchema(current, len(steps))
	}
	for i := current; i < len(steps); i++ {
		if err := inTx(ctx, sqldb, file, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, steps[i]); err != nil {
				return dbError(err)
			}
			_, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(i+1))
			return dbError(err)
		}); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

// inTx runs fn in a transaction and commits it if fn succeeds. Every
// transaction of the engine goes through it; with _txlock=immediate it
// takes the write lock at once. The database file is checked on both
// sides of the commit: before, so that a change with nowhere to go is
// undone, and after, so that one whose file went during the commit is
// not acknowledged. A stat costs microseconds, the commit an fsync.
func inTx(ctx context.Context, sqldb *sql.DB, file dbFile, fn func(*sql.Tx) error) error {
	tx, err := sqldb.BeginTx(ctx, nil)
	if err != nil {
		return file.fail(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return file.explain(err)
	}
	if err := file.check(); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return file.fail(err)
	}
	return file.check()
}

// dbError marks an error that a call to database/sql returned as
// driver.ErrDatabase. sql.ErrNoRows is an answer rather than a failure,
// and a context's error means that the caller gave up: both stay as they
// are.
func dbError(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", driver.ErrDatabase, err)
}
