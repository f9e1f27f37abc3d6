-- Friendships, blocks and guilds (the social layer), as MemoryStore keeps
-- them. Every reference to a character is a foreign key with no cascade:
-- deleting a character deletes its rows here first, explicitly, in the same
-- transaction, and a row forgotten would fail the delete rather than dangle.

-- Each friendship once, the lower character id first.
CREATE TABLE friendships (
    low_id  INTEGER NOT NULL REFERENCES characters (id),
    high_id INTEGER NOT NULL REFERENCES characters (id),
    PRIMARY KEY (low_id, high_id)
);
CREATE INDEX friendships_by_high ON friendships (high_id, low_id);

-- by_id blocks whom_id.
CREATE TABLE blocks (
    by_id   INTEGER NOT NULL REFERENCES characters (id),
    whom_id INTEGER NOT NULL REFERENCES characters (id),
    PRIMARY KEY (by_id, whom_id)
);
CREATE INDEX blocks_by_whom ON blocks (whom_id);

-- AUTOINCREMENT: a disbanded guild's id is never handed out again, so a late
-- save for it can never land on a newer guild.
CREATE TABLE guilds (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL,
    -- guild_name_key(name): look-alike names share a key.
    name_key          TEXT    NOT NULL UNIQUE,
    version           INTEGER NOT NULL,
    created_by_intent INTEGER NOT NULL
);

-- Members in join order (seq), rank 'leader', 'officer' or 'member'.
CREATE TABLE guild_members (
    guild_id     INTEGER NOT NULL REFERENCES guilds (id),
    seq          INTEGER NOT NULL,
    character_id INTEGER NOT NULL REFERENCES characters (id),
    member_rank  TEXT    NOT NULL,
    PRIMARY KEY (guild_id, seq)
);
CREATE INDEX guild_members_by_character ON guild_members (character_id, guild_id);

-- The guild's last chat lines, oldest first (seq). The speaker is not a
-- foreign key: a line outlives its speaker, as in MemoryStore.
CREATE TABLE guild_lines (
    guild_id  INTEGER NOT NULL REFERENCES guilds (id),
    seq       INTEGER NOT NULL,
    channel   TEXT    NOT NULL,
    from_id   INTEGER NOT NULL,
    from_name TEXT    NOT NULL,
    line      TEXT    NOT NULL,
    PRIMARY KEY (guild_id, seq)
);
