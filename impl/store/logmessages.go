package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// The logging module's outbox. While a guild's module is on and its logs
// channel set (and apikeyd has a bot token: Config.LogMessages), each
// change made through /v1 queues a message for that channel in the
// change's own transaction, so that a change and its message are kept or
// lost together. One process at a time sends a guild's messages (the
// lease of TakeLogSender), oldest first, and deletes each once Discord has
// it.

// The flags of the logging module under which each kind of change is
// posted. Every one defaults to true in the document (ModuleLogging).
const (
	FlagSettingsChanged = "log_settings_changed"
	FlagModules         = "log_modules"
	FlagAPIKeys         = "log_api_keys"
)

// logFlagOf is the flag that says whether a change of that action is
// posted.
func logFlagOf(action string) string {
	switch action {
	case ActionKeyCreated, ActionKeyDeleted:
		return FlagAPIKeys
	case ActionLoggingEnabled, ActionLoggingDisabled:
		return FlagModules
	}
	return FlagSettingsChanged
}

// LogMessage is a queued message for a guild's logs channel: the change it
// reports, rendered when it is sent.
type LogMessage struct {
	ID        int64
	GuildID   snowflake.ID
	ChannelID snowflake.ID
	// AuditEntryID is the entry the message reports.
	AuditEntryID int64
	Actor        Actor
	Action       string
	Changes      map[string]any
	// Nonce is unique to the message: Discord posts a message once per
	// nonce within its window, however often it is sent.
	Nonce     string
	Attempts  int
	CreatedAt time.Time
}

// queueLogMessage queues the message of a change audited as entry, inside
// the change's transaction, when the guild's module posts that change.
// Disabling the module is posted by the module it turns off: it is the
// last message, after every one queued before it.
func (s *Store) queueLogMessage(ctx context.Context, q driver.Queries, guild snowflake.ID, actor Actor, action string, changes string, entry int64) error {
	if !s.logMessages {
		return nil
	}
	l, err := s.loggingSettings(ctx, q, guild)
	if err != nil {
		return err
	}
	on, set := l.Flags[logFlagOf(action)]
	if !set {
		on = true
	}
	if !(l.Enabled || action == ActionLoggingDisabled) || l.LogsChannelID == 0 || !on {
		return nil
	}
	return q.CreateLogMessage(ctx, driver.CreateLogMessageParams{
		GuildID: int64(guild), ChannelID: int64(l.LogsChannelID), AuditEntryID: sql.NullInt64{Int64: entry, Valid: true},
		ActorUser: actorColumn(actor), Action: action, Changes: changes, Nonce: newNonce(), CreatedAt: s.now().UnixMilli(),
	})
}

// newNonce is 120 random bits in 24 characters: Discord takes a nonce of
// at most 25.
func newNonce() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)
}

// LogGuildsDue lists the guilds with a message whose next attempt is due.
func (s *Store) LogGuildsDue(ctx context.Context) ([]snowflake.ID, error) {
	ids, err := s.q.ListGuildsWithLogMessages(ctx, s.now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("list guilds with log messages: %w", err)
	}
	out := make([]snowflake.ID, len(ids))
	for i, id := range ids {
		out[i] = snowflake.ID(id)
	}
	return out, nil
}

// LogClaim is a message its sender claimed for posting: in flight, for an
// erasure, until it is settled (LogMessageDelivered, RetryLogMessage,
// GiveUpLogMessage) or Until passes.
type LogClaim struct {
	LogMessage
	// Until is the end of the lease the claim was made under: the post
	// must be settled or abandoned by then, as another process may take
	// the guild over and an erasure no longer waits for it.
	Until  time.Time
	holder string
}

// ClaimNextLogMessage takes or renews, for holder, the lease on sending
// guild's messages until ttl from now and claims the guild's oldest
// message, which goes before any other, if it is due; false when another
// holder's lease has not expired or no message is due.
//
// The message is read and claimed in the lease's transaction, so that an
// erasure (EraseLoggingEntriesOf), which transactions serialize with it,
// either rewrites it before it is read or finds it claimed and waits for
// the post to settle.
func (s *Store) ClaimNextLogMessage(ctx context.Context, guild snowflake.ID, holder string, ttl time.Duration) (LogClaim, bool, error) {
	var c LogClaim
	var claimed bool
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		now := s.now()
		held, err := takeLogSender(ctx, q, guild, holder, now.Add(ttl), now)
		if err != nil || !held {
			return err
		}
		m, due, err := nextLogMessage(ctx, q, guild, now)
		if err != nil || !due {
			return err
		}
		if err := q.SetLogMessageInFlight(ctx, driver.SetLogMessageInFlightParams{Sending: m.ID, GuildID: int64(guild), Holder: holder}); err != nil {
			return err
		}
		c, claimed = LogClaim{LogMessage: m, Until: now.Add(ttl), holder: holder}, true
		return nil
	})
	if err != nil {
		return LogClaim{}, false, fmt.Errorf("claim the next log message: %w", err)
	}
	return c, claimed, nil
}

