//! Store answers that arrive after the character's visit changed: its record
//! loaded more than once (a load asked for during a visit it left, answered
//! after it came back, or a retry after a failure racing the load of its
//! next visit), and a change that failed after it left.

use super::harness::H;
use crate::persist::StoreError;
use crate::protocol::{ChatChannel, ClientSocial, ServerSocial, SocialRefusal};

fn zone_lines(h: &mut H, i: usize) -> usize {
    h.take(i)
        .iter()
        .filter(|m| matches!(m, ServerSocial::Chat(l) if l.channel == ChatChannel::Zone))
        .count()
}

fn say_zone(h: &mut H, i: usize) {
    h.req(
        i,
        ClientSocial::Chat {
            channel: ChatChannel::Zone,
            text: "hello".into(),
        },
    );
}

#[test]
fn a_load_from_a_visit_it_left_does_not_seat_the_character_twice() {
    let mut h = H::new(&["Ada", "Bob"]);
    h.enter(1);
    h.hold = true;
    h.enter(0);
    let ada = h.id(0);
    h.s.left(ada);
    h.enter(0);
    // Both loads are answered: the first visit's, then this one's.
    h.release();
    h.take(0);
    say_zone(&mut h, 1);
    assert_eq!(zone_lines(&mut h, 0), 1, "Ada hears Bob once");
    // Gone again, she leaves no seat behind to hear with.
    h.s.left(ada);
    h.enter(0);
    h.take(0);
    h.tick(3_000);
    say_zone(&mut h, 1);
    assert_eq!(zone_lines(&mut h, 0), 1);
}

#[test]
fn a_retried_load_racing_the_next_visit_does_not_seat_the_character_twice() {
    let mut h = H::new(&["Ada", "Bob"]);
    h.enter(1);
    h.store_down = true;
    h.enter(0);
    let ada = h.id(0);
    h.s.left(ada);
    h.store_down = false;
    h.enter(0);
    // The failed load's retry comes due: its answer must not seat her again.
    h.tick(5_000);
    h.take(0);
    say_zone(&mut h, 1);
    assert_eq!(zone_lines(&mut h, 0), 1, "Ada hears Bob once");
}

#[test]
fn a_change_that_fails_after_its_asker_left_is_told_to_no_one() {
    let mut h = H::entered(&["Ada", "Bob"]);
    h.req(0, ClientSocial::FriendRequest { name: "Bob".into() });
    let (ada, bob) = (h.id(0), h.id(1));
    // Bob accepts; the friendship waits for the store, and Bob leaves.
    h.s.handle(
        h.now,
        bob,
        ClientSocial::FriendAnswer {
            from: ada,
            accept: true,
        },
        &[],
    );
    let (token, _) = h.s.take_intent().expect("the friendship, for the store");
    h.s.left(bob);
    h.s.store_outcome(h.now, token, Err(StoreError::Unavailable));
    h.settle();
    let late = h.take(1).into_iter().any(|m| {
        matches!(
            m,
            ServerSocial::Refused {
                reason: SocialRefusal::Busy,
                ..
            }
        )
    });
    assert!(!late, "a refusal for Bob, who left");
    assert_eq!(h.s.stats().refusals.get("busy"), Some(&1), "still counted");
}

#[test]
fn a_block_settled_after_its_asker_came_back_keeps_the_list_within_its_cap() {
    let config = super::SocialConfig {
        max_blocked: 2,
        ..Default::default()
    };
    let mut h = H::with_config(config, &["Ada", "Bob", "Cyd", "Dee"]);
    for i in 0..4 {
        h.enter(i);
    }
    let ada = h.id(0);
    // Ada blocks Bob; the change waits for the store while she leaves and
    // comes back (her record, loaded again, has no block yet).
    let bob = h.id(1);
    h.s.handle(h.now, ada, ClientSocial::Block { character: bob }, &[]);
    let (token, _) = h.s.take_intent().expect("the block, for the store");
    h.s.left(ada);
    h.enter(0);
    for i in [2, 3] {
        let character = h.id(i);
        h.req(0, ClientSocial::Block { character });
    }
    h.s.store_outcome(h.now, token, Ok(crate::persist::Reply::Done));
    h.settle();
    let blocked = (1..4).filter(|&i| h.s.blocks(ada, h.id(i))).count();
    assert!(blocked <= 2, "{blocked} blocked, past the cap of 2");
}
