// Package store keeps apikeyd's data. Keys are stored as a SHA-256 hash
// for lookup and a sealed copy for listings; nothing outside this package
// sees either. Every rule (sealing, limits, audit, caches) is written
// here once, above a driver.Engine: SQLite (impl/store/sqlite) or
// PostgreSQL (impl/store/postgres).
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// Config says how to seal keys.
type Config struct {
	// Sealer is the ring of master keys: the store seals under its current
	// key and opens with any.
	Sealer *keys.Sealer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LogMessages queues a message for the logs channel with each change
	// a guild's logging module posts: apikeyd has a bot token to send it.
	LogMessages bool
}

// Store is apikeyd's storage. Its methods are safe for concurrent use.
type Store struct {
	engine driver.Engine
	q      driver.Queries
	now    func() time.Time
	// logMessages is Config.LogMessages.
	logMessages bool

	// sealer is the ring of master keys, which never changes: a store
	// given a new ring is a new store. What each transaction seals is
	// checked against the keys the database records (sealedUnderRing).
	sealer *keys.Sealer

	// changes records this store's changes for the other processes on
	// the database, and hears theirs (Listen).
	changes   driver.Changes
	guildKeys *keyCache[GuildKeyRef]
	userKeys  *keyCache[string]        // key hash -> user name
	settings  *keyCache[GuildSettings] // guild id -> its settings
	// grants holds the administrator grants found (guild id, user id),
	// never their absence; keyLists, guild id -> its keys as stored
	// (sealed: no key is held open). Both are dropped also whenever
	// anything commits on the database (driver.Changes.Committed):
	// apikeyd guild-admin removes grants beside a SQLite server, which
	// cannot hear of it otherwise, and the lists follow the same rule, so
	// that on either engine no other process's write goes unseen.
	grants    *keyCache[struct{}]
	keyLists  *keyCache[[]driver.GuildKey]
	systemKey systemKeyHashes
}

// Open builds the store on engine, which it closes with itself (and at
// once, if Open fails), and checks that the ring of cfg holds every master
// key that the database's values are sealed under, recording the current
// one on first use.
func Open(ctx context.Context, engine driver.Engine, cfg Config) (*Store, error) {
	if cfg.Sealer == nil {
		engine.Close()
		return nil, errors.New("open store: no sealer")
	}
	// In a transaction, so that of two processes opening a new database
	// with different master keys one records its own and the other is
	// refused.
	if err := engine.InTx(ctx, func(q driver.Queries) error { return checkMasterKey(ctx, q, cfg.Sealer) }); err != nil {
		engine.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	changes := engine.Changes()
	st := &Store{
		engine: engine, q: engine.Queries(), sealer: cfg.Sealer, now: now, changes: changes, logMessages: cfg.LogMessages,
		guildKeys: newKeyCache[GuildKeyRef](changes.Fresh), userKeys: newKeyCache[string](changes.Fresh),
		settings: newKeyCache[GuildSettings](changes.Fresh),
		grants:   answerCache[struct{}](changes.Fresh, maxCachedKeys, nil),
		keyLists: answerCache(changes.Fresh, maxCachedListedKeys, func(l []driver.GuildKey) int { return max(1, len(l)) }),
	}
	st.grants.committed, st.keyLists.committed = changes.Committed, changes.Committed
	if err := st.loadSystemKey(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return s.engine.Close()
}

// Ready reports whether the store can serve: the engine's database is
// the one it opened and answers (on SQLite, else ErrDatabaseFileGone),
// and its keys are sealed under keys of this store's ring (else
// ErrMasterKeyRotated: it could not open them all).
func (s *Store) Ready(ctx context.Context) error {
	if err := s.engine.Ready(ctx); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	if err := ourMasterKey(ctx, s.q, s.sealer); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	return nil
}