// takeLogSender takes or renews holder's lease on guild until expires;
// false when another holder's lease has not expired.
func takeLogSender(ctx context.Context, q driver.Queries, guild snowflake.ID, holder string, expires, now time.Time) (bool, error) {
	if err := q.EnsureLogSender(ctx, int64(guild)); err != nil {
		return false, err
	}
	n, err := q.TakeLogSender(ctx, driver.TakeLogSenderParams{
		Holder: holder, ExpiresAt: expires.UnixMilli(), GuildID: int64(guild), Now: now.UnixMilli(),
	})
	return n > 0, err
}

// nextLogMessage is guild's oldest message if it is due; false when there
// is none or it is not due yet.
func nextLogMessage(ctx context.Context, q driver.Queries, guild snowflake.ID, now time.Time) (LogMessage, bool, error) {
	r, err := q.FirstLogMessage(ctx, int64(guild))
	if errors.Is(err, sql.ErrNoRows) {
		return LogMessage{}, false, nil
	}
	if err != nil {
		return LogMessage{}, false, err
	}
	if r.NextAttemptAt > now.UnixMilli() {
		return LogMessage{}, false, nil
	}
	m := LogMessage{
		ID: r.ID, GuildID: snowflake.ID(r.GuildID), ChannelID: snowflake.ID(r.ChannelID), AuditEntryID: r.AuditEntryID.Int64,
		Actor: actorOf(r.ActorUser), Action: r.Action, Nonce: r.Nonce, Attempts: int(r.Attempts),
		CreatedAt: time.UnixMilli(r.CreatedAt).UTC(),
	}
	// Numbers as written, so that none is shown in float notation.
	d := json.NewDecoder(strings.NewReader(r.Changes))
	d.UseNumber()
	if err := d.Decode(&m.Changes); err != nil {
		return LogMessage{}, false, fmt.Errorf("log message %d: %w", r.ID, err)
	}
	return m, true, nil
}

// settle ends c's claim, in the transaction that records the post's
// outcome; a sender that lost its lease meanwhile clears nothing of its
// successor's.
func settle(ctx context.Context, q driver.Queries, c LogClaim) error {
	return q.SetLogMessageInFlight(ctx, driver.SetLogMessageInFlightParams{Sending: 0, GuildID: int64(c.GuildID), Holder: c.holder})
}

// LogMessageDelivered deletes a claimed message Discord has.
func (s *Store) LogMessageDelivered(ctx context.Context, c LogClaim) error {
	err := s.engine.Write(ctx, func(ctx context.Context, q driver.Queries) error {
		if err := q.DeleteLogMessage(ctx, c.ID); err != nil {
			return err
		}
		return settle(ctx, q, c)
	})
	if err != nil {
		return fmt.Errorf("delete a delivered log message: %w", err)
	}
	return nil
}

// RetryLogMessage records a failed attempt at a claimed message
// (attempts in all) and when to try again.
func (s *Store) RetryLogMessage(ctx context.Context, c LogClaim, attempts int, at time.Time) error {
	err := s.engine.Write(ctx, func(ctx context.Context, q driver.Queries) error {
		if err := q.RetryLogMessage(ctx, driver.RetryLogMessageParams{Attempts: int64(attempts), NextAttemptAt: at.UnixMilli(), ID: c.ID}); err != nil {
			return err
		}
		return settle(ctx, q, c)
	})
	if err != nil {
		return fmt.Errorf("retry a log message: %w", err)
	}
	return nil
}

