-- What a guild's data says of one member, for the privacy operations, and
-- its erasure. An erased member's audit entries keep their place, with
-- actor_user 0 ("A deleted user"; no Discord id is 0, and NULL stays an
-- API key's), and the keys they created keep working, with created_by 0
-- (unset).

-- name: CountAuditEntriesByUser :one
SELECT count(*) FROM audit_entries
WHERE guild_id = sqlc.arg(guild_id) AND actor_user = sqlc.arg(user_id);

-- name: CountGuildKeysByCreator :one
SELECT count(*) FROM guild_keys
WHERE guild_id = sqlc.arg(guild_id) AND created_by = sqlc.arg(user_id);

-- name: EraseAuditActor :execrows
UPDATE audit_entries SET actor_user = 0
WHERE guild_id = sqlc.arg(guild_id) AND actor_user = sqlc.arg(user_id);

-- name: EraseGuildKeyCreator :execrows
UPDATE guild_keys SET created_by = 0
WHERE guild_id = sqlc.arg(guild_id) AND created_by = sqlc.arg(user_id);
