-- Raid leaderboards (the raids issue): per raid kind, level group and board
-- ('players' or 'groups'), each entrant's best run only, as MemoryStore
-- keeps them. A run is recorded by an insert if absent, then an update only
-- where the new run ranks better (sql/raids.rs), so recording is a maximum
-- and the same run again changes nothing.
--
-- The u64s this table orders by (damage, run_at, entrant) are stored with
-- their top bit flipped (v XOR 2^63, as a signed BIGINT), so that the
-- engine's signed order is their unsigned order; every other table stores
-- a u64 as its same 64 bits. u32s (time_ms, deaths) are BIGINTs. entrant is
-- a character id on the players' board (deleting the character deletes its
-- rows there), a hash of the group's character ids on the groups' board.
-- names: the player's name, or the members' names by character id, one per
-- line.
CREATE TABLE raid_best (
    raid        TEXT COLLATE "C" NOT NULL,
    level_group INTEGER NOT NULL,
    board       TEXT    NOT NULL CHECK (board IN ('players', 'groups')),
    entrant     BIGINT  NOT NULL,
    cleared     INTEGER NOT NULL CHECK (cleared IN (0, 1)),
    time_ms     BIGINT  NOT NULL,
    deaths      BIGINT  NOT NULL,
    damage      BIGINT  NOT NULL,
    run_at      BIGINT  NOT NULL,
    names       TEXT    NOT NULL,
    PRIMARY KEY (raid, level_group, board, entrant)
);
-- A board in rank order: its top N is the index's first N.
CREATE INDEX raid_best_rank ON raid_best
    (raid, level_group, board, cleared DESC, time_ms, deaths, damage DESC, run_at, entrant);
-- A deleted character's entries.
CREATE INDEX raid_best_by_entrant ON raid_best (board, entrant);