// GiveUpLogMessage deletes a claimed message that will not be delivered,
// and says so in the audit entry it reports. A caller's event, which no
// entry reports, gets an entry of its own then, so that the audit log
// records every message given up.
func (s *Store) GiveUpLogMessage(ctx context.Context, c LogClaim) error {
	m := c.LogMessage
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		if err := q.DeleteLogMessage(ctx, m.ID); err != nil {
			return err
		}
		if err := settle(ctx, q, c); err != nil {
			return err
		}
		entry := m.AuditEntryID
		if entry == 0 && m.Action == ActionLogEvent {
			var err error
			if entry, err = s.auditGivenUpEvent(ctx, q, m); err != nil {
				return err
			}
		}
		if entry == 0 {
			return nil
		}
		return q.MarkAuditEntryUndelivered(ctx, entry)
	})
	if err != nil {
		return fmt.Errorf("give up a log message: %w", err)
	}
	return nil
}

// auditGivenUpEvent records the event of m, as its actor's, and returns
// its entry. The entry names the event alone: the name that matched one
// of the module's flags, where the rest of the event is the caller's text,
// which an erasure would not reach in the audit log. Unlike audit, it
// queues no message: that would be given up in its turn.
func (s *Store) auditGivenUpEvent(ctx context.Context, q driver.Queries, m LogMessage) (int64, error) {
	b, err := json.Marshal(map[string]any{"event": LogEventName(m.Changes)})
	if err != nil {
		return 0, err
	}
	return q.CreateAuditEntry(ctx, driver.CreateAuditEntryParams{
		GuildID: int64(m.GuildID), CreatedAt: s.now().UnixMilli(), ActorUser: actorColumn(m.Actor), Action: ActionLogEvent, Changes: string(b),
	})
}

// LogEventName names a caller's event by the fields QueueLogEvent was
// given: its event, else its category (what its flag is named after).
func LogEventName(fields map[string]any) string {
	if e, ok := fields["event"].(string); ok {
		return e
	}
	c, _ := fields["category"].(string)
	return c
}

// actorColumn is an actor as the nullable actor_user columns hold it:
// NULL for an API key, 0 (which no Discord id is) for a deleted user.
func actorColumn(a Actor) sql.NullInt64 {
	if a.UserID == 0 && !a.deleted {
		return sql.NullInt64{}
	}
	return userColumn(a.UserID)
}

// actorOf reads an actor_user column.
func actorOf(c sql.NullInt64) Actor {
	switch {
	case !c.Valid:
		return APIKeyActor
	case c.Int64 == 0:
		return DeletedUserActor
	}
	return Actor{UserID: snowflake.ID(c.Int64)}
}

// eraseLogMessagesOf rewrites guild's queued messages that name member:
// as their actor, made DeletedUserActor, and in their text (an event's),
// where a mention of them or their id reads "a deleted user". When one of
// them is in flight (inFlight) it rewrites none and returns until when
// that message's claim holds.
func (s *Store) eraseLogMessagesOf(ctx context.Context, q driver.Queries, guild, member snowflake.ID) (time.Time, error) {
	sending, until, err := s.inFlight(ctx, q, guild)
	if err != nil {
		return time.Time{}, err
	}
	rows, err := q.ListLogMessagesOfGuild(ctx, int64(guild))
	if err != nil {
		return time.Time{}, err
	}
	var rewrites []driver.RewriteLogMessageParams
	for _, r := range rows {
		actor, changes, named, err := erasedLogMessage(r, member)
		if err != nil {
			return time.Time{}, err
		}
		if !named {
			continue
		}
		if r.ID == sending {
			return until, nil
		}
		rewrites = append(rewrites, driver.RewriteLogMessageParams{ActorUser: actorColumn(actor), Changes: changes, ID: r.ID})
	}
	for _, p := range rewrites {
		if err := q.RewriteLogMessage(ctx, p); err != nil {
			return time.Time{}, err
		}
	}
	return time.Time{}, nil
}

// inFlight is the message guild's sender is posting (0: none) and until
// when its claim holds: the lease's end and claimMargin, so that the
// claim outlasts the post on the sender's clock.
func (s *Store) inFlight(ctx context.Context, q driver.Queries, guild snowflake.ID) (int64, time.Time, error) {
	r, err := q.LogMessageInFlight(ctx, int64(guild))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	until := time.UnixMilli(r.ExpiresAt).Add(claimMargin)
	if r.Sending == 0 || !s.now().Before(until) {
		return 0, time.Time{}, nil
	}
	return r.Sending, until, nil
}

