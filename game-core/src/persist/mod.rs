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
//! same.
//!
//! This module owns the types and [`MemoryStore`], the reference store every
//! other store is tested against. It may not touch sessions, zones or the node.

mod memory;

pub use memory::{AccountRecord, MemoryStore, RegisterError};

use crate::economy::{Inventory, Receipt};
use crate::ids::{AccountId, CharacterId, GuildId, IntentId};
use crate::math::Vec2;
use crate::protocol::{CharacterSummary, ChatLine, Contact, GuildRank};

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
    /// The character's inventory, to play it. Answered with
    /// [`Reply::Inventory`] (`None` for one never stored).
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
    CommitTx {
        parts: Vec<InventoryPart>,
        /// Boxed: a change waits in queues, and most are small.
        receipt: Box<Receipt>,
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
    /// A loaded inventory (`None`: never stored).
    Inventory(Option<Box<Inventory>>),
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
