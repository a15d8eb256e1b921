-- name: CountGuildKeys :one
SELECT count(*) FROM guild_keys WHERE guild_id = sqlc.arg(guild_id);

-- name: CreateGuildKey :one
INSERT INTO guild_keys (guild_id, key_hash, key_sealed, created_at, created_by)
VALUES (sqlc.arg(guild_id), sqlc.arg(key_hash), sqlc.arg(key_sealed), sqlc.arg(created_at), sqlc.arg(created_by))
RETURNING id;

-- name: GetGuildKeyByHash :one
SELECT id, guild_id, key_hash, last_use FROM guild_keys WHERE key_hash = sqlc.arg(key_hash);

-- name: ListGuildKeys :many
SELECT id, guild_id, key_hash, key_sealed, created_at, created_by, last_use
FROM guild_keys WHERE guild_id = sqlc.arg(guild_id) ORDER BY id;

-- name: DeleteGuildKey :one
DELETE FROM guild_keys WHERE guild_id = sqlc.arg(guild_id) AND key_hash = sqlc.arg(key_hash)
RETURNING id, guild_id, key_hash, key_sealed, created_at, created_by, last_use;

-- name: TouchGuildKey :one
-- No row when the key is gone or its recorded use is as recent already;
-- the guild of a key it moved, whose cached list of keys is then stale.
UPDATE guild_keys SET last_use = sqlc.arg(last_use)
WHERE id = sqlc.arg(id) AND (last_use IS NULL OR last_use < sqlc.arg(last_use))
RETURNING guild_id;

-- name: ListSealedGuildKeys :many
SELECT id, key_hash, key_sealed FROM guild_keys ORDER BY id;

-- name: ResealGuildKey :exec
UPDATE guild_keys SET key_sealed = sqlc.arg(key_sealed) WHERE id = sqlc.arg(id);
