package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// GuildKey is a /v1 API key, opened for display.
type GuildKey struct {
	ID        int64
	GuildID   snowflake.ID
	Token     string
	CreatedAt time.Time
	CreatedBy snowflake.ID
	LastUse   *time.Time
}

// GuildKeyRef is what authenticating a request with a guild key yields.
type GuildKeyRef struct {
	ID      int64
	GuildID snowflake.ID
	LastUse *time.Time
}

// CreateGuildKey issues a key for guild unless it holds max already
// (ErrGuildKeyLimit).
func (s *Store) CreateGuildKey(ctx context.Context, guild snowflake.ID, createdBy Actor, max int) (GuildKey, error) {
	token, err := keys.Generate(keys.Guild)
	if err != nil {
		return GuildKey{}, fmt.Errorf("create guild key: %w", err)
	}
	return s.ImportGuildKey(ctx, guild, createdBy, token, max)
}

// ImportGuildKey stores a key issued elsewhere (token must pass
// keys.Parse as a guild key) under the same rules as CreateGuildKey; tests
// use it for keys they know in advance.
func (s *Store) ImportGuildKey(ctx context.Context, guild snowflake.ID, createdBy Actor, token string, max int) (GuildKey, error) {
	if kind, err := keys.Parse(token); err != nil || kind != keys.Guild {
		return GuildKey{}, errors.New("import guild key: the token is not a guild key")
	}
	hash := keys.Hash(token)
	sealer := s.sealer
	sealed, err := sealer.Seal(token)
	if err != nil {
		return GuildKey{}, fmt.Errorf("create guild key: %w", err)
	}
	now := s.now()
	key := GuildKey{GuildID: guild, Token: token, CreatedAt: time.UnixMilli(now.UnixMilli()).UTC(), CreatedBy: createdBy.UserID}
	defer s.keyLists.forget(guildCacheKey(guild))
	err = s.engine.InTx(ctx, func(q driver.Queries) error {
		if err := sealedUnderRing(ctx, q, sealer); err != nil {
			return err
		}
		if err := s.ensureGuild(ctx, q, guild); err != nil {
			return err
		}
		var err error
		if key.ID, err = insertGuildKey(ctx, q, driver.CreateGuildKeyParams{
			GuildID: int64(guild), KeyHash: hash, KeySealed: sealed,
			CreatedAt: now.UnixMilli(), CreatedBy: int64(createdBy.UserID),
		}, max); err != nil {
			return err
		}
		if err := s.recordKeyListChanged(ctx, q, guild); err != nil {
			return err
		}
		return s.audit(ctx, q, guild, createdBy, ActionKeyCreated, map[string]any{"id": key.ID})
	})
	if err != nil {
		return GuildKey{}, fmt.Errorf("create guild key: %w", err)
	}
	return key, nil
}

// insertGuildKey stores key with q, inside a transaction, unless its guild
// holds max keys already (ErrGuildKeyLimit).
func insertGuildKey(ctx context.Context, q driver.Queries, key driver.CreateGuildKeyParams, max int) (int64, error) {
	n, err := q.CountGuildKeys(ctx, key.GuildID)
	if err != nil {
		return 0, err
	}
	if n >= int64(max) {
		return 0, ErrGuildKeyLimit
	}
	id, err := q.CreateGuildKey(ctx, key)
	return id, err
}

// GuildKeyByToken finds the key a request carries: ErrKeyNotFound if
// none. token must have passed keys.Parse.
func (s *Store) GuildKeyByToken(ctx context.Context, token string) (GuildKeyRef, error) {
	hash := keys.Hash(token)
	if ref, ok := s.guildKeys.get(hash); ok {
		return ref, nil
	}
	gen := s.guildKeys.generation()
	row, err := s.q.GetGuildKeyByHash(ctx, hash)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !keys.Equal(row.KeyHash, hash)) {
		s.guildKeys.forgetGone(hash)
		return GuildKeyRef{}, ErrKeyNotFound
	}
	if err != nil {
		return GuildKeyRef{}, fmt.Errorf("look up guild key: %w", err)
	}
	ref := GuildKeyRef{ID: row.ID, GuildID: snowflake.ID(row.GuildID), LastUse: millisPtr(row.LastUse)}
	s.guildKeys.put(hash, ref, gen)
	return ref, nil
}

// ListGuildKeys returns the keys of guild, oldest first. The rows, as
// stored, are cached until a change to the guild's keys; each listing
// opens them.
func (s *Store) ListGuildKeys(ctx context.Context, guild snowflake.ID) ([]GuildKey, error) {
	sealer := s.sealer
	id := guildCacheKey(guild)
	rows, ok := s.keyLists.get(id)
	if !ok {
		gen := s.keyLists.generation()
		var err error
		if rows, err = s.q.ListGuildKeys(ctx, int64(guild)); err != nil {
			return nil, fmt.Errorf("list guild keys: %w", err)
		}
		s.keyLists.put(id, rows, gen)
	}
	out := make([]GuildKey, 0, len(rows))
	for _, r := range rows {
		k, err := openGuildKey(sealer, r)
		if err != nil {
			return nil, fmt.Errorf("list guild keys: %w", s.notOpened(ctx, sealer, err))
		}
		out = append(out, k)
	}
	return out, nil
}

