//! Which address each player belongs to, for admission: the characters an
//! address left waiting for a resume count against its cap.
//!
//! Owns the map from player to (address, detached). It follows the node's
//! events and tells [`Admission`] when a character is kept or let go; it may
//! not touch the node itself (a connection admitted only to resume is opened
//! as such, and the node refuses it a new character).

use super::admission::Admission;
use game_core::ids::{ConnId, PlayerId};
use game_core::node::NodeEvent;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

pub(super) struct PlayerAddresses {
    players: HashMap<PlayerId, PlayerAddress>,
    admission: Arc<Admission>,
}

#[derive(Clone, Copy, Debug)]
struct PlayerAddress {
    /// The address of the connection that last logged in or resumed it.
    ip: IpAddr,
    /// Counted by [`Admission::hold`]: detached, kept for a resume.
    detached: bool,
}

impl PlayerAddresses {
    pub(super) fn new(admission: Arc<Admission>) -> Self {
        PlayerAddresses {
            players: HashMap::new(),
            admission,
        }
    }

    /// Follows one node event. `ip_of` gives a connection's address.
    pub(super) fn follow(&mut self, event: &NodeEvent, ip_of: impl Fn(ConnId) -> Option<IpAddr>) {
        match *event {
            NodeEvent::LoggedIn { conn, player, .. } => {
                let Some(ip) = ip_of(conn) else { return };
                self.players.insert(
                    player,
                    PlayerAddress {
                        ip,
                        detached: false,
                    },
                );
            }
            NodeEvent::Resumed { conn, player } => {
                let Some(ip) = ip_of(conn) else { return };
                let attached = PlayerAddress {
                    ip,
                    detached: false,
                };
                if let Some(PlayerAddress { ip, detached: true }) =
                    self.players.insert(player, attached)
                {
                    self.admission.release(ip);
                }
            }
            NodeEvent::Detached { player, .. } => {
                if let Some(p) = self.players.get_mut(&player) {
                    if !p.detached {
                        p.detached = true;
                        self.admission.hold(p.ip);
                    }
                }
            }
            NodeEvent::PlayerLeft { player, .. } => {
                if let Some(PlayerAddress { ip, detached: true }) = self.players.remove(&player) {
                    self.admission.release(ip);
                }
            }
            NodeEvent::EnteredWorld { .. }
            | NodeEvent::CharacterSaved { .. }
            | NodeEvent::TransactionCommitted { .. }
            | NodeEvent::RaidRunRecorded { .. } => {}
        }
    }
}
