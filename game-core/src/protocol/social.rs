//! The social domain's messages (tags 48-79): chat, friends and presence,
//! blocks, parties and guilds.
//!
//! A client asks ([`ClientSocial`]); the node's social part decides at once,
//! and its answer (a refusal, [`ServerSocial::Refused`]) or the outcome
//! reaches everyone concerned at the next tick, in the same write as their
//! world update. No message names the sender: it is always the sender's own
//! character. Chat lines are the first thing a slow client loses (before
//! movement); it is then told how many it missed ([`ServerSocial::ChatMissed`]).

use crate::ids::{CharacterId, GuildId};
use serde::{Deserialize, Serialize};

/// The longest chat line a server accepts by default, in bytes of UTF-8.
pub const DEFAULT_MAX_CHAT_BYTES: usize = 256;

/// Where a chat line goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ChatChannel {
    /// Players within the say radius who can see the speaker.
    Say,
    /// Everyone on the speaker's map and channel.
    Zone,
    /// The speaker's party.
    Party,
    /// The speaker's guild (the last lines are kept and shown at login).
    Guild,
    /// Everyone on the server (a stricter rate).
    World,
    /// From one character to another, by name ([`ClientSocial::Whisper`]).
    Whisper,
    /// From the operator; clients cannot send on it.
    System,
}

impl ChatChannel {
    pub const ALL: [ChatChannel; 7] = [
        ChatChannel::Say,
        ChatChannel::Zone,
        ChatChannel::Party,
        ChatChannel::Guild,
        ChatChannel::World,
        ChatChannel::Whisper,
        ChatChannel::System,
    ];

    /// A label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            ChatChannel::Say => "say",
            ChatChannel::Zone => "zone",
            ChatChannel::Party => "party",
            ChatChannel::Guild => "guild",
            ChatChannel::World => "world",
            ChatChannel::Whisper => "whisper",
            ChatChannel::System => "system",
        }
    }
}

/// A guild member's rank, and so what it may do (see `docs/PROTOCOL.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GuildRank {
    /// Everything; one per guild.
    Leader,
    /// Invites, kicks members, chats.
    Officer,
    /// Chats and leaves.
    Member,
}

/// Requests about the character's social life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientSocial {
    /// A line on `channel` (not `Whisper` or `System`).
    Chat {
        channel: ChatChannel,
        text: String,
    },
    /// A line to the character named `to`, wherever it is on the server.
    Whisper {
        to: String,
        text: String,
    },
    /// Nothing `character` says reaches this character any more (chat,
    /// whispers, friend and party requests).
    Block {
        character: CharacterId,
    },
    Unblock {
        character: CharacterId,
    },
    /// Asks the (online) character named `name` to be friends.
    FriendRequest {
        name: String,
    },
    /// Answers [`ServerSocial::FriendRequested`].
    FriendAnswer {
        from: CharacterId,
        accept: bool,
    },
    FriendRemove {
        character: CharacterId,
    },
    /// Invites the (online) character named `name` into the party (which is
    /// made, with the inviter leading, when the first invite is accepted).
    PartyInvite {
        name: String,
    },
    /// Answers [`ServerSocial::PartyInvited`].
    PartyAnswer {
        from: CharacterId,
        accept: bool,
    },
    PartyLeave,
    /// The leader removes a member.
    PartyKick {
        character: CharacterId,
    },
    /// The leader hands the lead to a member.
    PartyPromote {
        character: CharacterId,
    },
    /// The leader makes the party a raid party (a larger cap).
    PartyMakeRaid,
    /// Founds a guild named `name`, with the sender as its leader.
    GuildCreate {
        name: String,
    },
    /// Invites the (online) character named `name` (officers and the leader).
    GuildInvite {
        name: String,
    },
    /// Answers [`ServerSocial::GuildInvited`].
    GuildAnswer {
        guild: GuildId,
        accept: bool,
    },
    GuildLeave,
    /// Removes a member of lower rank.
    GuildKick {
        character: CharacterId,
    },
    /// The leader sets a member's rank; making another the leader makes the
    /// sender an officer.
    GuildSetRank {
        character: CharacterId,
        rank: GuildRank,
    },
}

