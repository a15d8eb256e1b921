package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/apikeyd/apikeyd/gen/db/pgchanges"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// The change feed's timing. A change committed by one server reaches the
// others at once by NOTIFY; should a notification be lost, the next
// heartbeat reads it; should the listening connection fail, go silent or
// be cut, its heartbeat ages and within FreshFor every cache reads
// through to the database. So no server serves a change older than
// FreshFor from its caches: the revocation bound.
const (
	// changesChannel is the channel RecordChange notifies.
	changesChannel = "apikeyd_changes"
	// heartbeat is how long the listener waits for a notification
	// before it reads the change log anyway.
	heartbeat = 100 * time.Millisecond
	// FreshFor is how recent the listener's last read of the change log
	// must be for the caches to be trusted.
	FreshFor = 500 * time.Millisecond
	// silenceLimit is the longest gap between two reads of the change log
	// after which the listener drops all: ListChanges re-reads 10 s by
	// time, and a change that committed late in a longer gap could have
	// left that window unseen.
	silenceLimit = 5 * time.Second
	// pruneEvery is how often a listener prunes the change log of what
	// is older than an hour (PruneChanges).
	pruneEvery = time.Minute
	// listenerName is the application_name of the listening connection,
	// by which an operator (or a test) finds it in pg_stat_activity.
	listenerName = "apikeyd-listener"
)

// changeFeed is the engine's driver.Changes: the change log of migration
// 6, with LISTEN on a connection of its own outside the pool.
type changeFeed struct {
	conn    *pgx.ConnConfig
	timeout time.Duration
	// heard is when (Unix nanoseconds) the last read of the change log
	// began, whose changes have all been applied; zero before the first.
	heard atomic.Int64
}

var _ driver.Changes = (*changeFeed)(nil)

func newChangeFeed(conn *pgx.ConnConfig, timeout time.Duration) *changeFeed {
	cfg := conn.Copy()
	cfg.RuntimeParams["application_name"] = listenerName
	return &changeFeed{conn: cfg, timeout: timeout}
}

// Changes is the engine's change feed.
func (e *Engine) Changes() driver.Changes { return e.changes }

// errNotInTransaction: a change recorded outside a transaction of this
// engine could commit without the write it describes.
var errNotInTransaction = errors.New("record a change: not in a transaction of the PostgreSQL engine")

// Record adds c to the change log in q's transaction; PostgreSQL
// notifies the listeners when it commits.
func (f *changeFeed) Record(ctx context.Context, q driver.Queries, c driver.Change) error {
	in, ok := q.(queries)
	if !ok || in.tx == nil {
		return errNotInTransaction
	}
	key := c.Key
	if key == nil {
		key = []byte{}
	}
	bounded, cancel := in.bound(ctx)
	defer cancel()
	err := pgchanges.New(in.tx).RecordChange(bounded, pgchanges.RecordChangeParams{Kind: string(c.Kind), Key: key})
	return dbError(ctx, err)
}

// Fresh reports whether the listener read the change log within
// FreshFor.
func (f *changeFeed) Fresh() bool {
	heard := f.heard.Load()
	return heard != 0 && time.Since(time.Unix(0, heard)) < FreshFor
}

// Committed never moves: every change is recorded in the change log,
// and heard by Listen.
func (f *changeFeed) Committed() (uint64, bool) { return 0, true }

// Listen listens on a connection of its own until ctx ends, connecting
// again whenever that connection fails.
func (f *changeFeed) Listen(ctx context.Context, l driver.Listener) {
	for {
		err := f.listen(ctx, l)
		if ctx.Err() != nil {
			return
		}
		l.Failed(fmt.Errorf("listen for changes: %w", err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(heartbeat):
		}
	}
}

// listen connects, LISTENs and applies the change log until the
// connection fails or ctx ends.
func (f *changeFeed) listen(ctx context.Context, l driver.Listener) error {
	conn, err := f.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	q := pgchanges.New(conn)
	var mark int64
	err = f.bounded(ctx, func(ctx context.Context) error {
		if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
			return err
		}
		mark, err = q.LastChange(ctx)
		return err
	})
	if err != nil {
		return err
	}
	// Whatever changed while nothing listened is unknown: drop it all,
	// and read on from the mark taken before.
	began := time.Now()
	l.DropAll()
	f.heard.Store(began.UnixNano())
	seen := map[int64]bool{}
	var pruned time.Time
	for {
		wait, cancel := context.WithTimeout(ctx, heartbeat)
		_, err := conn.WaitForNotification(wait)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !pgconn.Timeout(err) {
			return err
		}
		last := began
		began = time.Now()
		if began.Sub(last) > silenceLimit {
			l.DropAll()
		}
		var rows []pgchanges.ListChangesRow
		if err := f.bounded(ctx, func(ctx context.Context) (err error) { rows, err = q.ListChanges(ctx, mark); return err }); err != nil {
			return err
		}
		// Changes read again (the window behind the mark) are applied
		// once; seen keeps only those the window still holds.
		next := make(map[int64]bool, len(rows))
		for _, r := range rows {
			next[r.Seq] = true
			if !seen[r.Seq] {
				l.Apply(driver.Change{Kind: driver.ChangeKind(r.Kind), Key: r.Key})
			}
			mark = max(mark, r.Seq)
		}
		seen = next
		f.heard.Store(began.UnixNano())
		if began.Sub(pruned) > pruneEvery {
			pruned = began
			if err := f.bounded(ctx, func(ctx context.Context) error { _, err := q.PruneChanges(ctx); return err }); err != nil {
				return err
			}
		}
	}
}

func (f *changeFeed) connect(ctx context.Context) (*pgx.Conn, error) {
	bounded, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	return pgx.ConnectConfig(bounded, f.conn)
}

// bounded runs fn within the engine's timeout.
func (f *changeFeed) bounded(ctx context.Context, fn func(context.Context) error) error {
	bounded, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	return fn(bounded)
}
