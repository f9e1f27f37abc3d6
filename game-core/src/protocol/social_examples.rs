//! One example of every social message (see `examples.rs`, which adds these
//! to its lists). The matches make adding a variant without an example a
//! compile error.

use super::{
    ChatChannel, ChatLine, ClientMsg, ClientSocial, Contact, Friend, GuildRank, GuildView,
    MemberVitals, PartyView, ServerMsg, ServerSocial, SocialRefusal, Whereabouts,
};
use crate::ids::{CharacterId, GuildId};

fn bo() -> Contact {
    Contact {
        character: CharacterId(13),
        name: "Bo".into(),
    }
}

fn ada() -> Contact {
    Contact {
        character: CharacterId(12),
        name: "Ada".into(),
    }
}

fn line(channel: ChatChannel) -> ChatLine {
    ChatLine {
        channel,
        from: CharacterId(13),
        from_name: "Bo".into(),
        text: "need a healer at the bridge".into(),
    }
}

pub(super) fn client_messages() -> Vec<ClientMsg> {
    let mut all: Vec<ClientSocial> = [
        ChatChannel::Say,
        ChatChannel::Zone,
        ChatChannel::Party,
        ChatChannel::Guild,
        ChatChannel::World,
    ]
    .into_iter()
    .map(|channel| ClientSocial::Chat {
        channel,
        text: "hello there".into(),
    })
    .collect();
    all.extend([
        ClientSocial::Whisper {
            to: "Bo".into(),
            text: "ready?".into(),
        },
        ClientSocial::Block {
            character: CharacterId(13),
        },
        ClientSocial::Unblock {
            character: CharacterId(13),
        },
        ClientSocial::FriendRequest { name: "Bo".into() },
        ClientSocial::FriendAnswer {
            from: CharacterId(13),
            accept: true,
        },
        ClientSocial::FriendRemove {
            character: CharacterId(13),
        },
        ClientSocial::PartyInvite { name: "Bo".into() },
        ClientSocial::PartyAnswer {
            from: CharacterId(12),
            accept: true,
        },
        ClientSocial::PartyLeave,
        ClientSocial::PartyKick {
            character: CharacterId(13),
        },
        ClientSocial::PartyPromote {
            character: CharacterId(13),
        },
        ClientSocial::PartyMakeRaid,
        ClientSocial::GuildCreate {
            name: "Night Watch".into(),
        },
        ClientSocial::GuildInvite { name: "Bo".into() },
        ClientSocial::GuildAnswer {
            guild: GuildId(3),
            accept: true,
        },
        ClientSocial::GuildLeave,
        ClientSocial::GuildKick {
            character: CharacterId(13),
        },
        ClientSocial::GuildSetRank {
            character: CharacterId(13),
            rank: GuildRank::Officer,
        },
    ]);
    for m in &all {
        match m {
            ClientSocial::Chat { .. }
            | ClientSocial::Whisper { .. }
            | ClientSocial::Block { .. }
            | ClientSocial::Unblock { .. }
            | ClientSocial::FriendRequest { .. }
            | ClientSocial::FriendAnswer { .. }
            | ClientSocial::FriendRemove { .. }
            | ClientSocial::PartyInvite { .. }
            | ClientSocial::PartyAnswer { .. }
            | ClientSocial::PartyLeave
            | ClientSocial::PartyKick { .. }
            | ClientSocial::PartyPromote { .. }
            | ClientSocial::PartyMakeRaid
            | ClientSocial::GuildCreate { .. }
            | ClientSocial::GuildInvite { .. }
            | ClientSocial::GuildAnswer { .. }
            | ClientSocial::GuildLeave
            | ClientSocial::GuildKick { .. }
            | ClientSocial::GuildSetRank { .. } => {}
        }
    }
    all.into_iter().map(ClientMsg::Social).collect()
}

pub(super) fn server_messages() -> Vec<ServerMsg> {
    let mut all: Vec<ServerSocial> = ChatChannel::ALL
        .into_iter()
        .map(|c| match c {
            ChatChannel::System => ServerSocial::Chat(ChatLine {
                channel: c,
                from: CharacterId(0),
                from_name: String::new(),
                text: "the bridge opens at dusk".into(),
            }),
            _ => ServerSocial::Chat(line(c)),
        })
        .collect();
    all.extend(SocialRefusal::ALL.map(|reason| ServerSocial::Refused { request: 1, reason }));
    all.extend([
        ServerSocial::Whispered {
            to: bo(),
            text: "ready?".into(),
        },
        ServerSocial::ChatMissed { count: 12 },
        ServerSocial::Friends {
            friends: vec![
                Friend {
                    contact: bo(),
                    online: Some(Whereabouts {
                        map: "meadow".into(),
                        channel: 1,
                    }),
                },
                Friend {
                    contact: Contact {
                        character: CharacterId(20),
                        name: "Cy".into(),
                    },
                    online: None,
                },
            ],
        },
        ServerSocial::FriendChanged(Friend {
            contact: bo(),
            online: None,
        }),
        ServerSocial::FriendRemoved {
            character: CharacterId(13),
        },
        ServerSocial::FriendRequested { from: bo() },
        ServerSocial::Declined { by: bo() },
        ServerSocial::Blocked {
            blocked: vec![bo()],
        },
        ServerSocial::PartyInvited {
            from: ada(),
            raid: false,
            expires_ms: 30_000,
        },
        ServerSocial::Party(Some(PartyView {
            leader: CharacterId(12),
            members: vec![(ada(), true), (bo(), false)],
            cap: 5,
        })),
        ServerSocial::Party(None),
        ServerSocial::PartyVitals {
            members: vec![MemberVitals {
                character: CharacterId(13),
                map: "meadow".into(),
                x: 2_592,
                y: 3_840,
                health: 200,
            }],
        },
        ServerSocial::GuildInvited {
            guild: GuildId(3),
            name: "Night Watch".into(),
            from: ada(),
            expires_ms: 30_000,
        },
        ServerSocial::Guild(Some(GuildView {
            guild: GuildId(3),
            name: "Night Watch".into(),
            members: vec![
                (ada(), GuildRank::Leader, true),
                (bo(), GuildRank::Member, false),
            ],
        })),
        ServerSocial::GuildHistory {
            lines: vec![line(ChatChannel::Guild)],
        },
    ]);
    for m in &all {
        match m {
            ServerSocial::Chat(_)
            | ServerSocial::Whispered { .. }
            | ServerSocial::Refused { .. }
            | ServerSocial::ChatMissed { .. }
            | ServerSocial::Friends { .. }
            | ServerSocial::FriendChanged(_)
            | ServerSocial::FriendRemoved { .. }
            | ServerSocial::FriendRequested { .. }
            | ServerSocial::Declined { .. }
            | ServerSocial::Blocked { .. }
            | ServerSocial::PartyInvited { .. }
            | ServerSocial::Party(_)
            | ServerSocial::PartyVitals { .. }
            | ServerSocial::GuildInvited { .. }
            | ServerSocial::Guild(_)
            | ServerSocial::GuildHistory { .. } => {}
        }
    }
    all.into_iter().map(ServerMsg::Social).collect()
}
