package sqlite

import (
	"context"

	sqlitedb "github.com/apikeyd/apikeyd/gen/db/sqlite"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// queries runs the store's statements with the code sqlc generated from
// queries/ for SQLite; its rows and parameters convert one to one to the
// driver's, which have the same fields. A call that fails is told apart
// by the database file (see fail).
type queries struct {
	q    *sqlitedb.Queries
	file dbFile
}

var _ driver.Queries = queries{}

func (q queries) AddGuildAdmin(ctx context.Context, arg driver.AddGuildAdminParams) (int64, error) {
	v, err := q.q.AddGuildAdmin(ctx, sqlitedb.AddGuildAdminParams(arg))
	return v, q.fail(err)
}

func (q queries) CountAuditEntriesByUser(ctx context.Context, arg driver.CountAuditEntriesByUserParams) (int64, error) {
	v, err := q.q.CountAuditEntriesByUser(ctx, sqlitedb.CountAuditEntriesByUserParams(arg))
	return v, q.fail(err)
}

func (q queries) CountGuildKeysByCreator(ctx context.Context, arg driver.CountGuildKeysByCreatorParams) (int64, error) {
	v, err := q.q.CountGuildKeysByCreator(ctx, sqlitedb.CountGuildKeysByCreatorParams(arg))
	return v, q.fail(err)
}

func (q queries) EraseAuditActor(ctx context.Context, arg driver.EraseAuditActorParams) (int64, error) {
	v, err := q.q.EraseAuditActor(ctx, sqlitedb.EraseAuditActorParams(arg))
	return v, q.fail(err)
}

func (q queries) EraseGuildKeyCreator(ctx context.Context, arg driver.EraseGuildKeyCreatorParams) (int64, error) {
	v, err := q.q.EraseGuildKeyCreator(ctx, sqlitedb.EraseGuildKeyCreatorParams(arg))
	return v, q.fail(err)
}

func (q queries) CountGuildKeys(ctx context.Context, guildID int64) (int64, error) {
	v, err := q.q.CountGuildKeys(ctx, guildID)
	return v, q.fail(err)
}

func (q queries) CountSystemKeys(ctx context.Context) (int64, error) {
	v, err := q.q.CountSystemKeys(ctx)
	return v, q.fail(err)
}

func (q queries) CreateAuditEntry(ctx context.Context, arg driver.CreateAuditEntryParams) (int64, error) {
	v, err := q.q.CreateAuditEntry(ctx, sqlitedb.CreateAuditEntryParams(arg))
	return v, q.fail(err)
}

func (q queries) CreateGuildKey(ctx context.Context, arg driver.CreateGuildKeyParams) (int64, error) {
	v, err := q.q.CreateGuildKey(ctx, sqlitedb.CreateGuildKeyParams(arg))
	return v, q.fail(err)
}

func (q queries) CreateSession(ctx context.Context, arg driver.CreateSessionParams) (int64, error) {
	v, err := q.q.CreateSession(ctx, sqlitedb.CreateSessionParams(arg))
	return v, q.fail(err)
}

func (q queries) CreateUserKey(ctx context.Context, arg driver.CreateUserKeyParams) (int64, error) {
	v, err := q.q.CreateUserKey(ctx, sqlitedb.CreateUserKeyParams(arg))
	return v, q.fail(err)
}

func (q queries) DeleteExpiredSessions(ctx context.Context, now int64) (int64, error) {
	v, err := q.q.DeleteExpiredSessions(ctx, now)
	return v, q.fail(err)
}

func (q queries) DeleteGuildKey(ctx context.Context, arg driver.DeleteGuildKeyParams) (driver.GuildKey, error) {
	r, err := q.q.DeleteGuildKey(ctx, sqlitedb.DeleteGuildKeyParams(arg))
	return driver.GuildKey(r), q.fail(err)
}

func (q queries) DeleteSession(ctx context.Context, idHash []byte) (driver.Session, error) {
	r, err := q.q.DeleteSession(ctx, idHash)
	return driver.Session(r), q.fail(err)
}

func (q queries) DeleteSystemKeys(ctx context.Context) (int64, error) {
	v, err := q.q.DeleteSystemKeys(ctx)
	return v, q.fail(err)
}

func (q queries) DeleteUserKeysOfUser(ctx context.Context, userName string) (int64, error) {
	v, err := q.q.DeleteUserKeysOfUser(ctx, userName)
	return v, q.fail(err)
}

func (q queries) EnsureGuild(ctx context.Context, arg driver.EnsureGuildParams) error {
	return q.fail(q.q.EnsureGuild(ctx, sqlitedb.EnsureGuildParams(arg)))
}

func (q queries) EnsureGuildSettings(ctx context.Context, guildID int64) error {
	return q.fail(q.q.EnsureGuildSettings(ctx, guildID))
}

func (q queries) EnsureLoggingSettings(ctx context.Context, guildID int64) error {
	return q.fail(q.q.EnsureLoggingSettings(ctx, guildID))
}

func (q queries) GetGuildKeyByHash(ctx context.Context, keyHash []byte) (driver.GetGuildKeyByHashRow, error) {
	r, err := q.q.GetGuildKeyByHash(ctx, keyHash)
	return driver.GetGuildKeyByHashRow(r), q.fail(err)
}

func (q queries) GetGuildSettings(ctx context.Context, guildID int64) (driver.GetGuildSettingsRow, error) {
	r, err := q.q.GetGuildSettings(ctx, guildID)
	return driver.GetGuildSettingsRow(r), q.fail(err)
}

func (q queries) GetLoggingSettings(ctx context.Context, guildID int64) (driver.LoggingSetting, error) {
	r, err := q.q.GetLoggingSettings(ctx, guildID)
	return driver.LoggingSetting(r), q.fail(err)
}

func (q queries) GetMeta(ctx context.Context, name string) (string, error) {
	v, err := q.q.GetMeta(ctx, name)
	return v, q.fail(err)
}

func (q queries) GetSession(ctx context.Context, id int64) (driver.Session, error) {
	r, err := q.q.GetSession(ctx, id)
	return driver.Session(r), q.fail(err)
}

func (q queries) GetSessionByHash(ctx context.Context, idHash []byte) (driver.Session, error) {
	r, err := q.q.GetSessionByHash(ctx, idHash)
	return driver.Session(r), q.fail(err)
}

func (q queries) GetUserKeyByHash(ctx context.Context, keyHash []byte) (driver.GetUserKeyByHashRow, error) {
	r, err := q.q.GetUserKeyByHash(ctx, keyHash)
	return driver.GetUserKeyByHashRow(r), q.fail(err)
}

func (q queries) IsGuildAdmin(ctx context.Context, arg driver.IsGuildAdminParams) (bool, error) {
	v, err := q.q.IsGuildAdmin(ctx, sqlitedb.IsGuildAdminParams(arg))
	return v, q.fail(err)
}

func (q queries) ListAllGuildAdmins(ctx context.Context) ([]driver.GuildAdmin, error) {
	rows, err := q.q.ListAllGuildAdmins(ctx)
	return convertRows(rows, func(r sqlitedb.GuildAdmin) driver.GuildAdmin { return driver.GuildAdmin(r) }), q.fail(err)
}

func (q queries) ListAuditEntries(ctx context.Context, arg driver.ListAuditEntriesParams) ([]driver.AuditEntry, error) {
	rows, err := q.q.ListAuditEntries(ctx, sqlitedb.ListAuditEntriesParams(arg))
	return convertRows(rows, func(r sqlitedb.AuditEntry) driver.AuditEntry { return driver.AuditEntry(r) }), q.fail(err)
}

func (q queries) ListGuildAdmins(ctx context.Context, guildID int64) ([]driver.GuildAdmin, error) {
	rows, err := q.q.ListGuildAdmins(ctx, guildID)
	return convertRows(rows, func(r sqlitedb.GuildAdmin) driver.GuildAdmin { return driver.GuildAdmin(r) }), q.fail(err)
}

func (q queries) ListGuildKeys(ctx context.Context, guildID int64) ([]driver.GuildKey, error) {
	rows, err := q.q.ListGuildKeys(ctx, guildID)
	return convertRows(rows, func(r sqlitedb.GuildKey) driver.GuildKey { return driver.GuildKey(r) }), q.fail(err)
}

func (q queries) ListGuildsOfAdmin(ctx context.Context, userID int64) ([]int64, error) {
	v, err := q.q.ListGuildsOfAdmin(ctx, userID)
	return v, q.fail(err)
}

func (q queries) ListSealedGuildKeys(ctx context.Context) ([]driver.ListSealedGuildKeysRow, error) {
	rows, err := q.q.ListSealedGuildKeys(ctx)
	return convertRows(rows, func(r sqlitedb.ListSealedGuildKeysRow) driver.ListSealedGuildKeysRow {
		return driver.ListSealedGuildKeysRow(r)
	}), q.fail(err)
}

func (q queries) ListSealedSessions(ctx context.Context) ([]driver.ListSealedSessionsRow, error) {
	rows, err := q.q.ListSealedSessions(ctx)
	return convertRows(rows, func(r sqlitedb.ListSealedSessionsRow) driver.ListSealedSessionsRow {
		return driver.ListSealedSessionsRow(r)
	}), q.fail(err)
}

func (q queries) ListSealedUserKeys(ctx context.Context) ([]driver.ListSealedUserKeysRow, error) {
	rows, err := q.q.ListSealedUserKeys(ctx)
	return convertRows(rows, func(r sqlitedb.ListSealedUserKeysRow) driver.ListSealedUserKeysRow {
		return driver.ListSealedUserKeysRow(r)
	}), q.fail(err)
}

func (q queries) ListUserKeys(ctx context.Context) ([]driver.UserKey, error) {
	rows, err := q.q.ListUserKeys(ctx)
	return convertRows(rows, func(r sqlitedb.UserKey) driver.UserKey { return driver.UserKey(r) }), q.fail(err)
}

func (q queries) ListUserKeysOfUser(ctx context.Context, userName string) ([]driver.UserKey, error) {
	rows, err := q.q.ListUserKeysOfUser(ctx, userName)
	return convertRows(rows, func(r sqlitedb.UserKey) driver.UserKey { return driver.UserKey(r) }), q.fail(err)
}

func (q queries) RemoveGuildAdmin(ctx context.Context, arg driver.RemoveGuildAdminParams) (int64, error) {
	v, err := q.q.RemoveGuildAdmin(ctx, sqlitedb.RemoveGuildAdminParams(arg))
	return v, q.fail(err)
}

func (q queries) ResealGuildKey(ctx context.Context, arg driver.ResealGuildKeyParams) error {
	return q.fail(q.q.ResealGuildKey(ctx, sqlitedb.ResealGuildKeyParams(arg)))
}

func (q queries) ResealSession(ctx context.Context, arg driver.ResealSessionParams) error {
	return q.fail(q.q.ResealSession(ctx, sqlitedb.ResealSessionParams(arg)))
}

func (q queries) ResealUserKey(ctx context.Context, arg driver.ResealUserKeyParams) error {
	return q.fail(q.q.ResealUserKey(ctx, sqlitedb.ResealUserKeyParams(arg)))
}

func (q queries) SetLoggingEnabled(ctx context.Context, arg driver.SetLoggingEnabledParams) error {
	return q.fail(q.q.SetLoggingEnabled(ctx, sqlitedb.SetLoggingEnabledParams(arg)))
}

func (q queries) SetMeta(ctx context.Context, arg driver.SetMetaParams) error {
	return q.fail(q.q.SetMeta(ctx, sqlitedb.SetMetaParams(arg)))
}

func (q queries) TouchGuildKey(ctx context.Context, arg driver.TouchGuildKeyParams) (int64, error) {
	v, err := q.q.TouchGuildKey(ctx, sqlitedb.TouchGuildKeyParams(arg))
	return v, q.fail(err)
}

func (q queries) TouchSession(ctx context.Context, arg driver.TouchSessionParams) error {
	return q.fail(q.q.TouchSession(ctx, sqlitedb.TouchSessionParams(arg)))
}

func (q queries) UpdateGuildSettings(ctx context.Context, arg driver.UpdateGuildSettingsParams) error {
	return q.fail(q.q.UpdateGuildSettings(ctx, sqlitedb.UpdateGuildSettingsParams(arg)))
}

func (q queries) UpdateLoggingSettings(ctx context.Context, arg driver.UpdateLoggingSettingsParams) error {
	return q.fail(q.q.UpdateLoggingSettings(ctx, sqlitedb.UpdateLoggingSettingsParams(arg)))
}

func (q queries) UpdateSessionTokens(ctx context.Context, arg driver.UpdateSessionTokensParams) error {
	return q.fail(q.q.UpdateSessionTokens(ctx, sqlitedb.UpdateSessionTokensParams(arg)))
}

func (q queries) UpdateUserKeyNote(ctx context.Context, arg driver.UpdateUserKeyNoteParams) (int64, error) {
	v, err := q.q.UpdateUserKeyNote(ctx, sqlitedb.UpdateUserKeyNoteParams(arg))
	return v, q.fail(err)
}

// convertRows converts the rows of a query to the driver's type of them.
func convertRows[From, To any](rows []From, convert func(From) To) []To {
	if rows == nil {
		return nil
	}
	out := make([]To, len(rows))
	for i, r := range rows {
		out[i] = convert(r)
	}
	return out
}

func (q queries) CreateLogMessage(ctx context.Context, arg driver.CreateLogMessageParams) error {
	return q.fail(q.q.CreateLogMessage(ctx, sqlitedb.CreateLogMessageParams(arg)))
}

func (q queries) DeleteLogMessage(ctx context.Context, id int64) error {
	return q.fail(q.q.DeleteLogMessage(ctx, id))
}

func (q queries) EnsureLogSender(ctx context.Context, guildID int64) error {
	return q.fail(q.q.EnsureLogSender(ctx, guildID))
}

func (q queries) FirstLogMessage(ctx context.Context, guildID int64) (driver.LogMessage, error) {
	r, err := q.q.FirstLogMessage(ctx, guildID)
	return driver.LogMessage(r), q.fail(err)
}

func (q queries) ListGuildsWithLogMessages(ctx context.Context, now int64) ([]int64, error) {
	v, err := q.q.ListGuildsWithLogMessages(ctx, now)
	return v, q.fail(err)
}

func (q queries) MarkAuditEntryUndelivered(ctx context.Context, id int64) error {
	return q.fail(q.q.MarkAuditEntryUndelivered(ctx, id))
}

func (q queries) RetryLogMessage(ctx context.Context, arg driver.RetryLogMessageParams) error {
	return q.fail(q.q.RetryLogMessage(ctx, sqlitedb.RetryLogMessageParams(arg)))
}

func (q queries) TakeLogSender(ctx context.Context, arg driver.TakeLogSenderParams) (int64, error) {
	v, err := q.q.TakeLogSender(ctx, sqlitedb.TakeLogSenderParams(arg))
	return v, q.fail(err)
}

func (q queries) SetLogErasing(ctx context.Context, arg driver.SetLogErasingParams) error {
	return dbError(q.q.SetLogErasing(ctx, sqlitedb.SetLogErasingParams(arg)))
}

func (q queries) SetLogMessageInFlight(ctx context.Context, arg driver.SetLogMessageInFlightParams) error {
	return dbError(q.q.SetLogMessageInFlight(ctx, sqlitedb.SetLogMessageInFlightParams(arg)))
}

func (q queries) LogMessageInFlight(ctx context.Context, guildID int64) (driver.LogMessageInFlightRow, error) {
	v, err := q.q.LogMessageInFlight(ctx, guildID)
	return driver.LogMessageInFlightRow(v), dbError(err)
}

func (q queries) ListLogMessagesOfGuild(ctx context.Context, guildID int64) ([]driver.LogMessage, error) {
	rows, err := q.q.ListLogMessagesOfGuild(ctx, guildID)
	return convertRows(rows, func(r sqlitedb.LogMessage) driver.LogMessage { return driver.LogMessage(r) }), q.fail(err)
}

func (q queries) RewriteLogMessage(ctx context.Context, arg driver.RewriteLogMessageParams) error {
	return q.fail(q.q.RewriteLogMessage(ctx, sqlitedb.RewriteLogMessageParams(arg)))
}

// fail marks err as the database file tells it (dbFile.fail).
func (q queries) fail(err error) error { return q.file.fail(err) }
