package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

const metaMasterKey = "master_key_fingerprint"

// checkMasterKey makes sure the sealer's master key is the database's,
// recording it on first use.
func checkMasterKey(ctx context.Context, q driver.Queries, sealer *keys.Sealer) error {
	have, err := q.GetMeta(ctx, metaMasterKey)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return q.SetMeta(ctx, driver.SetMetaParams{Name: metaMasterKey, Value: sealer.Fingerprint()})
	case err != nil:
		return fmt.Errorf("read master key fingerprint: %w", err)
	case have != sealer.Fingerprint():
		return ErrMasterKeyMismatch
	}
	return nil
}

// sealedUnderOurKey is checked inside every transaction that stores a key
// sealed by sealer: if another process rotated the master key under a
// running server, it must not go on sealing with the old one.
func sealedUnderOurKey(ctx context.Context, q driver.Queries, sealer *keys.Sealer) error {
	if err := checkMasterKey(ctx, q, sealer); errors.Is(err, ErrMasterKeyMismatch) {
		return ErrMasterKeyRotated
	} else if err != nil {
		return err
	}
	return nil
}

// ourMasterKey returns ErrMasterKeyRotated if the database's keys are
// sealed under another master key than sealer's: another process rotated
// it under this one. It only reads, for readiness and for telling a key
// that does not open from a key sealed under another master key.
func ourMasterKey(ctx context.Context, q driver.Queries, sealer *keys.Sealer) error {
	have, err := q.GetMeta(ctx, metaMasterKey)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil // Open records it; nothing is sealed under another
	case err != nil:
		return fmt.Errorf("read master key fingerprint: %w", err)
	case have != sealer.Fingerprint():
		return ErrMasterKeyRotated
	}
	return nil
}

// notOpened is the error of a stored key that sealer failed to open:
// ErrMasterKeyRotated when that is why, which a restart mends, and
// openErr, a key damaged at rest, otherwise.
func (s *Store) notOpened(ctx context.Context, sealer *keys.Sealer, openErr error) error {
	if err := ourMasterKey(ctx, s.q, sealer); err != nil {
		return fmt.Errorf("%w: %w", err, openErr)
	}
	return openErr
}

// Reseal seals every stored key, and the Discord tokens of every
// dashboard session, under next instead of the current master key, in one
// transaction: if it fails or the process dies, all of them are still
// sealed under the current one. It returns how many keys it resealed.
func (s *Store) Reseal(ctx context.Context, next *keys.Sealer) (int, error) {
	s.sealing.Lock()
	defer s.sealing.Unlock()
	n := 0
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		if err := checkMasterKey(ctx, q, s.sealer); err != nil {
			return err
		}
		users, err := resealUserKeys(ctx, q, s.sealer, next)
		if err != nil {
			return err
		}
		guilds, err := resealGuildKeys(ctx, q, s.sealer, next)
		if err != nil {
			return err
		}
		if err := resealSessions(ctx, q, s.sealer, next); err != nil {
			return err
		}
		n = users + guilds
		return q.SetMeta(ctx, driver.SetMetaParams{Name: metaMasterKey, Value: next.Fingerprint()})
	})
	if err != nil {
		return 0, fmt.Errorf("reseal keys: %w", err)
	}
	s.sealer = next
	return n, nil
}

// useSealer returns the sealer, which Reseal does not replace until done
// is called.
func (s *Store) useSealer() (sealer *keys.Sealer, done func()) {
	s.sealing.RLock()
	return s.sealer, s.sealing.RUnlock
}

func reseal(from, to *keys.Sealer, sealed, hash []byte) ([]byte, error) {
	token, err := from.Open(sealed, hash)
	if err != nil {
		return nil, err
	}
	return to.Seal(token)
}
