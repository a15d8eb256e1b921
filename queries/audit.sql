-- name: CreateAuditEntry :exec
INSERT INTO audit_entries (guild_id, created_at, actor_user, action, changes)
VALUES (?, ?, ?, ?, ?);

-- name: ListAuditEntries :many
SELECT id, guild_id, created_at, actor_user, action, changes
FROM audit_entries
WHERE guild_id = sqlc.arg(guild_id) AND id < sqlc.arg(before)
ORDER BY id DESC
LIMIT sqlc.arg(page_size);
