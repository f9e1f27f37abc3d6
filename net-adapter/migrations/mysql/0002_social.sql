-- Friendships, blocks and guilds (the social layer), as MemoryStore keeps
-- them, for MariaDB and MySQL. Every reference to a character is a foreign
-- key with no cascade: deleting a character deletes its rows here first,
-- explicitly, in the same transaction, and a row forgotten would fail the
-- delete rather than dangle.

-- Each friendship once, the lower character id first.
CREATE TABLE friendships (
    low_id  BIGINT NOT NULL,
    high_id BIGINT NOT NULL,
    PRIMARY KEY (low_id, high_id),
    KEY friendships_by_high (high_id, low_id),
    CONSTRAINT friendships_low FOREIGN KEY (low_id) REFERENCES characters (id),
    CONSTRAINT friendships_high FOREIGN KEY (high_id) REFERENCES characters (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- by_id blocks whom_id.
CREATE TABLE blocks (
    by_id   BIGINT NOT NULL,
    whom_id BIGINT NOT NULL,
    PRIMARY KEY (by_id, whom_id),
    KEY blocks_by_whom (whom_id),
    CONSTRAINT blocks_by FOREIGN KEY (by_id) REFERENCES characters (id),
    CONSTRAINT blocks_whom FOREIGN KEY (whom_id) REFERENCES characters (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE guilds (
    id                BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name              TEXT   NOT NULL,
    -- guild_name_key(name): look-alike names share a key.
    name_key          VARBINARY(1024) NOT NULL,
    version           BIGINT NOT NULL,
    created_by_intent BIGINT NOT NULL,
    UNIQUE KEY guilds_name_key (name_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Members in join order (seq), rank 'leader', 'officer' or 'member'.
CREATE TABLE guild_members (
    guild_id     BIGINT      NOT NULL,
    seq          INT         NOT NULL,
    character_id BIGINT      NOT NULL,
    member_rank  VARCHAR(16) NOT NULL,
    PRIMARY KEY (guild_id, seq),
    KEY guild_members_by_character (character_id, guild_id),
    CONSTRAINT guild_members_guild FOREIGN KEY (guild_id) REFERENCES guilds (id),
    CONSTRAINT guild_members_character FOREIGN KEY (character_id) REFERENCES characters (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The guild's last chat lines, oldest first (seq). The speaker is not a
-- foreign key: a line outlives its speaker, as in MemoryStore.
CREATE TABLE guild_lines (
    guild_id  BIGINT      NOT NULL,
    seq       INT         NOT NULL,
    channel   VARCHAR(16) NOT NULL,
    from_id   BIGINT      NOT NULL,
    from_name TEXT        NOT NULL,
    line      TEXT        NOT NULL,
    PRIMARY KEY (guild_id, seq),
    CONSTRAINT guild_lines_guild FOREIGN KEY (guild_id) REFERENCES guilds (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
