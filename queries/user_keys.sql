-- name: CreateUserKey :one
INSERT INTO user_keys (user_name, note, key_hash, key_sealed, created_at)
VALUES (sqlc.arg(user_name), sqlc.arg(note), sqlc.arg(key_hash), sqlc.arg(key_sealed), sqlc.arg(created_at))
RETURNING id;

-- name: GetUserKeyByHash :one
SELECT id, user_name, key_hash FROM user_keys WHERE key_hash = sqlc.arg(key_hash);

-- name: ListUserKeysOfUser :many
SELECT id, user_name, note, key_hash, key_sealed, created_at
FROM user_keys WHERE user_name = sqlc.arg(user_name) ORDER BY id;

-- name: ListUserKeys :many
SELECT id, user_name, note, key_hash, key_sealed, created_at
FROM user_keys WHERE user_name <> 'System' ORDER BY id;

-- name: DeleteUserKeysOfUser :execrows
DELETE FROM user_keys WHERE user_name = sqlc.arg(user_name) AND user_name <> 'System';

-- name: CountSystemKeys :one
SELECT count(*) FROM user_keys WHERE user_name = 'System';

-- name: DeleteSystemKeys :execrows
DELETE FROM user_keys WHERE user_name = 'System';

-- name: ListSealedUserKeys :many
SELECT id, key_hash, key_sealed FROM user_keys ORDER BY id;

-- name: ResealUserKey :exec
UPDATE user_keys SET key_sealed = sqlc.arg(key_sealed) WHERE id = sqlc.arg(id);

-- name: UpdateUserKeyNote :execrows
UPDATE user_keys SET note = sqlc.arg(note) WHERE id = sqlc.arg(id) AND note <> sqlc.arg(note);
