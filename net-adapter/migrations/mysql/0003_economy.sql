-- Inventories and the ledger (the economy, issue 19), as MemoryStore keeps
-- them, for MariaDB and MySQL. A stack is a row, not a serialized blob: the
-- crash sweep and an operator read item ids, counts and gold with plain
-- SQL, and what is stored does not follow the serde shape of game-core's
-- types. u64s (ids, sequence numbers, gold, counts) are the same 64 bits in
-- a signed BIGINT.

-- One per character that has had a transaction; seq is the last one's.
CREATE TABLE inventories (
    character_id BIGINT NOT NULL PRIMARY KEY,
    seq          BIGINT NOT NULL,
    gold         BIGINT NOT NULL,
    slot_count   INT    NOT NULL,
    CONSTRAINT inventories_character FOREIGN KEY (character_id) REFERENCES characters (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Every stack: in bag slot `slot` (worn = 0) or worn in equip slot `slot`
-- (worn = 1, by EquipSlot::ALL order). The item id is (minted_by, tx, n).
-- The item index is not unique: a duplicated item must be findable, not a
-- failed commit.
CREATE TABLE inventory_stacks (
    character_id BIGINT NOT NULL,
    worn         INT    NOT NULL,
    slot         INT    NOT NULL,
    minted_by    BIGINT NOT NULL,
    tx           BIGINT NOT NULL,
    n            BIGINT NOT NULL,
    def          INT    NOT NULL,
    count        BIGINT NOT NULL,
    plus         INT    NOT NULL,
    PRIMARY KEY (character_id, worn, slot),
    KEY inventory_stacks_by_item (minted_by, tx, n),
    CONSTRAINT inventory_stacks_inventory FOREIGN KEY (character_id)
        REFERENCES inventories (character_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Every committed transaction, named by its first part's character and that
-- part's sequence number after. No foreign key: the ledger outlives a
-- deleted character (its deletion is the ledger's last entry for it).
CREATE TABLE economy_ledger (
    first_character BIGINT NOT NULL,
    seq             BIGINT NOT NULL,
    PRIMARY KEY (first_character, seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The receipt's lines in its order (line): kind 'minted' or 'burned' (def
-- set) or 'gold_in' or 'gold_out' (def NULL); way is the source or sink.
CREATE TABLE economy_ledger_lines (
    first_character BIGINT      NOT NULL,
    seq             BIGINT      NOT NULL,
    line            INT         NOT NULL,
    kind            VARCHAR(16) NOT NULL,
    def             INT         NULL,
    amount          BIGINT      NOT NULL,
    way             VARCHAR(16) NOT NULL,
    PRIMARY KEY (first_character, seq, line),
    CONSTRAINT economy_ledger_lines_entry FOREIGN KEY (first_character, seq)
        REFERENCES economy_ledger (first_character, seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
