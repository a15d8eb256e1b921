package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store/driver"
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
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		if err := s.ensureGuild(ctx, q, guild); err != nil {
			return err
		}
		var err error
		added, err = q.AddGuildAdmin(ctx, driver.AddGuildAdminParams{GuildID: int64(guild), UserID: int64(user), CreatedAt: s.now().UnixMilli()})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("add guild admin: %w", err)
	}
	return added > 0, nil
}

// RemoveGuildAdmin takes the right away; false if the user did not have it.
func (s *Store) RemoveGuildAdmin(ctx context.Context, guild, user snowflake.ID) (bool, error) {
	var n int64
	grant := grantCacheKey(guild, user)
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		var err error
		n, err = q.RemoveGuildAdmin(ctx, driver.RemoveGuildAdminParams{GuildID: int64(guild), UserID: int64(user)})
		if err != nil || n == 0 {
			return err
		}
		return s.changes.Record(ctx, q, driver.Change{Kind: driver.ChangedGuildAdmin, Key: grant})
	})
	// Forgotten whether or not the removal committed: a cache may only
	// ever hold less than the database.
	s.grants.forget(grant)
	if err != nil {
		return false, fmt.Errorf("remove guild admin: %w", err)
	}
	return n > 0, nil
}

// ListGuildAdmins lists the administrators of guild, or of every guild
// when guild is zero.
func (s *Store) ListGuildAdmins(ctx context.Context, guild snowflake.ID) ([]GuildAdmin, error) {
	var rows []driver.GuildAdmin
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

// IsGuildAdmin reports whether user administers guild. A grant found is
// cached until it is removed; its absence is read every time, so a grant
// added holds at once.
func (s *Store) IsGuildAdmin(ctx context.Context, guild, user snowflake.ID) (bool, error) {
	grant := grantCacheKey(guild, user)
	if _, ok := s.grants.get(grant); ok {
		return true, nil
	}
	gen := s.grants.generation()
	ok, err := s.q.IsGuildAdmin(ctx, driver.IsGuildAdminParams{GuildID: int64(guild), UserID: int64(user)})
	if err != nil {
		return false, fmt.Errorf("check guild admin: %w", err)
	}
	if ok {
		s.grants.put(grant, struct{}{}, gen)
	}
	return ok, nil
}

// grantCacheKey is the key of guild's grant to user in the grants cache
// and the change log (driver.ChangedGuildAdmin).
func grantCacheKey(guild, user snowflake.ID) []byte {
	key := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(guild))
	return binary.BigEndian.AppendUint64(key, uint64(user))
}

// GuildsOfAdmin lists the guilds user administers.
func (s *Store) GuildsOfAdmin(ctx context.Context, user snowflake.ID) ([]snowflake.ID, error) {
	rows, err := s.q.ListGuildsOfAdmin(ctx, int64(user))
	if err != nil {
		return nil, fmt.Errorf("list guilds of admin: %w", err)
	}
	out := make([]snowflake.ID, len(rows))
	for i, g := range rows {
		out[i] = snowflake.ID(g)
	}
	return out, nil
}
