//! The economy's model driven directly: transactions of any ops on a few
//! small inventories (one part, or several for a trade; the same character
//! twice; sequence numbers right, replayed or skipping), with counts and
//! amounts small or at the edge of their type, and characters deleted (their
//! belongings go to the ledger). After every step the books are checked.

use super::script::{Script, ScriptWriter};
use game_core::content::{Content, EquipSlot, ItemDef, ItemDefId, MAX_MISSIONS};
use game_core::economy::{
    apply, EconomyError, Inventory, ItemId, Op, Part, Receipt, Sink, Source, Tx,
};
use game_core::ids::CharacterId;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// Characters a script juggles.
pub const PEOPLE: u8 = 3;
/// Slots of each inventory: few, so they fill.
pub const SLOTS: u16 = 8;

/// One op of a part, as six bytes: `[code] [a] [b] [n: u16] [flags]`. `code`
/// % [`OpBytes::CODES`] picks the [`Op`]; `a` and `b` are slots (modulo
/// `SLOTS + 2`, so some are out of range; `u16::MAX` when `flags & 2`), an
/// item kind (`a`, one past the last is unknown), a level or an offer;
/// counts are `n % 128`, or `u32::MAX - n` when `flags & 1`; gold and
/// experience `n`, or `u64::MAX - n` when `flags & 1`; `flags >> 2` picks
/// the source or sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct OpBytes {
    pub code: u8,
    pub a: u8,
    pub b: u8,
    pub n: u16,
    pub flags: u8,
}

impl OpBytes {
    pub const CODES: u8 = 16;

    fn read(s: &mut Script<'_>) -> OpBytes {
        OpBytes {
            code: s.u8(),
            a: s.u8(),
            b: s.u8(),
            n: s.u16(),
            flags: s.u8(),
        }
    }

    fn write(&self, w: &mut ScriptWriter) {
        w.u8(self.code)
            .u8(self.a)
            .u8(self.b)
            .u16(self.n)
            .u8(self.flags);
    }

    fn slot(&self, x: u8) -> u16 {
        if self.flags & 2 != 0 {
            u16::MAX - u16::from(x)
        } else {
            u16::from(x) % (SLOTS + 2)
        }
    }

    fn count(&self) -> u32 {
        if self.flags & 1 != 0 {
            u32::MAX - u32::from(self.n)
        } else {
            u32::from(self.n) % 128
        }
    }

    fn gold(&self) -> u64 {
        if self.flags & 1 != 0 {
            u64::MAX - u64::from(self.n)
        } else {
            u64::from(self.n)
        }
    }

    fn source(&self) -> Source {
        Source::ALL[(self.flags >> 2) as usize % Source::ALL.len()]
    }

    fn sink(&self) -> Sink {
        Sink::ALL[(self.flags >> 2) as usize % Sink::ALL.len()]
    }

    /// The op these bytes say, for `kinds` item kinds.
    pub fn op(&self, kinds: usize) -> Op {
        let (a, b) = (self.a, self.b);
        match self.code % Self::CODES {
            0 => Op::Mint {
                def: ItemDefId(u16::from(a) % (kinds as u16 + 1)),
                count: self.count(),
                plus: b % 17,
                source: self.source(),
            },
            1 => Op::Burn {
                slot: self.slot(a),
                count: self.count(),
                sink: self.sink(),
            },
            2 => Op::GoldIn {
                amount: self.gold(),
                source: self.source(),
            },
            3 => Op::GoldOut {
                amount: self.gold(),
                sink: self.sink(),
            },
            4 => Op::Move {
                from: self.slot(a),
                to: self.slot(b),
            },
            5 => Op::Split {
                from: self.slot(a),
                to: self.slot(b),
                count: self.count(),
            },
            6 => Op::Equip { from: self.slot(a) },
            7 => Op::Unequip {
                slot: EquipSlot::ALL[b as usize % EquipSlot::ALL.len()],
                to: self.slot(a),
            },
            8 => Op::Sort,
            9 => Op::SetPlus {
                slot: self.slot(a),
                plus: b % 17,
            },
            10 => Op::Give {
                slot: self.slot(a),
                count: self.count(),
            },
            11 => Op::Pay {
                amount: self.gold(),
            },
            12 => Op::TakeAll,
            13 => Op::Purchase {
                offer: u16::from(a),
                day: u32::from(b),
                limit: u32::from(self.n % 4),
            },
            14 => Op::Mission {
                mission: u16::from(a) % (MAX_MISSIONS as u16 + 2),
                add: self.count(),
                goal: u32::from(b),
                xp: self.gold(),
            },
            _ => Op::Claim {
                level: a,
                xp: self.gold(),
            },
        }
    }
}

/// One part: `[who] [seq] [ops: u8] ops`. `who` % [`PEOPLE`]; `seq` % 8 is
/// 0 to 4 for the right number, 5 a replay (the last applied), 6 a gap, 7
/// zero; at most 4 ops.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PartBytes {
    pub who: u8,
    pub seq: u8,
    pub ops: Vec<OpBytes>,
}

