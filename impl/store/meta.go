package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/apikeyd/apikeyd/gen/db"
	"github.com/apikeyd/apikeyd/impl/keys"
)

const metaMasterKey = "master_key_fingerprint"

// checkMasterKey makes sure the sealer's master key is the database's,
// recording it on first use.
func checkMasterKey(ctx context.Context, q *db.Queries, sealer *keys.Sealer) error {
	have, err := q.GetMeta(ctx, metaMasterKey)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return dbError(q.SetMeta(ctx, db.SetMetaParams{Name: metaMasterKey, Value: sealer.Fingerprint()}))
	case err != nil:
		return fmt.Errorf("read master key fingerprint: %w", dbError(err))
	case have != sealer.Fingerprint():
		return ErrMasterKeyMismatch
	}
	return nil
}

// sealedUnderOurKey is checked inside every transaction that seals a key:
// if the master key was rotated under a running server, it must not go on
// sealing with the old one.
func (s *Store) sealedUnderOurKey(ctx context.Context, q *db.Queries) error {
	if err := checkMasterKey(ctx, q, s.sealer); errors.Is(err, ErrMasterKeyMismatch) {
		return ErrMasterKeyRotated
	} else if err != nil {
		return err
	}
	return nil
}

// Reseal seals every stored key under next instead of the current master
// key, in one transaction: if it fails or the process dies, every key is
// still sealed under the current one. It returns how many keys it resealed.
func (s *Store) Reseal(ctx context.Context, next *keys.Sealer) (int, error) {
	n := 0
	err := inTx(ctx, s.db, func(tx *sql.Tx) error {
		q := s.q.WithTx(tx)
		if err := checkMasterKey(ctx, q, s.sealer); err != nil {
			return err
		}
		users, err := s.resealUserKeys(ctx, q, next)
		if err != nil {
			return err
		}
		guilds, err := s.resealGuildKeys(ctx, q, next)
		if err != nil {
			return err
		}
		n = users + guilds
		return dbError(q.SetMeta(ctx, db.SetMetaParams{Name: metaMasterKey, Value: next.Fingerprint()}))
	})
	if err != nil {
		return 0, fmt.Errorf("reseal keys: %w", err)
	}
	s.sealer = next
	return n, nil
}

func (s *Store) reseal(next *keys.Sealer, sealed, hash []byte) ([]byte, error) {
	token, err := s.sealer.Open(sealed, hash)
	if err != nil {
		return nil, err
	}
	return next.Seal(token)
}
