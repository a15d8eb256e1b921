// Package session is a dashboard session as the rest of apikeyd uses it:
// started at sign-in with Discord, found again from the id its cookie
// holds (by /v1's cookieAuth and by the dashboard's pages), its Discord
// access token renewed when Discord's expires, and ended at logout.
//
// The rows are the store's (impl/store/sessions.go): the database holds
// only a hash of the session id, and the Discord tokens sealed. What this
// package adds is the order of things around Discord: a refresh token is
// spent once (Discord rotates it on every refresh, so a second refresh
// with the same one fails and would end the session), and a logout
// forgets what apikeyd remembers of the token even when Discord cannot be
// told.
package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

// CookieName is the one cookie of a signed-in browser: openapi/v1.yaml's
// cookieAuth scheme names it.
const CookieName = "apikeyd_session"

// refreshMargin is how long before Discord's expiry an access token is
// renewed, so that it does not expire between being read here and being
// used on Discord.
const refreshMargin = time.Minute

// OAuth is what a session needs of Discord's OAuth2 endpoints.
type OAuth interface {
	Refresh(ctx context.Context, refreshToken string) (discord.Token, error)
	Revoke(ctx context.Context, token string) error
}

// Forgetter drops what is cached of a Discord token (its user, guilds).
type Forgetter interface {
	Forget(token string)
}

// Config is what a Manager is built from.
type Config struct {
	Store *store.Store
	// OAuth renews and revokes tokens; nil while the dashboard is off,
	// when a session whose token expired has ended.
	OAuth  OAuth
	Forget Forgetter
	// Idle and Absolute end a session after that long without use, and
	// that long after sign-in (0: the store's defaults).
	Idle, Absolute time.Duration
	Log            *slog.Logger
	Now            func() time.Time // nil means time.Now
}

// Manager starts, finds and ends sessions. It is safe for concurrent use.
type Manager struct {
	cfg Config

	mu sync.Mutex
	// refreshing holds the renewal in flight of each session (by row),
	// which every request of that session waits for.
	refreshing map[int64]*refresh
}

type refresh struct {
	done chan struct{}
	sess store.Session
	err  error
}

