//! A laboratory: the real node and client machines joined by simulated links, in
//! virtual time, with no IO at all. Each link is the simulator's TCP model
//! (`sim::netem`) without stalls; time jumps from one event to the next, so a
//! minute of play costs milliseconds.
//!
//! Tests and scenario snapshots script it directly; the simulator
//! (`sim::simulator`) runs thousands of seeded bots on the same parts.

use crate::netem::{Item, LinkParams, Pipe};
use game_core::client::{Client, ClientConfig, ClientEvent};
use game_core::ids::{ConnId, EntityId, PlayerId};
use game_core::math::Vec2;
use game_core::node::{InProcess, Node, NodeConfig, Output};
use game_core::rng::{self, StreamKind};
use game_core::time::{Duration, Instant};
use rand_chacha::ChaCha8Rng;

/// The link of a lab peer: the simulator's link model, without stalls.
pub type LinkSpec = LinkParams;

/// A link that delivers at once.
pub const INSTANT: LinkParams = LinkParams {
    latency_ms: 0,
    jitter_ms: 0,
    loss_per_10k: 0,
    bandwidth: 0,
};

/// A simulated player: a client machine, its link, and what it heard.
#[derive(Debug)]
pub struct Peer {
    pub client: Client,
    pub conn: Option<ConnId>,
    pub link: LinkSpec,
    up: Pipe,
    down: Pipe,
    pub events: Vec<(Instant, ClientEvent)>,
}

#[derive(Debug)]
pub struct Lab {
    pub node: Node,
    /// The node's store and bus.
    pub in_process: InProcess,
    pub peers: Vec<Peer>,
    pub now: Instant,
    rng: ChaCha8Rng,
    next_conn: u64,
    /// Every byte the node sent to each connection, in order (for traces).
    pub record_frames: bool,
    pub frames: Vec<(Instant, usize, Vec<u8>)>,
}

impl Lab {
    pub fn new(config: NodeConfig, seed: u64) -> Self {
        Self::with_node(Node::new(config, seed).expect("valid lab config"), seed)
    }

    /// A lab on the sample maps with `content` (its monsters, skills and
    /// rules) instead of the sample content.
    pub fn with_content(
        config: NodeConfig,
        seed: u64,
        content: std::sync::Arc<game_core::content::Content>,
    ) -> Self {
        let node = Node::with_content(config, seed, Vec::new(), content).expect("valid lab config");
        Self::with_node(node, seed)
    }

    fn with_node(node: Node, seed: u64) -> Self {
        Lab {
            node,
            in_process: InProcess::default(),
            peers: Vec::new(),
            now: Instant::ZERO,
            rng: rng::stream(seed, StreamKind::Link, 0),
            next_conn: 0,
            record_frames: false,
            frames: Vec::new(),
        }
    }

    /// Adds a player and connects it; returns its index.
    pub fn join(&mut self, name: &str, link: LinkSpec) -> usize {
        self.peers.push(Peer {
            client: Client::new(ClientConfig::new(name)),
            conn: None,
            link,
            up: Pipe::default(),
            down: Pipe::default(),
            events: Vec::new(),
        });
        let i = self.peers.len() - 1;
        self.connect(i);
        i
    }

    /// Adds a player, connects it and puts its character at `pos`; returns its
    /// index. Scenarios use it to set up a cast of bots in exact places (the
    /// character enters at the spawn point first, so its client hears two
    /// `ZoneEntered`: the spawn, then the placement).
    pub fn join_at(&mut self, name: &str, link: LinkSpec, pos: Vec2) -> usize {
        let i = self.join(name, link);
        self.place(i, pos);
        i
    }

    /// Opens a new connection for peer `i` (after a drop, this resumes).
    pub fn connect(&mut self, i: usize) {
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        let p = &mut self.peers[i];
        p.conn = Some(conn);
        p.up = Pipe::default();
        p.down = Pipe::default();
        p.client.connect(self.now);
        self.node.handle_connect(self.now, conn);
        self.pump();
    }

