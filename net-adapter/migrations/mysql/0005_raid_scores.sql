-- Raid leaderboards (the raids issue), for MariaDB and MySQL: per raid
-- kind, level group and board ('players' or 'groups'), each entrant's best
-- run only, as MemoryStore keeps them. A run is recorded by an insert if
-- absent, then an update only where the new run ranks better (sql/raids.rs),
-- so recording is a maximum and the same run again changes nothing.
--
-- The u64s this table orders by (damage, run_at, entrant) are stored with
-- their top bit flipped (v XOR 2^63, as a signed BIGINT), so that the
-- engine's signed order is their unsigned order; every other table stores
-- a u64 as its same 64 bits. u32s (time_ms, deaths) are BIGINTs. entrant is
-- a character id on the players' board (deleting the character deletes its
-- rows there), a hash of the group's character ids on the groups' board.
-- names: the player's name, or the members' names by character id, one per
-- line. raid is VARBINARY, compared byte for byte (MAX_RAID_NAME_BYTES).
CREATE TABLE raid_best (
    raid        VARBINARY(64) NOT NULL,
    level_group INT         NOT NULL,
    board       VARCHAR(8)  NOT NULL CHECK (board IN ('players', 'groups')),
    entrant     BIGINT      NOT NULL,
    cleared     INT         NOT NULL CHECK (cleared IN (0, 1)),
    time_ms     BIGINT      NOT NULL,
    deaths      BIGINT      NOT NULL,
    damage      BIGINT      NOT NULL,
    run_at      BIGINT      NOT NULL,
    names       TEXT        NOT NULL,
    PRIMARY KEY (raid, level_group, board, entrant),
    -- A board in rank order: its top N is the index's first N.
    KEY raid_best_rank
        (raid, level_group, board, cleared DESC, time_ms, deaths, damage DESC, run_at, entrant),
    -- A deleted character's entries.
    KEY raid_best_by_entrant (board, entrant)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
