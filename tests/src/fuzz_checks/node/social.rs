//! The node target's social part: requests built from script bytes, what
//! each client hears of the social layer, and the layer's state after each
//! step.

use super::super::social_request::SocialBytes;
use game_core::ids::{CharacterId, GuildId};
use game_core::node::Node;
use game_core::protocol::{
    ChatChannel, ClientMsg, FrameDecoder, GuildRank, ServerMsg, ServerSocial, MAX_SERVER_PAYLOAD,
};
use game_core::social::SocialConfig;
use std::collections::{BTreeMap, BTreeSet};

/// A social request from a client: the characters it names are the node's
/// players' and those its clients were shown, the guilds their guilds.
pub(super) fn request(node: &Node, shown: &[CharacterId], bytes: &SocialBytes) -> ClientMsg {
    let mut ids: Vec<CharacterId> = node.players().filter_map(|p| p.character).collect();
    ids.extend_from_slice(shown);
    ids.sort_unstable();
    ids.dedup();
    let guilds: Vec<GuildId> = ids
        .iter()
        .filter_map(|&c| node.social().guild_of(c).map(|(g, _)| g))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    ClientMsg::Social(bytes.request(&ids, &guilds))
}

/// The social messages one client hears, checked as they come: lines within
/// the length limit, lists within their caps, a party of two or more led by
/// a member, a guild with one leader.
#[derive(Debug)]
pub(super) struct SocialHeard {
    decoder: FrameDecoder,
    pub lines: u64,
}

impl Default for SocialHeard {
    fn default() -> Self {
        SocialHeard {
            decoder: FrameDecoder::new(MAX_SERVER_PAYLOAD),
            lines: 0,
        }
    }
}

impl SocialHeard {
    pub(super) fn receive(&mut self, mut bytes: &[u8], config: &SocialConfig) {
        while let Ok(Some(payload)) = self.decoder.decode(&mut bytes) {
            let Ok(ServerMsg::Social(msg)) = ServerMsg::decode(payload) else {
                continue;
            };
            match msg {
                ServerSocial::Chat(line) => {
                    self.lines += 1;
                    if line.channel != ChatChannel::System {
                        assert!(line.text.len() <= config.max_chat_bytes as usize);
                    }
                }
                ServerSocial::Blocked { blocked } => {
                    assert!(blocked.len() <= config.max_blocked as usize)
                }
                ServerSocial::Friends { friends } => {
                    assert!(friends.len() <= config.max_friends as usize)
                }
                ServerSocial::Party(Some(view)) => {
                    assert!(view.members.len() >= 2, "a party of one shown");
                    assert!(view.members.len() <= view.cap as usize);
                    assert!(view.cap <= config.raid_size);
                    assert!(view.members.iter().any(|(c, _)| c.character == view.leader));
                }
                ServerSocial::Guild(Some(view)) => {
                    assert!(view.members.len() <= config.guild_size as usize);
                    let leaders = view
                        .members
                        .iter()
                        .filter(|(_, r, _)| *r == GuildRank::Leader)
                        .count();
                    assert_eq!(leaders, 1, "{:?} with {leaders} leaders", view.guild);
                }
                _ => {}
            }
        }
    }
}

/// The social layer knows only characters in the world (or in their grace
/// period); its parties are consistent and within their caps; friends and
/// blocks within theirs; a guild's members here are within its size.
pub(super) fn check(node: &Node, config: &SocialConfig) {
    let social = node.social();
    let characters: Vec<CharacterId> = node.players().filter_map(|p| p.character).collect();
    assert!(
        social.len() <= characters.len(),
        "the social layer knows {} characters, the node plays {}",
        social.len(),
        characters.len()
    );
    let mut parties = BTreeSet::new();
    let mut guilds: BTreeMap<GuildId, usize> = BTreeMap::new();
    for &c in &characters {
        assert!(social.friends_of(c).count() <= config.max_friends as usize);
        let blocked = characters.iter().filter(|&&o| social.blocks(c, o)).count();
        assert!(blocked <= config.max_blocked as usize);
        if let Some((leader, members)) = social.party_of(c) {
            assert!((2..=config.raid_size as usize).contains(&members.len()));
            assert!(members.contains(&c) && members.contains(&leader));
            for &m in members {
                assert!(characters.contains(&m), "{m} in a party, played by no one");
                assert_eq!(social.party_of(m), Some((leader, members)));
            }
            parties.insert(members.to_vec());
        }
        if let Some((g, _)) = social.guild_of(c) {
            *guilds.entry(g).or_default() += 1;
        }
        if social.is_online(c) {
            assert!(
                social.online_character(&node_name(node, c)).is_some(),
                "{c} online but not found by its name"
            );
        }
    }
    assert_eq!(social.party_count(), parties.len(), "parties in memory");
    for (g, n) in guilds {
        assert!(
            n <= config.guild_size as usize,
            "{g:?} has {n} members here"
        );
    }
}

fn node_name(node: &Node, c: CharacterId) -> String {
    node.players()
        .find(|p| p.character == Some(c))
        .and_then(|p| p.characters.iter().find(|s| s.id == c))
        .map(|s| s.name.clone())
        .unwrap_or_default()
}
