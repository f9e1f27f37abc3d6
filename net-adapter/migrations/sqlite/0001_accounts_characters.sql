-- Accounts and characters (issue 16). Integers the core holds as u64 (ids,
-- versions, experience, intent ids) are stored as the same 64 bits in a
-- signed BIGINT; positions are the raw fixed-point i32 of game-core's Vec2.
-- AUTOINCREMENT: a deleted character's id is never handed out again, so a
-- late save for it can never land on a newer character.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    -- name_key(name) for a registered account, 'dev:' || name for a
    -- development account: one key space, as in MemoryStore.
    name_key      TEXT    NOT NULL UNIQUE,
    -- Argon2id PHC string; NULL for a development account.
    password_hash TEXT,
    created       TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE characters (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        INTEGER NOT NULL REFERENCES accounts (id),
    name              TEXT    NOT NULL,
    name_key          TEXT    NOT NULL UNIQUE,
    version           INTEGER NOT NULL,
    map               TEXT    NOT NULL,
    channel           INTEGER NOT NULL,
    pos_x             INTEGER NOT NULL,
    pos_y             INTEGER NOT NULL,
    level             INTEGER NOT NULL,
    experience        INTEGER NOT NULL,
    created_by_intent INTEGER NOT NULL
);

CREATE INDEX characters_by_account ON characters (account_id, id);
