package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
)

const rotateUsage = `Usage:
  apikeyd rotate-master-key [--data-dir D] [--db F]

Reseals every stored key under a new master key, in one transaction: if it
fails or is killed, the old master key still opens every key.

Without APIKEYD_MASTER_KEY, the new key is generated and replaces
<data-dir>/master.key. With APIKEYD_MASTER_KEY, give the new key in
APIKEYD_NEW_MASTER_KEY (base64 of 32 bytes) and set APIKEYD_MASTER_KEY to it
before apikeyd next starts.

Stop apikeyd first, or restart it right after: a server that still holds the
old key refuses to create keys until it is restarted.
`

// rotateMasterKey runs `apikeyd rotate-master-key`.
func rotateMasterKey(ctx context.Context, env Env, args []string) error {
	var cfg Config
	fs := dataCommandFlags("apikeyd rotate-master-key", rotateUsage, env, &cfg)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fromEnv := cfg.MasterKey != ""
	var next []byte
	switch text := env.Getenv("APIKEYD_NEW_MASTER_KEY"); {
	case text != "":
		var err error
		if next, err = keys.DecodeMasterKey(text); err != nil {
			return fmt.Errorf("APIKEYD_NEW_MASTER_KEY: %w", err)
		}
	case fromEnv:
		return errors.New("APIKEYD_MASTER_KEY is set: give the new key in APIKEYD_NEW_MASTER_KEY")
	default:
		next = keys.NewMasterKey()
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	st, err := openStore(ctx, cfg, env.Schema, log)
	if err != nil {
		return err
	}
	defer st.Close()
	sealer, err := keys.NewSealer(next)
	if err != nil {
		return err
	}
	n, err := rotate(ctx, st, sealer, next, cfg.DataDir, !fromEnv)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "resealed %d keys under the new master key\n", n)
	if fromEnv {
		fmt.Fprintln(env.Stdout, "set APIKEYD_MASTER_KEY to the value of APIKEYD_NEW_MASTER_KEY before apikeyd next starts")
	}
	return nil
}

// rotate reseals the keys of st under next. With a master key file, the
// new key is on disk (as master.key.new) before the database depends on
// it, and replaces master.key once the database does: openStore finishes
// a rotation that died in between.
func rotate(ctx context.Context, st *store.Store, sealer *keys.Sealer, next []byte, dataDir string, keyFile bool) (int, error) {
	current, pending := masterKeyPaths(dataDir)
	if keyFile {
		if err := keys.WriteMasterKeyFile(pending, next); err != nil {
			return 0, err
		}
	}
	n, err := st.Reseal(ctx, sealer)
	if err != nil {
		if keyFile {
			os.Remove(pending)
		}
		return 0, err
	}
	if keyFile {
		if err := replaceFile(pending, current); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func masterKeyPaths(dataDir string) (current, pending string) {
	current = filepath.Join(dataDir, "master.key")
	return current, current + ".new"
}

// replaceFile renames from over to and syncs the directory, so that the
// rename survives a power cut.
func replaceFile(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("replace %s: %w", to, err)
	}
	dir, err := os.Open(filepath.Dir(to))
	if err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(to), err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(to), err)
	}
	return nil
}

// openLockedStore opens the store as the one process that may serve it
// (lockDatabase); unlock releases it once the store is closed.
func openLockedStore(ctx context.Context, cfg Config, schema string, log *slog.Logger) (st *store.Store, unlock func() error, err error) {
	// The lock file lives beside the database, in the data dir by default.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create data dir: %w", err)
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
// finishing a key rotation that was interrupted after the database had
// switched to the new key.
func openStore(ctx context.Context, cfg Config, schema string, log *slog.Logger) (*store.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	master, created, err := keys.LoadMasterKey(cfg.MasterKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	current, pending := masterKeyPaths(cfg.DataDir)
	if created {
		log.Info("generated a master key", "path", current)
	}
	st, err := openWithKey(ctx, cfg, schema, master)
	if !errors.Is(err, store.ErrMasterKeyMismatch) || cfg.MasterKey != "" {
		return st, err
	}
	next, rerr := keys.ReadMasterKeyFile(pending)
	if rerr != nil {
		return nil, err
	}
	st, err = openWithKey(ctx, cfg, schema, next)
	if err != nil {
		return nil, err
	}
	if err := replaceFile(pending, current); err != nil {
		st.Close()
		return nil, err
	}
	log.Info("finished an interrupted master key rotation", "path", current)
	return st, nil
}

func openWithKey(ctx context.Context, cfg Config, schema string, master []byte) (*store.Store, error) {
	sealer, err := keys.NewSealer(master)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return store.Open(ctx, store.Config{Path: cfg.DBPath(), Schema: schema, Sealer: sealer})
}