impl ClientSocial {
    /// The request's index in this enum, as [`ServerSocial::Refused`] names it.
    pub fn kind(&self) -> u8 {
        match self {
            ClientSocial::Chat { .. } => 0,
            ClientSocial::Whisper { .. } => 1,
            ClientSocial::Block { .. } => 2,
            ClientSocial::Unblock { .. } => 3,
            ClientSocial::FriendRequest { .. } => 4,
            ClientSocial::FriendAnswer { .. } => 5,
            ClientSocial::FriendRemove { .. } => 6,
            ClientSocial::PartyInvite { .. } => 7,
            ClientSocial::PartyAnswer { .. } => 8,
            ClientSocial::PartyLeave => 9,
            ClientSocial::PartyKick { .. } => 10,
            ClientSocial::PartyPromote { .. } => 11,
            ClientSocial::PartyMakeRaid => 12,
            ClientSocial::GuildCreate { .. } => 13,
            ClientSocial::GuildInvite { .. } => 14,
            ClientSocial::GuildAnswer { .. } => 15,
            ClientSocial::GuildLeave => 16,
            ClientSocial::GuildKick { .. } => 17,
            ClientSocial::GuildSetRank { .. } => 18,
        }
    }
}

/// A character as a list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub character: CharacterId,
    pub name: String,
}

/// Where an online character is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Whereabouts {
    pub map: String,
    pub channel: u16,
}

/// A friend and where it is (`None`: offline).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Friend {
    pub contact: Contact,
    pub online: Option<Whereabouts>,
}

/// One chat line. `from` is `CharacterId(0)` for the system channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatLine {
    pub channel: ChatChannel,
    pub from: CharacterId,
    pub from_name: String,
    pub text: String,
}

/// A party as its members see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyView {
    pub leader: CharacterId,
    /// Members in the order they joined (when the leader leaves, the first
    /// of those left leads), with whether each is connected.
    pub members: Vec<(Contact, bool)>,
    /// How many members it may hold.
    pub cap: u8,
}

/// One party member's place and health, sent to the party twice a second.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberVitals {
    pub character: CharacterId,
    pub map: String,
    /// Quantized as world positions are (1/32 m).
    pub x: i32,
    pub y: i32,
    /// A health bar, as `CombatEvent::Health` (0: dead).
    pub health: u8,
}

/// A guild as its members see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuildView {
    pub guild: GuildId,
    pub name: String,
    /// Members by rank, then by name, with whether each is online.
    pub members: Vec<(Contact, GuildRank, bool)>,
}

/// Why a social request was refused. Nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SocialRefusal {
    /// Longer than the server's chat limit.
    TooLong,
    /// Empty, or holding control or invisible formatting characters.
    InvalidText,
    /// Too many requests on this channel (or of this kind) lately.
    RateLimited,
    /// An operator muted the character for a while.
    Muted,
    /// No character of that name is online. (The server does not say whether
    /// the name exists, so whispers cannot probe for names.)
    NotOnline,
    /// Not in a party (or a guild) to talk or act in.
    NotInParty,
    NotInGuild,
    /// Already in a party (or a guild).
    AlreadyInParty,
    AlreadyInGuild,
    PartyFull,
    GuildFull,
    /// Only the party leader (or a guild rank above) may do that.
    NotAllowed,
    /// No such invitation or request (or it expired).
    NoInvite,
    /// The character has as many pending invitations or requests as it may.
    TooManyInvites,
    /// The list (friends, blocks) is full.
    ListFull,
    AlreadyFriends,
    NotFriends,
    /// A request about oneself.
    Yourself,
    /// Not a member (of the party or guild named).
    NotMember,
    /// A guild name that is not 3 to 24 ASCII letters, digits and single
    /// spaces, starting with a letter.
    InvalidName,
    /// Another guild has this name, or one that looks the same.
    NameTaken,
    /// The social record is still loading, or the store did not answer; try
    /// again later.
    Busy,
    /// The channel is not one a client may send on (`Whisper` by `Chat`, `System`).
    WrongChannel,
}

