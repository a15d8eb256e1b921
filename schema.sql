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

-- migration 2: guilds, their administrators and their API keys (/v1).
-- Ids are Discord snowflakes, below 2^63.
CREATE TABLE guilds (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL
);
-- Filled by `apikeyd guild-admin add`: who may manage a guild through /v1.
CREATE TABLE guild_admins (
    guild_id   INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
CREATE TABLE guild_keys (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    key_hash   BLOB    NOT NULL UNIQUE,
    key_sealed BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    created_by INTEGER NOT NULL,
    -- Unix milliseconds of the last use, NULL if never used; refreshed at
    -- most once a minute so that using a key rarely writes.
    last_use   INTEGER
);
CREATE INDEX guild_keys_by_guild ON guild_keys (guild_id, id);
