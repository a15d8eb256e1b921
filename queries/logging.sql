-- name: EnsureLoggingSettings :exec
INSERT INTO logging_settings (guild_id) VALUES (sqlc.arg(guild_id)) ON CONFLICT (guild_id) DO NOTHING;

-- name: GetLoggingSettings :one
SELECT id, guild_id, enabled, logs_channel_id, flags FROM logging_settings WHERE guild_id = sqlc.arg(guild_id);

-- name: SetLoggingEnabled :exec
UPDATE logging_settings SET enabled = sqlc.arg(enabled) WHERE guild_id = sqlc.arg(guild_id);

-- name: UpdateLoggingSettings :exec
UPDATE logging_settings SET logs_channel_id = sqlc.arg(logs_channel_id), flags = sqlc.arg(flags)
WHERE guild_id = sqlc.arg(guild_id);
