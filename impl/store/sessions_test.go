package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

// testClock is the store's clock hook, moved by the test instead of by
// sleeping.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openClocked opens a store with schema.sql, sealer and clock; unlike
// openReal it can reopen a file with the master key it was sealed under.
func openClocked(t testing.TB, path string, sealer *keys.Sealer, clock *testClock) *Store {
	t.Helper()
	st, err := openSQLite(t, path, Config{Sealer: sealer, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newClock() *testClock {
	return &testClock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

// testTokens are tokens as Discord issues them, distinct per n so that a
// test can tell whose they are and look for them in the database file.
func testTokens(n int, expiry time.Time) SessionTokens {
	return SessionTokens{
		AccessToken:  fmt.Sprintf("discord-access-%02d-Vq8bXn2LpT5wRk9z", n),
		RefreshToken: fmt.Sprintf("discord-refresh-%02d-Hs3mQy7cJd1fUg6e", n),
		Expiry:       expiry,
	}
}

func createSession(t testing.TB, st *Store, user snowflake.ID, tok SessionTokens, idle, absolute time.Duration) (string, Session) {
	t.Helper()
	id, sess, err := st.CreateSession(context.Background(), user, tok, idle, absolute)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return id, sess
}

func TestSessionCreateAndLookup(t *testing.T) {
	for name, path := range map[string]string{"file": filepath.Join(t.TempDir(), "s.db"), "memory": ":memory:"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clock := newClock()
			st := openClocked(t, path, sealer(t), clock)
			tok := testTokens(1, clock.Now().Add(7*24*time.Hour))
			id, created := createSession(t, st, 1098765432109876543, tok, DefaultSessionIdle, DefaultSessionAbsolute)
			if kind, err := keys.Parse(id); err != nil || kind != keys.Session {
				t.Fatalf("session id parses as %v, %v; want a session id", kind, err)
			}
			want := Session{
				ID: created.ID, UserID: 1098765432109876543, Tokens: tok,
				CreatedAt: clock.Now(), LastSeenAt: clock.Now(), ExpiresAt: clock.Now().Add(DefaultSessionAbsolute),
			}
			if created != want {
				t.Fatalf("CreateSession returned %+v, want %+v", created, want)
			}
			got, err := st.SessionByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("SessionByID = %+v, want %+v", got, want)
			}
			other, _ := createSession(t, st, 2, testTokens(2, clock.Now()), DefaultSessionIdle, DefaultSessionAbsolute)
			if other == id {
				t.Fatal("two sessions got the same id")
			}
		})
	}
}

func TestSessionByIDRefusesWhatIsNoSession(t *testing.T) {
	ctx := context.Background()
	st := openClocked(t, ":memory:", sealer(t), newClock())
	id, _ := createSession(t, st, 1, testTokens(1, time.Time{}), time.Hour, 2*time.Hour)
	unknown, _ := keys.Generate(keys.Session)
	guildKey, _ := keys.Generate(keys.Guild)
	for name, presented := range map[string]string{
		"unknown session":      unknown,
		"guild key":            guildKey,
		"wrong checksum":       id[:len(id)-1] + string(id[len(id)-1]^1),
		"empty":                "",
		"not in the id format": "session",
	} {
		if _, err := st.SessionByID(ctx, presented); !errors.Is(err, ErrSessionNotFound) || errors.Is(err, ErrDatabase) {
			t.Errorf("%s: got %v, want ErrSessionNotFound", name, err)
		}
		if _, err := st.DeleteSession(ctx, presented); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("delete %s: got %v, want ErrSessionNotFound", name, err)
		}
	}
	if _, err := st.SessionByID(ctx, id); err != nil {
		t.Fatalf("the real session: %v", err)
	}
}

func TestCreateSessionRefusesLimitsThatAreNotPositive(t *testing.T) {
	st := openClocked(t, ":memory:", sealer(t), newClock())
	for _, limits := range [][2]time.Duration{{0, time.Hour}, {time.Hour, 0}, {-time.Hour, time.Hour}} {
		if _, _, err := st.CreateSession(context.Background(), 1, testTokens(1, time.Time{}), limits[0], limits[1]); err == nil {
			t.Errorf("limits %v accepted", limits)
		}
	}
}

