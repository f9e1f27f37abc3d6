//! A guild's history shown to a member holds no line from a character the
//! member blocks, as no live line from it reaches the member: at entering
//! the world, and at joining.

use super::*;
use crate::persist::{GuildRecord, SocialRecord};
use crate::protocol::{ChatChannel, ChatLine, GuildRank};

const A: CharacterId = CharacterId(1);
const B: CharacterId = CharacterId(2);
const C: CharacterId = CharacterId(3);
const G: GuildId = GuildId(9);

fn contact(c: CharacterId) -> Contact {
    Contact {
        character: c,
        name: format!("c{}", c.0),
    }
}

fn line(from: CharacterId, text: &str) -> ChatLine {
    ChatLine {
        channel: ChatChannel::Guild,
        from,
        from_name: format!("c{}", from.0),
        text: text.into(),
    }
}

fn here() -> Whereabouts {
    Whereabouts {
        map: "meadow".into(),
        channel: 0,
    }
}

/// Enters `c` and answers its load with `record`.
fn enter(s: &mut Social, c: CharacterId, record: SocialRecord) {
    s.entered(c, &format!("c{}", c.0), here());
    let (token, _) = s.take_intent().expect("a load");
    s.store_outcome(Instant::ZERO, token, Ok(Reply::Social(record)));
}

/// The history lines `c` was sent since the last drain.
fn history_for(s: &mut Social, c: CharacterId) -> Vec<ChatLine> {
    let mut out = Deliveries::default();
    s.drain(&mut out);
    out.to
        .iter()
        .filter(|&&(to, _)| to == c)
        .filter_map(|&(_, i)| match &out.messages[i as usize].0 {
            ServerSocial::GuildHistory { lines } => Some(lines.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn guild_history_at_entering_leaves_out_lines_from_characters_it_blocks() {
    let mut s = Social::new(SocialConfig::default());
    let guild = GuildRecord {
        id: G,
        name: "Hall".into(),
        version: 1,
        members: vec![
            (contact(A), GuildRank::Leader),
            (contact(B), GuildRank::Member),
        ],
        history: vec![line(A, "from a"), line(B, "from b")],
    };
    enter(
        &mut s,
        B,
        SocialRecord {
            blocked: vec![contact(A)],
            guilds: vec![guild],
            ..SocialRecord::default()
        },
    );
    let shown = history_for(&mut s, B);
    assert_eq!(shown, vec![line(B, "from b")]);
}

#[test]
fn guild_history_at_joining_leaves_out_lines_from_characters_it_blocks() {
    let mut s = Social::new(SocialConfig::default());
    let guild = GuildRecord {
        id: G,
        name: "Hall".into(),
        version: 1,
        members: vec![
            (contact(A), GuildRank::Leader),
            (contact(C), GuildRank::Officer),
        ],
        history: vec![line(A, "from a")],
    };
    for c in [A, C] {
        enter(
            &mut s,
            c,
            SocialRecord {
                guilds: vec![guild.clone()],
                ..SocialRecord::default()
            },
        );
    }
    enter(
        &mut s,
        B,
        SocialRecord {
            blocked: vec![contact(A)],
            ..SocialRecord::default()
        },
    );
    let now = Instant::from_micros(1_000_000);
    // A cannot invite B (to A, B looks offline); its officer C can.
    s.handle(now, C, ClientSocial::GuildInvite { name: "c2".into() }, &[]);
    s.handle(
        now,
        B,
        ClientSocial::GuildAnswer {
            guild: G,
            accept: true,
        },
        &[],
    );
    assert_eq!(s.guild_of(B), Some((G, GuildRank::Member)));
    assert_eq!(history_for(&mut s, B), Vec::<ChatLine>::new());
}
