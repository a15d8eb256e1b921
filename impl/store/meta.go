package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// metaMasterKey records the fingerprints of the master keys that stored
// values are sealed under, comma-separated: every key a value may need.
// A database from before the ring holds one, which reads the same.
const metaMasterKey = "master_key_fingerprint"

// sealedUnder is the fingerprints recorded under metaMasterKey; recorded
// is false for a database that has sealed nothing yet.
func sealedUnder(ctx context.Context, q driver.Queries) (fingerprints []string, recorded bool, err error) {
	have, err := q.GetMeta(ctx, metaMasterKey)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read master key fingerprints: %w", err)
	}
	return strings.Split(have, ","), true, nil
}

func recordSealedUnder(ctx context.Context, q driver.Queries, fingerprints []string) error {
	return q.SetMeta(ctx, driver.SetMetaParams{Name: metaMasterKey, Value: strings.Join(fingerprints, ",")})
}

// missingKeys is the ids of the fingerprints that sealer's ring lacks.
func missingKeys(sealer *keys.Sealer, fingerprints []string) []string {
	var missing []string
	for _, fp := range fingerprints {
		if !sealer.Holds(fp) {
			missing = append(missing, keys.FingerprintID(fp))
		}
	}
	return missing
}

// checkMasterKey makes sure the sealer's ring holds every master key the
// database's values are sealed under, recording the current key on first
// use. A refusal names the keys by id, never by any part of them.
func checkMasterKey(ctx context.Context, q driver.Queries, sealer *keys.Sealer) error {
	have, recorded, err := sealedUnder(ctx, q)
	if err != nil {
		return err
	}
	if !recorded {
		return recordSealedUnder(ctx, q, []string{sealer.Fingerprint()})
	}
	if missing := missingKeys(sealer, have); len(missing) > 0 {
		return fmt.Errorf("%w: stored values are sealed under master key %s, which the ring (%s) lacks",
			ErrMasterKeyMismatch, strings.Join(missing, ", "), strings.Join(sealer.IDs(), ", "))
	}
	return nil
}

// sealedUnderRing is checked inside every transaction that stores a value
// sealed by sealer, and records its current key among the database's if
// it is new there. If the database holds values under a key that sealer's
// ring lacks, another process rotated the master key under this one,
// which must not go on sealing: its ring is out of date.
func sealedUnderRing(ctx context.Context, q driver.Queries, sealer *keys.Sealer) error {
	have, recorded, err := recordedInRing(ctx, q, sealer)
	if err != nil {
		return err
	}
	if recorded && slices.Contains(have, sealer.Fingerprint()) {
		return nil
	}
	return recordSealedUnder(ctx, q, append(have, sealer.Fingerprint()))
}

// ourMasterKey returns ErrMasterKeyRotated if some of the database's
// values are sealed under a master key that sealer's ring lacks: another
// process rotated it under this one. It only reads, for readiness and for
// telling a key that does not open from a key sealed under another master
// key.
func ourMasterKey(ctx context.Context, q driver.Queries, sealer *keys.Sealer) error {
	_, _, err := recordedInRing(ctx, q, sealer)
	return err
}

// recordedInRing is sealedUnder, or ErrMasterKeyRotated if sealer's ring
// lacks one of the keys recorded.
func recordedInRing(ctx context.Context, q driver.Queries, sealer *keys.Sealer) (fingerprints []string, recorded bool, err error) {
	have, recorded, err := sealedUnder(ctx, q)
	if err != nil {
		return nil, false, err
	}
	if len(missingKeys(sealer, have)) > 0 {
		return nil, false, ErrMasterKeyRotated
	}
	return have, recorded, nil
}

// notOpened is the error of a stored key that sealer failed to open:
// ErrMasterKeyRotated when that is why, which a restart with the new ring
// mends, and openErr, a key damaged at rest, otherwise.
func (s *Store) notOpened(ctx context.Context, sealer *keys.Sealer, openErr error) error {
	if err := ourMasterKey(ctx, s.q, sealer); err != nil {
		return fmt.Errorf("%w: %w", err, openErr)
	}
	return openErr
}

// Reseal seals every stored key, and the Discord tokens of every
// dashboard session, under the current key of the store's ring, in one
// transaction, and records that key as the only one the database needs:
// the ring's other keys may then be dropped. If it fails or the process
// dies, every value is still sealed under a key of the ring. It returns
// how many keys it resealed.
func (s *Store) Reseal(ctx context.Context) (int, error) {
	n := 0
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		if err := checkMasterKey(ctx, q, s.sealer); err != nil {
			return err
		}
		users, err := resealUserKeys(ctx, q, s.sealer)
		if err != nil {
			return err
		}
		guilds, err := resealGuildKeys(ctx, q, s.sealer)
		if err != nil {
			return err
		}
		if err := resealSessions(ctx, q, s.sealer); err != nil {
			return err
		}
		n = users + guilds
		return recordSealedUnder(ctx, q, []string{s.sealer.Fingerprint()})
	})
	if err != nil {
		return 0, fmt.Errorf("reseal keys: %w", err)
	}
	return n, nil
}

func reseal(sealer *keys.Sealer, sealed, hash []byte) ([]byte, error) {
	token, err := sealer.Open(sealed, hash)
	if err != nil {
		return nil, err
	}
	return sealer.Seal(token)
}

// OpenAll opens every sealed value of the database, the keys and the
// Discord tokens of every dashboard session, with the store's ring and
// writes nothing: it proves that the ring opens them all, before they are
// copied to another database as they are. It returns how many keys it
// opened.
func (s *Store) OpenAll(ctx context.Context) (int, error) {
	n := 0
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		users, err := q.ListSealedUserKeys(ctx)
		if err != nil {
			return err
		}
		for _, r := range users {
			if _, err := s.sealer.Open(r.KeySealed, r.KeyHash); err != nil {
				return fmt.Errorf("user key %d: %w", r.ID, err)
			}
		}
		guilds, err := q.ListSealedGuildKeys(ctx)
		if err != nil {
			return err
		}
		for _, r := range guilds {
			if _, err := s.sealer.Open(r.KeySealed, r.KeyHash); err != nil {
				return fmt.Errorf("guild key %d: %w", r.ID, err)
			}
		}
		sessions, err := q.ListSealedSessions(ctx)
		if err != nil {
			return err
		}
		for _, r := range sessions {
			_, errAccess := s.sealer.OpenBound(r.AccessTokenSealed, sessionBinding(accessColumn, r.IDHash))
			_, errRefresh := s.sealer.OpenBound(r.RefreshTokenSealed, sessionBinding(refreshColumn, r.IDHash))
			if err := errors.Join(errAccess, errRefresh); err != nil {
				return fmt.Errorf("session %d: %w", r.ID, err)
			}
		}
		n = len(users) + len(guilds)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("open every sealed value: %w", err)
	}
	return n, nil
}
