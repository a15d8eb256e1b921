package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	pgdb "github.com/apikeyd/apikeyd/gen/db/postgres"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// queries runs the store's statements with the code sqlc generated for
// PostgreSQL; its rows and parameters convert one to one to the driver's,
// which have the same fields (sqlc.yaml makes its nullable BIGINT a
// sql.NullInt64 for this).
type queries struct {
	gen *pgdb.Queries
	// timeout bounds each statement outside a transaction, and deadline
	// (when set) those of the transaction gen is in, so that a database
	// that does not answer fails the request with ErrDatabase instead of
	// holding it.
	timeout  time.Duration
	deadline time.Time
	// tx is the transaction gen is in, nil outside one: the change log
	// is written in it (changeFeed.Record).
	tx pgx.Tx
}

var _ driver.Queries = queries{}

func (q queries) AddGuildAdmin(ctx context.Context, arg driver.AddGuildAdminParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.AddGuildAdmin(bounded, pgdb.AddGuildAdminParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) CountGuildKeys(ctx context.Context, guildID int64) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.CountGuildKeys(bounded, guildID)
	return v, dbError(ctx, err)
}

func (q queries) CountSystemKeys(ctx context.Context) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.CountSystemKeys(bounded)
	return v, dbError(ctx, err)
}

func (q queries) CountAuditEntriesByUser(ctx context.Context, arg driver.CountAuditEntriesByUserParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.CountAuditEntriesByUser(bounded, pgdb.CountAuditEntriesByUserParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) CountGuildKeysByCreator(ctx context.Context, arg driver.CountGuildKeysByCreatorParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.CountGuildKeysByCreator(bounded, pgdb.CountGuildKeysByCreatorParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) EraseAuditActor(ctx context.Context, arg driver.EraseAuditActorParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.EraseAuditActor(bounded, pgdb.EraseAuditActorParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) EraseGuildKeyCreator(ctx context.Context, arg driver.EraseGuildKeyCreatorParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.EraseGuildKeyCreator(bounded, pgdb.EraseGuildKeyCreatorParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) CreateAuditEntry(ctx context.Context, arg driver.CreateAuditEntryParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.CreateAuditEntry(bounded, pgdb.CreateAuditEntryParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) CreateGuildKey(ctx context.Context, arg driver.CreateGuildKeyParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.CreateGuildKey(bounded, pgdb.CreateGuildKeyParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) CreateSession(ctx context.Context, arg driver.CreateSessionParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.CreateSession(bounded, pgdb.CreateSessionParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) CreateUserKey(ctx context.Context, arg driver.CreateUserKeyParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.CreateUserKey(bounded, pgdb.CreateUserKeyParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) DeleteExpiredSessions(ctx context.Context, now int64) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.DeleteExpiredSessions(bounded, now)
	return v, dbError(ctx, err)
}

func (q queries) DeleteGuildKey(ctx context.Context, arg driver.DeleteGuildKeyParams) (driver.GuildKey, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	r, err := q.gen.DeleteGuildKey(bounded, pgdb.DeleteGuildKeyParams(arg))
	return driver.GuildKey(r), dbError(ctx, err)
}

func (q queries) DeleteSession(ctx context.Context, idHash []byte) (driver.Session, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	r, err := q.gen.DeleteSession(bounded, idHash)
	return driver.Session(r), dbError(ctx, err)
}

func (q queries) DeleteSystemKeys(ctx context.Context) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.DeleteSystemKeys(bounded)
	return v, dbError(ctx, err)
}

func (q queries) DeleteUserKeysOfUser(ctx context.Context, userName string) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.DeleteUserKeysOfUser(bounded, userName)
	return v, dbError(ctx, err)
}

func (q queries) EnsureGuild(ctx context.Context, arg driver.EnsureGuildParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.EnsureGuild(bounded, pgdb.EnsureGuildParams(arg)))
}

func (q queries) EnsureGuildSettings(ctx context.Context, guildID int64) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.EnsureGuildSettings(bounded, guildID))
}

func (q queries) EnsureLoggingSettings(ctx context.Context, guildID int64) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.EnsureLoggingSettings(bounded, guildID))
}

func (q queries) GetGuildKeyByHash(ctx context.Context, keyHash []byte) (driver.GetGuildKeyByHashRow, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	r, err := q.gen.GetGuildKeyByHash(bounded, keyHash)
	return driver.GetGuildKeyByHashRow(r), dbError(ctx, err)
}

func (q queries) GetGuildSettings(ctx context.Context, guildID int64) (driver.GetGuildSettingsRow, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	r, err := q.gen.GetGuildSettings(bounded, guildID)
	return driver.GetGuildSettingsRow(r), dbError(ctx, err)
}

func (q queries) GetLoggingSettings(ctx context.Context, guildID int64) (driver.LoggingSetting, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	r, err := q.gen.GetLoggingSettings(bounded, guildID)
	return driver.LoggingSetting(r), dbError(ctx, err)
}