// A session in use stays, at every step short of its idle limit; one
// left alone for its idle limit ends.
func TestSessionEndsAfterItsIdleLimit(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	st := openClocked(t, ":memory:", sealer(t), clock)
	id, _ := createSession(t, st, 1, testTokens(1, time.Time{}), time.Hour, 24*time.Hour)
	for range 5 {
		clock.Advance(59 * time.Minute)
		got, err := st.SessionByID(ctx, id)
		if err != nil {
			t.Fatalf("used every 59 minutes: %v", err)
		}
		if !got.LastSeenAt.Equal(clock.Now()) {
			t.Fatalf("LastSeenAt = %v, want %v", got.LastSeenAt, clock.Now())
		}
	}
	clock.Advance(time.Hour)
	if _, err := st.SessionByID(ctx, id); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("idle for its limit: got %v, want ErrSessionNotFound", err)
	}
}

// However busy, a session ends at its absolute limit.
func TestSessionEndsAtItsAbsoluteLimit(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	st := openClocked(t, ":memory:", sealer(t), clock)
	id, created := createSession(t, st, 1, testTokens(1, time.Time{}), time.Hour, 3*time.Hour)
	for clock.Now().Before(created.ExpiresAt.Add(-10 * time.Minute)) {
		clock.Advance(10 * time.Minute)
		if _, err := st.SessionByID(ctx, id); err != nil {
			t.Fatalf("%v after login: %v", clock.Now().Sub(created.CreatedAt), err)
		}
	}
	clock.Advance(10 * time.Minute)
	if _, err := st.SessionByID(ctx, id); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("at its absolute limit: got %v, want ErrSessionNotFound", err)
	}
}

// Reads within a minute of the recorded use write nothing.
func TestSessionUseIsRecordedAtMostOnceAMinute(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	st := openClocked(t, ":memory:", sealer(t), clock)
	id, created := createSession(t, st, 1, testTokens(1, time.Time{}), time.Hour, 24*time.Hour)
	stored := func() time.Time {
		t.Helper()
		var ms int64
		if err := sqliteDB(st).QueryRow("SELECT last_seen_at FROM sessions WHERE id = ?", created.ID).Scan(&ms); err != nil {
			t.Fatal(err)
		}
		return time.UnixMilli(ms).UTC()
	}
	clock.Advance(59 * time.Second)
	got, err := st.SessionByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastSeenAt.Equal(created.LastSeenAt) || !stored().Equal(created.LastSeenAt) {
		t.Fatalf("after 59 s: LastSeenAt %v, stored %v; want %v unchanged", got.LastSeenAt, stored(), created.LastSeenAt)
	}
	clock.Advance(time.Second)
	if got, err = st.SessionByID(ctx, id); err != nil {
		t.Fatal(err)
	}
	if !got.LastSeenAt.Equal(clock.Now()) || !stored().Equal(clock.Now()) {
		t.Fatalf("after 60 s: LastSeenAt %v, stored %v; want %v", got.LastSeenAt, stored(), clock.Now())
	}
}

// Neither the session id nor Discord's tokens are anywhere in the
// database's files: the id is stored as its hash, the tokens sealed.
func TestSessionSecretsAreNotInTheDatabaseFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newClock()
	st := openClocked(t, filepath.Join(dir, "s.db"), sealer(t), clock)
	var secrets []string
	for n := range 5 {
		tok := testTokens(n, clock.Now().Add(time.Hour))
		id, sess := createSession(t, st, snowflake.ID(n+1), tok, time.Hour, 2*time.Hour)
		secrets = append(secrets, id, tok.AccessToken, tok.RefreshToken)
		next := testTokens(n+10, clock.Now().Add(2*time.Hour))
		if ok, err := st.UpdateSessionTokens(ctx, sess.ID, tok, next); err != nil || !ok {
			t.Fatalf("UpdateSessionTokens = %v, %v", ok, err)
		}
		secrets = append(secrets, next.AccessToken, next.RefreshToken)
	}
	clock.Advance(2 * time.Minute)
	// Some rows as they are in the WAL, some checkpointed into the file.
	if _, err := sqliteDB(st).Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionByID(ctx, secrets[0]); err != nil { // a write after the checkpoint
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "s.db*"))
	if err != nil || len(files) < 2 {
		t.Fatalf("database files: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range secrets {
			// A session id's random part alone is as good as the id.
			if needle := secret[len(secret)/4:]; bytes.Contains(data, []byte(needle)) {
				t.Errorf("%s holds a secret in the clear (%d characters of it)", filepath.Base(f), len(needle))
			}
		}
	}
}

