package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/apikeyd/apikeyd/impl/datadir"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
)

// openLockedStore opens the store as the one process on its database
// (lockAlone), for the commands that may not run beside a server; unlock
// releases it once the store is closed.
func openLockedStore(ctx context.Context, cfg Config, schemas Schemas, log *slog.Logger) (st *store.Store, unlock func() error, err error) {
	return openStoreHolding(ctx, cfg, schemas, log, lockAlone)
}

// openServerStore opens the store for a server (lockServer).
func openServerStore(ctx context.Context, cfg Config, schemas Schemas, log *slog.Logger) (st *store.Store, unlock func() error, err error) {
	return openStoreHolding(ctx, cfg, schemas, log, lockServer)
}

// openStoreHolding opens the store once lock holds the database.
func openStoreHolding(ctx context.Context, cfg Config, schemas Schemas, log *slog.Logger, lock func(context.Context, Config) (func() error, error)) (st *store.Store, unlock func() error, err error) {
	if err := prepareDataFiles(cfg, log); err != nil {
		return nil, nil, err
	}
	ring, err := loadMasterKey(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	if unlock, err = lock(ctx, cfg); err != nil {
		return nil, nil, err
	}
	if st, err = openWithMasterKey(ctx, cfg, schemas, log, ring); err != nil {
		unlock()
		return nil, nil, err
	}
	return st, unlock, nil
}

// openStore opens the database of cfg beside any server that serves it,
// for the commands that may run beside one.
func openStore(ctx context.Context, cfg Config, schemas Schemas, log *slog.Logger) (*store.Store, error) {
	if err := prepareDataFiles(cfg, log); err != nil {
		return nil, err
	}
	ring, err := loadMasterKey(cfg, log)
	if err != nil {
		return nil, err
	}
	return openWithMasterKey(ctx, cfg, schemas, log, ring)
}

// loadMasterKey is the ring of master keys of cfg, the current one first,
// generated on first start on SQLite.
func loadMasterKey(cfg Config, log *slog.Logger) ([][]byte, error) {
	if err := requireKeysFromEnvironment(cfg, false); err != nil {
		return nil, err
	}
	ring, created, err := datadir.LoadMasterKey(cfg.MasterKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if created {
		current, _ := datadir.MasterKeyPaths(cfg.DataDir)
		log.Info("generated a master key", "path", current)
	}
	return ring, nil
}

// openWithMasterKey opens the database of cfg with ring, or finishes an
// interrupted rotation of an earlier apikeyd away from it.
func openWithMasterKey(ctx context.Context, cfg Config, schemas Schemas, log *slog.Logger, ring [][]byte) (*store.Store, error) {
	st, err := openWithRing(ctx, cfg, schemas, ring)
	if errors.Is(err, store.ErrMasterKeyMismatch) && cfg.MasterKey == "" {
		return finishMasterKeyRotation(ctx, cfg, schemas, log, err)
	}
	return st, err
}

func openWithRing(ctx context.Context, cfg Config, schemas Schemas, ring [][]byte) (*store.Store, error) {
	sealer, err := keys.NewRing(ring)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	engine, err := OpenEngine(ctx, cfg, schemas)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, engine, store.Config{Sealer: sealer, Now: cfg.Now, LogMessages: cfg.DiscordBotToken != ""})
}
