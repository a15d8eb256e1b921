-- name: CreateAuditEntry :one
INSERT INTO audit_entries (guild_id, created_at, actor_user, action, changes)
VALUES (sqlc.arg(guild_id), sqlc.arg(created_at), sqlc.arg(actor_user), sqlc.arg(action), sqlc.arg(changes))
RETURNING id;

-- name: ListAuditEntries :many
-- PostgreSQL types a LIMIT parameter as a 32-bit integer unless told,
-- where SQLite's is 64-bit: the cast keeps both engines' parameters alike.
SELECT id, guild_id, created_at, actor_user, action, changes, undelivered
FROM audit_entries
WHERE guild_id = sqlc.arg(guild_id) AND id < sqlc.arg(before)
ORDER BY id DESC
LIMIT sqlc.arg(page_size)::bigint;