// claimMargin is how long past its lease's end a claim still holds: for
// the skew between replicas' clocks, and for a post that Discord received
// as its sender gave up on it.
const claimMargin = time.Second

// countLogMessagesOf counts guild's queued messages that name member:
// those eraseLogMessagesOf rewrites.
func countLogMessagesOf(ctx context.Context, q driver.Queries, guild, member snowflake.ID) (int64, error) {
	rows, err := q.ListLogMessagesOfGuild(ctx, int64(guild))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, r := range rows {
		_, _, named, err := erasedLogMessage(r, member)
		if err != nil {
			return 0, err
		}
		if named {
			n++
		}
	}
	return n, nil
}

// erasedLogMessage is the actor and changes of message r once member is
// erased from it, and whether r names member at all.
func erasedLogMessage(r driver.LogMessage, member snowflake.ID) (Actor, string, bool, error) {
	actor := actorOf(r.ActorUser)
	acted := actor.UserID == member && !actor.deleted
	if acted {
		actor = DeletedUserActor
	}
	changes, mentioned, err := eraseMemberText(r.Changes, member)
	if err != nil {
		return Actor{}, "", false, fmt.Errorf("log message %d: %w", r.ID, err)
	}
	return actor, changes, acted || mentioned, nil
}

// eraseMemberText replaces, in the JSON object changes, each mention of
// member and each string or number that is their id; it reports whether
// it replaced any.
func eraseMemberText(changes string, member snowflake.ID) (string, bool, error) {
	id := member.String()
	if !strings.Contains(changes, id) {
		return changes, false, nil
	}
	d := json.NewDecoder(strings.NewReader(changes))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", false, err
	}
	replacer := strings.NewReplacer("<@!"+id+">", deletedUser, "<@"+id+">", deletedUser, id, deletedUser)
	var erase func(any) any
	erase = func(v any) any {
		switch v := v.(type) {
		case string:
			return replacer.Replace(v)
		case json.Number:
			if v.String() == id {
				return deletedUser
			}
		case map[string]any:
			for k, e := range v {
				v[k] = erase(e)
			}
		case []any:
			for i, e := range v {
				v[i] = erase(e)
			}
		}
		return v
	}
	b, err := json.Marshal(erase(v))
	if err != nil {
		return "", false, err
	}
	return string(b), string(b) != changes, nil
}

// deletedUser is what an erased member's mention or id reads in a queued
// message.
const deletedUser = "a deleted user"

// ActionLogEvent is the action of a queued event a caller sent
// (POST /modules/logging/events/check), which no audit entry records.
const ActionLogEvent = "logging.event"

// Why QueueLogEvent queued an event or did not.
type LogEventOutcome string

// The outcomes of QueueLogEvent.
const (
	LogEventQueued     LogEventOutcome = "queued"
	LogEventNoBotToken LogEventOutcome = "no_bot_token"
	LogEventModuleOff  LogEventOutcome = "module_off"
	LogEventNoChannel  LogEventOutcome = "no_channel"
	LogEventFlagOff    LogEventOutcome = "flag_off"
)

// QueueLogEvent queues an event for guild's logs channel, as actor's, when
// the module logs it: it is on, its channel set and flag on. fields are
// what the message shows.
func (s *Store) QueueLogEvent(ctx context.Context, guild snowflake.ID, actor Actor, flag string, fields map[string]any) (LogEventOutcome, error) {
	if !s.logMessages {
		return LogEventNoBotToken, nil
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return "", fmt.Errorf("queue a log event: %w", err)
	}
	outcome := LogEventQueued
	err = s.engine.InTx(ctx, func(q driver.Queries) error {
		l, err := s.loggingSettings(ctx, q, guild)
		if err != nil {
			return err
		}
		on, set := l.Flags[flag]
		switch {
		case !l.Enabled:
			outcome = LogEventModuleOff
		case l.LogsChannelID == 0:
			outcome = LogEventNoChannel
		case set && !on:
			outcome = LogEventFlagOff
		default:
			return q.CreateLogMessage(ctx, driver.CreateLogMessageParams{
				GuildID: int64(guild), ChannelID: int64(l.LogsChannelID), ActorUser: actorColumn(actor),
				Action: ActionLogEvent, Changes: string(b), Nonce: newNonce(), CreatedAt: s.now().UnixMilli(),
			})
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("queue a log event: %w", err)
	}
	return outcome, nil
}
