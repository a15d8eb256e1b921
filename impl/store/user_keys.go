package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// SystemUser owns the master key of the /apiKeys family.
const SystemUser = "System"

// UserKey is a key of the /apiKeys family, opened for display.
type UserKey struct {
	Token     string
	User      string
	Note      string
	CreatedAt time.Time
}

// CreateUserKey issues a new key for user and returns it.
func (s *Store) CreateUserKey(ctx context.Context, user, note string) (string, error) {
	token, err := keys.Generate(keys.User)
	if err != nil {
		return "", fmt.Errorf("create user key: %w", err)
	}
	sealer := s.sealer
	insert, err := s.userKeyInsert(sealer, user, note, token)
	if err != nil {
		return "", fmt.Errorf("create user key: %w", err)
	}
	// Keys created together share a commit, and so a disk flush.
	if err := s.engine.Write(ctx, insert); err != nil {
		return "", fmt.Errorf("create user key: %w", err)
	}
	return token, nil
}

// userKeyInsert is the write that stores a user key sealed by sealer, to
// run in a transaction.
func (s *Store) userKeyInsert(sealer *keys.Sealer, user, note, token string) (func(context.Context, driver.Queries) error, error) {
	hash := keys.Hash(token)
	sealed, err := sealer.Seal(token)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, q driver.Queries) error {
		if err := sealedUnderRing(ctx, q, sealer); err != nil {
			return err
		}
		_, err := q.CreateUserKey(ctx, driver.CreateUserKeyParams{
			UserName:  user,
			Note:      note,
			KeyHash:   hash,
			KeySealed: sealed,
			CreatedAt: s.now().UnixMilli(),
		})
		return err
	}, nil
}

// InstallSystemKey makes token the System key unless there is one already,
// and reports whether it did. The count and the insert are one
// transaction, which the engine serializes with every other: of servers
// starting together on a new database, one installs its key.
func (s *Store) InstallSystemKey(ctx context.Context, token string) (bool, error) {
	sealer := s.sealer
	insert, err := s.userKeyInsert(sealer, SystemUser, "", token)
	if err != nil {
		return false, fmt.Errorf("install system key: %w", err)
	}
	installed := false
	err = s.engine.InTx(ctx, func(q driver.Queries) error {
		n, err := q.CountSystemKeys(ctx)
		if err != nil || n > 0 {
			return err
		}
		installed = true
		return insert(ctx, q)
	})
	if installed {
		// Known as the System key even if the commit failed: the key is
		// meant to be ours, and must not be sent to Discord.
		s.systemKeyChanged(token, false)
	}
	if err != nil {
		return false, fmt.Errorf("install system key: %w", err)
	}
	return installed, nil
}

// ReplaceSystemKey makes token the System key in place of the installed
// one, in one transaction: the old key stops working, every other key is
// kept.
func (s *Store) ReplaceSystemKey(ctx context.Context, token string) error {
	switch owner, err := s.UserKeyOwner(ctx, token); {
	case err == nil && owner != SystemUser:
		return errors.New("replace system key: the new key is already another user's key")
	case err != nil && !errors.Is(err, ErrKeyNotFound):
		return fmt.Errorf("replace system key: %w", err)
	}
	sealer := s.sealer
	insert, err := s.userKeyInsert(sealer, SystemUser, "", token)
	if err != nil {
		return fmt.Errorf("replace system key: %w", err)
	}
	err = s.engine.InTx(ctx, func(q driver.Queries) error {
		if _, err := q.DeleteSystemKeys(ctx); err != nil {
			return err
		}
		if err := s.changes.Record(ctx, q, driver.Change{Kind: driver.ChangedSystemKey}); err != nil {
			return err
		}
		return insert(ctx, q)
	})
	s.userKeys.forgetWhere(func(owner string) bool { return owner == SystemUser })
	s.systemKeyChanged(token, err == nil)
	if err != nil {
		return fmt.Errorf("replace system key: %w", err)
	}
	return nil
}

