-- The logging module's outbox: messages for a guild's logs channel, each
-- written in the transaction of its change and sent in order by the one
-- process holding the guild's lease (log_senders).
--
-- name: CreateLogMessage :exec
INSERT INTO log_messages (guild_id, channel_id, audit_entry_id, actor_user, action, changes, nonce, next_attempt_at, created_at)
VALUES (sqlc.arg(guild_id), sqlc.arg(channel_id), sqlc.arg(audit_entry_id), sqlc.arg(actor_user), sqlc.arg(action), sqlc.arg(changes), sqlc.arg(nonce), sqlc.arg(created_at), sqlc.arg(created_at));

-- name: ListGuildsWithLogMessages :many
SELECT DISTINCT guild_id FROM log_messages WHERE next_attempt_at <= sqlc.arg(now) ORDER BY guild_id;

-- name: FirstLogMessage :one
-- The guild's oldest message: it goes before any other of the guild's.
SELECT id, guild_id, channel_id, audit_entry_id, actor_user, action, changes, nonce, attempts, next_attempt_at, created_at
FROM log_messages WHERE guild_id = sqlc.arg(guild_id) ORDER BY id LIMIT 1;

-- name: DeleteLogMessage :exec
DELETE FROM log_messages WHERE id = sqlc.arg(id);

-- name: RetryLogMessage :exec
UPDATE log_messages SET attempts = sqlc.arg(attempts), next_attempt_at = sqlc.arg(next_attempt_at) WHERE id = sqlc.arg(id);

-- name: MarkAuditEntryUndelivered :exec
UPDATE audit_entries SET undelivered = 1 WHERE id = sqlc.arg(id);

-- name: EnsureLogSender :exec
-- A guild's lease row, held by no one until TakeLogSender takes it.
INSERT INTO log_senders (guild_id, holder, expires_at) VALUES (sqlc.arg(guild_id), '', 0)
ON CONFLICT (guild_id) DO NOTHING;

-- name: TakeLogSender :execrows
-- Takes or renews the guild's lease for holder: it is taken from another
-- holder only once that one's has expired, and by no one while an erasure
-- waits (erasing). No message is in flight then: a sender takes its lease
-- between posts, and a dead one's claim lapsed.
UPDATE log_senders SET holder = sqlc.arg(holder), expires_at = sqlc.arg(expires_at), sending = 0
WHERE guild_id = sqlc.arg(guild_id) AND (holder = sqlc.arg(holder) OR expires_at <= sqlc.arg(now)) AND erasing <= sqlc.arg(now);

-- name: ListLogMessagesOfGuild :many
SELECT id, guild_id, channel_id, audit_entry_id, actor_user, action, changes, nonce, attempts, next_attempt_at, created_at
FROM log_messages WHERE guild_id = sqlc.arg(guild_id) ORDER BY id;

-- name: RewriteLogMessage :exec
-- An erasure's: the message no longer names the member.
UPDATE log_messages SET actor_user = sqlc.arg(actor_user), changes = sqlc.arg(changes) WHERE id = sqlc.arg(id);

-- name: SetLogMessageInFlight :exec
-- The message holder is posting (0: none), in the transaction that read it.
UPDATE log_senders SET sending = sqlc.arg(sending) WHERE guild_id = sqlc.arg(guild_id) AND holder = sqlc.arg(holder);

-- name: LogMessageInFlight :one
-- The message the guild's sender is posting, if its lease has not lapsed.
SELECT sending, expires_at FROM log_senders WHERE guild_id = sqlc.arg(guild_id);

-- name: SetLogErasing :exec
-- Until when an erasure waits for the guild's post in flight (0: none).
UPDATE log_senders SET erasing = sqlc.arg(erasing) WHERE guild_id = sqlc.arg(guild_id);
