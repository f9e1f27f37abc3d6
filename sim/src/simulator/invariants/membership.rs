//! Parties and guilds as the server holds them, as a client shows them, and
//! as the messages it got say: the pieces the social checks compare.

use game_core::ids::{CharacterId, GuildId};
use game_core::node::Node;
use game_core::protocol::GuildRank;

/// Party (leader, members) and guild (id, rank) of one character.
pub type Membership = (
    Option<(CharacterId, Vec<CharacterId>)>,
    Option<(GuildId, GuildRank)>,
);

pub(super) fn server_membership(node: &Node, c: CharacterId) -> Membership {
    let s = node.social();
    (s.party_of(c).map(|(l, m)| (l, m.to_vec())), s.guild_of(c))
}

/// Whether a party, as the server holds it for `c`, holds together:
/// `party_of` answers for every character.
pub(super) fn party_breaks(
    c: CharacterId,
    party_of: impl Fn(CharacterId) -> Option<(CharacterId, Vec<CharacterId>)>,
) -> Option<String> {
    let (leader, members) = party_of(c)?;
    let same = members
        .iter()
        .all(|&m| party_of(m).is_some_and(|(l, ms)| l == leader && ms == members));
    let ok = same
        && members.contains(&c)
        && members.contains(&leader)
        && members.len() >= 2
        && !has_duplicates(&members);
    (!ok).then(|| {
        format!("social: {c:?}'s party (leader {leader:?}, {members:?}) does not hold together")
    })
}

/// The server's, the client's and the model's membership of `me`, unless equal.
pub(super) fn disagreement(
    me: CharacterId,
    server: &Membership,
    client: &Membership,
    model: &Membership,
) -> Option<String> {
    (client != server || model != server).then(|| {
        format!(
            "social: {me:?}'s party and guild: server {server:?}, client {client:?}, its messages {model:?}"
        )
    })
}

pub(super) fn has_duplicates(ids: &[CharacterId]) -> bool {
    let mut v = ids.to_vec();
    v.sort_unstable();
    v.windows(2).any(|w| w[0] == w[1])
}
