package driver

import "database/sql"

// AddGuildAdminParams is the arguments of AddGuildAdmin.
type AddGuildAdminParams struct {
	GuildID   int64
	UserID    int64
	CreatedAt int64
}

// AuditEntry is a row of audit_entries.
type AuditEntry struct {
	ID        int64
	GuildID   int64
	CreatedAt int64
	ActorUser sql.NullInt64
	Action    string
	Changes   string
	// Undelivered is 1 when the entry's message to the logs channel was
	// given up.
	Undelivered int64
}

// CreateAuditEntryParams is the arguments of CreateAuditEntry.
type CreateAuditEntryParams struct {
	GuildID   int64
	CreatedAt int64
	ActorUser sql.NullInt64
	Action    string
	Changes   string
}

// CreateGuildKeyParams is the arguments of CreateGuildKey.
type CreateGuildKeyParams struct {
	GuildID   int64
	KeyHash   []byte
	KeySealed []byte
	CreatedAt int64
	CreatedBy int64
}

// CreateSessionParams is the arguments of CreateSession.
type CreateSessionParams struct {
	IDHash             []byte
	UserID             int64
	AccessTokenSealed  []byte
	RefreshTokenSealed []byte
	AccessTokenExpiry  int64
	CreatedAt          int64
	IdleLimit          int64
	ExpiresAt          int64
}

// CreateUserKeyParams is the arguments of CreateUserKey.
type CreateUserKeyParams struct {
	UserName  string
	Note      string
	KeyHash   []byte
	KeySealed []byte
	CreatedAt int64
}

// DeleteGuildKeyParams is the arguments of DeleteGuildKey.
type DeleteGuildKeyParams struct {
	GuildID int64
	KeyHash []byte
}

// EnsureGuildParams is the arguments of EnsureGuild.
type EnsureGuildParams struct {
	ID        int64
	CreatedAt int64
}

// GetGuildKeyByHashRow is what GetGuildKeyByHash returns.
type GetGuildKeyByHashRow struct {
	ID      int64
	GuildID int64
	KeyHash []byte
	LastUse sql.NullInt64
}

// GetGuildSettingsRow is what GetGuildSettings returns.
type GetGuildSettingsRow struct {
	ID             int64
	GuildID        int64
	Language       string
	Gmt            string
	UnitSystem     string
	AutoDelete     sql.NullInt64
	LoggingEnabled int64
}

// GetUserKeyByHashRow is what GetUserKeyByHash returns.
type GetUserKeyByHashRow struct {
	ID       int64
	UserName string
	KeyHash  []byte
}

// GuildAdmin is a row of guild_admins.
type GuildAdmin struct {
	GuildID   int64
	UserID    int64
	CreatedAt int64
}

// GuildKey is a row of guild_keys.
type GuildKey struct {
	ID        int64
	GuildID   int64
	KeyHash   []byte
	KeySealed []byte
	CreatedAt int64
	CreatedBy int64
	LastUse   sql.NullInt64
}

// IsGuildAdminParams is the arguments of IsGuildAdmin.
type IsGuildAdminParams struct {
	GuildID int64
	UserID  int64
}

// CountAuditEntriesByUserParams is the arguments of CountAuditEntriesByUser
// and, as EraseAuditActorParams, of EraseAuditActor.
type CountAuditEntriesByUserParams struct {
	GuildID int64
	UserID  sql.NullInt64
}

type EraseAuditActorParams = CountAuditEntriesByUserParams

// CountGuildKeysByCreatorParams is the arguments of CountGuildKeysByCreator
// and, as EraseGuildKeyCreatorParams, of EraseGuildKeyCreator.
type CountGuildKeysByCreatorParams struct {
	GuildID int64
	UserID  int64
}

type EraseGuildKeyCreatorParams = CountGuildKeysByCreatorParams

// ListAuditEntriesParams is the arguments of ListAuditEntries.
type ListAuditEntriesParams struct {
	GuildID  int64
	Before   int64
	PageSize int64
}

// ListSealedGuildKeysRow is what ListSealedGuildKeys returns.
type ListSealedGuildKeysRow struct {
	ID        int64
	KeyHash   []byte
	KeySealed []byte
}

// ListSealedSessionsRow is what ListSealedSessions returns.
type ListSealedSessionsRow struct {
	ID                 int64
	IDHash             []byte
	AccessTokenSealed  []byte
	RefreshTokenSealed []byte
}

// ListSealedUserKeysRow is what ListSealedUserKeys returns.
type ListSealedUserKeysRow struct {
	ID        int64
	KeyHash   []byte
	KeySealed []byte
}

