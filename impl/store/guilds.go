package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/apikeyd/apikeyd/gen/db"
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

// GuildAdmin is a user who administers a guild.
type GuildAdmin struct {
	GuildID   snowflake.ID
	UserID    snowflake.ID
	CreatedAt time.Time
}

// AddGuildAdmin lets user administer guild, registering the guild if it is
// new. It reports false when the user was an administrator already.
func (s *Store) AddGuildAdmin(ctx context.Context, guild, user snowflake.ID) (bool, error) {
	var added int64
	err := s.inTx(ctx, func(q *db.Queries) error {
		if err := s.ensureGuild(ctx, q, guild); err != nil {
			return err
		}
		var err error
		added, err = q.AddGuildAdmin(ctx, db.AddGuildAdminParams{GuildID: int64(guild), UserID: int64(user), CreatedAt: s.now().UnixMilli()})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("add guild admin: %w", err)
	}
	return added > 0, nil
}

// RemoveGuildAdmin takes the right away; false if the user did not have it.
func (s *Store) RemoveGuildAdmin(ctx context.Context, guild, user snowflake.ID) (bool, error) {
	n, err := s.q.RemoveGuildAdmin(ctx, db.RemoveGuildAdminParams{GuildID: int64(guild), UserID: int64(user)})
	if err != nil {
		return false, fmt.Errorf("remove guild admin: %w", err)
	}
	return n > 0, nil
}

// ListGuildAdmins lists the administrators of guild, or of every guild
// when guild is zero.
func (s *Store) ListGuildAdmins(ctx context.Context, guild snowflake.ID) ([]GuildAdmin, error) {
	var rows []db.GuildAdmin
	var err error
	if guild == 0 {
		rows, err = s.q.ListAllGuildAdmins(ctx)
	} else {
		rows, err = s.q.ListGuildAdmins(ctx, int64(guild))
	}
	if err != nil {
		return nil, fmt.Errorf("list guild admins: %w", err)
	}
	out := make([]GuildAdmin, len(rows))
	for i, r := range rows {
		out[i] = GuildAdmin{GuildID: snowflake.ID(r.GuildID), UserID: snowflake.ID(r.UserID), CreatedAt: time.UnixMilli(r.CreatedAt).UTC()}
	}
	return out, nil
}

// IsGuildAdmin reports whether user administers guild.
func (s *Store) IsGuildAdmin(ctx context.Context, guild, user snowflake.ID) (bool, error) {
	ok, err := s.q.IsGuildAdmin(ctx, db.IsGuildAdminParams{GuildID: int64(guild), UserID: int64(user)})
	if err != nil {
		return false, fmt.Errorf("check guild admin: %w", err)
	}
	return ok, nil
}

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
// (apierr.Unprocessable).
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
		return GuildKey{}, apierr.New(apierr.Invalid, "not a guild key")
	}
	hash := keys.Hash(token)
	sealed, err := s.sealer.Seal(token)
	if err != nil {
		return GuildKey{}, fmt.Errorf("create guild key: %w", err)
	}
	now := s.now()
	key := GuildKey{GuildID: guild, Token: token, CreatedAt: time.UnixMilli(now.UnixMilli()).UTC(), CreatedBy: createdBy.UserID}
	err = s.inTx(ctx, func(q *db.Queries) error {
		if err := s.sealedUnderOurKey(ctx, q); err != nil {
			return err
		}
		n, err := q.CountGuildKeys(ctx, int64(guild))
		if err != nil {
			return err
		}
		if n >= int64(max) {
			return apierr.New(apierr.Unprocessable, "This guild holds its maximum of %d API keys.", max)
		}
		if err := s.ensureGuild(ctx, q, guild); err != nil {
			return err
		}
		key.ID, err = q.CreateGuildKey(ctx, db.CreateGuildKeyParams{
			GuildID: int64(guild), KeyHash: hash, KeySealed: sealed,
			CreatedAt: now.UnixMilli(), CreatedBy: int64(createdBy.UserID),
		})
		if err != nil {
			return err
		}
		return s.audit(ctx, q, guild, createdBy, ActionKeyCreated, map[string]any{"id": key.ID})
	})
	if err != nil {
		return GuildKey{}, fmt.Errorf("create guild key: %w", err)
	}
	return key, nil
}