func (q queries) GetMeta(ctx context.Context, name string) (string, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.GetMeta(bounded, name)
	return v, dbError(ctx, err)
}

func (q queries) GetSession(ctx context.Context, id int64) (driver.Session, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	r, err := q.gen.GetSession(bounded, id)
	return driver.Session(r), dbError(ctx, err)
}

func (q queries) GetSessionByHash(ctx context.Context, idHash []byte) (driver.Session, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	r, err := q.gen.GetSessionByHash(bounded, idHash)
	return driver.Session(r), dbError(ctx, err)
}

func (q queries) GetUserKeyByHash(ctx context.Context, keyHash []byte) (driver.GetUserKeyByHashRow, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	r, err := q.gen.GetUserKeyByHash(bounded, keyHash)
	return driver.GetUserKeyByHashRow(r), dbError(ctx, err)
}

func (q queries) IsGuildAdmin(ctx context.Context, arg driver.IsGuildAdminParams) (bool, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.IsGuildAdmin(bounded, pgdb.IsGuildAdminParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) ListAllGuildAdmins(ctx context.Context) ([]driver.GuildAdmin, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	rows, err := q.gen.ListAllGuildAdmins(bounded)
	return convertRows(rows, func(r pgdb.GuildAdmin) driver.GuildAdmin { return driver.GuildAdmin(r) }), dbError(ctx, err)
}

func (q queries) ListAuditEntries(ctx context.Context, arg driver.ListAuditEntriesParams) ([]driver.AuditEntry, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	rows, err := q.gen.ListAuditEntries(bounded, pgdb.ListAuditEntriesParams(arg))
	return convertRows(rows, func(r pgdb.AuditEntry) driver.AuditEntry { return driver.AuditEntry(r) }), dbError(ctx, err)
}

func (q queries) ListGuildAdmins(ctx context.Context, guildID int64) ([]driver.GuildAdmin, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	rows, err := q.gen.ListGuildAdmins(bounded, guildID)
	return convertRows(rows, func(r pgdb.GuildAdmin) driver.GuildAdmin { return driver.GuildAdmin(r) }), dbError(ctx, err)
}

func (q queries) ListGuildKeys(ctx context.Context, guildID int64) ([]driver.GuildKey, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	rows, err := q.gen.ListGuildKeys(bounded, guildID)
	return convertRows(rows, func(r pgdb.GuildKey) driver.GuildKey { return driver.GuildKey(r) }), dbError(ctx, err)
}

func (q queries) ListGuildsOfAdmin(ctx context.Context, userID int64) ([]int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.ListGuildsOfAdmin(bounded, userID)
	return v, dbError(ctx, err)
}

func (q queries) ListSealedGuildKeys(ctx context.Context) ([]driver.ListSealedGuildKeysRow, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	rows, err := q.gen.ListSealedGuildKeys(bounded)
	return convertRows(rows, func(r pgdb.ListSealedGuildKeysRow) driver.ListSealedGuildKeysRow {
		return driver.ListSealedGuildKeysRow(r)
	}), dbError(ctx, err)
}

func (q queries) ListSealedSessions(ctx context.Context) ([]driver.ListSealedSessionsRow, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	rows, err := q.gen.ListSealedSessions(bounded)
	return convertRows(rows, func(r pgdb.ListSealedSessionsRow) driver.ListSealedSessionsRow {
		return driver.ListSealedSessionsRow(r)
	}), dbError(ctx, err)
}

func (q queries) ListSealedUserKeys(ctx context.Context) ([]driver.ListSealedUserKeysRow, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	rows, err := q.gen.ListSealedUserKeys(bounded)
	return convertRows(rows, func(r pgdb.ListSealedUserKeysRow) driver.ListSealedUserKeysRow {
		return driver.ListSealedUserKeysRow(r)
	}), dbError(ctx, err)
}

func (q queries) ListUserKeys(ctx context.Context) ([]driver.UserKey, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	rows, err := q.gen.ListUserKeys(bounded)
	return convertRows(rows, func(r pgdb.UserKey) driver.UserKey { return driver.UserKey(r) }), dbError(ctx, err)
}

func (q queries) ListUserKeysOfUser(ctx context.Context, userName string) ([]driver.UserKey, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	rows, err := q.gen.ListUserKeysOfUser(bounded, userName)
	return convertRows(rows, func(r pgdb.UserKey) driver.UserKey { return driver.UserKey(r) }), dbError(ctx, err)
}

func (q queries) RemoveGuildAdmin(ctx context.Context, arg driver.RemoveGuildAdminParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.RemoveGuildAdmin(bounded, pgdb.RemoveGuildAdminParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) ResealGuildKey(ctx context.Context, arg driver.ResealGuildKeyParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.ResealGuildKey(bounded, pgdb.ResealGuildKeyParams(arg)))
}

func (q queries) ResealSession(ctx context.Context, arg driver.ResealSessionParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.ResealSession(bounded, pgdb.ResealSessionParams(arg)))
}

