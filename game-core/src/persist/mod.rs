//! The contract every store keeps: persistence is an output of the core.
//!
//! The core asks with an [`Intent`] (a change with a unique [`IntentId`]); the
//! driver executes it against a store (the adapter's SQL stores, the
//! simulator's faulty memory store) and feeds the [`Outcome`] back as an input.
//! Rules every store and every caller keep:
//!
//! 1. An intent is idempotent by its id: applied twice, it has the effect of
//!    once, and answers the same. A retry after a crash or a timeout cannot
//!    apply a change twice, nor roll a newer one back.
//! 2. The core treats a change as done only when its outcome arrives; until
//!    then it is pending, in a bounded table, and nothing is shown to a player.
//! 3. Many intents may share one commit; none is acknowledged before it.
//!
//! How each change keeps rule 1 without a table of every id ever applied:
//! reads ([`Change::OpenAccount`], [`Change::LoadCharacter`]) change nothing
//! (opening a development account creates it once, keyed by its name); a
//! save carries the character's version, and a store keeps only a save newer
//! than the one it holds; a created character remembers the intent that made
//! it, so the same creation again answers with the same list; deleting what
//! is gone succeeds. Social changes: friendships and blocks are set to a
//! state (setting what is already so changes nothing); a founded guild
//! remembers its intent as a created character does; a guild's save carries
//! its version as a character's does. Deleting a character removes it from
//! every friend list, block list and guild. An economy transaction carries
//! each inventory's sequence number before and after: applied again, every
//! part already holds its `after` or has moved on past it (a store checks,
//! not only that the name and receipt are known), and the answer is the
//! same. A raid run ([`Change::RecordRaid`]) keeps only each entrant's best
//! on each board: a run that does not beat the stored best (the same run
//! again included) changes nothing, so recording is a maximum: a retry,
//! late or repeated, cannot lower an entry nor count twice. The rewards a
//! run owes are keyed by (character, run id) and inserted only where no
//! such key is: owed or already given, a retry leaves it as it is. The
//! transaction that gives one marks it given (`CommitTx::grants`) or
//! conflicts, so each is given once, whatever crashes.
//!
//! Deleting a character removes its players' board entries and its owed
//! rewards (a retried run's record skips characters that are gone, so
//! none comes back); the
//! groups it ran with keep theirs, with the names as they were.
//!
//! This module owns the types and [`MemoryStore`], the reference store every
//! other store is tested against. It may not touch sessions, zones or the node.

mod memory;

pub use memory::{AccountRecord, MemoryStore, RegisterError};

use crate::content::ItemDefId;
use crate::economy::{Inventory, Receipt};
use crate::ids::{AccountId, CharacterId, GuildId, IntentId};
use crate::math::Vec2;
use crate::protocol::{CharacterSummary, ChatLine, Contact, GuildRank};
pub use crate::raid::Board;
use crate::raid::RaidScore;

/// One change for the store to apply, named by its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    pub id: IntentId,
    pub change: Change,
}

