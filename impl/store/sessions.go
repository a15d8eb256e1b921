package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// The limits of a dashboard session unless configured: it ends after
// DefaultSessionIdle without a request, and DefaultSessionAbsolute after
// its login however busy it is, so that a stolen cookie is not good
// forever. A week idle lets a weekly user stay logged in; a month bounds
// what one login grants.
const (
	DefaultSessionIdle     = 7 * 24 * time.Hour
	DefaultSessionAbsolute = 30 * 24 * time.Hour
)

// sessionTouchEvery is how stale a session's last_seen_at may be: reads
// within it write nothing, so that a busy dashboard does not write on
// every request. A session may therefore end up to this much before its
// idle limit has truly passed.
const sessionTouchEvery = time.Minute

// SessionTokens are the Discord OAuth tokens a session holds. Discord
// rotates the refresh token on every refresh.
type SessionTokens struct {
	AccessToken  string
	RefreshToken string
	// Expiry is when AccessToken stops working.
	Expiry time.Time
}

// Session is a dashboard session, its tokens opened.
type Session struct {
	// ID is the session's row, which UpdateSessionTokens names; it is no
	// secret, unlike the session id the cookie holds.
	ID         int64
	UserID     snowflake.ID
	Tokens     SessionTokens
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the session.
	ExpiresAt time.Time
}

// CreateSession starts a session of user holding tok, which ends idle
// after its last use or absolute after now, and returns the session id
// for the cookie: a keys.Session key, of which only the hash is stored.
func (s *Store) CreateSession(ctx context.Context, user snowflake.ID, tok SessionTokens, idle, absolute time.Duration) (string, Session, error) {
	if idle <= 0 || absolute <= 0 {
		return "", Session{}, fmt.Errorf("create session: limits must be positive (idle %v, absolute %v)", idle, absolute)
	}
	id, err := keys.Generate(keys.Session)
	if err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	hash := keys.Hash(id)
	sealer := s.sealer
	access, refresh, err := sealSessionTokens(sealer, hash, tok)
	if err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	now := millis(s.now())
	sess := Session{UserID: user, Tokens: tok, CreatedAt: now, LastSeenAt: now, ExpiresAt: millis(now.Add(absolute))}
	err = s.engine.Write(ctx, func(ctx context.Context, q driver.Queries) error {
		if err := sealedUnderRing(ctx, q, sealer); err != nil {
			return err
		}
		var err error
		sess.ID, err = q.CreateSession(ctx, driver.CreateSessionParams{
			IDHash: hash, UserID: int64(user),
			AccessTokenSealed: access, RefreshTokenSealed: refresh, AccessTokenExpiry: tok.Expiry.UnixMilli(),
			CreatedAt: now.UnixMilli(), IdleLimit: idle.Milliseconds(), ExpiresAt: sess.ExpiresAt.UnixMilli(),
		})
		return err
	})
	if err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	return id, sess, nil
}

// SessionByID finds the session whose id a cookie holds:
// ErrSessionNotFound if there is none, or it ended by either limit. A
// read records the use, at most once every sessionTouchEvery.
func (s *Store) SessionByID(ctx context.Context, id string) (Session, error) {
	if kind, err := keys.Parse(id); err != nil || kind != keys.Session {
		return Session{}, ErrSessionNotFound
	}
	hash := keys.Hash(id)
	sealer := s.sealer
	row, err := s.q.GetSessionByHash(ctx, hash)
	// The index found the row by hash; comparing again in constant time
	// keeps the decision itself free of timing differences.
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !keys.Equal(row.IDHash, hash)) {
		return Session{}, ErrSessionNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", err)
	}
	now := millis(s.now())
	if sessionEnded(row, now) {
		return Session{}, ErrSessionNotFound
	}
	sess, err := openSession(sealer, row)
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", s.notOpened(ctx, sealer, err))
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		err := s.engine.Write(ctx, func(ctx context.Context, q driver.Queries) error {
			return q.TouchSession(ctx, driver.TouchSessionParams{LastSeenAt: now.UnixMilli(), ID: row.ID})
		})
		if err != nil {
			return Session{}, fmt.Errorf("record session use: %w", err)
		}
		sess.LastSeenAt = now
	}
	return sess, nil
}

