package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// What a guild's data names a member by (their Discord id), split as
// Husqy splits its privacy operations between its services:
//   - the general service: the guild's keys they created (created_by) and
//     their administrator grant;
//   - the logging module: the audit entries they made (the actor), and
//     the queued messages for the logs channel that they made or that
//     mention them.
//
// Erasure keeps the guild working and its audit log whole: the keys stay
// valid with an empty created_by, the entries stay with the actor
// "A deleted user", and an administrator grant stays (removing it is
// `apikeyd guild-admin remove`'s job, the grant being what lets them in).
// Each erasure is itself an audit entry that does not name the member.

// DeletedUserActor is the actor of the audit entries of an erased member,
// and of an erasure its member made.
var DeletedUserActor = Actor{deleted: true}

// ActionPrivacyErased is the audit action of an erasure; its changes name
// the service erased and how many records were rewritten, not the member.
const ActionPrivacyErased = "privacy.erased"

// The services of the privacy operations, as an erasure's audit entry
// names them.
const (
	PrivacyGeneral = "general"
	PrivacyLogging = "logging"
)

// GeneralEntriesOf counts the records of guild's general data that name
// member: the keys they created, and their administrator grant.
func (s *Store) GeneralEntriesOf(ctx context.Context, guild, member snowflake.ID) (int64, error) {
	keys, err := s.q.CountGuildKeysByCreator(ctx, driver.CountGuildKeysByCreatorParams{GuildID: int64(guild), UserID: int64(member)})
	if err != nil {
		return 0, fmt.Errorf("count keys of a member: %w", err)
	}
	admin, err := s.IsGuildAdmin(ctx, guild, member)
	if err != nil {
		return 0, err
	}
	if admin {
		keys++
	}
	return keys, nil
}

// EraseGeneralEntriesOf empties created_by of the keys member created in
// guild, and records the erasure as actor's; it returns how many keys it
// rewrote. The keys keep working.
func (s *Store) EraseGeneralEntriesOf(ctx context.Context, guild snowflake.ID, actor Actor, member snowflake.ID) (int64, error) {
	var erased int64
	defer s.keyLists.forget(guildCacheKey(guild))
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		var err error
		erased, err = q.EraseGuildKeyCreator(ctx, driver.EraseGuildKeyCreatorParams{GuildID: int64(guild), UserID: int64(member)})
		if err != nil {
			return err
		}
		if err := s.recordKeyListChanged(ctx, q, guild); err != nil {
			return err
		}
		return s.auditErasure(ctx, q, guild, actor, member, PrivacyGeneral, erased)
	})
	if err != nil {
		return 0, fmt.Errorf("erase a member's general entries: %w", err)
	}
	return erased, nil
}

// LoggingEntriesOf counts guild's audit entries whose actor is member,
// and its queued messages for the logs channel that name them (made by
// them or mentioning them): apikeyd holds those too until Discord has
// them.
func (s *Store) LoggingEntriesOf(ctx context.Context, guild, member snowflake.ID) (int64, error) {
	entries, err := s.q.CountAuditEntriesByUser(ctx, driver.CountAuditEntriesByUserParams{GuildID: int64(guild), UserID: userColumn(member)})
	if err != nil {
		return 0, fmt.Errorf("count audit entries of a member: %w", err)
	}
	queued, err := countLogMessagesOf(ctx, s.q, guild, member)
	if err != nil {
		return 0, fmt.Errorf("count queued log messages of a member: %w", err)
	}
	return entries + queued, nil
}

