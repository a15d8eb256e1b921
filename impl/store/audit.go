package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// Actor is who makes a change through /v1: a Discord user, or an API key
// that the audit log never identifies; or, once erased, a deleted user
// (DeletedUserActor, privacy.go).
type Actor struct {
	UserID  snowflake.ID // zero for an API key
	deleted bool
}

// APIKeyActor is every API key, as the audit log sees it.
var APIKeyActor = Actor{}

// Mention is how the audit log shows the actor: a Discord mention of the
// user, or exactly "An API key".
func (a Actor) Mention() string {
	switch {
	case a.deleted:
		return "A deleted user"
	case a.UserID == 0:
		return "An API key"
	}
	return "<@" + a.UserID.String() + ">"
}

// The actions the audit log records.
const (
	ActionKeyCreated             = "api_key.created"
	ActionKeyDeleted             = "api_key.deleted"
	ActionSettingsUpdated        = "settings.updated"
	ActionLoggingEnabled         = "logging.enabled"
	ActionLoggingDisabled        = "logging.disabled"
	ActionLoggingSettingsUpdated = "logging.settings.updated"
	ActionLoggingSettingsReset   = "logging.settings.reset"
)

// AuditEntry is one change in a guild's audit log.
type AuditEntry struct {
	ID        int64
	GuildID   snowflake.ID
	CreatedAt time.Time
	Actor     string // Actor.Mention of who made the change
	Action    string
	Changes   map[string]any
}

// audit writes an entry with q, inside the transaction of the change.
func (s *Store) audit(ctx context.Context, q driver.Queries, guild snowflake.ID, actor Actor, action string, changes map[string]any) error {
	b, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	// NULL is an API key's; 0, which no Discord id is, a deleted user's.
	var user sql.NullInt64
	if actor.UserID != 0 || actor.deleted {
		user = userColumn(actor.UserID)
	}
	return q.CreateAuditEntry(ctx, driver.CreateAuditEntryParams{
		GuildID: int64(guild), CreatedAt: s.now().UnixMilli(), ActorUser: user, Action: action, Changes: string(b),
	})
}

// AuditEntries returns up to limit entries of guild older than entry
// before (0: from the newest), newest first.
func (s *Store) AuditEntries(ctx context.Context, guild snowflake.ID, before int64, limit int) ([]AuditEntry, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.q.ListAuditEntries(ctx, driver.ListAuditEntriesParams{GuildID: int64(guild), Before: before, PageSize: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	out := make([]AuditEntry, len(rows))
	for i, r := range rows {
		var changes map[string]any
		if err := json.Unmarshal([]byte(r.Changes), &changes); err != nil {
			return nil, fmt.Errorf("audit entry %d: %w", r.ID, err)
		}
		actor := APIKeyActor
		switch {
		case r.ActorUser.Valid && r.ActorUser.Int64 == 0:
			actor = DeletedUserActor
		case r.ActorUser.Valid:
			actor = Actor{UserID: snowflake.ID(r.ActorUser.Int64)}
		}
		out[i] = AuditEntry{
			ID: r.ID, GuildID: snowflake.ID(r.GuildID), CreatedAt: time.UnixMilli(r.CreatedAt).UTC(),
			Actor: actor.Mention(), Action: r.Action, Changes: changes,
		}
	}
	return out, nil
}