/// What the core can ask a store to do. Each answers with the [`Reply`] named
/// in its documentation, or a [`StoreError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A session logs in: the account and its characters, for the character
    /// screen. Answered with [`Reply::Account`]. A development account is
    /// created on first use.
    OpenAccount { account: AccountRef },
    /// A new character at `state`, named `name` (unique across the server, by
    /// [`crate::auth::name_key`]), unless the account already has
    /// `max_characters`. Answered with [`Reply::Characters`].
    CreateCharacter {
        account: AccountId,
        name: String,
        state: CharacterState,
        max_characters: u8,
    },
    /// The account's character is deleted. Answered with [`Reply::Characters`].
    DeleteCharacter {
        account: AccountId,
        character: CharacterId,
    },
    /// The account's character, to play it. Answered with [`Reply::Character`].
    LoadCharacter {
        account: AccountId,
        character: CharacterId,
    },
    /// The character's state at `version`, kept only if newer than the stored
    /// version (a late retry never rolls a newer save back). Answered with
    /// [`Reply::Done`], also when the save was older and so not kept.
    SaveCharacter {
        character: CharacterId,
        version: u64,
        state: CharacterState,
    },
    /// The character's friends, blocks and guild, as it enters the world.
    /// Answered with [`Reply::Social`].
    LoadSocial { character: CharacterId },
    /// `a` and `b` are friends (or no longer are). Setting what is already
    /// so changes nothing. Answered with [`Reply::Done`].
    SetFriends {
        a: CharacterId,
        b: CharacterId,
        friends: bool,
    },
    /// `by` blocks `whom` (or no longer does). Answered with [`Reply::Done`].
    SetBlocked {
        by: CharacterId,
        whom: CharacterId,
        blocked: bool,
    },
    /// A new guild named `name` (unique by [`crate::social::guild_name_key`])
    /// with `founder` as its leader, at version 0. The same creation again
    /// answers the same. Answered with [`Reply::Guild`], or `NameTaken`.
    CreateGuild { name: String, founder: CharacterId },
    /// The character's inventory, to play it, and the raid rewards it is
    /// owed (at most [`MAX_OWED_LOADED`], the oldest runs first). Answered
    /// with [`Reply::Inventory`] (`inv: None` for one never stored).
    LoadInventory { character: CharacterId },
    /// An economy transaction, decided by the core: every part's inventory
    /// becomes its `after` state, and the receipt joins the ledger, all at
    /// once, if every stored sequence number is still its `before`. A
    /// transaction is named by its first part's character and `after.seq`:
    /// with that name and the same receipt already in the ledger, and every
    /// part's stored inventory still equal to its `after` or moved on past
    /// it (a late copy), it was applied before, and the answer is the same
    /// `Done`. Anything else is [`StoreError::Conflict`], and nothing
    /// changes: another transaction decided under a used name (a restarted
    /// node that loaded an inventory before its dead predecessor's commit
    /// landed, and holds it busy until answered, so it finds that commit's
    /// state still there) is not taken for the one applied, even with an
    /// equal receipt, as a sort is not a move or a trade (the crash sweep
    /// found it). Deleting a character
    /// puts what its inventory held in the ledger as `Sink::Deleted`.
    ///
    /// `grants` names raid runs whose owed reward (recorded by
    /// [`Change::RecordRaid`]) the first part's character is given by this
    /// transaction: each must be owed and not yet given, or the answer is
    /// `Conflict` and nothing changes; they are marked given with it, so a
    /// reward is given by one transaction only (checked after "applied
    /// before", so a retry of the one that gave it answers `Done`).
    CommitTx {
        parts: Vec<InventoryPart>,
        /// Boxed: a change waits in queues, and most are small.
        receipt: Box<Receipt>,
        grants: Vec<u64>,
    },
    /// The guild's members and last lines at `version`, kept only if newer
    /// than the stored version. No members left: the guild is disbanded and
    /// its name is free again. Members that no longer exist are dropped.
    /// Answered with [`Reply::Done`], also when older or disbanded before.
    SaveGuild {
        guild: GuildId,
        version: u64,
        state: GuildState,
    },
    /// A finished raid run's scores: each player's, and the group's. A store
    /// keeps, per raid kind, level group and board, only each entrant's best
    /// run ([`RaidScore::beats`]), so recording a run again changes nothing
    /// (rule 1 without a table of runs). A player whose character no longer
    /// exists is skipped; a run with no players records nothing. Each
    /// character in [`RaidRun::owed`] is owed [`RaidRun::reward`] under the
    /// run's id, once: recording it again keeps what is there (owed, or
    /// given), so a late retry never owes a given reward again. Scores and
    /// owed rewards are stored at once. Answered with [`Reply::Done`].
    RecordRaid { run: Box<RaidRun> },
    /// A leaderboard: its best `top` entries (at most
    /// [`MAX_LEADERBOARD_TOP`]: a store answers no more), and `character`'s
    /// own entry on it (the players' board only). Answered with
    /// [`Reply::Leaderboard`].
    LoadLeaderboard {
        raid: String,
        level_group: u8,
        board: Board,
        top: u16,
        character: Option<CharacterId>,
    },
}

