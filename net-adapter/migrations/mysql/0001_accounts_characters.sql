-- Accounts and characters (issue 16), for MariaDB and MySQL. Integers the
-- core holds as u64 (ids, versions, experience, intent ids) are stored as the
-- same 64 bits in a signed BIGINT; positions are the raw fixed-point i32 of
-- game-core's Vec2. Keys are VARBINARY: compared byte for byte, with no
-- case folding and no trailing-space padding (name_key is already lowercased);
-- text is utf8mb4 with a binary collation, stored verbatim.
CREATE TABLE accounts (
    id            BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name          TEXT   NOT NULL,
    -- name_key(name) for a registered account, 'dev:' + name for a
    -- development account: one key space, as in MemoryStore.
    name_key      VARBINARY(1024) NOT NULL,
    -- Argon2id PHC string; NULL for a development account.
    password_hash TEXT   NULL,
    created       DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE KEY accounts_name_key (name_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE characters (
    id                BIGINT  NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_id        BIGINT  NOT NULL,
    name              TEXT    NOT NULL,
    name_key          VARBINARY(1024) NOT NULL,
    version           BIGINT  NOT NULL,
    map               TEXT    NOT NULL,
    channel           INT     NOT NULL,
    pos_x             INT     NOT NULL,
    pos_y             INT     NOT NULL,
    level             INT     NOT NULL,
    experience        BIGINT  NOT NULL,
    created_by_intent BIGINT  NOT NULL,
    UNIQUE KEY characters_name_key (name_key),
    KEY characters_by_account (account_id, id),
    CONSTRAINT characters_account FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
