//! Metrics of the economy: transactions by kind (the request's label, or
//! `trade`, `loot`, `grant`, `mission`) and result (`committed`, `refused`,
//! `conflict`, `retried`), refusals sent by reason, and what acknowledged
//! transactions created and destroyed: items by source and sink, gold by
//! source and sink. A dashboard's books: created minus destroyed is what
//! players hold (a deleted character's belongings excepted: the store's
//! ledger has those).

use game_core::economy::{Sink, Source};
use game_core::node::{Node, TxKind, TxResult};
use game_core::protocol::EconomyRefusal;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::{set, Labels};

#[derive(Debug, Default)]
pub(super) struct EconomyMetrics {
    transactions: Family<Labels, Counter>,
    refusals: Family<Labels, Counter>,
    items_created: Family<Labels, Counter>,
    items_destroyed: Family<Labels, Counter>,
    gold_created: Family<Labels, Counter>,
    gold_destroyed: Family<Labels, Counter>,
}

fn kind_result(kind: TxKind, result: TxResult) -> Labels {
    vec![
        ("kind", kind.label().to_string()),
        ("result", result.label().to_string()),
    ]
}

fn one(key: &'static str, value: &str) -> Labels {
    vec![(key, value.to_string())]
}

impl EconomyMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "economy_transactions",
            "Economy transactions and requests by kind and result: committed (the store has it), \
             refused (nothing changed), conflict (dropped, the inventory reloaded), retried (sent again)",
            self.transactions.clone(),
        );
        r.register(
            "economy_refusals",
            "Economy requests refused, by reason",
            self.refusals.clone(),
        );
        r.register(
            "items_created",
            "Items created by acknowledged transactions, by source",
            self.items_created.clone(),
        );
        r.register(
            "items_destroyed",
            "Items destroyed by acknowledged transactions, by sink",
            self.items_destroyed.clone(),
        );
        r.register(
            "gold_created",
            "Gold created by acknowledged transactions, by source",
            self.gold_created.clone(),
        );
        r.register(
            "gold_destroyed",
            "Gold destroyed by acknowledged transactions, by sink",
            self.gold_destroyed.clone(),
        );
        // Every label is exported from the start, at 0 until it happens.
        self.refresh_from(&Default::default());
    }

    /// Copies the node's economy counters.
    pub(super) fn refresh(&self, node: &Node) {
        self.refresh_from(&node.stats().economy);
    }

    fn refresh_from(&self, s: &game_core::node::EconomyStats) {
        for kind in TxKind::ALL {
            for result in TxResult::ALL {
                let c = self.transactions.get_or_create(&kind_result(kind, result));
                set(&c, s.of(kind, result));
            }
        }
        for reason in EconomyRefusal::ALL {
            let c = self.refusals.get_or_create(&one("reason", reason.label()));
            set(&c, s.refused_for(reason));
        }
        for (i, source) in Source::ALL.into_iter().enumerate() {
            let labels = one("source", source.label());
            set(
                &self.items_created.get_or_create(&labels),
                s.items_created[i],
            );
            set(&self.gold_created.get_or_create(&labels), s.gold_created[i]);
        }
        for (i, sink) in Sink::ALL.into_iter().enumerate() {
            let labels = one("sink", sink.label());
            set(
                &self.items_destroyed.get_or_create(&labels),
                s.items_destroyed[i],
            );
            set(
                &self.gold_destroyed.get_or_create(&labels),
                s.gold_destroyed[i],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::metrics::Metrics;
    use game_core::client::{Client, ClientConfig};
    use game_core::ids::ConnId;
    use game_core::node::{InProcess, Node, NodeConfig, Output};
    use game_core::protocol::ClientEconomy;
    use game_core::time::{Duration, Instant};

    fn value(text: &str, line: &str) -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{line} missing from:\n{text}"))
    }

    /// One player buys, sells, and sends a replayed and an impossible
    /// request; an operator grants it gold: every family follows.
    #[test]
    fn economy_families_are_exported_and_follow_the_books() {
        let mut node = Node::new(NodeConfig::default(), 1).expect("a valid config");
        let mut store = InProcess::default();
        let mut client = Client::new(ClientConfig::new("buyer"));
        let mut now = Instant::ZERO;
        client.connect(now);
        node.handle_connect(now, ConnId(1));
        let mut run = |node: &mut Node, client: &mut Client, now: &mut Instant, ms: u64| {
            let end = *now + Duration::from_millis(ms);
            while *now < end {
                *now += Duration::from_millis(50);
                node.handle_timeout(*now);
                client.handle_timeout(*now);
                for _ in 0..100 {
                    while let Some(bytes) = client.poll_transmit() {
                        node.handle_bytes(*now, ConnId(1), &bytes);
                    }
                    let mut any = false;
                    while let Some(out) = node.poll_output() {
                        if let Some(Output::Transmit { conn, bytes }) = store.serve(node, *now, out)
                        {
                            node.handle_flushed(conn, bytes.len());
                            client.handle_bytes(*now, &bytes);
                            any = true;
                        }
                    }
                    if !any {
                        break;
                    }
                }
            }
        };
        run(&mut node, &mut client, &mut now, 1_000);
        let m = Metrics::new();
        m.refresh(&node, (0, 0, 1), 0, 0);
        let text = m.render();
        for line in [
            "mmo_economy_transactions_total{kind=\"buy\",result=\"committed\"} 0",
            "mmo_economy_transactions_total{kind=\"trade\",result=\"conflict\"} 0",
            "mmo_economy_transactions_total{kind=\"mission\",result=\"retried\"} 0",
            "mmo_economy_refusals_total{reason=\"replayed\"} 0",
            "mmo_economy_refusals_total{reason=\"no_stones\"} 0",
            "mmo_items_created_total{source=\"pass_reward\"} 0",
            "mmo_items_destroyed_total{sink=\"enhancement\"} 0",
            "mmo_gold_created_total{source=\"loot\"} 0",
            "mmo_gold_destroyed_total{sink=\"deleted\"} 0",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }

        node.grant(now, "buyer", "gold", 100).expect("online");
        run(&mut node, &mut client, &mut now, 200);
        // A potion (offer 0: 10 gold), sold back (2 gold), then the same
        // number again and a slot that does not exist.
        client.economy_request_raw(ClientEconomy::Buy { req: 1, offer: 0 });
        run(&mut node, &mut client, &mut now, 200);
        let slot = client.economy().stacks().next().expect("the potion").0;
        for request in [
            ClientEconomy::Sell {
                req: 2,
                slot,
                count: 1,
            },
            ClientEconomy::Sell {
                req: 2,
                slot,
                count: 1,
            },
            ClientEconomy::Move {
                req: 3,
                from: 999,
                to: 0,
            },
        ] {
            client.economy_request_raw(request);
            run(&mut node, &mut client, &mut now, 200);
        }
        m.refresh(&node, (0, 0, 1), 0, 0);
        let text = m.render();
        let tx = |kind: &str, result: &str| {
            value(
                &text,
                &format!("mmo_economy_transactions_total{{kind=\"{kind}\",result=\"{result}\"}}"),
            )
        };
        assert_eq!(tx("grant", "committed"), 1);
        assert_eq!(tx("buy", "committed"), 1);
        assert_eq!(tx("sell", "committed"), 1);
        assert_eq!(tx("sell", "refused"), 1);
        assert_eq!(tx("move", "refused"), 1);
        let reason = |r: &str| {
            value(
                &text,
                &format!("mmo_economy_refusals_total{{reason=\"{r}\"}}"),
            )
        };
        assert_eq!((reason("replayed"), reason("no_item")), (1, 1));
        let books = |family: &str, key: &str, label: &str| {
            value(&text, &format!("mmo_{family}_total{{{key}=\"{label}\"}}"))
        };
        assert_eq!(books("gold_created", "source", "grant"), 100);
        assert_eq!(books("gold_destroyed", "sink", "shop"), 10);
        assert_eq!(books("gold_created", "source", "shop"), 2);
        assert_eq!(books("items_created", "source", "shop"), 1);
        assert_eq!(books("items_destroyed", "sink", "shop"), 1);
        assert_eq!(client.economy().gold(), 92);
    }
}
