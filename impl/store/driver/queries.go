package driver

import "context"

// Queries are the statements of the store, one method per named query of
// queries/ (and queries/postgres/), with the same names and types in
// every engine. A method that finds no row returns sql.ErrNoRows; any
// other failure of the database is wrapped in ErrDatabase.
type Queries interface {
	AddGuildAdmin(ctx context.Context, arg AddGuildAdminParams) (int64, error)
	CountAuditEntriesByUser(ctx context.Context, arg CountAuditEntriesByUserParams) (int64, error)
	CountGuildKeys(ctx context.Context, guildID int64) (int64, error)
	CountGuildKeysByCreator(ctx context.Context, arg CountGuildKeysByCreatorParams) (int64, error)
	CountSystemKeys(ctx context.Context) (int64, error)
	CreateAuditEntry(ctx context.Context, arg CreateAuditEntryParams) (int64, error)
	CreateGuildKey(ctx context.Context, arg CreateGuildKeyParams) (int64, error)
	CreateLogMessage(ctx context.Context, arg CreateLogMessageParams) error
	CreateSession(ctx context.Context, arg CreateSessionParams) (int64, error)
	CreateUserKey(ctx context.Context, arg CreateUserKeyParams) (int64, error)
	DeleteExpiredSessions(ctx context.Context, now int64) (int64, error)
	DeleteGuildKey(ctx context.Context, arg DeleteGuildKeyParams) (GuildKey, error)
	DeleteLogMessage(ctx context.Context, id int64) error
	DeleteSession(ctx context.Context, idHash []byte) (Session, error)
	DeleteSystemKeys(ctx context.Context) (int64, error)
	DeleteUserKeysOfUser(ctx context.Context, userName string) (int64, error)
	EnsureGuild(ctx context.Context, arg EnsureGuildParams) error
	EnsureGuildSettings(ctx context.Context, guildID int64) error
	EnsureLogSender(ctx context.Context, guildID int64) error
	EnsureLoggingSettings(ctx context.Context, guildID int64) error
	EraseAuditActor(ctx context.Context, arg EraseAuditActorParams) (int64, error)
	EraseGuildKeyCreator(ctx context.Context, arg EraseGuildKeyCreatorParams) (int64, error)
	FirstLogMessage(ctx context.Context, guildID int64) (LogMessage, error)
	GetGuildKeyByHash(ctx context.Context, keyHash []byte) (GetGuildKeyByHashRow, error)
	GetGuildSettings(ctx context.Context, guildID int64) (GetGuildSettingsRow, error)
	GetLoggingSettings(ctx context.Context, guildID int64) (LoggingSetting, error)
	GetMeta(ctx context.Context, name string) (string, error)
	GetSession(ctx context.Context, id int64) (Session, error)
	GetSessionByHash(ctx context.Context, idHash []byte) (Session, error)
	GetUserKeyByHash(ctx context.Context, keyHash []byte) (GetUserKeyByHashRow, error)
	IsGuildAdmin(ctx context.Context, arg IsGuildAdminParams) (bool, error)
	ListAllGuildAdmins(ctx context.Context) ([]GuildAdmin, error)
	ListAuditEntries(ctx context.Context, arg ListAuditEntriesParams) ([]AuditEntry, error)
	ListGuildAdmins(ctx context.Context, guildID int64) ([]GuildAdmin, error)
	ListGuildKeys(ctx context.Context, guildID int64) ([]GuildKey, error)
	ListGuildsOfAdmin(ctx context.Context, userID int64) ([]int64, error)
	ListGuildsWithLogMessages(ctx context.Context, now int64) ([]int64, error)
	ListLogMessagesOfGuild(ctx context.Context, guildID int64) ([]LogMessage, error)
	LogMessageInFlight(ctx context.Context, guildID int64) (LogMessageInFlightRow, error)
	ListSealedGuildKeys(ctx context.Context) ([]ListSealedGuildKeysRow, error)
	ListSealedSessions(ctx context.Context) ([]ListSealedSessionsRow, error)
	ListSealedUserKeys(ctx context.Context) ([]ListSealedUserKeysRow, error)
	ListUserKeys(ctx context.Context) ([]UserKey, error)
	ListUserKeysOfUser(ctx context.Context, userName string) ([]UserKey, error)
	MarkAuditEntryUndelivered(ctx context.Context, id int64) error
	RemoveGuildAdmin(ctx context.Context, arg RemoveGuildAdminParams) (int64, error)
	ResealGuildKey(ctx context.Context, arg ResealGuildKeyParams) error
	ResealSession(ctx context.Context, arg ResealSessionParams) error
	ResealUserKey(ctx context.Context, arg ResealUserKeyParams) error
	RetryLogMessage(ctx context.Context, arg RetryLogMessageParams) error
	RewriteLogMessage(ctx context.Context, arg RewriteLogMessageParams) error
	SetLogErasing(ctx context.Context, arg SetLogErasingParams) error
	SetLogMessageInFlight(ctx context.Context, arg SetLogMessageInFlightParams) error
	SetLoggingEnabled(ctx context.Context, arg SetLoggingEnabledParams) error
	SetMeta(ctx context.Context, arg SetMetaParams) error
	TakeLogSender(ctx context.Context, arg TakeLogSenderParams) (int64, error)
	TouchGuildKey(ctx context.Context, arg TouchGuildKeyParams) (int64, error)
	TouchSession(ctx context.Context, arg TouchSessionParams) error
	UpdateGuildSettings(ctx context.Context, arg UpdateGuildSettingsParams) error
	UpdateLoggingSettings(ctx context.Context, arg UpdateLoggingSettingsParams) error
	UpdateSessionTokens(ctx context.Context, arg UpdateSessionTokensParams) error
	UpdateUserKeyNote(ctx context.Context, arg UpdateUserKeyNoteParams) (int64, error)
}
