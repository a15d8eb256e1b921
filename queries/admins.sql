-- name: AddGuildAdmin :execrows
INSERT INTO guild_admins (guild_id, user_id, created_at)
VALUES (sqlc.arg(guild_id), sqlc.arg(user_id), sqlc.arg(created_at))
ON CONFLICT (guild_id, user_id) DO NOTHING;

-- name: RemoveGuildAdmin :execrows
DELETE FROM guild_admins WHERE guild_id = sqlc.arg(guild_id) AND user_id = sqlc.arg(user_id);

-- name: ListGuildAdmins :many
SELECT guild_id, user_id, created_at FROM guild_admins
WHERE guild_id = sqlc.arg(guild_id) ORDER BY user_id;

-- name: ListAllGuildAdmins :many
SELECT guild_id, user_id, created_at FROM guild_admins ORDER BY guild_id, user_id;

-- name: IsGuildAdmin :one
SELECT EXISTS (SELECT 1 FROM guild_admins WHERE guild_id = sqlc.arg(guild_id) AND user_id = sqlc.arg(user_id));

-- name: ListGuildsOfAdmin :many
SELECT guild_id FROM guild_admins WHERE user_id = sqlc.arg(user_id) ORDER BY guild_id;
