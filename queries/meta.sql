-- name: GetMeta :one
SELECT value FROM meta WHERE name = sqlc.arg(name);

-- name: SetMeta :exec
INSERT INTO meta (name, value) VALUES (sqlc.arg(name), sqlc.arg(value))
ON CONFLICT (name) DO UPDATE SET value = excluded.value;