/// The most entries a leaderboard load answers with.
pub const MAX_LEADERBOARD_TOP: u16 = 100;

/// The longest raid kind name (in bytes) a store keeps scores under.
/// Content names are shorter (32 bytes at most).
pub const MAX_RAID_NAME_BYTES: usize = 64;

/// The most owed raid rewards one inventory load answers with.
pub const MAX_OWED_LOADED: usize = 8;

/// What a won raid gives each winner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaidReward {
    pub gold: u64,
    /// An item and how many.
    pub item: Option<(ItemDefId, u32)>,
}

/// A raid reward a character is owed: recorded with its run, given by the
/// economy transaction that names its run in `grants`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwedReward {
    /// The run's id ([`RaidRun::id`]).
    pub run: u64,
    pub reward: RaidReward,
}

/// One finished raid run, as recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaidRun {
    /// Unique among the runs a store ever records: the node makes it from
    /// the wall clock and a counter, so a restarted node never reuses one.
    pub id: u64,
    /// The raid kind's name (`raids.toml`).
    pub raid: String,
    /// The index of its level group in the raid kind's `level_groups`.
    pub level_group: u8,
    /// How the group did: its time, everyone's deaths and damage.
    pub group: RaidScore,
    /// How each member did, with its name as shown on the board. At most
    /// a raid's group size (`content::MAX_RAID_GROUP`); a SQL store refuses
    /// more as it refuses a string it cannot hold.
    pub players: Vec<(CharacterId, String, RaidScore)>,
    /// The members a victory owes [`RaidRun::reward`] (none after a
    /// failure). At most a raid's group size.
    pub owed: Vec<CharacterId>,
    pub reward: RaidReward,
}

impl RaidRun {
    /// The group's entrant on [`Board::Groups`].
    pub fn group_entrant(&self) -> u64 {
        group_entrant(self.players.iter().map(|p| p.0))
    }

    /// The group's members' names, in the board's order (by character id),
    /// each character once, as [`group_entrant`] counts it.
    pub fn group_names(&self) -> Vec<String> {
        let mut members: Vec<_> = self.players.iter().map(|p| (p.0, &p.1)).collect();
        members.sort();
        members.dedup_by_key(|m| m.0);
        members.into_iter().map(|(_, n)| n.clone()).collect()
    }
}

/// A group's entrant: its characters' ids, sorted and hashed (FNV-1a, 64
/// bits), so the same set of players is one entrant however it queued. Two
/// sets sharing a hash would share an entry; ids are the server's own, not
/// chosen by players, so that takes about 2^32 groups on one board.
pub fn group_entrant(members: impl IntoIterator<Item = CharacterId>) -> u64 {
    let mut ids: Vec<u64> = members.into_iter().map(|c| c.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for id in ids {
        for b in id.to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// One entry of a leaderboard as loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardEntry {
    /// 1 for the best.
    pub rank: u32,
    /// The character's id ([`Board::Players`]) or [`group_entrant`].
    pub entrant: u64,
    /// The player's name, or the group's members' names by character id,
    /// as they were when the run was recorded.
    pub names: Vec<String>,
    /// The entrant's best run.
    pub score: RaidScore,
}

/// One inventory's part of a committed economy transaction: the state it
/// had (its sequence number) and the state it has after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryPart {
    pub character: CharacterId,
    /// The stored inventory's sequence number the transaction was decided
    /// on (0 for one never stored).
    pub before: u64,
    /// Its state after; `after.seq` is the transaction's number for it.
    pub after: Inventory,
}

/// Whether a commit's parts can be a transaction at all: each names another
/// character, and moves its inventory one step on (`after.seq` is `before`
/// plus one). A store answers any other `Conflict`.
pub fn well_formed(parts: &[InventoryPart]) -> bool {
    parts.iter().enumerate().all(|(i, p)| {
        p.after.seq == p.before.wrapping_add(1)
            && !parts[..i].iter().any(|q| q.character == p.character)
    })
}

/// What a store keeps of a guild beyond its name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuildState {
    /// Members and their ranks, in the order they joined.
    pub members: Vec<(CharacterId, GuildRank)>,
    /// The last chat lines, oldest first.
    pub history: Vec<ChatLine>,
}