impl SocialRefusal {
    pub const ALL: [SocialRefusal; 23] = [
        SocialRefusal::TooLong,
        SocialRefusal::InvalidText,
        SocialRefusal::RateLimited,
        SocialRefusal::Muted,
        SocialRefusal::NotOnline,
        SocialRefusal::NotInParty,
        SocialRefusal::NotInGuild,
        SocialRefusal::AlreadyInParty,
        SocialRefusal::AlreadyInGuild,
        SocialRefusal::PartyFull,
        SocialRefusal::GuildFull,
        SocialRefusal::NotAllowed,
        SocialRefusal::NoInvite,
        SocialRefusal::TooManyInvites,
        SocialRefusal::ListFull,
        SocialRefusal::AlreadyFriends,
        SocialRefusal::NotFriends,
        SocialRefusal::Yourself,
        SocialRefusal::NotMember,
        SocialRefusal::InvalidName,
        SocialRefusal::NameTaken,
        SocialRefusal::Busy,
        SocialRefusal::WrongChannel,
    ];

    /// A label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            SocialRefusal::TooLong => "too_long",
            SocialRefusal::InvalidText => "invalid_text",
            SocialRefusal::RateLimited => "rate_limited",
            SocialRefusal::Muted => "muted",
            SocialRefusal::NotOnline => "not_online",
            SocialRefusal::NotInParty => "not_in_party",
            SocialRefusal::NotInGuild => "not_in_guild",
            SocialRefusal::AlreadyInParty => "already_in_party",
            SocialRefusal::AlreadyInGuild => "already_in_guild",
            SocialRefusal::PartyFull => "party_full",
            SocialRefusal::GuildFull => "guild_full",
            SocialRefusal::NotAllowed => "not_allowed",
            SocialRefusal::NoInvite => "no_invite",
            SocialRefusal::TooManyInvites => "too_many_invites",
            SocialRefusal::ListFull => "list_full",
            SocialRefusal::AlreadyFriends => "already_friends",
            SocialRefusal::NotFriends => "not_friends",
            SocialRefusal::Yourself => "yourself",
            SocialRefusal::NotMember => "not_member",
            SocialRefusal::InvalidName => "invalid_name",
            SocialRefusal::NameTaken => "name_taken",
            SocialRefusal::Busy => "busy",
            SocialRefusal::WrongChannel => "wrong_channel",
        }
    }
}

/// The social domain's messages to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerSocial {
    /// A line on a channel the character hears (its own lines too, except
    /// whispers, which are echoed by [`ServerSocial::Whispered`]).
    Chat(ChatLine),
    /// The sender's whisper reached `to`.
    Whispered {
        to: Contact,
        text: String,
    },
    /// A request was refused; `request` is its [`ClientSocial::kind`].
    Refused {
        request: u8,
        reason: SocialRefusal,
    },
    /// `count` chat lines for this client were dropped because it was not
    /// reading fast enough; what follows is newer.
    ChatMissed {
        count: u32,
    },
    /// The whole friends list (after entering the world).
    Friends {
        friends: Vec<Friend>,
    },
    /// A friend was added, came online, went offline or moved.
    FriendChanged(Friend),
    FriendRemoved {
        character: CharacterId,
    },
    /// `from` asks to be friends; answer with [`ClientSocial::FriendAnswer`].
    FriendRequested {
        from: Contact,
    },
    /// `by` declined this character's friend request (or party invitation).
    Declined {
        by: Contact,
    },
    /// The whole block list (after entering the world, and when it changes).
    Blocked {
        blocked: Vec<Contact>,
    },
    /// `from` invites this character into its party, until `expires_ms` from now.
    PartyInvited {
        from: Contact,
        raid: bool,
        expires_ms: u32,
    },
    /// The party now (after any change); `None`: in no party.
    Party(Option<PartyView>),
    /// Where the party's members are and how they fare, twice a second.
    PartyVitals {
        members: Vec<MemberVitals>,
    },
    /// `from` invites this character into guild `name`, until
    /// `expires_ms` from now.
    GuildInvited {
        guild: GuildId,
        name: String,
        from: Contact,
        expires_ms: u32,
    },
    /// The guild now (after entering the world and after any change); `None`:
    /// in no guild.
    Guild(Option<GuildView>),
    /// The guild's last lines, oldest first (after entering the world).
    GuildHistory {
        lines: Vec<ChatLine>,
    },
}
