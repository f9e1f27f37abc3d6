//! The links between node and bots: the node's outputs onto each bot's
//! modelled TCP link, each bot's bytes onto its link and off it at the far
//! end, their timers, and what a bot's events mean for the run (a drop, a
//! refusal, a welcome).

use super::{Ev, Simulator};
use crate::netem::Item;
use crate::policy::Kind;
use game_core::client::{ClientEvent, ClientState};
use game_core::ids::ConnId;
use game_core::node::Output;
use game_core::protocol::{ClientMsg, DisconnectReason, FrameDecoder, MAX_CLIENT_PAYLOAD};
use game_core::time::Duration;

impl Simulator {
    pub(super) fn arm_client(&mut self, i: u32) {
        let p = &self.peers[i as usize];
        if let Some(at) = p.client.poll_timeout() {
            if p.client_armed.is_none_or(|armed| at < armed) {
                self.peers[i as usize].client_armed = Some(at);
                self.push(at.max(self.now), Ev::Client(i));
            }
        }
    }

    /// Moves the node's outputs onto the links.
    pub(super) fn node_io(&mut self) {
        loop {
            self.deliver_outcomes();
            let Some(out) = self.node.poll_output() else {
                break;
            };
            let out = match out {
                Output::Persist(intent) => {
                    self.submit_intent(intent);
                    continue;
                }
                Output::Event(e) => {
                    self.node_event(&e);
                    continue;
                }
                other => other,
            };
            let Some(out) = self.in_process.serve(&mut self.node, self.now, out) else {
                continue;
            };
            match out {
                Output::Transmit { conn, bytes } => {
                    self.trace.u64(conn.0);
                    self.trace.bytes(&bytes);
                    if let Some(i) = self.by_conn.get(conn) {
                        self.send_down(i, Item::Bytes(bytes));
                    }
                }
                Output::Close { conn, reason } => {
                    self.trace.u64(conn.0);
                    self.trace.bytes(reason.label().as_bytes());
                    if let Some(i) = self.by_conn.remove(conn) {
                        self.send_down(i, Item::Fin);
                    }
                }
                // Served above.
                Output::Event(_) => {}
                Output::Persist(_) | Output::Publish(_) | Output::Subscribe(_) => {}
            }
        }
        self.arm_node();
    }

    pub(super) fn send_down(&mut self, i: u32, item: Item) {
        let p = &mut self.peers[i as usize];
        if let Some(at) = p
            .down
            .push(self.now, item, &p.params, &p.stalls, &mut p.link_rng)
        {
            self.push(at, Ev::Down(i));
        }
    }

    pub(super) fn send_up(&mut self, i: u32, item: Item) {
        let p = &mut self.peers[i as usize];
        if let Some(at) =
            p.up.push(self.now, item, &p.params, &p.stalls, &mut p.link_rng)
        {
            self.push(at, Ev::Up(i));
        }
    }

    /// After anything touched a client: its bytes onto the link, its events
    /// into the tallies, a closed transport torn down.
    pub(super) fn client_io(&mut self, i: u32) {
        if let Some(bytes) = self.peers[i as usize].client.poll_transmit() {
            if self.peers[i as usize].conn.is_some() {
                self.send_up(i, Item::Bytes(bytes));
            }
        }
        let mut closed = false;
        let mut bad_attempt_over = false;
        while let Some(e) = self.peers[i as usize].client.poll_event() {
            let p = &mut self.peers[i as usize];
            p.policy.on_event(self.now, &p.client, &e);
            self.checker
                .client_event(&p.client, p.conn_for_down, &e, self.now);
            self.economy_event(i, &e);
            self.raid_event(i, &e);
            let p = &mut self.peers[i as usize];
            match e {
                ClientEvent::Welcomed { resumed, .. } => {
                    p.welcomes += 1;
                    p.resumes += u32::from(resumed);
                    self.welcomed(i, resumed);
                }
                // The fight held the character (dead, stunned, slowed):
                // the fight's doing, not the client's.
                ClientEvent::Corrected { held: true, .. } => p.held_corrections += 1,
                ClientEvent::Corrected { held: false, .. } => p.corrections += 1,
                ClientEvent::CharacterRefused { .. } if p.policy.kind.persists() => {
                    self.push(self.now + Duration::from_secs(1), Ev::Relog(i));
                }
                ClientEvent::Disconnected { reason } => {
                    if self.bad_attempt_ended(i, &reason) {
                        bad_attempt_over = true;
                    } else if reason != DisconnectReason::ClientQuit {
                        self.peers[i as usize].disconnects.push(reason);
                    }
                    closed = true;
                }
                _ => {}
            }
        }
        let p = &mut self.peers[i as usize];
        if closed || matches!(p.client.state(), ClientState::Disconnected { .. }) {
            if let Some(conn) = p.conn.take() {
                // The client closes its socket: the server hears the FIN after
                // whatever was still in flight.
                self.send_up(i, Item::Fin);
                let _ = conn;
            }
            let p = &mut self.peers[i as usize];
            if p.reconnects && !p.reconnect_pending {
                p.reconnect_pending = true;
                self.push(self.now + Duration::from_secs(1), Ev::Reconnect(i));
            } else if bad_attempt_over {
                self.after_bad_attempt(i);
            }
        }
        self.arm_client(i);
    }

