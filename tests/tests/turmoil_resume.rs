//! The real adapter inside turmoil: a server host and two client hosts on links
//! with latency; one client is partitioned for longer than the idle timeout, both
//! ends notice, and after the partition heals the client reconnects and resumes
//! the same player. The other client never notices. Seeded, so deterministic.

use game_core::client::ClientConfig;
use game_core::protocol::DisconnectReason;
use net_adapter::{serve, ServerConfig};
use sim::socket_tools::bot::{run_bot, BotOutcome, OnDrop, SocketPolicy};
use sim::socket_tools::load_report::LoadReport;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PORT: u16 = 7777;

fn run_partition_scenario(seed: u64) -> BTreeMap<String, BotOutcome> {
    let mut sim = turmoil::Builder::new()
        .simulation_duration(Duration::from_secs(120))
        .min_message_latency(Duration::from_millis(5))
        .max_message_latency(Duration::from_millis(40))
        .rng_seed(seed)
        .build();
    sim.host("server", || async {
        let listener = turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?;
        let config = ServerConfig {
            status_interval_s: 0,
            ..ServerConfig::default()
        };
        serve(listener, config, 1, std::future::pending()).await?;
        Ok(())
    });
    let outcomes = Arc::new(Mutex::new(BTreeMap::new()));
    for name in ["near", "far"] {
        let outcomes = Arc::clone(&outcomes);
        sim.client(name, async move {
            let epoch = tokio::time::Instant::now();
            let connect = || async {
                // A connect into a partition may never be answered: give up after 2 s.
                tokio::time::timeout(
                    Duration::from_secs(2),
                    turmoil::net::TcpStream::connect(("server", PORT)),
                )
                .await
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
            };
            let outcome = run_bot(
                ClientConfig::new(name),
                connect,
                epoch,
                epoch + Duration::from_secs(60),
                OnDrop::Reconnect {
                    retry_after: Duration::from_secs(1),
                },
                SocketPolicy::idle(),
            )
            .await;
            outcomes.lock().unwrap().insert(name.to_string(), outcome);
            Ok(())
        });
    }
    let step_until = |sim: &mut turmoil::Sim, t: u64| {
        while sim.elapsed() < Duration::from_secs(t) {
            sim.step().unwrap();
        }
    };
    step_until(&mut sim, 10);
    // 20 s of partition: longer than the 15 s idle timeout, shorter than the
    // 15 + 30 s the player is kept.
    sim.partition("server", "far");
    step_until(&mut sim, 30);
    sim.repair("server", "far");
    while !sim.step().unwrap() {}
    let result = outcomes.lock().unwrap().clone();
    result
}

#[test]
fn partition_past_the_idle_timeout_then_reconnect_resumes() {
    let outcomes = run_partition_scenario(7);
    let near = &outcomes["near"];
    assert!(near.disconnects.is_empty(), "{near:?}");
    assert_eq!(near.welcomes, 1);
    assert!(near.connected_at_end);

    let far = &outcomes["far"];
    assert_eq!(
        far.disconnects,
        vec![DisconnectReason::IdleTimeout],
        "the client noticed the silence itself: {far:?}"
    );
    assert_eq!(far.resumes, 1, "{far:?}");
    assert_eq!(far.players.len(), 2);
    assert_eq!(
        far.players[0], far.players[1],
        "same player after the resume"
    );
    assert!(far.connected_at_end, "{far:?}");
    // Median RTT reflects the configured 5-40 ms one-way latency.
    let mut rtts = far.rtt_samples_us.clone();
    rtts.sort_unstable();
    let median = rtts[rtts.len() / 2];
    assert!(
        (10_000..=80_000).contains(&median),
        "median rtt {median} us"
    );
}

#[test]
fn an_idle_timeout_recovered_by_resuming_is_not_an_unexpected_disconnect() {
    // What `mmo-bots --reconnect` reports for the partitioned bot: it lost its
    // connection to the idle timeout, came back and resumed the same player.
    let outcomes = run_partition_scenario(7);
    let far = &outcomes["far"];
    assert_eq!(far.disconnects, vec![DisconnectReason::IdleTimeout]);
    assert_eq!(far.resumes, 1, "{far:?}");
    let report = LoadReport::summarise(std::slice::from_ref(far), 60.0);
    assert_eq!(report.unexpected_disconnects, 0, "{report:?}");
    assert!(report.clean(), "mmo-bots would exit non-zero: {report:?}");
    // The disconnect is still reported, by its reason.
    assert_eq!(report.disconnects.get("idle_timeout"), Some(&1));
}

#[test]
fn same_seed_same_outcome() {
    let a = run_partition_scenario(11);
    let b = run_partition_scenario(11);
    let summary = |o: &BTreeMap<String, BotOutcome>| {
        o.iter()
            .map(|(k, v)| (k.clone(), v.rtt_samples_us.clone(), v.disconnects.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&a), summary(&b));
}
