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
	"sync"
	"time"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// Config says how to seal keys.
type Config struct {
	Sealer *keys.Sealer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is apikeyd's storage. Its methods are safe for concurrent use.
type Store struct {
	engine driver.Engine
	q      driver.Queries
	now    func() time.Time

	// sealing guards sealer. What seals a key holds it for reading until
	// the sealed key is committed, and what opens keys from the time it
	// reads them; Reseal holds it for writing while it reseals every key
	// and swaps the sealer, so that nothing is sealed under the old master
	// key after it, nor opened with the new one before it.
	sealing sync.RWMutex
	sealer  *keys.Sealer

	guildKeys *keyCache[GuildKeyRef]
	userKeys  *keyCache[string]        // key hash -> user name
	settings  *keyCache[GuildSettings] // guild id -> its settings
	systemKey systemKeyHashes
}

// Open builds the store on engine, which it closes with itself (and at
// once, if Open fails), and checks that the database's keys are sealed
// under cfg's master key, recording it on first use.
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
	st := &Store{
		engine: engine, q: engine.Queries(), sealer: cfg.Sealer, now: now,
		guildKeys: newKeyCache[GuildKeyRef](), userKeys: newKeyCache[string](),
		settings: newKeyCache[GuildSettings](),
	}
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
// and its keys are sealed under this store's master key (else
// ErrMasterKeyRotated: it could open none of them).
func (s *Store) Ready(ctx context.Context) error {
	if err := s.engine.Ready(ctx); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	sealer, done := s.useSealer()
	defer done()
	if err := ourMasterKey(ctx, s.q, sealer); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	return nil
}
