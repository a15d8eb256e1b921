-- name: EnsureGuild :exec
INSERT INTO guilds (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING;

-- name: AddGuildAdmin :execrows
INSERT INTO guild_admins (guild_id, user_id, created_at) VALUES (?, ?, ?)
ON CONFLICT (guild_id, user_id) DO NOTHING;

-- name: RemoveGuildAdmin :execrows
DELETE FROM guild_admins WHERE guild_id = ? AND user_id = ?;

-- name: ListGuildAdmins :many
SELECT guild_id, user_id, created_at FROM guild_admins
WHERE guild_id = ? ORDER BY user_id;

-- name: ListAllGuildAdmins :many
SELECT guild_id, user_id, created_at FROM guild_admins ORDER BY guild_id, user_id;

-- name: IsGuildAdmin :one
SELECT EXISTS (SELECT 1 FROM guild_admins WHERE guild_id = ? AND user_id = ?);

-- name: EnsureGuildSettings :exec
INSERT INTO guild_settings (guild_id) VALUES (?) ON CONFLICT (guild_id) DO NOTHING;

-- name: EnsureLoggingSettings :exec
INSERT INTO logging_settings (guild_id) VALUES (?) ON CONFLICT (guild_id) DO NOTHING;
