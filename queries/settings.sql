-- name: GetGuildSettings :one
SELECT g.id, g.guild_id, g.language, g.gmt, g.unit_system, g.auto_delete, l.enabled AS logging_enabled
FROM guild_settings g JOIN logging_settings l ON l.guild_id = g.guild_id
WHERE g.guild_id = ?;

-- name: UpdateGuildSettings :exec
UPDATE guild_settings SET language = ?, gmt = ?, unit_system = ?, auto_delete = ?
WHERE guild_id = ?;

-- name: GetLoggingSettings :one
SELECT id, guild_id, enabled, logs_channel_id, flags FROM logging_settings WHERE guild_id = ?;

-- name: SetLoggingEnabled :exec
UPDATE logging_settings SET enabled = ? WHERE guild_id = ?;

-- name: UpdateLoggingSettings :exec
UPDATE logging_settings SET logs_channel_id = ?, flags = ? WHERE guild_id = ?;
