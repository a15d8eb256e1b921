package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// GuildSettings are a guild's general settings.
type GuildSettings struct {
	ID             int64
	GuildID        snowflake.ID
	Language       string
	GMT            string
	UnitSystem     string
	AutoDelete     *int64 // seconds; nil when off
	LoggingEnabled bool
}

// SettingsChange is a partial update: nil fields keep their value.
type SettingsChange struct {
	Language   *string
	GMT        *string
	UnitSystem *string
	// AutoDelete in seconds; 0 turns auto-delete off.
	AutoDelete *int64
}

// ensureGuild registers guild with default settings, if it is new.
func (s *Store) ensureGuild(ctx context.Context, q driver.Queries, guild snowflake.ID) error {
	if err := q.EnsureGuild(ctx, driver.EnsureGuildParams{ID: int64(guild), CreatedAt: s.now().UnixMilli()}); err != nil {
		return err
	}
	if err := q.EnsureGuildSettings(ctx, int64(guild)); err != nil {
		return err
	}
	return q.EnsureLoggingSettings(ctx, int64(guild))
}

// GuildSettings reads a guild's settings: ErrGuildNotFound for a guild
// apikeyd does not know.
func (s *Store) GuildSettings(ctx context.Context, guild snowflake.ID) (GuildSettings, error) {
	id := guildCacheKey(guild)
	if st, ok := s.settings.get(id); ok {
		return st, nil
	}
	gen := s.settings.generation()
	st, err := s.guildSettings(ctx, s.q, guild)
	if err != nil {
		return GuildSettings{}, err
	}
	s.settings.put(id, st, gen)
	return st, nil
}

func guildCacheKey(guild snowflake.ID) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(guild))
}

// recordSettingsChanged tells the other processes on the database, in
// q's transaction, that guild's cached settings are stale.
func (s *Store) recordSettingsChanged(ctx context.Context, q driver.Queries, guild snowflake.ID) error {
	return s.changes.Record(ctx, q, driver.Change{Kind: driver.ChangedGuildSettings, Key: guildCacheKey(guild)})
}

func (s *Store) guildSettings(ctx context.Context, q driver.Queries, guild snowflake.ID) (GuildSettings, error) {
	r, err := q.GetGuildSettings(ctx, int64(guild))
	if errors.Is(err, sql.ErrNoRows) {
		return GuildSettings{}, ErrGuildNotFound
	}
	if err != nil {
		return GuildSettings{}, fmt.Errorf("read settings: %w", err)
	}
	out := GuildSettings{
		ID: r.ID, GuildID: snowflake.ID(r.GuildID), Language: r.Language, GMT: r.Gmt,
		UnitSystem: r.UnitSystem, LoggingEnabled: r.LoggingEnabled != 0,
	}
	if r.AutoDelete.Valid {
		out.AutoDelete = &r.AutoDelete.Int64
	}
	return out, nil
}

// UpdateGuildSettings applies change and records what it changed.
func (s *Store) UpdateGuildSettings(ctx context.Context, guild snowflake.ID, actor Actor, change SettingsChange) (GuildSettings, error) {
	var out GuildSettings
	defer s.settings.forget(guildCacheKey(guild))
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		var changes map[string]any
		var err error
		if out, changes, err = s.changeSettings(ctx, q, guild, change); err != nil || len(changes) == 0 {
			return err
		}
		if err := s.recordSettingsChanged(ctx, q, guild); err != nil {
			return err
		}
		return s.audit(ctx, q, guild, actor, ActionSettingsUpdated, changes)
	})
	if err != nil {
		return GuildSettings{}, fmt.Errorf("update settings: %w", err)
	}
	return out, nil
}

// changeSettings applies change with q, inside a transaction, and returns
// the settings it leaves and the fields it changed (none: nothing written).
func (s *Store) changeSettings(ctx context.Context, q driver.Queries, guild snowflake.ID, change SettingsChange) (GuildSettings, map[string]any, error) {
	cur, err := s.guildSettings(ctx, q, guild)
	if err != nil {
		return GuildSettings{}, nil, err
	}
	changes := map[string]any{}
	setString(&cur.Language, change.Language, "language", changes)
	setString(&cur.GMT, change.GMT, "gmt", changes)
	setString(&cur.UnitSystem, change.UnitSystem, "unit_system", changes)
	if change.AutoDelete != nil {
		next := change.AutoDelete
		if *next == 0 {
			next = nil
		}
		if !equalInt(cur.AutoDelete, next) {
			cur.AutoDelete = next
			changes["auto_delete"] = next
		}
	}
	if len(changes) == 0 {
		return cur, nil, nil
	}
	var autoDelete sql.NullInt64
	if cur.AutoDelete != nil {
		autoDelete = sql.NullInt64{Int64: *cur.AutoDelete, Valid: true}
	}
	if err := q.UpdateGuildSettings(ctx, driver.UpdateGuildSettingsParams{
		Language: cur.Language, Gmt: cur.GMT, UnitSystem: cur.UnitSystem, AutoDelete: autoDelete, GuildID: int64(guild),
	}); err != nil {
		return GuildSettings{}, nil, err
	}
	return cur, changes, nil
}

func setString(cur *string, next *string, field string, changes map[string]any) {
	if next != nil && *next != *cur {
		*cur = *next
		changes[field] = *next
	}
}

func equalInt(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