    pub(super) fn deliver_up(&mut self, i: u32) {
        let conn = self.peers[i as usize].conn_for_up;
        while let Some(item) = self.peers[i as usize].up.pop_due(self.now) {
            let Some(conn) = conn else { continue };
            match item {
                Item::Bytes(b) => {
                    self.trace.u64(conn.0 | (1 << 63));
                    self.trace.bytes(&b);
                    if self.peers[i as usize].policy.kind.talks() {
                        self.handle_social_bytes(conn, &b);
                    } else {
                        self.node.handle_bytes(self.now, conn, &b);
                    }
                    self.peers[i as usize].client.recycle(b);
                }
                Item::Fin => self.node.handle_disconnect(self.now, conn),
            }
        }
        if let Some(at) = self.peers[i as usize].up.next_at() {
            self.push(at, Ev::Up(i));
        }
        self.node_io();
    }

    /// A talking bot's bytes (social bots, hecklers), handed to the node in pieces that each end
    /// with one social request, so the checker sees the node just before
    /// and just after each (the node reads a piece's frames in order either
    /// way). A piece that does not end in a whole frame goes as it is.
    fn handle_social_bytes(&mut self, conn: ConnId, b: &[u8]) {
        let mut decoder = FrameDecoder::new(MAX_CLIENT_PAYLOAD);
        let mut input = b;
        let mut start = 0;
        while let Ok(Some(payload)) = decoder.decode(&mut input) {
            let Ok(ClientMsg::Social(request)) = ClientMsg::decode(payload) else {
                continue;
            };
            let end = b.len() - input.len();
            let from = self
                .node
                .players()
                .find(|p| p.conn == Some(conn))
                .and_then(|p| p.character);
            let asked = from.and_then(|c| self.checker.social_before(&self.node, c, &request));
            self.node.handle_bytes(self.now, conn, &b[start..end]);
            start = end;
            if let Some(asked) = asked {
                self.checker.social_after(&self.node, self.now, asked);
            }
        }
        if start < b.len() {
            self.node.handle_bytes(self.now, conn, &b[start..]);
        }
    }

    pub(super) fn deliver_down(&mut self, i: u32) {
        // A slow reader reads until it is in the world, then stops.
        let p = &self.peers[i as usize];
        let reading =
            p.policy.kind != Kind::SlowReader || *p.client.state() != ClientState::InWorld;
        if !reading {
            // A client that never reads: the bytes stay in its receive buffer,
            // and the server never hears they were taken.
            return;
        }
        let conn = self.peers[i as usize].conn_for_down;
        while let Some(item) = self.peers[i as usize].down.pop_due(self.now) {
            let p = &mut self.peers[i as usize];
            match item {
                Item::Bytes(b) => {
                    p.bytes_in += b.len() as u64;
                    p.client.handle_bytes(self.now, &b);
                    if let Some(conn) = conn {
                        self.node.handle_flushed(conn, b.len());
                        self.node.recycle(b);
                    }
                }
                Item::Fin => p.client.handle_connection_lost(self.now),
            }
        }
        if let Some(at) = self.peers[i as usize].down.next_at() {
            self.push(at, Ev::Down(i));
        }
        self.client_io(i);
        self.node_io();
    }
}