// LoggingSetting is a row of logging_settings.
type LoggingSetting struct {
	ID            int64
	GuildID       int64
	Enabled       int64
	LogsChannelID sql.NullInt64
	Flags         string
}

// RemoveGuildAdminParams is the arguments of RemoveGuildAdmin.
type RemoveGuildAdminParams struct {
	GuildID int64
	UserID  int64
}

// ResealGuildKeyParams is the arguments of ResealGuildKey.
type ResealGuildKeyParams struct {
	KeySealed []byte
	ID        int64
}

// ResealSessionParams is the arguments of ResealSession.
type ResealSessionParams struct {
	AccessTokenSealed  []byte
	RefreshTokenSealed []byte
	ID                 int64
}

// ResealUserKeyParams is the arguments of ResealUserKey.
type ResealUserKeyParams struct {
	KeySealed []byte
	ID        int64
}

// Session is a row of sessions.
type Session struct {
	ID                 int64
	IDHash             []byte
	UserID             int64
	AccessTokenSealed  []byte
	RefreshTokenSealed []byte
	AccessTokenExpiry  int64
	CreatedAt          int64
	LastSeenAt         int64
	IdleLimit          int64
	ExpiresAt          int64
}

// SetLoggingEnabledParams is the arguments of SetLoggingEnabled.
type SetLoggingEnabledParams struct {
	Enabled int64
	GuildID int64
}

// SetMetaParams is the arguments of SetMeta.
type SetMetaParams struct {
	Name  string
	Value string
}

// TouchGuildKeyParams is the arguments of TouchGuildKey.
type TouchGuildKeyParams struct {
	LastUse sql.NullInt64
	ID      int64
}

// TouchSessionParams is the arguments of TouchSession.
type TouchSessionParams struct {
	LastSeenAt int64
	ID         int64
}

// UpdateGuildSettingsParams is the arguments of UpdateGuildSettings.
type UpdateGuildSettingsParams struct {
	Language   string
	Gmt        string
	UnitSystem string
	AutoDelete sql.NullInt64
	GuildID    int64
}

// UpdateLoggingSettingsParams is the arguments of UpdateLoggingSettings.
type UpdateLoggingSettingsParams struct {
	LogsChannelID sql.NullInt64
	Flags         string
	GuildID       int64
}

// UpdateSessionTokensParams is the arguments of UpdateSessionTokens.
type UpdateSessionTokensParams struct {
	AccessTokenSealed  []byte
	RefreshTokenSealed []byte
	AccessTokenExpiry  int64
	ID                 int64
}

// UpdateUserKeyNoteParams is the arguments of UpdateUserKeyNote.
type UpdateUserKeyNoteParams struct {
	Note string
	ID   int64
}

// UserKey is a row of user_keys.
type UserKey struct {
	ID        int64
	UserName  string
	Note      string
	KeyHash   []byte
	KeySealed []byte
	CreatedAt int64
}

// CreateLogMessageParams is the arguments of CreateLogMessage.
type CreateLogMessageParams struct {
	GuildID      int64
	ChannelID    int64
	AuditEntryID sql.NullInt64
	ActorUser    sql.NullInt64
	Action       string
	Changes      string
	Nonce        string
	CreatedAt    int64
}

// LogMessage is a row of log_messages.
type LogMessage struct {
	ID            int64
	GuildID       int64
	ChannelID     int64
	AuditEntryID  sql.NullInt64
	ActorUser     sql.NullInt64
	Action        string
	Changes       string
	Nonce         string
	Attempts      int64
	NextAttemptAt int64
	CreatedAt     int64
}

// RetryLogMessageParams is the arguments of RetryLogMessage.
type RetryLogMessageParams struct {
	Attempts      int64
	NextAttemptAt int64
	ID            int64
}

// TakeLogSenderParams is the arguments of TakeLogSender.
type TakeLogSenderParams struct {
	Holder    string
	ExpiresAt int64
	GuildID   int64
	Now       int64
}

// LogMessageInFlightRow is the result of LogMessageInFlight.
type LogMessageInFlightRow struct {
	Sending   int64
	ExpiresAt int64
}

// SetLogMessageInFlightParams is the arguments of SetLogMessageInFlight.
type SetLogMessageInFlightParams struct {
	Sending int64
	GuildID int64
	Holder  string
}

// SetLogErasingParams is the arguments of SetLogErasing.
type SetLogErasingParams struct {
	Erasing int64
	GuildID int64
}

// RewriteLogMessageParams is the arguments of RewriteLogMessage.
type RewriteLogMessageParams struct {
	ActorUser sql.NullInt64
	Changes   string
	ID        int64
}