    /// Cuts peer `i`'s connection abruptly (both ends learn at once).
    pub fn drop_connection(&mut self, i: usize) {
        if let Some(conn) = self.peers[i].conn.take() {
            self.peers[i].up = Pipe::default();
            self.peers[i].down = Pipe::default();
            self.node.handle_disconnect(self.now, conn);
            self.peers[i].client.handle_connection_lost(self.now);
            self.pump();
        }
    }

    /// Puts peer `i`'s character at `pos` (the operator's teleport), for
    /// scenarios that need people in exact places.
    pub fn place(&mut self, i: usize, pos: Vec2) {
        if let Some(player) = self.peers[i].client.player() {
            self.node
                .teleport(self.now, player, pos)
                .expect("peer is in the world");
            self.pump();
        }
    }

    /// The server-side position of peer `i`'s character.
    pub fn server_position(&self, i: usize) -> Option<Vec2> {
        let player = self.peers[i].client.player()?;
        self.position_of_player(player)
    }

    pub fn position_of_player(&self, player: PlayerId) -> Option<Vec2> {
        let at = self.node.player(player)?.location?;
        self.node.world().zone(at.zone)?.position(at.entity)
    }

    /// The entity id of peer `i`'s character.
    pub fn entity_of(&self, i: usize) -> Option<EntityId> {
        Some(self.peers[i].client.avatar()?.entity)
    }

    /// Moves every due byte across the links until nothing more is due now.
    pub fn pump(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..self.peers.len() {
                if let Some(bytes) = self.peers[i].client.poll_transmit() {
                    let p = &mut self.peers[i];
                    p.up.push(self.now, Item::Bytes(bytes), &p.link, &[], &mut self.rng);
                }
                while let Some(Item::Bytes(bytes)) = self.peers[i].up.pop_due(self.now) {
                    if let Some(conn) = self.peers[i].conn {
                        self.node.handle_bytes(self.now, conn, &bytes);
                        moved = true;
                    }
                }
            }
            while let Some(out) = self.node.poll_output() {
                let Some(out) = self.in_process.serve(&mut self.node, self.now, out) else {
                    continue;
                };
                match out {
                    Output::Transmit { conn, bytes } => {
                        self.node.handle_flushed(conn, bytes.len());
                        if let Some(i) = self.peers.iter().position(|p| p.conn == Some(conn)) {
                            if self.record_frames {
                                self.frames.push((self.now, i, bytes.clone()));
                            }
                            let p = &mut self.peers[i];
                            p.down
                                .push(self.now, Item::Bytes(bytes), &p.link, &[], &mut self.rng);
                        }
                    }
                    Output::Close { conn, .. } => {
                        if let Some(p) = self.peers.iter_mut().find(|p| p.conn == Some(conn)) {
                            p.conn = None;
                        }
                    }
                    Output::Event(_) => {}
                    // Served in process above.
                    Output::Persist(_) | Output::Publish(_) | Output::Subscribe(_) => {}
                }
            }
            for p in &mut self.peers {
                while let Some(Item::Bytes(bytes)) = p.down.pop_due(self.now) {
                    p.client.handle_bytes(self.now, &bytes);
                    moved = true;
                }
                while let Some(e) = p.client.poll_event() {
                    p.events.push((self.now, e));
                }
            }
            if !moved {
                break;
            }
        }
    }

    /// Runs every event up to `end`, calling `each` at every multiple of `every`
    /// (a frame or input cadence) so the test can move clients and look at them.
    pub fn run(&mut self, end: Instant, every: Duration, mut each: impl FnMut(&mut Lab)) {
        let mut next_frame = self.now + every;
        loop {
            let mut next = next_frame;
            let candidates = [self.node.poll_timeout()]
                .into_iter()
                .chain(
                    self.peers
                        .iter()
                        .flat_map(|p| [p.client.poll_timeout(), p.up.next_at(), p.down.next_at()]),
                )
                .flatten();
            for t in candidates {
                next = next.min(t);
            }
            if next > end {
                self.now = end;
                return;
            }
            self.now = self.now.max(next);
            self.node.handle_timeout(self.now);
            for p in &mut self.peers {
                p.client.handle_timeout(self.now);
            }
            self.pump();
            if self.now >= next_frame {
                next_frame += every;
                each(self);
                self.pump();
            }
        }
    }
}
