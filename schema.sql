-- The schema of apikeyd's SQLite database, as a log of migrations.
--
-- sqlc reads this whole file as the schema it generates queries against;
-- the store applies each "-- migration N" section that a database has not
-- seen yet (PRAGMA user_version records the last one), in one transaction.
-- Append new sections; never edit one that has shipped.

-- migration 1: user keys of the /apiKeys family.
CREATE TABLE user_keys (
    id         INTEGER PRIMARY KEY,
    user_name  TEXT    NOT NULL,
    note       TEXT    NOT NULL DEFAULT '',
    -- SHA-256 of the key: what a request's key is looked up by.
    key_hash   BLOB    NOT NULL UNIQUE,
    -- The key sealed with AES-256-GCM under the master key, for listings.
    key_sealed BLOB    NOT NULL,
    -- Unix milliseconds.
    created_at INTEGER NOT NULL
);
CREATE INDEX user_keys_by_user ON user_keys (user_name, id);
-- There is one System key, the master key of this family.
CREATE UNIQUE INDEX user_keys_one_system ON user_keys (user_name) WHERE user_name = 'System';
