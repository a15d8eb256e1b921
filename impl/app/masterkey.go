package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/apikeyd/apikeyd/impl/datadir"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
)

const rotateUsage = `Usage:
  apikeyd rotate-master-key [--data-dir D] [--db F]

Reseals every stored key, and the Discord tokens of every dashboard
session, under a new master key, in one transaction: if it fails or is
killed, the old master key still opens all of them.

Without APIKEYD_MASTER_KEY, the new key is generated and replaces
<data-dir>/master.key. With APIKEYD_MASTER_KEY, give the new key in
APIKEYD_NEW_MASTER_KEY (base64 of 32 bytes) and set APIKEYD_MASTER_KEY to it
before apikeyd next starts.

apikeyd must not be serving this database while the key changes (the server
would go on sealing and opening keys with the old one): stop it, rotate,
start it.
`

// rotateMasterKey runs `apikeyd rotate-master-key`.
func rotateMasterKey(ctx context.Context, env Env, args []string) error {
	var cfg Config
	fs, err := dataCommandFlags("apikeyd rotate-master-key", rotateUsage, env, &cfg)
	if err != nil {
		return err
	}
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
	st, unlock, err := openLockedStore(ctx, cfg, env.Schemas, log)
	if err != nil {
		return err
	}
	defer unlock()
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
// it, and replaces master.key once the database does: the next openStore
// finishes a rotation that died in between (finishMasterKeyRotation).
func rotate(ctx context.Context, st *store.Store, sealer *keys.Sealer, next []byte, dataDir string, keyFile bool) (int, error) {
	current, pending := datadir.MasterKeyPaths(dataDir)
	if keyFile {
		if err := datadir.WriteMasterKeyFile(pending, next); err != nil {
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
		if err := datadir.Rename(pending, current); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// finishMasterKeyRotation finishes a rotation that was interrupted after
// the database had switched to the new key, which master.key.new then
// still holds: it opens the store with that key and makes it the current
// one. mismatch is the error of opening with the current key, returned if
// there is no such rotation to finish.
func finishMasterKeyRotation(ctx context.Context, cfg Config, schemas Schemas, log *slog.Logger, mismatch error) (*store.Store, error) {
	current, pending := datadir.MasterKeyPaths(cfg.DataDir)
	next, err := datadir.ReadMasterKeyFile(pending)
	if err != nil {
		return nil, mismatch
	}
	st, err := openWithKey(ctx, cfg, schemas, next)
	if err != nil {
		return nil, err
	}
	if err := datadir.Rename(pending, current); err != nil {
		st.Close()
		return nil, err
	}
	log.Info("finished an interrupted master key rotation", "path", current)
	return st, nil
}
