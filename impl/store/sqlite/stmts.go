package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	sqlitedb "github.com/apikeyd/apikeyd/gen/db/sqlite"
)

// stmts prepares each of sqlc's statements at its first use and keeps it
// until Close, where sqlc's Prepare would prepare all of them at open:
// each prepared statement holds SQLite memory on every connection it has
// run on, and most are never run by a server that stays idle. Once
// prepared, a statement runs as one Prepare made it would, and
// database/sql prepares it again on each further connection it runs on.
//
// sqlc's code calls it with the statement's text, which is a constant of
// gen/db/sqlite, so the text names the statement.
type stmts struct {
	db       *sql.DB
	mu       sync.Mutex // held while preparing, so that a text is prepared once
	prepared sync.Map   // text -> *sql.Stmt

	missedMu sync.Mutex
	missed   map[string]struct{} // texts first run in a transaction, to prepare after it
}

func newStmts(db *sql.DB) *stmts { return &stmts{db: db, missed: map[string]struct{}{}} }

// queries are sqlc's queries outside any transaction.
func (s *stmts) queries() *sqlitedb.Queries { return sqlitedb.New(s) }

// inTx are sqlc's queries in tx.
func (s *stmts) inTx(tx *sql.Tx) *sqlitedb.Queries { return sqlitedb.New(txStmts{s: s, tx: tx}) }

// stmt is the prepared statement of query, prepared now if it is not yet;
// nil if preparing it failed, for the caller to run query unprepared and
// get the reason. Preparing takes a connection of the pool, so it must
// not run inside a transaction: the transaction may hold the last one.
func (s *stmts) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := s.prepared.Load(query); ok {
		return st.(*sql.Stmt)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.prepared.Load(query); ok {
		return st.(*sql.Stmt)
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	s.prepared.Store(query, st)
	return st
}

// ranInTx notes that query ran unprepared in a transaction.
func (s *stmts) ranInTx(query string) {
	s.missedMu.Lock()
	s.missed[query] = struct{}{}
	s.missedMu.Unlock()
}

// prepareMissed prepares the statements that transactions ran unprepared:
// called once a transaction has given its connection back.
func (s *stmts) prepareMissed(ctx context.Context) {
	s.missedMu.Lock()
	if len(s.missed) == 0 {
		s.missedMu.Unlock()
		return
	}
	missed := s.missed
	s.missed = map[string]struct{}{}
	s.missedMu.Unlock()
	for query := range missed {
		s.stmt(ctx, query)
	}
}

// Close closes every statement prepared.
func (s *stmts) Close() error {
	var errs []error
	s.prepared.Range(func(_, st any) bool {
		if err := st.(*sql.Stmt).Close(); err != nil {
			errs = append(errs, fmt.Errorf("close statement: %w", err))
		}
		return true
	})
	return errors.Join(errs...)
}

func (s *stmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.db.ExecContext(ctx, query, args...)
}

func (s *stmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, query, args...)
}

func (s *stmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

func (s *stmts) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return s.db.PrepareContext(ctx, query)
}

// txStmts runs sqlc's statements in tx: those already prepared as such (on
// tx's connection, as sqlc's WithTx would), the others unprepared this once,
// to be prepared after the transaction.
type txStmts struct {
	s  *stmts
	tx *sql.Tx
}

func (t txStmts) prepared(query string) *sql.Stmt {
	if st, ok := t.s.prepared.Load(query); ok {
		return st.(*sql.Stmt)
	}
	t.s.ranInTx(query)
	return nil
}

func (t txStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.prepared(query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t txStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.prepared(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t txStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.prepared(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t txStmts) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, query)
}