/// A guild as loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuildRecord {
    pub id: GuildId,
    pub name: String,
    pub version: u64,
    /// Members with their names and ranks, in the order they joined.
    pub members: Vec<(Contact, GuildRank)>,
    pub history: Vec<ChatLine>,
}

/// A character's social record, as loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocialRecord {
    /// Friends, by character id.
    pub friends: Vec<Contact>,
    /// Characters it blocks, by character id.
    pub blocked: Vec<Contact>,
    /// The guilds listing it as a member: one, or none (more only if a
    /// crash came between two guilds' saves; the lowest id wins).
    pub guilds: Vec<GuildRecord>,
}

/// Which account a session logs in to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountRef {
    /// A registered account, named by a verified login token.
    Id(AccountId),
    /// A development account, named by whatever the client typed (no
    /// password; kept apart from registered accounts, created on first use).
    Dev(String),
}

/// What a character is, as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharacterState {
    pub place: Place,
    pub level: u16,
    pub experience: u64,
}

/// A spot in the world: a map, the channel last played and a position on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub map: String,
    pub channel: u16,
    pub pos: Vec2,
}

/// A loaded character: its state and the version of that state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharacterRecord {
    pub id: CharacterId,
    pub account: AccountId,
    pub name: String,
    /// Starts at 0 when created; each kept save sets it.
    pub version: u64,
    pub state: CharacterState,
}

impl CharacterRecord {
    /// What the character screen shows of it.
    pub fn summary(&self) -> CharacterSummary {
        CharacterSummary {
            id: self.id,
            name: self.name.clone(),
            level: self.state.level,
            map: self.state.place.map.clone(),
        }
    }
}

/// The store's answer to one intent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub id: IntentId,
    pub result: Result<Reply, StoreError>,
}

/// What a store answers when it applied (or had already applied) an intent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A save was committed (or was older than the stored state).
    Done,
    /// An opened account: its name and its characters, oldest first.
    Account {
        account: AccountId,
        name: String,
        characters: Vec<CharacterSummary>,
    },
    /// The account's characters after a creation or deletion, oldest first.
    Characters(Vec<CharacterSummary>),
    /// A loaded character.
    Character(CharacterRecord),
    /// A loaded social record.
    Social(SocialRecord),
    /// A founded guild.
    Guild(GuildId),
    /// A loaded inventory (`inv: None`: never stored), and the raid
    /// rewards its character is owed, oldest run first.
    Inventory {
        inv: Option<Box<Inventory>>,
        owed: Vec<OwedReward>,
    },
    /// A loaded leaderboard: its best entries in order, and the asked-for
    /// character's own (`None`: not on it, or not asked).
    Leaderboard {
        top: Vec<BoardEntry>,
        own: Option<BoardEntry>,
    },
}

/// Why a store did not apply an intent. The change did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreError {
    /// The store could not be reached, failed to commit or is behind; trying
    /// the same intent again later is safe (rule 1).
    Unavailable,
    /// No such account (a token for an account since removed).
    NoSuchAccount,
    /// No such character on this account.
    NoSuchCharacter,
    /// Another character (on any account) has this name.
    NameTaken,
    /// The account already has its most characters.
    TooManyCharacters,
    /// An economy transaction decided on inventories the store no longer
    /// holds (another transaction came first): nothing changed.
    Conflict,
}