// New returns a Manager for cfg.
func New(cfg Config) *Manager {
	if cfg.Idle <= 0 {
		cfg.Idle = store.DefaultSessionIdle
	}
	if cfg.Absolute <= 0 {
		cfg.Absolute = store.DefaultSessionAbsolute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Manager{cfg: cfg, refreshing: make(map[int64]*refresh)}
}

// Limits are the idle and absolute limits sessions start with.
func (m *Manager) Limits() (idle, absolute time.Duration) { return m.cfg.Idle, m.cfg.Absolute }

// WellFormed says whether id has the shape and checksum of a session id,
// which is checked before any lookup.
func WellFormed(id string) bool {
	kind, err := keys.Parse(id)
	return err == nil && kind == keys.Session
}

// errEnded is the refusal of a session that is gone: it never existed,
// ended by a limit, was logged out, or Discord no longer honours its
// tokens.
func errEnded(cause error) error {
	return &apierr.Error{Code: apierr.Unauthorized, Message: "The dashboard session has ended; log in again.", Reason: "session_ended", Cause: cause}
}

// Start begins a session of user with the tokens Discord gave at sign-in,
// and returns the id for its cookie.
func (m *Manager) Start(ctx context.Context, user snowflake.ID, tok discord.Token) (string, error) {
	id, _, err := m.cfg.Store.CreateSession(ctx, user, m.tokensOf(tok), m.cfg.Idle, m.cfg.Absolute)
	if err != nil {
		return "", fmt.Errorf("start session: %w", err)
	}
	return id, nil
}

// Resolve is the live session whose id a cookie holds, with an access
// token Discord still honours: renewed first if it has expired. Errors:
// Unauthorized (apierr) when the session has ended; Discord's own when it
// cannot renew the token now.
func (m *Manager) Resolve(ctx context.Context, id string) (store.Session, error) {
	if !WellFormed(id) {
		return store.Session{}, errEnded(errors.New("malformed session id"))
	}
	sess, err := m.cfg.Store.SessionByID(ctx, id)
	if errors.Is(err, store.ErrSessionNotFound) {
		return store.Session{}, errEnded(err)
	}
	if err != nil {
		return store.Session{}, err
	}
	if m.fresh(sess) {
		return sess, nil
	}
	return m.renew(ctx, id, sess)
}

func (m *Manager) fresh(sess store.Session) bool {
	return m.cfg.Now().Add(refreshMargin).Before(sess.Tokens.Expiry)
}

// renew renews sess's access token once however many requests of the
// session ask at the same time: the first asks Discord, the others wait
// for its answer.
func (m *Manager) renew(ctx context.Context, id string, sess store.Session) (store.Session, error) {
	m.mu.Lock()
	r, ok := m.refreshing[sess.ID]
	if !ok {
		r = &refresh{done: make(chan struct{})}
		m.refreshing[sess.ID] = r
		// Detached from the request: the first one leaving must not fail
		// the others, nor strand a rotated refresh token unsaved.
		go func() {
			r.sess, r.err = m.refresh(context.WithoutCancel(ctx), id)
			m.mu.Lock()
			delete(m.refreshing, sess.ID)
			m.mu.Unlock()
			close(r.done)
		}()
	}
	m.mu.Unlock()
	select {
	case <-r.done:
		return r.sess, r.err
	case <-ctx.Done():
		return store.Session{}, ctx.Err()
	}
}

// refresh reads the session again, and renews its token if that is still
// needed. The read comes first because a renewal that just finished (in
// this process or another one on the database) has spent the refresh
// token this request saw; the store's compare-and-swap on the refresh
// token settles a race with another process.
func (m *Manager) refresh(ctx context.Context, id string) (store.Session, error) {
	sess, err := m.cfg.Store.SessionByID(ctx, id)
	if errors.Is(err, store.ErrSessionNotFound) {
		return store.Session{}, errEnded(err)
	}
	if err != nil || m.fresh(sess) {
		return sess, err
	}
	if m.cfg.OAuth == nil {
		return store.Session{}, errEnded(errors.New("access token expired and the dashboard is off"))
	}
	tok, err := m.cfg.OAuth.Refresh(ctx, sess.Tokens.RefreshToken)
	if apierr.CodeOf(err) == apierr.Unauthorized {
		// Discord no longer honours the grant (revoked, or spent by
		// another process that has not saved its answer yet): if another
		// process saved one, it is the session's now.
		again, rerr := m.cfg.Store.SessionByID(ctx, id)
		if rerr == nil && again.Tokens.RefreshToken != sess.Tokens.RefreshToken {
			return again, nil
		}
		return store.Session{}, errEnded(err)
	}
	if err != nil {
		return store.Session{}, err
	}
	next := m.tokensOf(tok)
	swapped, err := m.cfg.Store.UpdateSessionTokens(ctx, sess.ID, sess.Tokens, next)
	if errors.Is(err, store.ErrSessionNotFound) {
		// Logged out meanwhile: the new grant must not outlive it.
		m.revoke(ctx, next.RefreshToken)
		return store.Session{}, errEnded(err)
	}
	if err != nil {
		return store.Session{}, err
	}
	if !swapped {
		return m.cfg.Store.SessionByID(ctx, id)
	}
	sess.Tokens = next
	return sess, nil
}

// End ends the session whose id a cookie holds: its row is deleted, its
// grant revoked at Discord, and what apikeyd cached of its access token
// forgotten, even when Discord cannot be reached (the row is gone, so
// nothing here uses the token again). It reports whether there was such
// a session; a failure to revoke is logged, not returned.
func (m *Manager) End(ctx context.Context, id string) (bool, error) {
	if !WellFormed(id) {
		return false, nil
	}
	sess, err := m.cfg.Store.DeleteSession(ctx, id)
	if errors.Is(err, store.ErrSessionNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("end session: %w", err)
	}
	if m.cfg.Forget != nil {
		m.cfg.Forget.Forget(sess.Tokens.AccessToken)
	}
	// Revoking the refresh token revokes the whole grant, the access
	// token with it.
	m.revoke(ctx, sess.Tokens.RefreshToken)
	return true, nil
}

func (m *Manager) revoke(ctx context.Context, token string) {
	if m.cfg.OAuth == nil {
		return
	}
	if err := m.cfg.OAuth.Revoke(ctx, token); err != nil {
		m.cfg.Log.Warn("could not revoke a dashboard session's token at Discord", "err", err)
	}
}

// Sweep deletes the sessions that have ended, every interval until ctx
// is done.
func (m *Manager) Sweep(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := m.cfg.Store.SweepSessions(ctx, m.cfg.Now()); err != nil && ctx.Err() == nil {
			m.cfg.Log.Warn("could not sweep ended dashboard sessions", "err", err)
		} else if n > 0 {
			m.cfg.Log.Info("swept ended dashboard sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// unstatedLifetime is how long an access token whose expiry Discord did
// not state is trusted before it is refreshed.
const unstatedLifetime = time.Hour

// tokensOf is what a session keeps of Discord's grant. Discord states a
// lifetime (expires_in), which the OAuth client turned into a time by the
// wall clock; the session counts it on its own clock, which tests move.
func (m *Manager) tokensOf(t discord.Token) store.SessionTokens {
	lifetime := unstatedLifetime
	if !t.Expiry.IsZero() {
		lifetime = time.Until(t.Expiry)
	}
	return store.SessionTokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: m.cfg.Now().Add(lifetime)}
}