// GuildKeyByToken finds the key a request carries: apierr.NotFound if
// none. token must have passed keys.Parse.
func (s *Store) GuildKeyByToken(ctx context.Context, token string) (GuildKeyRef, error) {
	hash := keys.Hash(token)
	if ref, ok := s.guildKeys.get(hash); ok {
		return ref, nil
	}
	gen := s.guildKeys.generation()
	row, err := s.q.GetGuildKeyByHash(ctx, hash)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !keys.Equal(row.KeyHash, hash)) {
		return GuildKeyRef{}, apierr.New(apierr.NotFound, "no such key")
	}
	if err != nil {
		return GuildKeyRef{}, fmt.Errorf("look up guild key: %w", err)
	}
	ref := GuildKeyRef{ID: row.ID, GuildID: snowflake.ID(row.GuildID), LastUse: millisPtr(row.LastUse)}
	s.guildKeys.put(hash, ref, gen)
	return ref, nil
}

// ListGuildKeys returns the keys of guild, oldest first.
func (s *Store) ListGuildKeys(ctx context.Context, guild snowflake.ID) ([]GuildKey, error) {
	rows, err := s.q.ListGuildKeys(ctx, int64(guild))
	if err != nil {
		return nil, fmt.Errorf("list guild keys: %w", err)
	}
	out := make([]GuildKey, 0, len(rows))
	for _, r := range rows {
		k, err := s.openGuildKey(r)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// DeleteGuildKey deletes the key token of guild and returns it:
// apierr.NotFound if the guild has no such key.
func (s *Store) DeleteGuildKey(ctx context.Context, guild snowflake.ID, actor Actor, token string) (GuildKey, error) {
	var row db.GuildKey
	err := s.inTx(ctx, func(q *db.Queries) error {
		var err error
		hash := keys.Hash(token)
		row, err = q.DeleteGuildKey(ctx, db.DeleteGuildKeyParams{GuildID: int64(guild), KeyHash: hash})
		if errors.Is(err, sql.ErrNoRows) {
			return apierr.New(apierr.NotFound, "This guild has no such API key.")
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, q, guild, actor, ActionKeyDeleted, map[string]any{"id": row.ID})
	})
	// Forgotten whether or not the delete committed: a cache may only
	// ever hold less than the database.
	s.guildKeys.forget(keys.Hash(token))
	if err != nil {
		return GuildKey{}, fmt.Errorf("delete guild key: %w", err)
	}
	return s.openGuildKey(row)
}

func (s *Store) openGuildKey(r db.GuildKey) (GuildKey, error) {
	token, err := s.sealer.Open(r.KeySealed, r.KeyHash)
	if err != nil {
		return GuildKey{}, fmt.Errorf("open guild key %d: %w", r.ID, err)
	}
	return GuildKey{
		ID:        r.ID,
		GuildID:   snowflake.ID(r.GuildID),
		Token:     token,
		CreatedAt: time.UnixMilli(r.CreatedAt).UTC(),
		CreatedBy: snowflake.ID(r.CreatedBy),
		LastUse:   millisPtr(r.LastUse),
	}, nil
}

// TouchGuildKeys records when keys were last used, in one transaction;
// a recorded use is never moved back in time.
func (s *Store) TouchGuildKeys(ctx context.Context, uses map[int64]time.Time) error {
	err := s.inTx(ctx, func(q *db.Queries) error {
		for id, at := range uses {
			ms := at.UnixMilli()
			if err := q.TouchGuildKey(ctx, db.TouchGuildKeyParams{LastUse: sql.NullInt64{Int64: ms, Valid: true}, ID: id, LastUse_2: sql.NullInt64{Int64: ms, Valid: true}}); err != nil {
				return err
			}
		}
		return nil
	})
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

// inTx runs fn in a transaction that takes the write lock at once.
func (s *Store) inTx(ctx context.Context, fn func(*db.Queries) error) error {
	return inTx(ctx, s.db, func(tx *sql.Tx) error { return fn(s.q.WithTx(tx)) })
}
