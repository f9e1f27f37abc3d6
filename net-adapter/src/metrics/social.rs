//! Metrics of the social layer: chat lines accepted by channel, copies of
//! social messages delivered, refusals by reason, chat lines shed for slow
//! readers, friendships made, parties formed and guilds founded, store
//! changes that failed, and the parties and guilds held in memory.

use game_core::node::Node;
use game_core::protocol::{ChatChannel, SocialRefusal};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::{set, Labels};

#[derive(Debug, Default)]
pub(super) struct SocialMetrics {
    chat_lines: Family<Labels, Counter>,
    deliveries: Counter,
    refusals: Family<Labels, Counter>,
    chat_shed: Counter,
    friendships_made: Counter,
    parties_formed: Counter,
    guilds_founded: Counter,
    store_failures: Counter,
    parties: Gauge,
    guilds: Gauge,
}

impl SocialMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "chat_lines",
            "Chat lines accepted, by channel (system: the operator's)",
            self.chat_lines.clone(),
        );
        r.register(
            "social_deliveries",
            "Copies of social messages handed to players' sessions (a line to ten is ten)",
            self.deliveries.clone(),
        );
        r.register(
            "social_refusals",
            "Social requests refused, by reason",
            self.refusals.clone(),
        );
        r.register(
            "chat_shed",
            "Chat lines dropped for clients too slow to read them (told by ChatMissed)",
            self.chat_shed.clone(),
        );
        r.register(
            "friendships_made",
            "Friendships the store confirmed",
            self.friendships_made.clone(),
        );
        r.register(
            "parties_formed",
            "Parties formed (a first invitation accepted)",
            self.parties_formed.clone(),
        );
        r.register(
            "guilds_founded",
            "Guilds the store founded",
            self.guilds_founded.clone(),
        );
        r.register(
            "social_store_failures",
            "Social store changes that failed or timed out (each retried or refused)",
            self.store_failures.clone(),
        );
        r.register("social_parties", "Parties in being", self.parties.clone());
        r.register(
            "social_guilds",
            "Guilds held in memory (those with a member on this server)",
            self.guilds.clone(),
        );
        // Every channel and reason is exported from the start, at 0 until it happens.
        for channel in ChatChannel::ALL {
            let _ = self
                .chat_lines
                .get_or_create(&vec![("channel", channel.label().to_string())]);
        }
        for reason in SocialRefusal::ALL {
            let _ = self
                .refusals
                .get_or_create(&vec![("reason", reason.label().to_string())]);
        }
    }

    /// Copies the social layer's counters, and the chat shed by every
    /// session the node has had (its sum of closed ones plus the open ones,
    /// as the message totals are kept).
    pub(super) fn refresh(&self, node: &Node) {
        let social = node.social();
        let s = social.stats();
        for (channel, n) in ChatChannel::ALL.iter().zip(s.lines) {
            set(
                &self
                    .chat_lines
                    .get_or_create(&vec![("channel", channel.label().to_string())]),
                n,
            );
        }
        set(&self.deliveries, s.deliveries);
        for (reason, n) in &s.refusals {
            set(
                &self
                    .refusals
                    .get_or_create(&vec![("reason", reason.to_string())]),
                *n,
            );
        }
        set(&self.chat_shed, node.chat_shed_total());
        set(&self.friendships_made, s.friendships_made);
        set(&self.parties_formed, s.parties_formed);
        set(&self.guilds_founded, s.guilds_founded);
        set(&self.store_failures, s.store_failures);
        self.parties.set(social.party_count() as i64);
        self.guilds.set(social.guild_count() as i64);
    }
}

#[cfg(test)]
mod tests {
    use crate::metrics::Metrics;
    use game_core::client::{Client, ClientConfig};
    use game_core::ids::ConnId;
    use game_core::node::{InProcess, Node, NodeConfig, Output};
    use game_core::protocol::{ChatChannel, ClientSocial};
    use game_core::time::{Duration, Instant};

    /// Two players on one node: the reader reads everything, the other never
    /// reads (its writes are never flushed).
    struct Pair {
        node: Node,
        store: InProcess,
        clients: [Client; 2],
        now: Instant,
    }

