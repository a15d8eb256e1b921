// Package logchannel sends the logging module's queued messages (the
// store's outbox) to each guild's logs channel through the bot: one
// process per guild at a time (a lease in the database, so that replicas
// share the work without sending a guild's messages twice or out of
// order), oldest first, retried with backoff, waiting out Discord's rate
// limits, and given up after MaxAttempts failures, or at a failure (a 429
// too) once it has waited MaxAge.
//
// A message is deleted once Discord has it. A process killed between
// Discord's answer and the delete sends it again when it (or another)
// takes the guild over: the message's nonce, sent with enforce_nonce,
// makes Discord answer with the first one instead of posting it twice,
// within Discord's window of a few minutes. After a longer outage the
// message can be posted twice.
package logchannel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/observe"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

// Defaults of Config.
const (
	DefaultPollInterval = 500 * time.Millisecond
	DefaultMaxAttempts  = 8
	DefaultFirstBackoff = time.Second
	DefaultMaxBackoff   = 5 * time.Minute
	DefaultMaxAge       = time.Hour
	// DefaultLease is how long a guild stays with its sender after the
	// sender last renewed it: another process takes over a guild whose
	// sender died after this long: a restarted process waits as long for
	// its own guilds.
	DefaultLease = 5 * time.Second
)

// Poster posts a message to a channel (the discord.Bot).
type Poster interface {
	PostMessage(ctx context.Context, channelID string, m discord.Message) error
}

// Config configures a Sender. Zero values select the defaults.
type Config struct {
	Store    *store.Store
	Poster   Poster
	Observer *observe.Observer
	Log      *slog.Logger
	// PollInterval is how often the outbox is looked at.
	PollInterval time.Duration
	// MaxAttempts is how many failed attempts give a message up; a 429
	// is not a failure, only a wait.
	MaxAttempts int
	// MaxAge bounds the waits: a message queued longer ago than this is
	// given up at its next failed attempt, a 429 included, so that a
	// Discord that rate-limits forever holds no message (nor the guild's
	// messages behind it) forever.
	MaxAge time.Duration
	// FirstBackoff is the wait after the first failure, doubled after
	// each further one up to MaxBackoff.
	FirstBackoff, MaxBackoff time.Duration
	// Lease is how long a guild's lease lasts unrenewed.
	Lease time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Sender sends the outbox's messages; see the package comment.
type Sender struct {
	cfg Config
	// holder names this Sender in the guilds' leases: its host and
	// process id, so that a lease says which process sends a guild's
	// messages, and a random part, as one process may run several.
	holder string
}

// New builds a Sender.
func New(cfg Config) *Sender {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.FirstBackoff <= 0 {
		cfg.FirstBackoff = DefaultFirstBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 12)
	rand.Read(b)
	host, _ := os.Hostname()
	return &Sender{cfg: cfg, holder: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))}
}

