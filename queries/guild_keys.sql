-- name: CountGuildKeys :one
SELECT count(*) FROM guild_keys WHERE guild_id = ?;

-- name: CreateGuildKey :one
INSERT INTO guild_keys (guild_id, key_hash, key_sealed, created_at, created_by)
VALUES (?, ?, ?, ?, ?)
RETURNING id;

-- name: GetGuildKeyByHash :one
SELECT id, guild_id, key_hash, last_use FROM guild_keys WHERE key_hash = ?;

-- name: ListGuildKeys :many
SELECT id, guild_id, key_hash, key_sealed, created_at, created_by, last_use
FROM guild_keys WHERE guild_id = ? ORDER BY id;

-- name: DeleteGuildKey :one
DELETE FROM guild_keys WHERE guild_id = ? AND key_hash = ?
RETURNING id, guild_id, key_hash, key_sealed, created_at, created_by, last_use;

-- name: TouchGuildKey :exec
UPDATE guild_keys SET last_use = ? WHERE id = ? AND (last_use IS NULL OR last_use < ?);