// HasSystemKey reports whether the System key is installed.
func (s *Store) HasSystemKey(ctx context.Context) (bool, error) {
	n, err := s.q.CountSystemKeys(ctx)
	if err != nil {
		return false, fmt.Errorf("count system keys: %w", err)
	}
	return n > 0, nil
}

// UserKeyOwner says whose key token is: ErrKeyNotFound if nobody's.
func (s *Store) UserKeyOwner(ctx context.Context, token string) (string, error) {
	hash := keys.Hash(token)
	if user, ok := s.userKeys.get(hash); ok {
		return user, nil
	}
	gen := s.userKeys.generation()
	row, err := s.q.GetUserKeyByHash(ctx, hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("look up user key: %w", err)
	}
	// The index found the row by hash; comparing again in constant time
	// keeps the decision itself free of timing differences.
	if err != nil || !keys.Equal(row.KeyHash, hash) {
		s.userKeys.forgetGone(hash)
		return "", ErrKeyNotFound
	}
	s.userKeys.put(hash, row.UserName, gen)
	return row.UserName, nil
}

// ListUserKeys returns the keys of user, oldest first.
func (s *Store) ListUserKeys(ctx context.Context, user string) ([]UserKey, error) {
	sealer := s.sealer
	rows, err := s.q.ListUserKeysOfUser(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("list keys of user: %w", err)
	}
	opened, err := openUserKeys(sealer, rows)
	if err != nil {
		return nil, fmt.Errorf("list keys of user: %w", s.notOpened(ctx, sealer, err))
	}
	return opened, nil
}

// ListAllUserKeys returns every key but the System key, oldest first.
func (s *Store) ListAllUserKeys(ctx context.Context) ([]UserKey, error) {
	sealer := s.sealer
	rows, err := s.q.ListUserKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list user keys: %w", err)
	}
	opened, err := openUserKeys(sealer, rows)
	if err != nil {
		return nil, fmt.Errorf("list user keys: %w", s.notOpened(ctx, sealer, err))
	}
	return opened, nil
}

func openUserKeys(sealer *keys.Sealer, rows []driver.UserKey) ([]UserKey, error) {
	out := make([]UserKey, 0, len(rows))
	for _, r := range rows {
		token, err := sealer.Open(r.KeySealed, r.KeyHash)
		if err != nil {
			return nil, fmt.Errorf("open user key %d: %w", r.ID, err)
		}
		out = append(out, UserKey{
			Token:     token,
			User:      r.UserName,
			Note:      r.Note,
			CreatedAt: time.UnixMilli(r.CreatedAt).UTC(),
		})
	}
	return out, nil
}

// DeleteUserKeys deletes every key of user (never the System key) and
// returns how many there were.
func (s *Store) DeleteUserKeys(ctx context.Context, user string) (int64, error) {
	var n int64
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		var err error
		if n, err = q.DeleteUserKeysOfUser(ctx, user); err != nil || n == 0 {
			return err
		}
		return s.changes.Record(ctx, q, driver.Change{Kind: driver.ChangedUserKeys, Key: []byte(user)})
	})
	s.userKeys.forgetWhere(func(owner string) bool { return owner == user })
	if err != nil {
		return 0, fmt.Errorf("delete keys of user: %w", err)
	}
	return n, nil
}

// resealUserKeys seals every user key under the current key of sealer's
// ring, for Reseal.
func resealUserKeys(ctx context.Context, q driver.Queries, sealer *keys.Sealer) (int, error) {
	rows, err := q.ListSealedUserKeys(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		sealed, err := reseal(sealer, r.KeySealed, r.KeyHash)
		if err != nil {
			return 0, fmt.Errorf("user key %d: %w", r.ID, err)
		}
		if err := q.ResealUserKey(ctx, driver.ResealUserKeyParams{KeySealed: sealed, ID: r.ID}); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}
