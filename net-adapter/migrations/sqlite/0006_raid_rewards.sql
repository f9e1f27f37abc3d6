-- Owed raid rewards (the raids issue): what a won run owes each member,
-- keyed by (character, run), as MemoryStore keeps them. Recording a run
-- inserts a row only where its key is absent, so a retry, late or
-- repeated, keeps what is there (owed, or given). The economy transaction
-- that gives a reward checks given = 0 and sets it to 1 in the same SQL
-- transaction as its inventory writes and ledger row (sql/rewards.rs), so
-- each is given once. Deleting the character deletes its rows, given or
-- not.
--
-- run_id is the run's u64 id with its top bit flipped (v XOR 2^63, as a
-- signed BIGINT, as raid_best stores the u64s it orders by), so that the
-- engine's order is the ids' order and a load answers the oldest runs
-- first; character_id and gold are the same 64 bits. item is the reward's
-- item def and count how many of it; a reward of gold only has item NULL
-- and count 0 (a NULL item, not a sentinel def: def 0 is a def).
CREATE TABLE raid_rewards (
    character_id INTEGER NOT NULL REFERENCES characters (id),
    run_id       INTEGER NOT NULL,
    gold         INTEGER NOT NULL,
    item         INTEGER,
    count        INTEGER NOT NULL,
    given        INTEGER NOT NULL CHECK (given IN (0, 1)),
    PRIMARY KEY (character_id, run_id),
    CHECK (item IS NOT NULL OR count = 0)
);
-- A character's rewards not given, oldest run first, without reading past
-- the given ones, which stay as long as the character.
CREATE INDEX raid_rewards_owed ON raid_rewards (character_id, given, run_id);
