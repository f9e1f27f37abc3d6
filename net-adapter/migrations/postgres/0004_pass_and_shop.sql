-- The battle pass and today's shop purchases (issue 19), stored with the
-- inventory in the same transactions, as MemoryStore keeps them (inside its
-- Inventory). Rows, not a serialized blob, for the reasons 0003 gives. u64s
-- are the same 64 bits in a signed BIGINT; u32s (day, counts) a BIGINT too.

-- pass_claimed: bit n - 1 set, level n's reward is claimed. shop_day: the
-- day (since the unix epoch, UTC) the purchases in shop_purchases are of.
-- Existing inventories have no pass experience, nothing claimed, day 0.
ALTER TABLE inventories
    ADD COLUMN pass_xp      BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN pass_claimed BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN shop_day     BIGINT NOT NULL DEFAULT 0;

-- Each mission's progress, by mission index: a row for every entry of
-- PassState::progress, zeros included (a load gives back the same Vec,
-- trailing zeros and all).
CREATE TABLE pass_progress (
    character_id BIGINT  NOT NULL REFERENCES inventories (character_id),
    mission      INTEGER NOT NULL,
    progress     BIGINT  NOT NULL,
    PRIMARY KEY (character_id, mission)
);

-- ShopDay::bought in its order (line): offer index and purchases. Keyed by
-- position, not offer: the store keeps what it is given, as MemoryStore does.
CREATE TABLE shop_purchases (
    character_id BIGINT  NOT NULL REFERENCES inventories (character_id),
    line         INTEGER NOT NULL,
    offer        INTEGER NOT NULL,
    count        BIGINT  NOT NULL,
    PRIMARY KEY (character_id, line)
);
