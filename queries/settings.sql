-- name: EnsureGuild :exec
INSERT INTO guilds (id, created_at) VALUES (sqlc.arg(id), sqlc.arg(created_at))
ON CONFLICT (id) DO NOTHING;

-- name: EnsureGuildSettings :exec
INSERT INTO guild_settings (guild_id) VALUES (sqlc.arg(guild_id)) ON CONFLICT (guild_id) DO NOTHING;

-- name: GetGuildSettings :one
SELECT g.id, g.guild_id, g.language, g.gmt, g.unit_system, g.auto_delete, l.enabled AS logging_enabled
FROM guild_settings g JOIN logging_settings l ON l.guild_id = g.guild_id
WHERE g.guild_id = sqlc.arg(guild_id);

-- name: UpdateGuildSettings :exec
UPDATE guild_settings
SET language = sqlc.arg(language), gmt = sqlc.arg(gmt), unit_system = sqlc.arg(unit_system), auto_delete = sqlc.arg(auto_delete)
WHERE guild_id = sqlc.arg(guild_id);