// EraseLoggingEntriesOf makes DeletedUserActor the actor of guild's audit
// entries that member made, and records the erasure as actor's; it
// returns how many entries it rewrote. The messages for the logs channel
// that are queued and name the member are rewritten in the same
// transaction (eraseLogMessagesOf); those already posted to Discord are
// beyond apikeyd's reach.
//
// A message naming the member that the guild's sender is posting
// (ClaimNextLogMessage) is waited for, so that it is posted, or not,
// before the erasure answers, and nothing posted afterwards names the
// member. Meanwhile the guild's sender claims no further message
// (markErasing), so the wait is one post's, bounded by its claim; each
// attempt erases all or nothing, and should the claim outlast its lease
// on another replica's clock, the erasure ends with
// ErrLogMessageInFlight.
func (s *Store) EraseLoggingEntriesOf(ctx context.Context, guild snowflake.ID, actor Actor, member snowflake.ID) (int64, error) {
	var deadline time.Time
	for {
		attempt := s.now()
		erased, busy, err := s.eraseLoggingEntriesOnce(ctx, guild, actor, member)
		if err != nil {
			return 0, fmt.Errorf("erase a member's logging entries: %w", err)
		}
		if busy.IsZero() {
			return erased, nil
		}
		if deadline.IsZero() {
			deadline = busy
			if err := s.markErasing(ctx, guild, deadline.Add(claimMargin)); err != nil {
				return 0, fmt.Errorf("erase a member's logging entries: %w", err)
			}
		}
		// Given up only by an attempt that began once the claim had
		// lapsed: one that began before it may have found it still held
		// however late it ends (a busy machine), and the next finds it
		// lapsed.
		if !attempt.Before(deadline) {
			return 0, fmt.Errorf("erase a member's logging entries: %w", ErrLogMessageInFlight)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("erase a member's logging entries: %w", ctx.Err())
		case <-time.After(inFlightPoll):
		}
	}
}

// markErasing keeps guild's senders from claiming a message until until
// (0: from now on they may): a mark a failed erasure leaves lapses by
// itself, a margin after its wait's deadline.
func (s *Store) markErasing(ctx context.Context, guild snowflake.ID, until time.Time) error {
	return s.engine.InTx(ctx, func(q driver.Queries) error {
		return q.SetLogErasing(ctx, driver.SetLogErasingParams{Erasing: until.UnixMilli(), GuildID: int64(guild)})
	})
}

// inFlightPoll is how often an erasure looks again at a message in
// flight: a post to Discord takes tens of milliseconds.
const inFlightPoll = 20 * time.Millisecond

// eraseLoggingEntriesOnce is one attempt of EraseLoggingEntriesOf, in one
// transaction; when a message naming member is in flight it writes
// nothing and returns until when its claim holds.
func (s *Store) eraseLoggingEntriesOnce(ctx context.Context, guild snowflake.ID, actor Actor, member snowflake.ID) (erased int64, busy time.Time, err error) {
	err = s.engine.InTx(ctx, func(q driver.Queries) error {
		var err error
		erased, err = q.EraseAuditActor(ctx, driver.EraseAuditActorParams{GuildID: int64(guild), UserID: userColumn(member)})
		if err != nil {
			return err
		}
		if busy, err = s.eraseLogMessagesOf(ctx, q, guild, member); err != nil || !busy.IsZero() {
			if err == nil {
				err = errRolledBack
			}
			return err
		}
		if err := q.SetLogErasing(ctx, driver.SetLogErasingParams{Erasing: 0, GuildID: int64(guild)}); err != nil {
			return err
		}
		return s.auditErasure(ctx, q, guild, actor, member, PrivacyLogging, erased)
	})
	if errors.Is(err, errRolledBack) {
		return 0, busy, nil
	}
	return erased, time.Time{}, err
}

// errRolledBack rolls back an erasure's attempt that found a message in
// flight.
var errRolledBack = errors.New("rolled back")

// auditErasure records an erasure of member's records; a member erasing
// their own is recorded as DeletedUserActor, so that the entry does not
// name them either.
func (s *Store) auditErasure(ctx context.Context, q driver.Queries, guild snowflake.ID, actor Actor, member snowflake.ID, service string, erased int64) error {
	if actor.UserID == member {
		actor = DeletedUserActor
	}
	return s.audit(ctx, q, guild, actor, ActionPrivacyErased, map[string]any{"service": service, "erased": erased})
}

// userColumn is a user id as the nullable actor_user column holds it.
func userColumn(user snowflake.ID) sql.NullInt64 {
	return sql.NullInt64{Int64: int64(user), Valid: true}
}
