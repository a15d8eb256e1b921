package v1

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/apikeyd/apikeyd/impl/store"
)

// useInterval is how stale a key's recorded last use may get: a key used
// all the time is written at most once per interval.
const useInterval = time.Minute

// uses records when guild keys are used without writing on every request:
// a use is queued only when the stored one is older than useInterval, and
// the queue is written in one transaction by Flush, which Run calls often
// enough for a use to show within a second.
type uses struct {
	mu      sync.Mutex
	pending map[int64]time.Time
	// recorded is the latest use queued for each key, which a cached
	// lookup's LastUse does not show. A use older than useInterval decides
	// nothing, so Flush forgets those once an interval: the map holds the
	// keys used in the last two intervals, not every key ever used.
	recorded map[int64]time.Time
	pruned   time.Time // when recorded was last pruned
	store    interface {
		TouchGuildKeys(context.Context, map[int64]time.Time) error
	}
	now func() time.Time
	log *slog.Logger
	// failed counts a flush that the database refused.
	failed func()
}

func newUses(st *store.Store, now func() time.Time, log *slog.Logger, failed func()) *uses {
	return &uses{pending: map[int64]time.Time{}, recorded: map[int64]time.Time{}, store: st, now: now, log: log, failed: failed}
}

// Record notes that the key was used now.
func (u *uses) Record(ref store.GuildKeyRef) {
	now := u.now()
	if ref.LastUse != nil && now.Sub(*ref.LastUse) < useInterval {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if last, ok := u.recorded[ref.ID]; ok && now.Sub(last) < useInterval {
		return
	}
	u.recorded[ref.ID] = now
	u.pending[ref.ID] = now
}

// Flush writes the queued uses.
func (u *uses) Flush(ctx context.Context) error {
	u.mu.Lock()
	batch := u.pending
	u.pending = map[int64]time.Time{}
	u.forgetOldUses(u.now())
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := u.store.TouchGuildKeys(ctx, batch); err != nil {
		// Put them back: a later flush may succeed.
		u.mu.Lock()
		for id, at := range batch {
			if _, ok := u.pending[id]; !ok {
				u.pending[id] = at
			}
		}
		u.mu.Unlock()
		return err
	}
	return nil
}

// forgetOldUses drops the uses too old to matter to Record, at most once
// an interval so that a flush does not walk the map every time. u.mu is
// held.
func (u *uses) forgetOldUses(now time.Time) {
	if now.Sub(u.pruned) < useInterval {
		return
	}
	u.pruned = now
	for id, at := range u.recorded {
		if now.Sub(at) >= useInterval {
			delete(u.recorded, id)
		}
	}
}

// Run flushes every half second until ctx is done, then once more.
func (u *uses) Run(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := u.Flush(context.WithoutCancel(ctx)); err != nil {
				u.log.Error("record key uses", "err", err)
				u.failed()
			}
			return
		case <-t.C:
			if err := u.Flush(ctx); err != nil {
				u.log.Error("record key uses", "err", err)
				u.failed()
			}
		}
	}
}
