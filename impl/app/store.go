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

// openLockedStore opens the store as the one process that may serve it
// (lockDatabase); unlock releases it once the store is closed.
func openLockedStore(ctx context.Context, cfg Config, schema string, log *slog.Logger) (st *store.Store, unlock func() error, err error) {
	// The lock file lives beside the database, in the data dir by default.
	if err := datadir.Make(cfg.DataDir); err != nil {
		return nil, nil, err
	}
	if unlock, err = lockDatabase(cfg.DBPath()); err != nil {
		return nil, nil, err
	}
	if st, err = openStore(ctx, cfg, schema, log); err != nil {
		unlock()
		return nil, nil, err
	}
	return st, unlock, nil
}

// openStore opens the database of cfg with the master key that seals it,
// for the server and for every command that works on its data.
func openStore(ctx context.Context, cfg Config, schema string, log *slog.Logger) (*store.Store, error) {
	if err := datadir.Make(cfg.DataDir); err != nil {
		return nil, err
	}
	master, created, err := datadir.LoadMasterKey(cfg.MasterKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if created {
		current, _ := datadir.MasterKeyPaths(cfg.DataDir)
		log.Info("generated a master key", "path", current)
	}
	st, err := openWithKey(ctx, cfg, schema, master)
	if errors.Is(err, store.ErrMasterKeyMismatch) && cfg.MasterKey == "" {
		return finishMasterKeyRotation(ctx, cfg, schema, log, err)
	}
	return st, err
}

func openWithKey(ctx context.Context, cfg Config, schema string, master []byte) (*store.Store, error) {
	sealer, err := keys.NewSealer(master)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return store.Open(ctx, store.Config{Path: cfg.DBPath(), Schema: schema, Sealer: sealer})
}
