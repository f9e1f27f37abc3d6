-- Inventories and the ledger (the economy, issue 19), as MemoryStore keeps
-- them. A stack is a row, not a serialized blob: the crash sweep and an
-- operator read item ids, counts and gold with plain SQL, and what is
-- stored does not follow the serde shape of game-core's types. u64s (ids,
-- sequence numbers, gold, counts) are the same 64 bits in a signed BIGINT.

-- One per character that has had a transaction; seq is the last one's.
CREATE TABLE inventories (
    character_id INTEGER NOT NULL PRIMARY KEY REFERENCES characters (id),
    seq          INTEGER NOT NULL,
    gold         INTEGER NOT NULL,
    slot_count   INTEGER NOT NULL
);

-- Every stack: in bag slot `slot` (worn = 0) or worn in equip slot `slot`
-- (worn = 1, by EquipSlot::ALL order). The item id is (minted_by, tx, n).
CREATE TABLE inventory_stacks (
    character_id INTEGER NOT NULL REFERENCES inventories (character_id),
    worn         INTEGER NOT NULL,
    slot         INTEGER NOT NULL,
    minted_by    INTEGER NOT NULL,
    tx           INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    def          INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    plus         INTEGER NOT NULL,
    PRIMARY KEY (character_id, worn, slot)
);
-- Not unique: a duplicated item must be findable, not a failed commit.
CREATE INDEX inventory_stacks_by_item ON inventory_stacks (minted_by, tx, n);

-- Every committed transaction, named by its first part's character and that
-- part's sequence number after. No foreign key: the ledger outlives a
-- deleted character (its deletion is the ledger's last entry for it).
CREATE TABLE economy_ledger (
    first_character INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (first_character, seq)
);

-- The receipt's lines in its order (line): kind 'minted' or 'burned' (def
-- set) or 'gold_in' or 'gold_out' (def NULL); way is the source or sink.
CREATE TABLE economy_ledger_lines (
    first_character INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    line            INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    def             INTEGER,
    amount          INTEGER NOT NULL,
    way             TEXT    NOT NULL,
    PRIMARY KEY (first_character, seq, line),
    FOREIGN KEY (first_character, seq) REFERENCES economy_ledger (first_character, seq)
);