    impl Pair {
        fn new(config: NodeConfig) -> Pair {
            let mut p = Pair {
                node: Node::new(config, 1).expect("a valid config"),
                store: InProcess::default(),
                clients: [
                    Client::new(ClientConfig::new("reader")),
                    Client::new(ClientConfig::new("sleeper")),
                ],
                now: Instant::ZERO,
            };
            for i in 0..2 {
                p.clients[i].connect(p.now);
                p.node.handle_connect(p.now, ConnId(i as u64 + 1));
            }
            p.run(Duration::from_millis(1_000));
            p
        }

        fn pump(&mut self) {
            for _ in 0..100 {
                for (i, c) in self.clients.iter_mut().enumerate() {
                    while let Some(bytes) = c.poll_transmit() {
                        self.node
                            .handle_bytes(self.now, ConnId(i as u64 + 1), &bytes);
                    }
                }
                let mut any = false;
                while let Some(out) = self.node.poll_output() {
                    let Some(Output::Transmit { conn, bytes }) =
                        self.store.serve(&mut self.node, self.now, out)
                    else {
                        continue;
                    };
                    // The sleeper (connection 2) reads the first second only.
                    if conn == ConnId(1) || self.now < Instant::from_micros(1_000_000) {
                        self.node.handle_flushed(conn, bytes.len());
                        let c = &mut self.clients[conn.0 as usize - 1];
                        c.handle_bytes(self.now, &bytes);
                        any = true;
                    }
                }
                if !any {
                    return;
                }
            }
        }

        fn run(&mut self, span: Duration) {
            let end = self.now + span;
            while self.now < end {
                self.now += Duration::from_millis(50);
                self.node.handle_timeout(self.now);
                for c in &mut self.clients {
                    c.handle_timeout(self.now);
                }
                self.pump();
            }
        }
    }

    fn value(text: &str, name: &str) -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
    }

    #[test]
    fn social_families_are_exported_and_chat_shed_survives_the_session() {
        let mut config = NodeConfig::default();
        // Any backlog at all sheds the next chat line.
        config.session.max_chat_backlog_bytes = 1;
        let mut pair = Pair::new(config);
        assert!(
            pair.clients[0].social().loaded,
            "the reader is in the world"
        );
        for i in 0..3 {
            pair.clients[0].social_request(ClientSocial::Chat {
                channel: ChatChannel::Zone,
                text: format!("line {i}"),
            });
            pair.clients[0].social_request(ClientSocial::Chat {
                channel: ChatChannel::Party,
                text: "no party".into(),
            });
            pair.run(Duration::from_millis(200));
        }
        let m = Metrics::new();
        m.refresh(&pair.node, (0, 0, 1), 0, 0);
        let text = m.render();
        for name in [
            "mmo_chat_lines_total{channel=\"zone\"} 3",
            "mmo_chat_lines_total{channel=\"system\"} 0",
            "mmo_social_refusals_total{reason=\"not_in_party\"} 3",
            "mmo_social_refusals_total{reason=\"name_taken\"} 0",
            "mmo_friendships_made_total 0",
            "mmo_parties_formed_total 0",
            "mmo_guilds_founded_total 0",
            "mmo_social_store_failures_total 0",
            "mmo_social_parties 0",
            "mmo_social_guilds 0",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
        // Each line went to both (the speaker hears its own), and each
        // refusal back to the speaker; the sleeper, not reading, shed its
        // three lines (and the reader some: each tick's world update is
        // queued before its chat).
        assert!(value(&text, "mmo_social_deliveries_total") >= 9, "{text}");
        let sessions: u64 = pair.node.sessions().map(|s| s.stats().chat_shed).sum();
        let sleeper = pair.node.session(ConnId(2)).unwrap().stats().chat_shed;
        assert_eq!(sleeper, 3);
        assert_eq!(value(&text, "mmo_chat_shed_total"), sessions, "{text}");

        // The sleeper's connection ends: its shed lines stay counted.
        pair.node.handle_disconnect(pair.now, ConnId(2));
        pair.run(Duration::from_millis(100));
        assert!(pair.node.session(ConnId(2)).is_none());
        m.refresh(&pair.node, (0, 0, 1), 0, 0);
        assert_eq!(value(&m.render(), "mmo_chat_shed_total"), sessions);
    }
}