// DeleteGuildKey deletes the key token of guild and returns it:
// ErrKeyNotFound if the guild has no such key. The answer holds token
// itself rather than the stored copy opened, so that nothing can fail
// once the delete is committed (a master key rotated under the server
// once made it answer an error for a committed delete), and so that a
// key can be revoked whatever the master key.
func (s *Store) DeleteGuildKey(ctx context.Context, guild snowflake.ID, actor Actor, token string) (GuildKey, error) {
	var row driver.GuildKey
	hash := keys.Hash(token)
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		var err error
		row, err = q.DeleteGuildKey(ctx, driver.DeleteGuildKeyParams{GuildID: int64(guild), KeyHash: hash})
		if errors.Is(err, sql.ErrNoRows) {
			return ErrKeyNotFound
		}
		if err != nil {
			return err
		}
		if err := s.changes.Record(ctx, q, driver.Change{Kind: driver.ChangedGuildKey, Key: hash}); err != nil {
			return err
		}
		return s.audit(ctx, q, guild, actor, ActionKeyDeleted, map[string]any{"id": row.ID})
	})
	// Forgotten whether or not the delete committed: a cache may only
	// ever hold less than the database.
	s.guildKeys.forget(hash)
	s.keyLists.forget(guildCacheKey(guild))
	if err != nil {
		return GuildKey{}, fmt.Errorf("delete guild key: %w", err)
	}
	return guildKey(row, token), nil
}

// recordKeyListChanged tells the other processes on the database, in q's
// transaction, that guild's cached list of keys is stale.
func (s *Store) recordKeyListChanged(ctx context.Context, q driver.Queries, guild snowflake.ID) error {
	return s.changes.Record(ctx, q, driver.Change{Kind: driver.ChangedGuildKeyList, Key: guildCacheKey(guild)})
}

// listHolds reports whether list holds the key whose hash is hash.
func listHolds(list []driver.GuildKey, hash []byte) bool {
	for _, k := range list {
		if keys.Equal(k.KeyHash, hash) {
			return true
		}
	}
	return false
}

func openGuildKey(sealer *keys.Sealer, r driver.GuildKey) (GuildKey, error) {
	token, err := sealer.Open(r.KeySealed, r.KeyHash)
	if err != nil {
		return GuildKey{}, fmt.Errorf("open guild key %d: %w", r.ID, err)
	}
	return guildKey(r, token), nil
}

// guildKey is the stored key r, whose token is token.
func guildKey(r driver.GuildKey, token string) GuildKey {
	return GuildKey{
		ID:        r.ID,
		GuildID:   snowflake.ID(r.GuildID),
		Token:     token,
		CreatedAt: time.UnixMilli(r.CreatedAt).UTC(),
		CreatedBy: snowflake.ID(r.CreatedBy),
		LastUse:   millisPtr(r.LastUse),
	}
}

// TouchGuildKeys records when keys were last used, in one transaction;
// a recorded use is never moved back in time. The lists of the guilds
// whose keys it moved are stale.
func (s *Store) TouchGuildKeys(ctx context.Context, uses map[int64]time.Time) error {
	moved := map[snowflake.ID]bool{}
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		for id, at := range uses {
			guild, err := q.TouchGuildKey(ctx, driver.TouchGuildKeyParams{LastUse: sql.NullInt64{Int64: at.UnixMilli(), Valid: true}, ID: id})
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			moved[snowflake.ID(guild)] = true
		}
		for guild := range moved {
			if err := s.recordKeyListChanged(ctx, q, guild); err != nil {
				return err
			}
		}
		return nil
	})
	for guild := range moved {
		s.keyLists.forget(guildCacheKey(guild))
	}
	if err != nil {
		return fmt.Errorf("record key use: %w", err)
	}
	return nil
}

func millisPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

// resealGuildKeys seals every guild key under the current key of
// sealer's ring, for Reseal.
func resealGuildKeys(ctx context.Context, q driver.Queries, sealer *keys.Sealer) (int, error) {
	rows, err := q.ListSealedGuildKeys(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		sealed, err := reseal(sealer, r.KeySealed, r.KeyHash)
		if err != nil {
			return 0, fmt.Errorf("guild key %d: %w", r.ID, err)
		}
		if err := q.ResealGuildKey(ctx, driver.ResealGuildKeyParams{KeySealed: sealed, ID: r.ID}); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}
