// Package store keeps apikeyd's data in SQLite (modernc.org/sqlite, pure
// Go). Keys are stored as a SHA-256 hash for lookup and a sealed copy for
// listings; nothing outside this package sees either.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apikeyd/apikeyd/gen/db"
	"github.com/apikeyd/apikeyd/impl/keys"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Config says where the database is and how to seal keys.
type Config struct {
	// Path is a file path, or ":memory:" for a database that lives as long
	// as the process.
	Path string
	// Schema is schema.sql: the migration log applied at open.
	Schema string
	Sealer *keys.Sealer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is apikeyd's storage. Its methods are safe for concurrent use.
type Store struct {
	db   *sql.DB
	q    *db.Queries
	file dbFile
	now  func() time.Time

	// sealing guards sealer. What seals a key holds it for reading until
	// the sealed key is committed, and what opens keys from the time it
	// reads them; Reseal holds it for writing while it reseals every key
	// and swaps the sealer, so that nothing is sealed under the old master
	// key after it, nor opened with the new one before it.
	sealing sync.RWMutex
	sealer  *keys.Sealer

	writes *groupCommit

	guildKeys *keyCache[GuildKeyRef]
	userKeys  *keyCache[string]        // key hash -> user name
	settings  *keyCache[GuildSettings] // guild id -> its settings
	systemKey systemKeyHashes
}

// Open opens (creating if needed) and migrates the database.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Sealer == nil {
		return nil, errors.New("open store: no sealer")
	}
	if err := createPrivate(cfg.Path); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	sqldb, err := sql.Open("sqlite", dsn(cfg.Path))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", dbError(err))
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
		return nil, fmt.Errorf("open store: %w", dbError(err))
	}
	file, err := openedFile(cfg.Path)
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := migrate(ctx, sqldb, file, cfg.Schema); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := checkMasterKey(ctx, db.New(sqldb), cfg.Sealer); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	q, err := db.Prepare(ctx, sqldb)
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open store: prepare queries: %w", dbError(err))
	}
	st := &Store{
		db: sqldb, q: q, file: file, sealer: cfg.Sealer, now: now, writes: newGroupCommit(sqldb, file, q),
		guildKeys: newKeyCache[GuildKeyRef](), userKeys: newKeyCache[string](),
		settings: newKeyCache[GuildSettings](),
	}
	if err := st.loadSystemKey(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
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
//     SQLITE_BUSY when it upgrades from reading to writing.
func dsn(path string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	if path == ":memory:" {
		return "file::memory:?" + q.Encode()
	}
	return "file:" + path + "?" + q.Encode()
}

// Close closes the database.
func (s *Store) Close() error {
	s.writes.close()
	return errors.Join(s.q.Close(), s.db.Close())
}

// Ready reports whether the store can serve: the path still leads to the
// database file it opened (else ErrDatabaseFileGone), and the database
// answers that its keys are sealed under this store's master key (else
// ErrMasterKeyRotated: it could open none of them).
func (s *Store) Ready(ctx context.Context) error {
	if err := s.file.check(); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	sealer, done := s.useSealer()
	defer done()
	if err := ourMasterKey(ctx, s.q, sealer); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	return nil
}

// migrate applies the sections of schema that the database has not seen.
func migrate(ctx context.Context, sqldb *sql.DB, file dbFile, schema string) error {
	steps, err := parseMigrations(schema)
	if err != nil {
		return err
	}
	var current int
	if err := sqldb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", dbError(err))
	}
	if current > len(steps) {
		return fmt.Errorf("database schema version %d is newer than this apikeyd (%d): upgrade apikeyd", current, len(steps))
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

const migrationMarker = "-- migration "

// parseMigrations splits schema.sql at its "-- migration N" lines, which
// must count up from 1.
func parseMigrations(schema string) ([]string, error) {
	var steps []string
	var cur *strings.Builder
	for line := range strings.Lines(schema) {
		if rest, ok := strings.CutPrefix(line, migrationMarker); ok {
			num, _, _ := strings.Cut(rest, ":")
			n, err := strconv.Atoi(strings.TrimSpace(num))
			if err != nil || n != len(steps)+1 {
				return nil, fmt.Errorf("schema: migration %q out of order, want %d", strings.TrimSpace(line), len(steps)+1)
			}
			steps = append(steps, "")
			cur = &strings.Builder{}
		}
		if cur != nil {
			cur.WriteString(line)
			steps[len(steps)-1] = cur.String()
		}
	}
	if len(steps) == 0 {
		return nil, errors.New("schema: no migrations")
	}
	return steps, nil
}

// inTx runs fn in a transaction and commits it if fn succeeds. Every
// transaction of the store goes through it; with _txlock=immediate it
// takes the write lock at once. The database file is checked on both
// sides of the commit: before, so that a change with nowhere to go is
// undone, and after, so that one whose file went during the commit is
// not acknowledged. A stat costs microseconds, the commit an fsync.
func inTx(ctx context.Context, sqldb *sql.DB, file dbFile, fn func(*sql.Tx) error) error {
	tx, err := sqldb.BeginTx(ctx, nil)
	if err != nil {
		return dbError(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := file.check(); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return dbError(err)
	}
	return file.check()
}

// inTx runs fn in a transaction of the store's database (see inTx).
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return inTx(ctx, s.db, s.file, fn)
}

// dbError marks an error that a call to database/sql returned as
// ErrDatabase. sql.ErrNoRows is an answer rather than a failure, and a
// context's error means that the caller gave up: both stay as they are.
func dbError(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrDatabase, err)
}