// Of two requests that refresh with the same refresh token, exactly one
// stores its tokens; the others are told so and find the winner's.
func TestUpdateSessionTokensLetsOneRefreshWin(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	st := openClocked(t, filepath.Join(t.TempDir(), "s.db"), sealer(t), clock)
	old := testTokens(0, clock.Now())
	id, sess := createSession(t, st, 1, old, time.Hour, 2*time.Hour)
	const racers = 8
	won := make([]bool, racers)
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			won[i], errs[i] = st.UpdateSessionTokens(ctx, sess.ID, old, testTokens(i+1, clock.Now().Add(time.Hour)))
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := range racers {
		if errs[i] != nil {
			t.Fatalf("racer %d: %v", i, errs[i])
		}
		if won[i] {
			if winner >= 0 {
				t.Fatalf("racers %d and %d both refreshed", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no racer refreshed")
	}
	got, err := st.SessionByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := testTokens(winner+1, clock.Now().Add(time.Hour)); got.Tokens != want {
		t.Fatalf("the session holds %+v, want the winner's %+v", got.Tokens, want)
	}
	// A refresh token used already swaps nothing.
	if ok, err := st.UpdateSessionTokens(ctx, sess.ID, old, testTokens(99, clock.Now())); ok || err != nil {
		t.Fatalf("with the rotated-away refresh token: %v, %v; want false, nil", ok, err)
	}
	if _, err := st.DeleteSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.UpdateSessionTokens(ctx, sess.ID, got.Tokens, old); ok || !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("a deleted session: %v, %v; want false, ErrSessionNotFound", ok, err)
	}
}

// Logout deletes the session and gets what it must revoke, even from a
// session past its limits; the cookie then opens nothing.
func TestDeleteSession(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	st := openClocked(t, ":memory:", sealer(t), clock)
	tok := testTokens(1, clock.Now())
	id, created := createSession(t, st, 7, tok, time.Hour, 2*time.Hour)
	kept, _ := createSession(t, st, 8, testTokens(2, clock.Now()), time.Hour, 2*time.Hour)
	got, err := st.DeleteSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got != created {
		t.Fatalf("DeleteSession = %+v, want %+v", got, created)
	}
	if _, err := st.SessionByID(ctx, id); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("after delete: got %v, want ErrSessionNotFound", err)
	}
	if _, err := st.DeleteSession(ctx, id); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("deleted twice: got %v, want ErrSessionNotFound", err)
	}
	clock.Advance(3 * time.Hour)
	ended, err := st.DeleteSession(ctx, kept)
	if err != nil {
		t.Fatalf("deleting an ended session: %v", err)
	}
	if ended.Tokens != testTokens(2, clock.Now().Add(-3*time.Hour)) {
		t.Fatalf("an ended session's tokens: %+v", ended.Tokens)
	}
}

// The sweep deletes the sessions past either limit, and no other.
func TestSweepSessions(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	st := openClocked(t, ":memory:", sealer(t), clock)
	idle, _ := createSession(t, st, 1, testTokens(1, time.Time{}), time.Hour, 10*time.Hour)
	absolute, _ := createSession(t, st, 2, testTokens(2, time.Time{}), 3*time.Hour, 2*time.Hour)
	live, _ := createSession(t, st, 3, testTokens(3, time.Time{}), 3*time.Hour, 10*time.Hour)
	clock.Advance(90 * time.Minute)
	if _, err := st.SessionByID(ctx, absolute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Minute)
	n, err := st.SweepSessions(ctx, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("swept %d sessions, want 2 (idle, absolute)", n)
	}
	var rows int
	if err := sqliteDB(st).QueryRow("SELECT count(*) FROM sessions").Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("%d rows left (%v), want 1", rows, err)
	}
	if _, err := st.SessionByID(ctx, live); err != nil {
		t.Fatalf("the live session: %v", err)
	}
	for _, id := range []string{idle, absolute} {
		if _, err := st.DeleteSession(ctx, id); !errors.Is(err, ErrSessionNotFound) {
			t.Fatalf("a swept session: got %v, want ErrSessionNotFound", err)
		}
	}
	if n, err := st.SweepSessions(ctx, clock.Now()); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v; want 0", n, err)
	}
}

func TestSessionSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	clock := newClock()
	master := sealer(t)
	st := openClocked(t, path, master, clock)
	id, created := createSession(t, st, 1, testTokens(1, clock.Now()), time.Hour, 2*time.Hour)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := openClocked(t, path, master, clock).SessionByID(ctx, id)
	if err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	if got != created {
		t.Fatalf("after a restart: %+v, want %+v", got, created)
	}
}

// A rotated master key reseals sessions' tokens with the keys: the
// session opens under the new key, in the store on the ring new,old that
// resealed it and after a restart on the new key alone, and the old key
// opens the database no more.
func TestResealKeepsSessions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	clock := newClock()
	oldKey, newKey := keys.NewMasterKey(), keys.NewMasterKey()
	st := openClocked(t, path, ringOf(t, oldKey), clock)
	id, created := createSession(t, st, 1, testTokens(1, clock.Now()), time.Hour, 2*time.Hour)
	st.Close()
	rotating := openClocked(t, path, ringOf(t, newKey, oldKey), clock)
	if _, err := rotating.Reseal(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := rotating.SessionByID(ctx, id); err != nil || got != created {
		t.Fatalf("after reseal: %+v, %v; want %+v", got, err, created)
	}
	rotating.Close()
	if got, err := openClocked(t, path, ringOf(t, newKey), clock).SessionByID(ctx, id); err != nil || got != created {
		t.Fatalf("reopened under the new key: %+v, %v; want %+v", got, err, created)
	}
	if _, err := openSQLite(t, path, Config{Sealer: ringOf(t, oldKey)}); !errors.Is(err, ErrMasterKeyMismatch) {
		t.Fatalf("the old key: got %v, want ErrMasterKeyMismatch", err)
	}
}

// A sealed token opens only in its own column of its own row: swapped,
// the session fails to open rather than hand out the wrong token.
func TestSessionTokensAreBoundToTheirPlace(t *testing.T) {
	ctx := context.Background()
	st := openClocked(t, ":memory:", sealer(t), newClock())
	id, _ := createSession(t, st, 1, testTokens(1, time.Time{}), time.Hour, 2*time.Hour)
	other, _ := createSession(t, st, 2, testTokens(2, time.Time{}), time.Hour, 2*time.Hour)
	if _, err := sqliteDB(st).Exec("UPDATE sessions SET access_token_sealed = refresh_token_sealed, refresh_token_sealed = access_token_sealed WHERE user_id = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := sqliteDB(st).Exec("UPDATE sessions SET access_token_sealed = (SELECT access_token_sealed FROM sessions WHERE user_id = 1) WHERE user_id = 2"); err != nil {
		t.Fatal(err)
	}
	for _, presented := range []string{id, other} {
		if got, err := st.SessionByID(ctx, presented); err == nil || errors.Is(err, ErrSessionNotFound) {
			t.Errorf("a moved token: %+v, %v; want an error opening it", got.Tokens, err)
		}
	}
}

// Under a master key rotated by another process, a session's tokens do
// not open: a read says why (a restart mends it), and logout still ends
// the session, with nothing to revoke.
func TestSessionsUnderAMasterKeyRotatedElsewhere(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	clock := newClock()
	master := keys.NewMasterKey()
	st := openClocked(t, path, ringOf(t, master), clock)
	id, created := createSession(t, st, 1, testTokens(1, clock.Now()), time.Hour, 2*time.Hour)
	if _, err := openClocked(t, path, ringOf(t, keys.NewMasterKey(), master), clock).Reseal(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionByID(ctx, id); !errors.Is(err, ErrMasterKeyRotated) {
		t.Fatalf("SessionByID: got %v, want ErrMasterKeyRotated", err)
	}
	if ok, err := st.UpdateSessionTokens(ctx, created.ID, created.Tokens, testTokens(2, clock.Now())); ok || !errors.Is(err, ErrMasterKeyRotated) {
		t.Fatalf("UpdateSessionTokens: %v, %v; want false, ErrMasterKeyRotated", ok, err)
	}
	got, err := st.DeleteSession(ctx, id)
	if err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	want := created
	want.Tokens = SessionTokens{Expiry: created.Tokens.Expiry}
	if got != want {
		t.Fatalf("DeleteSession = %+v, want %+v", got, want)
	}
	if _, err := st.DeleteSession(ctx, id); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("deleted twice: got %v, want ErrSessionNotFound", err)
	}
}