// UpdateSessionTokens replaces the tokens of session sessionID with next
// if it still holds old's refresh token, and reports whether it did: of
// two requests that refreshed with the same refresh token, one stores
// its tokens and the other, answered false, reads the session again for
// the winner's. ErrSessionNotFound if the session was deleted.
func (s *Store) UpdateSessionTokens(ctx context.Context, sessionID int64, old, next SessionTokens) (bool, error) {
	sealer := s.sealer
	swapped := false
	err := s.engine.Write(ctx, func(ctx context.Context, q driver.Queries) error {
		// The read and the write are in one transaction, which holds the
		// write lock: no other refresh can come between them.
		row, err := q.GetSession(ctx, sessionID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSessionNotFound
		}
		if err != nil {
			return err
		}
		current, err := sealer.OpenBound(row.RefreshTokenSealed, sessionBinding(refreshColumn, row.IDHash))
		if err != nil {
			return fmt.Errorf("open session %d: %w", row.ID, s.notOpened(ctx, sealer, err))
		}
		if !keys.Equal([]byte(current), []byte(old.RefreshToken)) {
			return nil
		}
		if err := sealedUnderRing(ctx, q, sealer); err != nil {
			return err
		}
		access, refresh, err := sealSessionTokens(sealer, row.IDHash, next)
		if err != nil {
			return err
		}
		if err := q.UpdateSessionTokens(ctx, driver.UpdateSessionTokensParams{
			AccessTokenSealed: access, RefreshTokenSealed: refresh, AccessTokenExpiry: next.Expiry.UnixMilli(), ID: row.ID,
		}); err != nil {
			return err
		}
		swapped = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("update session tokens: %w", err)
	}
	return swapped, nil
}

// DeleteSession ends the session whose id a cookie holds and returns it,
// so that logout can revoke its tokens at Discord: ErrSessionNotFound if
// there is none. A session past its limits is deleted and returned too,
// since its refresh token may still be live at Discord. Nothing fails
// once the delete is committed: tokens that do not open (the master key
// was rotated under this process) come back empty, the session ended all
// the same, with nothing to revoke.
func (s *Store) DeleteSession(ctx context.Context, id string) (Session, error) {
	if kind, err := keys.Parse(id); err != nil || kind != keys.Session {
		return Session{}, ErrSessionNotFound
	}
	hash := keys.Hash(id)
	sealer := s.sealer
	var row driver.Session
	err := s.engine.Write(ctx, func(ctx context.Context, q driver.Queries) error {
		var err error
		row, err = q.DeleteSession(ctx, hash)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSessionNotFound
		}
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("delete session: %w", err)
	}
	sess, err := openSession(sealer, row)
	if err != nil {
		sess = session(row, SessionTokens{Expiry: time.UnixMilli(row.AccessTokenExpiry).UTC()})
	}
	return sess, nil
}

// SweepSessions deletes the sessions that ended by either limit before
// now, and returns how many. SessionByID refuses them already; sweeping
// keeps their sealed tokens from lingering.
func (s *Store) SweepSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		var err error
		n, err = q.DeleteExpiredSessions(ctx, now.UnixMilli())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	return n, nil
}

// sessionEnded reports whether row is past its absolute or its idle
// limit at now; the sweep's query says the same in SQL.
func sessionEnded(row driver.Session, now time.Time) bool {
	at := now.UnixMilli()
	return at >= row.ExpiresAt || at >= row.LastSeenAt+row.IdleLimit
}

const (
	accessColumn  = "access_token_sealed"
	refreshColumn = "refresh_token_sealed"
)

// sessionBinding is what a session's sealed token is bound to: the
// session's hash and the token's column, so that neither a copy moved to
// another session nor the two tokens swapped open.
func sessionBinding(column string, idHash []byte) []byte {
	return append([]byte("sessions."+column+"\x00"), idHash...)
}

func sealSessionTokens(sealer *keys.Sealer, idHash []byte, tok SessionTokens) (access, refresh []byte, err error) {
	if access, err = sealer.SealBound(tok.AccessToken, sessionBinding(accessColumn, idHash)); err != nil {
		return nil, nil, err
	}
	if refresh, err = sealer.SealBound(tok.RefreshToken, sessionBinding(refreshColumn, idHash)); err != nil {
		return nil, nil, err
	}
	return access, refresh, nil
}

func openSession(sealer *keys.Sealer, row driver.Session) (Session, error) {
	access, err := sealer.OpenBound(row.AccessTokenSealed, sessionBinding(accessColumn, row.IDHash))
	if err != nil {
		return Session{}, fmt.Errorf("open session %d: %w", row.ID, err)
	}
	refresh, err := sealer.OpenBound(row.RefreshTokenSealed, sessionBinding(refreshColumn, row.IDHash))
	if err != nil {
		return Session{}, fmt.Errorf("open session %d: %w", row.ID, err)
	}
	return session(row, SessionTokens{
		AccessToken:  access,
		RefreshToken: refresh,
		Expiry:       time.UnixMilli(row.AccessTokenExpiry).UTC(),
	}), nil
}

// session is the stored session row, whose tokens are tok.
func session(row driver.Session, tok SessionTokens) Session {
	return Session{
		ID:         row.ID,
		UserID:     snowflake.ID(row.UserID),
		Tokens:     tok,
		CreatedAt:  time.UnixMilli(row.CreatedAt).UTC(),
		LastSeenAt: time.UnixMilli(row.LastSeenAt).UTC(),
		ExpiresAt:  time.UnixMilli(row.ExpiresAt).UTC(),
	}
}

// millis is t as the database holds it: whole milliseconds, UTC.
func millis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// resealSessions seals every session's tokens under the current key of
// sealer's ring, for Reseal.
func resealSessions(ctx context.Context, q driver.Queries, sealer *keys.Sealer) error {
	rows, err := q.ListSealedSessions(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		access, err := resealBound(sealer, r.AccessTokenSealed, sessionBinding(accessColumn, r.IDHash))
		if err != nil {
			return fmt.Errorf("session %d: %w", r.ID, err)
		}
		refresh, err := resealBound(sealer, r.RefreshTokenSealed, sessionBinding(refreshColumn, r.IDHash))
		if err != nil {
			return fmt.Errorf("session %d: %w", r.ID, err)
		}
		if err := q.ResealSession(ctx, driver.ResealSessionParams{AccessTokenSealed: access, RefreshTokenSealed: refresh, ID: r.ID}); err != nil {
			return err
		}
	}
	return nil
}

func resealBound(sealer *keys.Sealer, sealed, binding []byte) ([]byte, error) {
	secret, err := sealer.OpenBound(sealed, binding)
	if err != nil {
		return nil, err
	}
	return sealer.SealBound(secret, binding)
}