/// What an economy script does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EconomyOp {
    /// `[parts: u8] parts`: a transaction of 1 to 3 parts.
    Tx { parts: Vec<PartBytes> },
    /// `[who]`: the character is deleted: its belongings go to the ledger
    /// (as the store does) and a new character takes its place.
    Delete { who: u8 },
}

impl EconomyOp {
    pub const COUNT: u8 = 2;

    pub fn read(s: &mut Script<'_>) -> EconomyOp {
        match s.u8() % Self::COUNT {
            0 => {
                let n = s.u8() % 3 + 1;
                let parts = (0..n)
                    .map(|_| {
                        let (who, seq, k) = (s.u8(), s.u8(), s.u8() % 4 + 1);
                        let ops = (0..k).map(|_| OpBytes::read(s)).collect();
                        PartBytes { who, seq, ops }
                    })
                    .collect();
                EconomyOp::Tx { parts }
            }
            _ => EconomyOp::Delete { who: s.u8() },
        }
    }

    pub fn write(&self, w: &mut ScriptWriter) {
        match self {
            EconomyOp::Tx { parts } => {
                assert!((1..=3).contains(&parts.len()));
                w.u8(0).u8(parts.len() as u8 - 1);
                for p in parts {
                    assert!((1..=4).contains(&p.ops.len()));
                    w.u8(p.who).u8(p.seq).u8(p.ops.len() as u8 - 1);
                    for op in &p.ops {
                        op.write(w);
                    }
                }
            }
            EconomyOp::Delete { who } => {
                w.u8(1).u8(*who);
            }
        }
    }
}

fn defs() -> &'static [ItemDef] {
    static DEFS: LazyLock<Vec<ItemDef>> = LazyLock::new(|| Content::sample().items.clone());
    &DEFS
}

/// The books: every character's inventory, and what the applied receipts
/// (and deletions) say was created and destroyed.
#[derive(Debug)]
struct Books {
    /// By `who`: its character (a new one after a deletion) and inventory.
    people: Vec<(CharacterId, Inventory)>,
    next_character: u64,
    minted: BTreeMap<ItemDefId, u128>,
    burned: BTreeMap<ItemDefId, u128>,
    gold_in: u128,
    gold_out: u128,
    /// Every (character, sequence number) a transaction was applied under:
    /// the only names item ids may be minted from.
    applied: BTreeSet<(CharacterId, u64)>,
    /// What the script reached: transactions refused, by reason.
    refused: BTreeMap<EconomyError, u64>,
}

impl Books {
    fn new() -> Books {
        Books {
            people: (0..PEOPLE as u64)
                .map(|i| (CharacterId(i + 1), Inventory::new(SLOTS as usize)))
                .collect(),
            next_character: PEOPLE as u64 + 1,
            minted: BTreeMap::new(),
            burned: BTreeMap::new(),
            gold_in: 0,
            gold_out: 0,
            applied: BTreeSet::new(),
            refused: BTreeMap::new(),
        }
    }

    fn book(&mut self, r: &Receipt) {
        for &(def, n, _) in &r.minted {
            *self.minted.entry(def).or_default() += u128::from(n);
        }
        for &(def, n, _) in &r.burned {
            *self.burned.entry(def).or_default() += u128::from(n);
        }
        self.gold_in += r.gold_in.iter().map(|&(n, _)| u128::from(n)).sum::<u128>();
        self.gold_out += r.gold_out.iter().map(|&(n, _)| u128::from(n)).sum::<u128>();
    }

    fn step(&mut self, op: &EconomyOp) {
        match op {
            EconomyOp::Delete { who } => {
                let who = (*who % PEOPLE) as usize;
                let c = CharacterId(self.next_character);
                self.next_character += 1;
                let (_, old) =
                    std::mem::replace(&mut self.people[who], (c, Inventory::new(SLOTS as usize)));
                self.book(&Receipt::deleted(&old));
            }
            EconomyOp::Tx { parts } => self.transaction(parts),
        }
    }