// Run sends until ctx is done.
func (s *Sender) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		if err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Observer.DatabaseError()
			s.cfg.Log.Error("send log messages", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendDue sends the messages that are due, of each guild whose lease this
// process holds or can take.
func (s *Sender) SendDue(ctx context.Context) error {
	guilds, err := s.cfg.Store.LogGuildsDue(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, g := range guilds {
		if err := s.sendGuild(ctx, g); err != nil {
			errs = append(errs, fmt.Errorf("guild %s: %w", g, err))
		}
	}
	return errors.Join(errs...)
}

// sendGuild sends guild's messages in order until one must wait, renewing
// the lease before each so that a sender that lost it stops.
func (s *Sender) sendGuild(ctx context.Context, guild snowflake.ID) error {
	for ctx.Err() == nil {
		c, claimed, err := s.cfg.Store.ClaimNextLogMessage(ctx, guild, s.holder, s.cfg.Lease)
		if err != nil || !claimed {
			return err
		}
		if err := s.send(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// send makes one attempt at the claimed message and records its outcome;
// it returns an error only for the database. The post ends with the
// claim, which an erasure waits for (store.EraseLoggingEntriesOf): none
// is posted after an erasure that waited for it answered.
func (s *Sender) send(ctx context.Context, c store.LogClaim) error {
	m := c.LogMessage
	post, cancel := context.WithDeadline(ctx, c.Until)
	err := s.cfg.Poster.PostMessage(post, m.ChannelID.String(), discord.Message{Nonce: m.Nonce, Embed: Render(m)})
	cancel()
	if err == nil {
		s.cfg.Observer.LogMessage(observe.LogMessageDelivered)
		return s.cfg.Store.LogMessageDelivered(ctx, c)
	}
	if ctx.Err() != nil {
		return nil
	}
	now := s.cfg.Now()
	waited := now.Sub(m.CreatedAt)
	expired := waited >= s.cfg.MaxAge
	if wait := apierr.From(err).RetryAfter; wait > 0 && !expired {
		return s.cfg.Store.RetryLogMessage(ctx, c, m.Attempts, now.Add(wait))
	}
	attempts := m.Attempts + 1
	if attempts >= s.cfg.MaxAttempts || expired {
		s.cfg.Log.Warn("a message for a logs channel was given up", "guild_id", m.GuildID.String(), "attempts", attempts, "waited", waited.Round(time.Millisecond), "err", err)
		s.cfg.Observer.LogMessage(observe.LogMessageGivenUp)
		return s.cfg.Store.GiveUpLogMessage(ctx, c)
	}
	return s.cfg.Store.RetryLogMessage(ctx, c, attempts, now.Add(s.backoff(attempts)))
}

// backoff is the wait after the attempts-th failure.
func (s *Sender) backoff(attempts int) time.Duration {
	d := s.cfg.FirstBackoff
	for range attempts - 1 {
		d *= 2
		if d >= s.cfg.MaxBackoff {
			return s.cfg.MaxBackoff
		}
	}
	return d
}

// titleOf says what kind of change a message reports.
func titleOf(m store.LogMessage) string {
	switch m.Action {
	case store.ActionKeyCreated:
		return "API key created"
	case store.ActionKeyDeleted:
		return "API key deleted"
	case store.ActionSettingsUpdated:
		return "Settings changed"
	case store.ActionLoggingEnabled:
		return "Logging module enabled"
	case store.ActionLoggingDisabled:
		return "Logging module disabled"
	case store.ActionLoggingSettingsUpdated:
		return "Logging settings changed"
	case store.ActionLoggingSettingsReset:
		return "Logging settings reset"
	case store.ActionPrivacyErased:
		return "A member's data erased"
	case store.ActionLogEvent:
		return "Event: " + store.LogEventName(m.Changes)
	}
	return m.Action
}

// Render is the embed of m: who made the change, and each field it
// changed with its new value, cut to Discord's bounds. A key's change
// holds the key's id, never any part of the key.
func Render(m store.LogMessage) discord.Embed {
	var b strings.Builder
	b.WriteString("By " + m.Actor.Mention())
	names := make([]string, 0, len(m.Changes))
	for name := range m.Changes {
		names = append(names, name)
	}
	slices.Sort(names)
	if m.Action == store.ActionLogEvent {
		// The caller's data last: what is cut to Discord's bounds is its
		// end.
		names = slices.DeleteFunc(eventFieldOrder(), func(n string) bool { _, set := m.Changes[n]; return !set })
	}
	for _, name := range names {
		fmt.Fprintf(&b, "\n`%s`: %s", name, value(m.Changes[name]))
	}
	return discord.Embed{Title: cut(titleOf(m), discord.MaxEmbedTitle), Description: cut(b.String(), discord.MaxEmbedDescription), Timestamp: m.CreatedAt}
}

func value(v any) string {
	switch v := v.(type) {
	case nil:
		return "(none)"
	case string:
		if v == "" {
			return "(none)"
		}
		return v
	}
	return fmt.Sprint(v)
}

// cut shortens s to at most n characters, ending in an ellipsis when cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// eventFieldOrder is the order of an event's fields in its message.
func eventFieldOrder() []string {
	return []string{"event", "category", "command", "success", "reason", "data"}
}
