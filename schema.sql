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

-- migration 3: guild settings, the logging module and the audit log.
CREATE TABLE guild_settings (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL UNIQUE REFERENCES guilds (id) ON DELETE CASCADE,
    language    TEXT    NOT NULL DEFAULT 'en',
    gmt         TEXT    NOT NULL DEFAULT 'UTC',
    unit_system TEXT    NOT NULL DEFAULT 'metric',
    -- Seconds after which messages are deleted; NULL when off.
    auto_delete INTEGER
);
CREATE TABLE logging_settings (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL UNIQUE REFERENCES guilds (id) ON DELETE CASCADE,
    -- Whether the module is on: the one fact behind both
    -- /modules/logging/status and module_logging in the general settings.
    enabled         INTEGER NOT NULL DEFAULT 0,
    -- NULL when unset.
    logs_channel_id INTEGER,
    -- JSON object of the log_* flags a guild has set; the others have the
    -- defaults the OpenAPI document gives them.
    flags           TEXT    NOT NULL DEFAULT '{}'
);
INSERT INTO guild_settings (guild_id) SELECT id FROM guilds;
INSERT INTO logging_settings (guild_id) SELECT id FROM guilds;
-- Every change made through /v1, written in the transaction of the change.
CREATE TABLE audit_entries (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    -- Unix milliseconds.
    created_at INTEGER NOT NULL,
    -- The Discord user who made the change; NULL when an API key did, and
    -- nothing records which key.
    actor_user INTEGER,
    action     TEXT    NOT NULL,
    -- JSON object: each changed field and its new value.
    changes    TEXT    NOT NULL
);
-- Pages of a guild's entries, newest first, are range scans of this index.
CREATE INDEX audit_entries_by_guild ON audit_entries (guild_id, id);

-- migration 4: facts about the database itself, such as which master key
-- its sealed copies of keys are under.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- migration 5: dashboard sessions. The cookie holds a random session id
-- (an akds_ key, impl/keys); only its SHA-256 is stored, so a stolen
-- database yields no live session. A login in progress needs no row: its
-- state and PKCE verifier live in a short-lived cookie.
CREATE TABLE sessions (
    id                    INTEGER PRIMARY KEY,
    id_hash               BLOB    NOT NULL UNIQUE,
    -- The Discord user who logged in.
    user_id               INTEGER NOT NULL,
    -- Discord's tokens, sealed with AES-256-GCM under the master key and
    -- bound to id_hash and their column, like keys.
    access_token_sealed   BLOB    NOT NULL,
    refresh_token_sealed  BLOB    NOT NULL,
    -- Unix milliseconds, as every time below.
    access_token_expiry   INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    -- Refreshed at most once a minute; the session ends idle_limit
    -- milliseconds after it (the limit it was created under).
    last_seen_at          INTEGER NOT NULL,
    idle_limit            INTEGER NOT NULL,
    -- The absolute end, however busy the session.
    expires_at            INTEGER NOT NULL
);

-- migration 6: nothing on SQLite. PostgreSQL's section 6 is its change
-- log, which tells the servers sharing a database what each changed; one
-- server holds a SQLite database (its file lock) and drops what it
-- changes itself. The section keeps the numbers of both logs the same.

-- migration 7: the logging module's messages to its logs channel, written
-- in the transaction of the change they report and deleted once Discord
-- has them, and the lease that makes one process their sender per guild.
CREATE TABLE log_messages (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    channel_id      INTEGER NOT NULL,
    -- The audit entry the message reports; NULL for an event a caller
    -- sent (POST /modules/logging/events/check).
    audit_entry_id  INTEGER,
    -- What the message says, rendered when it is sent, so that an erasure
    -- can still rewrite its actor: as audit_entries has them.
    actor_user      INTEGER,
    action          TEXT    NOT NULL,
    changes         TEXT    NOT NULL,
    -- Discord's nonce for the message (enforce_nonce): a retry after a
    -- crash is not posted twice within Discord's window.
    nonce           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- Unix milliseconds, as every time here.
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX log_messages_by_guild ON log_messages (guild_id, id);
CREATE TABLE log_senders (
    guild_id   INTEGER PRIMARY KEY REFERENCES guilds (id) ON DELETE CASCADE,
    -- The process sending the guild's messages until expires_at.
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
-- 1 when the entry's message to the logs channel was given up.
ALTER TABLE audit_entries ADD COLUMN undelivered INTEGER NOT NULL DEFAULT 0;

-- migration 8: the message a guild's sender is posting, so that an
-- erasure waits for it instead of racing it (EraseLoggingEntriesOf): the
-- id of log_messages in flight, 0 when none; it lapses with the lease
-- (expires_at), by when the sender has settled or abandoned the post.
ALTER TABLE log_senders ADD COLUMN sending INTEGER NOT NULL DEFAULT 0;
-- Until when (Unix milliseconds) an erasure waits for that post: no
-- sender claims another of the guild's messages before then, so that the
-- erasure is not kept waiting behind one post after another.
ALTER TABLE log_senders ADD COLUMN erasing INTEGER NOT NULL DEFAULT 0;
