package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// maxBatch bounds how many writes share one commit.
const maxBatch = 256

var errEngineClosed = errors.New("the database is closed")

// groupCommit runs the writes of concurrent requests in one transaction,
// so that they share one fsync. Each acknowledged write must be on disk
// (synchronous=FULL), and a commit per write makes every request wait for
// its own disk flush; while one commit is flushing, the writes that arrive
// queue up and go together in the next. A lone write is committed at once.
//
// A write that fails leaves the others alone: each runs inside a
// savepoint of its own, rolled back to if any of its statements fails, so
// that nothing of it is committed, and its caller gets its error. Every
// caller is answered only after the commit that holds its write.
type groupCommit struct {
	db    *sql.DB
	file  dbFile
	stmts *stmts
	queue chan *groupWrite
	stop  chan struct{}
	done  chan struct{}
}

type groupWrite struct {
	ctx    context.Context
	write  func(context.Context, driver.Queries) error
	result chan error
}

func newGroupCommit(sqldb *sql.DB, file dbFile, st *stmts) *groupCommit {
	g := &groupCommit{db: sqldb, file: file, stmts: st, queue: make(chan *groupWrite), stop: make(chan struct{}), done: make(chan struct{})}
	go g.run()
	return g
}

// do runs write in the next group commit and returns once it is on disk
// (or failed). If ctx ends first, do returns its error; the write may
// still be committed, unacknowledged.
func (g *groupCommit) do(ctx context.Context, write func(context.Context, driver.Queries) error) error {
	w := &groupWrite{ctx: ctx, write: write, result: make(chan error, 1)}
	select {
	case g.queue <- w:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stop:
		return errEngineClosed
	}
	select {
	case err := <-w.result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *groupCommit) run() {
	defer close(g.done)
	for {
		var batch []*groupWrite
		select {
		case w := <-g.queue:
			batch = append(batch, w)
		case <-g.stop:
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case w := <-g.queue:
				batch = append(batch, w)
			default:
				break gather
			}
		}
		g.commit(batch)
	}
}

func (g *groupCommit) commit(batch []*groupWrite) {
	results := make([]error, len(batch))
	ctx := context.Background()
	err := inTx(ctx, g.db, g.file, func(tx *sql.Tx) error {
		q := queries{g.stmts.inTx(tx), g.file}
		for i, w := range batch {
			if err := w.ctx.Err(); err != nil {
				results[i] = err // its caller has gone: write nothing
				continue
			}
			var err error
			if results[i], err = inSavepoint(ctx, tx, func() error { return w.write(w.ctx, q) }); err != nil {
				return err
			}
		}
		return nil
	})
	// Before the answers, so that a statement is prepared for the writes
	// its caller sends next (once for each statement).
	g.stmts.prepareMissed(ctx)
	for i, w := range batch {
		if err != nil {
			results[i] = fmt.Errorf("group commit: %w", err)
		}
		w.result <- results[i]
	}
}

// inSavepoint runs write inside a savepoint of tx, and undoes all of it if
// it fails: writeErr is write's error. err is set when the savepoint
// itself fails, as when SQLite has rolled back the whole transaction (on
// an I/O error, for one): then the transaction must not be committed.
func inSavepoint(ctx context.Context, tx *sql.Tx, write func() error) (writeErr, err error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT write"); err != nil {
		return nil, dbError(err)
	}
	if writeErr = write(); writeErr != nil {
		// ROLLBACK TO keeps the savepoint open; RELEASE ends it.
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO write; RELEASE write"); err != nil {
			return writeErr, dbError(err)
		}
		return writeErr, nil
	}
	if _, err := tx.ExecContext(ctx, "RELEASE write"); err != nil {
		return nil, dbError(err)
	}
	return nil, nil
}

// close waits for the commit under way and refuses further writes.
func (g *groupCommit) close() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	<-g.done
}