    fn transaction(&mut self, parts: &[PartBytes]) {
        let defs = defs();
        let whos: Vec<usize> = parts.iter().map(|p| (p.who % PEOPLE) as usize).collect();
        let tx = Tx {
            parts: parts
                .iter()
                .zip(&whos)
                .map(|(p, &who)| {
                    let (character, inv) = &self.people[who];
                    let seq = match p.seq % 8 {
                        0..=4 => inv.seq + 1,
                        5 => inv.seq,
                        6 => inv.seq + 2,
                        _ => 0,
                    };
                    let ops = p.ops.iter().map(|o| o.op(defs.len())).collect();
                    Part {
                        character: *character,
                        seq,
                        ops,
                    }
                })
                .collect(),
        };
        let before: Vec<Inventory> = whos.iter().map(|&i| self.people[i].1.clone()).collect();
        let mut work = before.clone();
        match apply(&tx, &mut work, defs) {
            Err(e) => {
                assert_eq!(work, before, "refused ({e:?}) but changed: {tx:?}");
                *self.refused.entry(e).or_default() += 1;
            }
            Ok(receipt) => {
                let mut names = BTreeSet::new();
                for (k, p) in tx.parts.iter().enumerate() {
                    assert!(names.insert(p.character), "a character twice: {tx:?}");
                    assert_eq!(work[k].seq, before[k].seq + 1, "{tx:?}");
                    assert_eq!(work[k].seq, p.seq);
                    self.applied.insert((p.character, p.seq));
                }
                // This transaction's own books: what its inventories gained
                // of each kind is what it minted less what it burned.
                let mut change = by_kind(&work);
                for (def, n) in by_kind(&before) {
                    *change.entry(def).or_default() -= n;
                }
                for &(def, n, _) in &receipt.minted {
                    *change.entry(def).or_default() -= i128::from(n);
                }
                for &(def, n, _) in &receipt.burned {
                    *change.entry(def).or_default() += i128::from(n);
                }
                assert!(change.values().all(|&n| n == 0), "{change:?}: {tx:?}");
                let gold =
                    |invs: &[Inventory]| -> i128 { invs.iter().map(|i| i128::from(i.gold)).sum() };
                let paid: i128 = receipt
                    .gold_in
                    .iter()
                    .map(|g| i128::from(g.0))
                    .sum::<i128>()
                    - receipt
                        .gold_out
                        .iter()
                        .map(|g| i128::from(g.0))
                        .sum::<i128>();
                assert_eq!(gold(&work) - gold(&before), paid, "{tx:?}");
                for (k, &i) in whos.iter().enumerate() {
                    self.people[i].1 = work[k].clone();
                }
                self.book(&receipt);
            }
        }
    }

    /// Conservation by kind and for gold; ids unique and minted under an
    /// applied name; every stack within its kind's rules.
    fn check(&self) {
        let defs = defs();
        let invs: Vec<&Inventory> = self.people.iter().map(|(_, i)| i).collect();
        let mut held = by_kind(self.people.iter().map(|(_, i)| i));
        for (def, &n) in &self.burned {
            *held.entry(*def).or_default() += n as i128;
        }
        held.retain(|_, n| *n != 0);
        let minted: BTreeMap<ItemDefId, i128> = (self.minted.iter())
            .filter(|(_, &n)| n != 0)
            .map(|(&d, &n)| (d, n as i128))
            .collect();
        assert_eq!(held, minted, "held + burned is not minted, by kind");
        let gold: u128 = invs.iter().map(|i| u128::from(i.gold)).sum();
        assert_eq!(gold + self.gold_out, self.gold_in, "gold: held, out, in");
        let mut ids: BTreeSet<ItemId> = BTreeSet::new();
        for inv in &invs {
            assert_eq!(inv.slots.len(), SLOTS as usize);
            for s in inv.stacks() {
                assert!(ids.insert(s.id), "{:?} exists twice", s.id);
                assert!(
                    self.applied.contains(&(s.id.minted_by, s.id.tx)),
                    "{:?} minted under no applied transaction",
                    s.id
                );
                let d = &defs[s.def.0 as usize];
                assert!(s.count >= 1 && s.count <= d.max_stack, "{s:?}");
                assert!(s.plus <= d.max_plus, "{s:?} past its kind's level");
                assert!(s.plus == 0 || !d.stacks(), "a stackable enhanced: {s:?}");
            }
            for (at, worn) in EquipSlot::ALL.iter().zip(&inv.equipped) {
                if let Some(s) = worn {
                    assert_eq!(
                        defs[s.def.0 as usize].slot,
                        Some(*at),
                        "{s:?} worn at {at:?}"
                    );
                }
            }
        }
    }
}

/// Items of each kind in `invs`.
fn by_kind<'a>(invs: impl IntoIterator<Item = &'a Inventory>) -> BTreeMap<ItemDefId, i128> {
    let mut n = BTreeMap::new();
    for s in invs.into_iter().flat_map(|i| i.stacks()) {
        *n.entry(s.def).or_default() += i128::from(s.count);
    }
    n
}

/// Runs an economy script (see [`EconomyOp`]) and checks after every step:
/// a refused transaction leaves every inventory as it was; an applied one
/// moves each part's sequence number on by one, and changes its inventories
/// by exactly its receipt (items of each kind, gold); across everyone, what
/// is held plus what was burned equals what was minted, by kind, and gold
/// held plus gold out equals gold in (deleted characters' belongings
/// included); no item id exists twice, and each was minted under a
/// transaction that applied; every stack holds 1 to its kind's
/// `max_stack`, enhanced no further than its kind allows (stackables not at
/// all), and every worn item is worn where its kind goes.
pub fn economy(data: &[u8]) {
    run(data);
}

/// What an economy script reached: transactions applied, and those refused
/// by reason.
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))] // read by the seeds' tests only
pub(crate) struct Reached {
    pub applied: usize,
    pub refused: BTreeMap<EconomyError, u64>,
}

/// [`economy`], returning what it reached.
pub(crate) fn run(data: &[u8]) -> Reached {
    let mut script = Script::new(data);
    let mut books = Books::new();
    books.check();
    while !script.done() {
        books.step(&EconomyOp::read(&mut script));
        books.check();
    }
    Reached {
        applied: books.applied.len(),
        refused: books.refused,
    }
}
