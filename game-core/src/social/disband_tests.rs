//! A guild its last member left is disbanded: an invitation into it, still
//! pending, can no longer be taken up.

use super::harness::H;
use crate::protocol::{ClientSocial, ServerSocial, SocialRefusal};

#[test]
fn an_invitation_into_a_guild_its_last_member_left_is_void() {
    let mut h = H::entered(&["Ada", "Bob"]);
    h.req(
        0,
        ClientSocial::GuildCreate {
            name: "Night Watch".into(),
        },
    );
    let (guild, _) = h.s.guild_of(h.id(0)).expect("Ada founded it");
    h.req(0, ClientSocial::GuildInvite { name: "Bob".into() });
    h.req(0, ClientSocial::GuildLeave);
    h.take(1);
    h.req(
        1,
        ClientSocial::GuildAnswer {
            guild,
            accept: true,
        },
    );
    assert_eq!(h.s.guild_of(h.id(1)), None, "Bob in a disbanded guild");
    let refused = h.take(1).into_iter().any(|m| {
        matches!(
            m,
            ServerSocial::Refused {
                reason: SocialRefusal::NoInvite,
                ..
            }
        )
    });
    assert!(refused, "the answer is refused: no such invitation");
}
