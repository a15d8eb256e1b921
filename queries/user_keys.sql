-- name: CreateUserKey :one
INSERT INTO user_keys (user_name, note, key_hash, key_sealed, created_at)
VALUES (?, ?, ?, ?, ?)
RETURNING id;

-- name: GetUserKeyByHash :one
SELECT id, user_name, key_hash FROM user_keys WHERE key_hash = ?;

-- name: ListUserKeysOfUser :many
SELECT id, user_name, note, key_hash, key_sealed, created_at
FROM user_keys WHERE user_name = ? ORDER BY id;

-- name: ListUserKeys :many
SELECT id, user_name, note, key_hash, key_sealed, created_at
FROM user_keys WHERE user_name <> 'System' ORDER BY id;

-- name: DeleteUserKeysOfUser :execrows
DELETE FROM user_keys WHERE user_name = ? AND user_name <> 'System';

-- name: CountSystemKeys :one
SELECT count(*) FROM user_keys WHERE user_name = 'System';

-- name: DeleteSystemKeys :execrows
DELETE FROM user_keys WHERE user_name = 'System';
