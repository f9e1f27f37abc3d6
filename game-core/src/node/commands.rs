//! What an operator asks of the node: kick a player, show a notice, announce
//! to every server, shut down. (Moving a character is in `routing.rs`.)

use super::Node;
use crate::bus::BusMessage;
use crate::ids::{ConnId, PlayerId};
use crate::protocol::{DisconnectReason, NoticeLevel, ServerMsg, ServerSession};
use crate::time::Instant;

impl Node {
    /// Removes a player: its client is told the operator's message.
    pub fn kick(&mut self, now: Instant, player: PlayerId, message: String) -> bool {
        let Some(p) = self.players.get(player) else {
            return false;
        };
        match p.conn {
            Some(conn) => self.close(now, conn, DisconnectReason::Kicked { message }),
            None => self.remove_player(now, player, DisconnectReason::Kicked { message }),
        }
        true
    }

    /// Shows text to one player, or to every connected player with `None`.
    pub fn notice(&mut self, now: Instant, to: Option<PlayerId>, level: NoticeLevel, text: &str) {
        let conns: Vec<ConnId> = match to {
            Some(p) => self
                .players
                .get(p)
                .and_then(|p| p.conn)
                .into_iter()
                .collect(),
            None => {
                let mut conns: Vec<ConnId> = self.players.iter().filter_map(|p| p.conn).collect();
                conns.sort_unstable();
                conns
            }
        };
        let msg = ServerMsg::Session(ServerSession::Notice {
            level,
            text: text.to_owned(),
        });
        for conn in conns {
            if let Some(c) = self.connections.get_mut(&conn) {
                c.session.send(now, &msg);
                self.session_changed(now, conn);
            }
        }
    }

    /// Shows text to every player on every server: published on the bus, and
    /// shown here when the bus hands it back ([`Node::handle_bus`]).
    pub fn announce(&mut self, level: NoticeLevel, text: &str) {
        self.publish(BusMessage::Announcement {
            level,
            text: text.to_owned(),
        });
    }

    /// Tells every client the server is going down and closes every connection.
    /// New connections are refused from now on.
    pub fn shutdown(&mut self, now: Instant) {
        self.shutting_down = true;
        let mut conns: Vec<ConnId> = self.connections.keys().copied().collect();
        conns.sort_unstable();
        for conn in conns {
            self.close(now, conn, DisconnectReason::ServerShutdown);
        }
        let mut players: Vec<PlayerId> = self.players.iter().map(|p| p.id).collect();
        players.sort_unstable();
        for player in players {
            self.remove_player(now, player, DisconnectReason::ServerShutdown);
        }
    }
}
