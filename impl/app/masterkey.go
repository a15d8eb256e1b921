package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/apikeyd/apikeyd/impl/datadir"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
)

const rotateUsage = `Usage:
  apikeyd rotate-master-key [--data-dir D] [--db F]

Reseals every stored key, and the Discord tokens of every dashboard
session, under the current master key of the ring, in one transaction: if
it fails or is killed, the ring still opens all of them.

The ring is APIKEYD_MASTER_KEY, else <data-dir>/master.key: master keys
(base64 of 32 bytes each) separated by commas or newlines, the current one
first. apikeyd seals under the current key and opens each value with the
key that sealed it, which the value names.

Beside running servers, without stopping them:
  1. give every server the ring with the new key first and the old one
     after it (APIKEYD_MASTER_KEY=NEW,OLD, or NEW and OLD on two lines of
     master.key) and restart it;
  2. run apikeyd rotate-master-key with that ring;
  3. drop the old key from the ring (APIKEYD_MASTER_KEY=NEW) and restart
     each server when convenient: nothing is sealed under it any more.
With several servers, give each the ring OLD,NEW before step 1 (the new
key known, not yet used), so that none meets a value sealed under a key it
does not hold while the others restart.

With a ring of one key, the server must be stopped: a new key is put first,
generated into master.key, or taken from APIKEYD_NEW_MASTER_KEY when
APIKEYD_MASTER_KEY is set; everything is resealed under it, and the old key
dropped (from master.key; set APIKEYD_MASTER_KEY to the new key yourself).
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
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	if err := prepareDataFiles(cfg, log); err != nil {
		return err
	}
	ring, err := loadMasterKey(cfg, log)
	if err != nil {
		return err
	}
	next, err := newMasterKey(env, cfg, ring)
	if err != nil {
		return err
	}
	if next == nil {
		return resealUnderRing(ctx, env, cfg, log, ring)
	}
	n, err := replaceMasterKey(ctx, cfg, env.Schemas, log, ring, next)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "resealed %d keys under the new master key\n", n)
	if cfg.MasterKey != "" {
		fmt.Fprintln(env.Stdout, "set APIKEYD_MASTER_KEY to the value of APIKEYD_NEW_MASTER_KEY before apikeyd next starts")
	}
	return nil
}

// newMasterKey is the key that a rotation with ring adds first to it, or
// nil if ring's current key is the one to reseal under: a ring of several
// keys was given.
func newMasterKey(env Env, cfg Config, ring [][]byte) ([]byte, error) {
	switch text := env.Getenv("APIKEYD_NEW_MASTER_KEY"); {
	case text != "":
		next, err := keys.DecodeMasterKey(text)
		if err != nil {
			return nil, fmt.Errorf("APIKEYD_NEW_MASTER_KEY: %w", err)
		}
		return next, nil
	case len(ring) > 1:
		return nil, nil
	case cfg.MasterKey != "":
		return nil, errors.New("APIKEYD_MASTER_KEY holds one key: put the new key first in it (APIKEYD_MASTER_KEY=NEW,OLD) on every server and here, " +
			"or stop the server and give the new key in APIKEYD_NEW_MASTER_KEY")
	default:
		return keys.NewMasterKey(), nil
	}
}

// resealUnderRing reseals everything under the current key of ring,
// beside any server: a server holds every key of the ring it was given,
// and one given an older ring is refused what it cannot open or seal
// (store.ErrMasterKeyRotated) rather than answered wrongly.
func resealUnderRing(ctx context.Context, env Env, cfg Config, log *slog.Logger, ring [][]byte) error {
	sealer, err := keys.NewRing(ring)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	st, err := openWithMasterKey(ctx, cfg, env.Schemas, log, ring)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Reseal(ctx)
	if err != nil {
		return err
	}
	ids := sealer.IDs()
	fmt.Fprintf(env.Stdout, "resealed %d keys under master key %s\n", n, ids[0])
	fmt.Fprintf(env.Stdout, "nothing is sealed under the ring's other keys (%s) any more: drop them from every server's ring\n", strings.Join(ids[1:], ", "))
	return nil
}

// replaceMasterKey reseals everything under next, which no server holds,
// and so only with none serving the database (lockAlone). With a
// master key file, the ring next,ring is on disk before the database
// depends on next, and next alone once nothing depends on ring: killed at
// any moment, the file opens every value.
func replaceMasterKey(ctx context.Context, cfg Config, schemas Schemas, log *slog.Logger, ring [][]byte, next []byte) (int, error) {
	unlock, err := lockAlone(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer unlock()
	grown := append([][]byte{next}, ring...)
	current, _ := datadir.MasterKeyPaths(cfg.DataDir)
	keyFile := cfg.MasterKey == ""
	if keyFile {
		if err := datadir.WriteMasterKeyFile(current, grown); err != nil {
			return 0, err
		}
	}
	st, err := openWithMasterKey(ctx, cfg, schemas, log, grown)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	n, err := st.Reseal(ctx)
	if err != nil {
		return 0, err
	}
	if keyFile {
		if err := datadir.WriteMasterKeyFile(current, [][]byte{next}); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// finishMasterKeyRotation finishes a rotation of an earlier apikeyd
// (before the ring) that was interrupted after the database had switched
// to the new key, which master.key.new then still holds: it opens the
// store with that key and makes it the current one. mismatch is the error of opening with the current key, returned if
// there is no such rotation to finish.
func finishMasterKeyRotation(ctx context.Context, cfg Config, schemas Schemas, log *slog.Logger, mismatch error) (*store.Store, error) {
	current, pending := datadir.MasterKeyPaths(cfg.DataDir)
	next, err := datadir.ReadMasterKeyFile(pending)
	if err != nil {
		return nil, mismatch
	}
	st, err := openWithRing(ctx, cfg, schemas, next)
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
