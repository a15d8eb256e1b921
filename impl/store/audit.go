package store

import (
	"context"
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
	// Undelivered: the entry's message to the logs channel was given up.
	Undelivered bool
}

// audit writes an entry with q, inside the transaction of the change,
// and queues its message for the logs channel.
func (s *Store) audit(ctx context.Context, q driver.Queries, guild snowflake.ID, actor Actor, action string, changes map[string]any) error {
	b, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	entry, err := q.CreateAuditEntry(ctx, driver.CreateAuditEntryParams{
		GuildID: int64(guild), CreatedAt: s.now().UnixMilli(), ActorUser: actorColumn(actor), Action: action, Changes: string(b),
	})
	if err != nil {
		return err
	}
	return s.queueLogMessage(ctx, q, guild, actor, action, string(b), entry)
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
		out[i] = AuditEntry{
			ID: r.ID, GuildID: snowflake.ID(r.GuildID), CreatedAt: time.UnixMilli(r.CreatedAt).UTC(),
			Actor: actorOf(r.ActorUser).Mention(), Action: r.Action, Changes: changes, Undelivered: r.Undelivered != 0,
		}
	}
	return out, nil
}
