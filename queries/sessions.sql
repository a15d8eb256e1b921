-- name: CreateSession :one
INSERT INTO sessions (id_hash, user_id, access_token_sealed, refresh_token_sealed, access_token_expiry,
                      created_at, last_seen_at, idle_limit, expires_at)
VALUES (sqlc.arg(id_hash), sqlc.arg(user_id), sqlc.arg(access_token_sealed), sqlc.arg(refresh_token_sealed),
        sqlc.arg(access_token_expiry), sqlc.arg(created_at), sqlc.arg(created_at), sqlc.arg(idle_limit),
        sqlc.arg(expires_at))
RETURNING id;

-- name: GetSessionByHash :one
SELECT id, id_hash, user_id, access_token_sealed, refresh_token_sealed, access_token_expiry, created_at, last_seen_at, idle_limit, expires_at
FROM sessions WHERE id_hash = sqlc.arg(id_hash);

-- name: GetSession :one
SELECT id, id_hash, user_id, access_token_sealed, refresh_token_sealed, access_token_expiry, created_at, last_seen_at, idle_limit, expires_at
FROM sessions WHERE id = sqlc.arg(id);

-- name: TouchSession :exec
UPDATE sessions SET last_seen_at = sqlc.arg(last_seen_at)
WHERE id = sqlc.arg(id) AND last_seen_at < sqlc.arg(last_seen_at);

-- name: UpdateSessionTokens :exec
UPDATE sessions
SET access_token_sealed = sqlc.arg(access_token_sealed), refresh_token_sealed = sqlc.arg(refresh_token_sealed),
    access_token_expiry = sqlc.arg(access_token_expiry)
WHERE id = sqlc.arg(id);

-- name: DeleteSession :one
DELETE FROM sessions WHERE id_hash = sqlc.arg(id_hash)
RETURNING id, id_hash, user_id, access_token_sealed, refresh_token_sealed, access_token_expiry, created_at, last_seen_at, idle_limit, expires_at;

-- name: DeleteExpiredSessions :execrows
DELETE FROM sessions WHERE expires_at <= sqlc.arg(now) OR last_seen_at + idle_limit <= sqlc.arg(now);

-- name: ListSealedSessions :many
SELECT id, id_hash, access_token_sealed, refresh_token_sealed FROM sessions ORDER BY id;

-- name: ResealSession :exec
UPDATE sessions SET access_token_sealed = sqlc.arg(access_token_sealed), refresh_token_sealed = sqlc.arg(refresh_token_sealed)
WHERE id = sqlc.arg(id);