func (q queries) ResealUserKey(ctx context.Context, arg driver.ResealUserKeyParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.ResealUserKey(bounded, pgdb.ResealUserKeyParams(arg)))
}

func (q queries) SetLoggingEnabled(ctx context.Context, arg driver.SetLoggingEnabledParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.SetLoggingEnabled(bounded, pgdb.SetLoggingEnabledParams(arg)))
}

func (q queries) SetMeta(ctx context.Context, arg driver.SetMetaParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.SetMeta(bounded, pgdb.SetMetaParams(arg)))
}

func (q queries) TouchGuildKey(ctx context.Context, arg driver.TouchGuildKeyParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.TouchGuildKey(bounded, pgdb.TouchGuildKeyParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) TouchSession(ctx context.Context, arg driver.TouchSessionParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.TouchSession(bounded, pgdb.TouchSessionParams(arg)))
}

func (q queries) UpdateGuildSettings(ctx context.Context, arg driver.UpdateGuildSettingsParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.UpdateGuildSettings(bounded, pgdb.UpdateGuildSettingsParams(arg)))
}

func (q queries) UpdateLoggingSettings(ctx context.Context, arg driver.UpdateLoggingSettingsParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.UpdateLoggingSettings(bounded, pgdb.UpdateLoggingSettingsParams(arg)))
}

func (q queries) UpdateSessionTokens(ctx context.Context, arg driver.UpdateSessionTokensParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.UpdateSessionTokens(bounded, pgdb.UpdateSessionTokensParams(arg)))
}

func (q queries) UpdateUserKeyNote(ctx context.Context, arg driver.UpdateUserKeyNoteParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.UpdateUserKeyNote(bounded, pgdb.UpdateUserKeyNoteParams(arg))
	return v, dbError(ctx, err)
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

// bound is the context a statement runs under: the caller's, ended by
// the transaction's deadline inside one and by timeout outside.
func (q queries) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if !q.deadline.IsZero() {
		return context.WithDeadline(ctx, q.deadline)
	}
	return context.WithTimeout(ctx, q.timeout)
}

func (q queries) CreateLogMessage(ctx context.Context, arg driver.CreateLogMessageParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.CreateLogMessage(bounded, pgdb.CreateLogMessageParams(arg)))
}

func (q queries) DeleteLogMessage(ctx context.Context, id int64) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.DeleteLogMessage(bounded, id))
}

func (q queries) EnsureLogSender(ctx context.Context, guildID int64) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.EnsureLogSender(bounded, guildID))
}

func (q queries) FirstLogMessage(ctx context.Context, guildID int64) (driver.LogMessage, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.FirstLogMessage(bounded, guildID)
	return driver.LogMessage(v), dbError(ctx, err)
}

func (q queries) ListGuildsWithLogMessages(ctx context.Context, now int64) ([]int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.ListGuildsWithLogMessages(bounded, now)
	return v, dbError(ctx, err)
}

func (q queries) MarkAuditEntryUndelivered(ctx context.Context, id int64) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.MarkAuditEntryUndelivered(bounded, id))
}

func (q queries) RetryLogMessage(ctx context.Context, arg driver.RetryLogMessageParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.RetryLogMessage(bounded, pgdb.RetryLogMessageParams(arg)))
}

func (q queries) TakeLogSender(ctx context.Context, arg driver.TakeLogSenderParams) (int64, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.TakeLogSender(bounded, pgdb.TakeLogSenderParams(arg))
	return v, dbError(ctx, err)
}

func (q queries) SetLogErasing(ctx context.Context, arg driver.SetLogErasingParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.SetLogErasing(bounded, pgdb.SetLogErasingParams(arg)))
}

func (q queries) SetLogMessageInFlight(ctx context.Context, arg driver.SetLogMessageInFlightParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.SetLogMessageInFlight(bounded, pgdb.SetLogMessageInFlightParams(arg)))
}

func (q queries) LogMessageInFlight(ctx context.Context, guildID int64) (driver.LogMessageInFlightRow, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	v, err := q.gen.LogMessageInFlight(bounded, guildID)
	return driver.LogMessageInFlightRow(v), dbError(ctx, err)
}

func (q queries) ListLogMessagesOfGuild(ctx context.Context, guildID int64) ([]driver.LogMessage, error) {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	rows, err := q.gen.ListLogMessagesOfGuild(bounded, guildID)
	return convertRows(rows, func(r pgdb.LogMessage) driver.LogMessage { return driver.LogMessage(r) }), dbError(ctx, err)
}

func (q queries) RewriteLogMessage(ctx context.Context, arg driver.RewriteLogMessageParams) error {
	bounded, cancel := q.bound(ctx)
	defer cancel()
	return dbError(ctx, q.gen.RewriteLogMessage(bounded, pgdb.RewriteLogMessageParams(arg)))
}
