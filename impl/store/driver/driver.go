// Package driver is the seam between apikeyd's store and its database
// engines. The store (impl/store) holds every rule (sealing, limits,
// audit, caches) once, and reaches a database only through Engine; each
// engine (impl/store/sqlite, impl/store/postgres) runs the store's named
// queries with its own sqlc output, and owns what is its alone:
// connections, transactions, migrations, durability settings and which of
// its driver's errors are failures of the database.
//
// Engines import this package and never the store, so that the store's
// own tests can open a real engine.
package driver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Engine is one database engine opened and migrated. Its methods are
// safe for concurrent use.
type Engine interface {
	// Queries runs each statement on its own, outside any transaction.
	Queries() Queries
	// InTx runs fn in one transaction and commits it if fn returns nil.
	// Transactions are serialized with every other InTx and Write of
	// every process on the database, so that a read inside one still
	// holds when the same transaction writes (a limit counted, a session's
	// refresh token compared before it is swapped).
	InTx(ctx context.Context, fn func(Queries) error) error
	// Write runs fn as InTx does, but may commit it together with other
	// writes (SQLite's group commit shares one fsync among them); when fn
	// fails, nothing of it is committed, and the others are left alone.
	// It returns once the commit that holds fn is durable, or failed.
	Write(ctx context.Context, fn func(context.Context, Queries) error) error
	// Ready reports whether the engine can serve: its database is the one
	// it opened and answers.
	Ready(ctx context.Context) error
	// Changes tells the other processes on the database what this one
	// changed, and this one what they changed.
	Changes() Changes
	// Close waits for the commit under way and closes the database.
	Close() error
}

// ErrDatabase marks every error that the database, or the connection to
// it, returned: a failure of the server rather than of a request. Each
// engine wraps it around its driver's errors where it calls the driver, so
// that callers classify with errors.Is instead of reading driver messages.
var ErrDatabase = errors.New("database")

// ErrDatabaseFileGone: the database file was deleted, or another file
// put at its path, while this process had it open. Nothing it writes now
// would be found again: it writes nothing more, and is not ready. It
// comes wrapped in ErrDatabase.
var ErrDatabaseFileGone = errors.New("the database file was deleted or replaced under this process")

const migrationMarker = "-- migration "

// ParseMigrations splits a schema file (schema.sql, schema.postgres.sql)
// at its "-- migration N" lines, which must count up from 1.
func ParseMigrations(schema string) ([]string, error) {
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

// NewerSchema is the error of a database migrated further than this
// apikeyd knows.
func NewerSchema(current, known int) error {
	return fmt.Errorf("database schema version %d is newer than this apikeyd (%d): upgrade apikeyd", current, known)
}
