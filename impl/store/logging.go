package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// LoggingSettings are the logging module's state and settings of a guild.
type LoggingSettings struct {
	ID            int64
	GuildID       snowflake.ID
	Enabled       bool
	LogsChannelID snowflake.ID // zero when unset
	// Flags holds the log_* flags the guild has set; the others keep the
	// defaults of the document.
	Flags map[string]bool
}

// LoggingChange is a partial update of the logging settings.
type LoggingChange struct {
	// LogsChannelID, when not nil, sets the channel; zero clears it.
	LogsChannelID *snowflake.ID
	Flags         map[string]bool
}

// LoggingSettings reads a guild's logging module.
func (s *Store) LoggingSettings(ctx context.Context, guild snowflake.ID) (LoggingSettings, error) {
	return s.loggingSettings(ctx, s.q, guild)
}

func (s *Store) loggingSettings(ctx context.Context, q driver.Queries, guild snowflake.ID) (LoggingSettings, error) {
	r, err := q.GetLoggingSettings(ctx, int64(guild))
	if errors.Is(err, sql.ErrNoRows) {
		return LoggingSettings{}, ErrGuildNotFound
	}
	if err != nil {
		return LoggingSettings{}, fmt.Errorf("read logging settings: %w", err)
	}
	out := LoggingSettings{ID: r.ID, GuildID: snowflake.ID(r.GuildID), Enabled: r.Enabled != 0, Flags: map[string]bool{}}
	if r.LogsChannelID.Valid {
		out.LogsChannelID = snowflake.ID(r.LogsChannelID.Int64)
	}
	if err := json.Unmarshal([]byte(r.Flags), &out.Flags); err != nil {
		return LoggingSettings{}, fmt.Errorf("logging flags of guild %d: %w", guild, err)
	}
	return out, nil
}

// SetLoggingEnabled turns the module on or off: ErrLoggingAlreadyEnabled
// or ErrLoggingAlreadyDisabled when it is in that state already.
func (s *Store) SetLoggingEnabled(ctx context.Context, guild snowflake.ID, actor Actor, enabled bool) (LoggingSettings, error) {
	var out LoggingSettings
	// module_logging of the general settings is this same fact.
	defer s.settings.forget(guildCacheKey(guild))
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		cur, err := s.loggingSettings(ctx, q, guild)
		if err != nil {
			return err
		}
		switch {
		case enabled && cur.Enabled:
			return ErrLoggingAlreadyEnabled
		case !enabled && !cur.Enabled:
			return ErrLoggingAlreadyDisabled
		}
		v := int64(0)
		action := ActionLoggingDisabled
		if enabled {
			v, action = 1, ActionLoggingEnabled
		}
		if err := q.SetLoggingEnabled(ctx, driver.SetLoggingEnabledParams{Enabled: v, GuildID: int64(guild)}); err != nil {
			return err
		}
		if err := s.recordSettingsChanged(ctx, q, guild); err != nil {
			return err
		}
		cur.Enabled = enabled
		out = cur
		return s.audit(ctx, q, guild, actor, action, map[string]any{"module_logging": enabled})
	})
	if err != nil {
		return LoggingSettings{}, fmt.Errorf("set logging module: %w", err)
	}
	return out, nil
}

// UpdateLoggingSettings applies change; flags must be names the document
// declares.
func (s *Store) UpdateLoggingSettings(ctx context.Context, guild snowflake.ID, actor Actor, change LoggingChange, defaults map[string]bool) (LoggingSettings, error) {
	out, err := s.changeLogging(ctx, guild, actor, ActionLoggingSettingsUpdated, func(cur *LoggingSettings) map[string]any {
		changes := map[string]any{}
		if change.LogsChannelID != nil && *change.LogsChannelID != cur.LogsChannelID {
			cur.LogsChannelID = *change.LogsChannelID
			changes["logs_channel_id"] = cur.LogsChannelID.String()
		}
		for name, v := range change.Flags {
			was, set := cur.Flags[name]
			if !set {
				was = defaults[name]
			}
			cur.Flags[name] = v
			if was != v {
				changes[name] = v
			}
		}
		return changes
	})
	if err != nil {
		return LoggingSettings{}, fmt.Errorf("update logging settings: %w", err)
	}
	return out, nil
}

// ResetLoggingSettings puts the settings back to the defaults; the module
// stays on or off.
func (s *Store) ResetLoggingSettings(ctx context.Context, guild snowflake.ID, actor Actor, defaults map[string]bool) (LoggingSettings, error) {
	out, err := s.changeLogging(ctx, guild, actor, ActionLoggingSettingsReset, func(cur *LoggingSettings) map[string]any {
		changes := map[string]any{}
		if cur.LogsChannelID != 0 {
			changes["logs_channel_id"] = ""
		}
		for name, v := range cur.Flags {
			if v != defaults[name] {
				changes[name] = defaults[name]
			}
		}
		cur.LogsChannelID, cur.Flags = 0, map[string]bool{}
		return changes
	})
	if err != nil {
		return LoggingSettings{}, fmt.Errorf("reset logging settings: %w", err)
	}
	return out, nil
}

// changeLogging applies a change to a guild's logging settings in one
// transaction: apply edits them and says what changed; if anything did,
// they are written with their audit entry.
func (s *Store) changeLogging(ctx context.Context, guild snowflake.ID, actor Actor, action string, apply func(*LoggingSettings) map[string]any) (LoggingSettings, error) {
	var out LoggingSettings
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		cur, err := s.loggingSettings(ctx, q, guild)
		if err != nil {
			return err
		}
		changes := apply(&cur)
		out = cur
		if len(changes) == 0 {
			return nil
		}
		if err := s.writeLogging(ctx, q, cur); err != nil {
			return err
		}
		return s.audit(ctx, q, guild, actor, action, changes)
	})
	return out, err
}

func (s *Store) writeLogging(ctx context.Context, q driver.Queries, l LoggingSettings) error {
	flags, err := json.Marshal(l.Flags)
	if err != nil {
		return err
	}
	var channel sql.NullInt64
	if l.LogsChannelID != 0 {
		channel = sql.NullInt64{Int64: int64(l.LogsChannelID), Valid: true}
	}
	return q.UpdateLoggingSettings(ctx, driver.UpdateLoggingSettingsParams{LogsChannelID: channel, Flags: string(flags), GuildID: int64(l.GuildID)})
}
