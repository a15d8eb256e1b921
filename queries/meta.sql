-- name: GetMeta :one
SELECT value FROM meta WHERE name = ?;

-- name: SetMeta :exec
INSERT INTO meta (name, value) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET value = excluded.value;

-- name: ListSealedUserKeys :many
SELECT id, key_hash, key_sealed FROM user_keys ORDER BY id;

-- name: ListSealedGuildKeys :many
SELECT id, key_hash, key_sealed FROM guild_keys ORDER BY id;

-- name: ResealUserKey :exec
UPDATE user_keys SET key_sealed = ? WHERE id = ?;

-- name: ResealGuildKey :exec
UPDATE guild_keys SET key_sealed = ? WHERE id = ?;
