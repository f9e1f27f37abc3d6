//! The end-of-run verdicts on each bot: hostile bots were stopped (or, for
//! brawlers, refused), honest ones never were.

use super::{PeerView, FORGIVEN_STALL};
use crate::policy::{FightTally, Kind};
use game_core::protocol::{DisconnectReason, LoginRefusal};

/// What is wrong with how bot `i` was treated, if anything.
pub(super) fn verdict(i: usize, p: &PeerView<'_>, store_faulty: bool) -> Vec<String> {
    let mut out = Vec::new();
    // Judged only once it has misbehaved, in the world.
    let entered = p.client.avatar().is_some() && p.misbehaved;
    let cut = |pred: fn(&DisconnectReason) -> bool| p.disconnects.iter().any(pred);
    let lost_first = p.disconnects.first() == Some(&DisconnectReason::ConnectionLost);
    match p.kind {
        k if !k.is_hostile() => {
            let bad = p.disconnects.iter().find(|r| {
                let store_said_no = matches!(
                    r,
                    DisconnectReason::LoginRefused(
                        LoginRefusal::StoreUnavailable | LoginRefusal::ServerBusy
                    )
                );
                !(store_faulty && store_said_no)
                    && matches!(
                        r,
                        DisconnectReason::RateLimited
                            | DisconnectReason::ProtocolViolation(_)
                            | DisconnectReason::Kicked { .. }
                            | DisconnectReason::VersionMismatch { .. }
                            | DisconnectReason::LoginRefused(_)
                    )
            });
            if let Some(r) = bad {
                out.push(format!("honest bot {i} ({k:?}) disconnected: {r}"));
            }
            let reused = p.worst_stall >= id_reuse_stall();
            if let Some(bad) = p.fight.and_then(|t| fighter_blunder(t, reused)) {
                out.push(format!("honest bot {i} ({k:?}) was refused {bad}"));
            }
            // Its pace is the social bot's own: a stalled link may bunch its
            // requests past a burst, nothing else may.
            let rate_limited = p.social.map_or(0, |t| t.rate_limited());
            if rate_limited > 0 && p.worst_stall < FORGIVEN_STALL {
                out.push(format!(
                    "honest bot {i} ({k:?}) was refused rate_limited {rate_limited} times on a link that stalled at most {:?}",
                    p.worst_stall
                ));
            }
            if p.corrections > 0 && p.worst_stall < FORGIVEN_STALL {
                out.push(format!(
                    "honest bot {i} ({k:?}) corrected {} times on a link that stalled at most {:?}",
                    p.corrections, p.worst_stall
                ));
            }
        }
        Kind::SpeedHacker | Kind::Teleporter
            if entered && p.corrections == 0 && p.disconnects.is_empty() =>
        {
            out.push(format!(
                "hostile bot {i} ({:?}) was never corrected",
                p.kind
            ));
        }
        // A connection lost before the server could act (a node restart or a
        // partition moments after the first flood) excuses the server, as any
        // disconnect excuses it for a speed hacker (seed 48 on main: a restart
        // at 5 s cut flooders that had just begun).
        Kind::Flooder | Kind::Garbage if lost_first => {}
        Kind::Flooder if entered && !cut(|r| *r == DisconnectReason::RateLimited) => {
            out.push(format!(
                "flooder bot {i} was not rate limited: {:?}",
                p.disconnects
            ));
        }
        Kind::Garbage
            if entered && !cut(|r| matches!(r, DisconnectReason::ProtocolViolation(_))) =>
        {
            out.push(format!(
                "garbage bot {i} was not cut off: {:?}",
                p.disconnects
            ));
        }
        Kind::Brawler
            if entered && p.fight.is_none_or(|t| t.refused() == 0) && p.disconnects.is_empty() =>
        {
            out.push(format!("brawler bot {i} was never refused"));
        }
        // A slow reader is held to the queue bound; it is cut once its backlog
        // passes the bound, which may take longer than a run.
        _ => {}
    }
    out
}

/// A refusal an honest fighter's bookkeeping should never earn, if it got
/// one: a skill it does not have, a target it may not have, or too many
/// requests. (Out of range, out of view, a dead target, a cooldown or cast
/// it could not yet know of: races of a moving fight, and a stalled link.)
/// A link that held a request past `id_reuse_stall` excuses an invalid
/// target: the monster aimed at may have died, left and had its id taken
/// by a player by the time the request arrived (seed 48 with traders in the
/// mix: an `Attack` held 4.5 s in a clogged link reached a player).
fn fighter_blunder(t: &FightTally, ids_reused: bool) -> Option<String> {
    ["unknown_skill", "invalid_target", "too_fast"]
        .into_iter()
        .filter(|&r| !(ids_reused && r == "invalid_target"))
        .find_map(|r| t.refusals.get(r).map(|n| format!("{r} {n} times")))
}

/// How long a request must be held for its target's id to pass to another
/// entity: a monster's corpse stays `corpse_ms`, and its slot is reused a
/// tick after it leaves.
fn id_reuse_stall() -> game_core::time::Duration {
    let corpse = game_core::zone::ZoneConfig::default().corpse_ms;
    game_core::time::Duration::from_millis(corpse as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_target_is_forgiven_only_when_ids_may_have_been_reused() {
        let mut t = FightTally::default();
        t.refusals.insert("invalid_target", 2);
        assert_eq!(
            fighter_blunder(&t, false).as_deref(),
            Some("invalid_target 2 times")
        );
        assert_eq!(fighter_blunder(&t, true), None);
        t.refusals.insert("unknown_skill", 1);
        assert_eq!(
            fighter_blunder(&t, true).as_deref(),
            Some("unknown_skill 1 times")
        );
        assert!(id_reuse_stall() >= game_core::time::Duration::from_secs(1));
    }
}
