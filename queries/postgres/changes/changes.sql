-- PostgreSQL's change log (schema.postgres.sql, migration 6): what one
-- server's writes made stale, for the others sharing the database. SQLite
-- has none (one server holds its file), so these queries are this
-- engine's alone, in a package of their own.

-- name: RecordChange :exec
-- Notified on commit: a rolled-back change tells no one.
WITH recorded AS (
    INSERT INTO changes (kind, key) VALUES (@kind, @key) RETURNING seq
)
SELECT pg_notify('apikeyd_changes', seq::text) FROM recorded;

-- name: ListChanges :many
-- What follows the last change seen, and every change of the last 10 s
-- again: seq is taken at insert, so a transaction that committed late
-- (each is bounded to 4 s) may hold a seq below the last one seen.
SELECT seq, kind, key FROM changes
WHERE seq > @after OR recorded_at > now() - interval '10 seconds'
ORDER BY seq;

-- name: LastChange :one
SELECT coalesce(max(seq), 0)::bigint AS seq FROM changes;

-- name: PruneChanges :execrows
-- A server away for longer than the 10 s that ListChanges re-reads drops
-- all its caches, so an hour keeps far more than any reader needs.
DELETE FROM changes WHERE recorded_at < now() - interval '1 hour';
