package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

// Every method that reaches a database that fails says so with
// ErrDatabase, which is all the HTTP writers look at.
func TestDatabaseFailuresAreErrDatabase(t *testing.T) {
	ctx := context.Background()
	st := openReal(t, t.TempDir()+"/e.db")
	guild := snowflake.ID(1)
	key, err := st.CreateGuildKey(ctx, guild, Actor{UserID: 2}, 25)
	if err != nil {
		t.Fatal(err)
	}
	guildToken, _ := keys.Generate(keys.Guild)
	userToken, _ := keys.Generate(keys.User)
	sessionID, sess, err := st.CreateSession(ctx, 2, SessionTokens{AccessToken: "a", RefreshToken: "r"}, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{"log_errors": true}
	lang := "nl"
	sqliteDB(st).Close()
	calls := map[string]func() error{
		"Ready":            func() error { return st.Ready(ctx) },
		"AddGuildAdmin":    func() error { _, err := st.AddGuildAdmin(ctx, guild, 3); return err },
		"RemoveGuildAdmin": func() error { _, err := st.RemoveGuildAdmin(ctx, guild, 3); return err },
		"ListGuildAdmins":  func() error { _, err := st.ListGuildAdmins(ctx, 0); return err },
		"IsGuildAdmin":     func() error { _, err := st.IsGuildAdmin(ctx, guild, 3); return err },
		"CreateGuildKey":   func() error { _, err := st.CreateGuildKey(ctx, guild, APIKeyActor, 25); return err },
		"GuildKeyByToken":  func() error { _, err := st.GuildKeyByToken(ctx, guildToken); return err },
		"ListGuildKeys":    func() error { _, err := st.ListGuildKeys(ctx, guild); return err },
		"DeleteGuildKey":   func() error { _, err := st.DeleteGuildKey(ctx, guild, APIKeyActor, key.Token); return err },
		"TouchGuildKeys":   func() error { return st.TouchGuildKeys(ctx, map[int64]time.Time{key.ID: time.Now()}) },
		"GuildSettings":    func() error { _, err := st.GuildSettings(ctx, guild); return err },
		"UpdateGuildSettings": func() error {
			_, err := st.UpdateGuildSettings(ctx, guild, APIKeyActor, SettingsChange{Language: &lang})
			return err
		},
		"LoggingSettings":   func() error { _, err := st.LoggingSettings(ctx, guild); return err },
		"SetLoggingEnabled": func() error { _, err := st.SetLoggingEnabled(ctx, guild, APIKeyActor, true); return err },
		"UpdateLoggingSettings": func() error {
			_, err := st.UpdateLoggingSettings(ctx, guild, APIKeyActor, LoggingChange{Flags: flags}, flags)
			return err
		},
		"ResetLoggingSettings": func() error { _, err := st.ResetLoggingSettings(ctx, guild, APIKeyActor, flags); return err },
		"AuditEntries":         func() error { _, err := st.AuditEntries(ctx, guild, 0, 50); return err },
		"CreateUserKey":        func() error { _, err := st.CreateUserKey(ctx, "alice", ""); return err },
		"InstallSystemKey":     func() error { _, err := st.InstallSystemKey(ctx, userToken); return err },
		"ReplaceSystemKey":     func() error { return st.ReplaceSystemKey(ctx, userToken) },
		"HasSystemKey":         func() error { _, err := st.HasSystemKey(ctx); return err },
		"UserKeyOwner":         func() error { _, err := st.UserKeyOwner(ctx, userToken); return err },
		"ListUserKeys":         func() error { _, err := st.ListUserKeys(ctx, "alice"); return err },
		"ListAllUserKeys":      func() error { _, err := st.ListAllUserKeys(ctx); return err },
		"DeleteUserKeys":       func() error { _, err := st.DeleteUserKeys(ctx, "alice"); return err },
		"Reseal":               func() error { _, err := st.Reseal(ctx); return err },
		"CreateSession": func() error {
			_, _, err := st.CreateSession(ctx, 2, sess.Tokens, time.Hour, time.Hour)
			return err
		},
		"SessionByID": func() error { _, err := st.SessionByID(ctx, sessionID); return err },
		"UpdateSessionTokens": func() error {
			_, err := st.UpdateSessionTokens(ctx, sess.ID, sess.Tokens, sess.Tokens)
			return err
		},
		"DeleteSession": func() error { _, err := st.DeleteSession(ctx, sessionID); return err },
		"SweepSessions": func() error { _, err := st.SweepSessions(ctx, time.Now()); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrDatabase) {
			t.Errorf("%s: got %v, want ErrDatabase", name, err)
		}
	}
}

// The store refuses with its sentinels, which the families word.
func TestRefusalsAreSentinels(t *testing.T) {
	ctx := context.Background()
	st := openReal(t, ":memory:")
	guild := snowflake.ID(1)
	if _, err := st.CreateGuildKey(ctx, guild, APIKeyActor, 1); err != nil {
		t.Fatal(err)
	}
	unknownGuildKey, _ := keys.Generate(keys.Guild)
	unknownUserKey, _ := keys.Generate(keys.User)
	unknownSession, _ := keys.Generate(keys.Session)
	for name, c := range map[string]struct {
		err, want error
	}{
		"one key too many":   {second(st.CreateGuildKey(ctx, guild, APIKeyActor, 1)), ErrGuildKeyLimit},
		"unknown guild key":  {second(st.GuildKeyByToken(ctx, unknownGuildKey)), ErrKeyNotFound},
		"delete unknown key": {second(st.DeleteGuildKey(ctx, guild, APIKeyActor, unknownGuildKey)), ErrKeyNotFound},
		"unknown user key":   {second(st.UserKeyOwner(ctx, unknownUserKey)), ErrKeyNotFound},
		"unknown guild":      {second(st.GuildSettings(ctx, 2)), ErrGuildNotFound},
		"no logging module":  {second(st.LoggingSettings(ctx, 2)), ErrGuildNotFound},
		"disabled twice":     {second(st.SetLoggingEnabled(ctx, guild, APIKeyActor, false)), ErrLoggingAlreadyDisabled},
		"unknown session":    {second(st.SessionByID(ctx, unknownSession)), ErrSessionNotFound},
		"delete no session":  {second(st.DeleteSession(ctx, unknownSession)), ErrSessionNotFound},
		"refresh no session": {second(st.UpdateSessionTokens(ctx, 1, SessionTokens{}, SessionTokens{})), ErrSessionNotFound},
	} {
		if !errors.Is(c.err, c.want) || errors.Is(c.err, ErrDatabase) {
			t.Errorf("%s: got %v, want %v", name, c.err, c.want)
		}
	}
	if _, err := st.SetLoggingEnabled(ctx, guild, APIKeyActor, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetLoggingEnabled(ctx, guild, APIKeyActor, true); !errors.Is(err, ErrLoggingAlreadyEnabled) {
		t.Errorf("enabled twice: got %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
