//! The admin port of a real server on loopback: `/metrics` names what it
//! should and follows what happens; `/healthz` answers.

mod common;

use common::RawClient;
use common::Received;
use game_core::content::SAMPLE_CONTENT;
use game_core::protocol::{
    ClientCombat, ClientMsg, ClientSession, EntityKind, QPos, ServerCombat, ServerMsg, ServerWorld,
    SkillRefusal,
};
use net_adapter::{serve_admin, serve_with_metrics, Metrics, ServerConfig};
use sim::socket_tools::scrape::{self, Buckets, Sample};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

async fn get(admin: SocketAddr, path: &'static str) -> (u16, String) {
    tokio::task::spawn_blocking(move || {
        scrape::http_get(admin, path, Duration::from_secs(5)).expect("the admin port answers")
    })
    .await
    .unwrap()
}

async fn samples(admin: SocketAddr) -> Vec<Sample> {
    let (status, body) = get(admin, "/metrics").await;
    assert_eq!(status, 200, "{body}");
    scrape::parse(&body)
}

fn value(samples: &[Sample], name: &str, label: Option<(&str, &str)>) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| label.is_none_or(|(k, v)| s.label(k) == Some(v)))
        .map(|s| s.value)
        .sum()
}

/// Scrapes until `check` holds (the core loop refreshes every 500 ms); panics
/// with the last page after 10 s.
async fn until(admin: SocketAddr, what: &str, check: impl Fn(&[Sample]) -> bool) -> Vec<Sample> {
    let mut last = Vec::new();
    for _ in 0..100 {
        last = samples(admin).await;
        if check(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} never happened; last scrape: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_logins_moves_ticks_and_disconnects() {
    let game = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = game.local_addr().unwrap();
    let admin_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = admin_listener.local_addr().unwrap();
    let metrics = Arc::new(Metrics::new());
    let admin_task = tokio::spawn(serve_admin(admin_listener, Arc::clone(&metrics), None));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = ServerConfig {
        status_interval_s: 0,
        ..ServerConfig::default()
    };
    let server = tokio::spawn(serve_with_metrics(
        game,
        config,
        1,
        async move {
            let _ = stopped.await;
        },
        metrics,
    ));

    let (status, body) = get(admin, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert_eq!(get(admin, "/nothing").await.0, 404);

    let before = until(admin, "a first refresh", |s| {
        s.iter().any(|x| x.name == "mmo_sessions")
    })
    .await;
    for name in [
        "mmo_ticks_total",
        "mmo_tick_overruns_total",
        "mmo_tick_overrun_streak_max",
        "mmo_received_bytes_total",
        "mmo_sent_bytes_total",
        "mmo_received_messages_total",
        "mmo_sent_messages_total",
        "mmo_event_queue_depth",
        "mmo_event_queue_capacity",
        "mmo_outbound_bytes",
    ] {
        assert!(before.iter().any(|s| s.name == name), "{name} missing");
    }
    assert_eq!(
        value(&before, "mmo_sessions", Some(("state", "in_world"))),
        0.0
    );
    assert_eq!(value(&before, "mmo_event_queue_capacity", None), 8192.0);

    // A player logs in, enters the world and walks: sessions, bytes, messages
    // and zone ticks all show it.
    let mut c = RawClient::new(TcpStream::connect(addr).await.unwrap());
    c.login("ada").await;
    let entered = c.enter("ada").await;
    let during = until(admin, "the player in the world, ticking", |s| {
        value(s, "mmo_sessions", Some(("state", "in_world"))) == 1.0
            && Buckets::of(s, "mmo_tick_duration_seconds").count() > 0.0
    })
    .await;
    assert!(value(&during, "mmo_received_bytes_total", None) > 0.0);
    assert!(value(&during, "mmo_received_messages_total", None) >= 3.0);
    assert!(value(&during, "mmo_sent_messages_total", None) >= 3.0);
    assert!(value(&during, "mmo_ticks_total", None) > 0.0);
    assert_eq!(
        value(&during, "mmo_players", Some(("state", "connected"))),
        1.0
    );
    assert_eq!(
        value(
            &during,
            "mmo_zone_players",
            Some(("map", entered.map.as_str()))
        ),
        1.0
    );
    let zone = entered.zone.0.to_string();
    assert!(during
        .iter()
        .any(|s| s.name == "mmo_tick_duration_seconds_count"
            && s.label("zone") == Some(zone.as_str())
            && s.value > 0.0));

    // It leaves: the session gauge falls and the disconnect is counted by reason.
    c.send(&[ClientMsg::Session(ClientSession::Goodbye)]).await;
    let after = until(admin, "the goodbye counted", |s| {
        value(s, "mmo_disconnects_total", Some(("reason", "client_quit"))) == 1.0
    })
    .await;
    assert_eq!(value(&after, "mmo_sessions", None), 0.0);

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    admin_task.abort();
}

/// A content directory: the sample files, with the auto-attack strong enough
/// to kill at one blow and a slime beside the meadow's spawn point.
fn deadly_content() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in SAMPLE_CONTENT {
        let text = match *name {
            // The first skill is the auto-attack ("attack", power 8).
            "skills.toml" => text.replacen("power = 8\n", "power = 5000\n", 1),
            "meadow.spawns.toml" => format!(
                "{text}\n[[group]]\nmonster = \"slime\"\ncell = [41, 60]\ncount = 1\n\
                 radius_cells = 0\nrespawn_ms = 1000\n"
            ),
            _ => text.to_string(),
        };
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

trait Refused {
    /// Reads until a `SkillRefused` for `reason`.
    async fn refused(&mut self, reason: SkillRefusal);
}

impl Refused for RawClient<TcpStream> {
    async fn refused(&mut self, reason: SkillRefusal) {
        loop {
            match self.recv_skipping_pings().await {
                Received::Msg(ServerMsg::Combat(ServerCombat::SkillRefused {
                    reason: r, ..
                })) if r == reason => return,
                Received::Msg(_) => {}
                Received::Closed => panic!("closed before a {reason:?} refusal"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_combat() {
    let content = deadly_content();
    let mut config = ServerConfig {
        status_interval_s: 0,
        content_dir: content.path().to_owned(),
        ..ServerConfig::default()
    };
    // Arrive on the spawn point itself, 2 m from the slime.
    config.node.world.zone.spawn_spread_m = 0;
    let game = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = game.local_addr().unwrap();
    let admin_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = admin_listener.local_addr().unwrap();
    let metrics = Arc::new(Metrics::new());
    let admin_task = tokio::spawn(serve_admin(admin_listener, Arc::clone(&metrics), None));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_with_metrics(
        game,
        config,
        1,
        async move {
            let _ = stopped.await;
        },
        metrics,
    ));

    let before = until(admin, "a first refresh", |s| {
        s.iter().any(|x| x.name == "mmo_skill_refusals_total")
    })
    .await;
    for name in [
        "mmo_skills_used_total",
        "mmo_skill_hits_total",
        "mmo_casts_interrupted_total",
        "mmo_combat_requests_dropped_total",
        "mmo_monsters_killed_total",
        "mmo_player_deaths_total",
        "mmo_experience_granted_total",
        "mmo_combat_events_dropped_total",
    ] {
        assert_eq!(value(&before, name, None), 0.0, "{name}: {before:?}");
        assert!(before.iter().any(|s| s.name == name), "{name} missing");
    }
    for reason in SkillRefusal::ALL {
        let label = Some(("reason", reason.label()));
        assert!(
            before
                .iter()
                .any(|s| s.name == "mmo_skill_refusals_total"
                    && s.label("reason") == label.map(|l| l.1)),
            "{reason:?} missing"
        );
    }

    let mut c = RawClient::new(TcpStream::connect(addr).await.unwrap());
    c.login("ada").await;
    let entered = c.enter("ada").await;
    let here = QPos::from_pos(entered.pos);
    // The nearest monster it is shown.
    let slime = loop {
        match c.recv_skipping_pings().await {
            Received::Msg(ServerMsg::World(ServerWorld::WorldUpdate(u))) => {
                let nearest = u
                    .spawns
                    .iter()
                    .filter(|s| s.kind == EntityKind::Monster)
                    .min_by_key(|s| {
                        let (dx, dy) = ((s.pos.x - here.x) as i64, (s.pos.y - here.y) as i64);
                        dx * dx + dy * dy
                    });
                if let Some(s) = nearest {
                    break s.entity;
                }
            }
            Received::Msg(_) => {}
            Received::Closed => panic!("closed before seeing a monster"),
        }
    };
    // Twelve skills that do not exist in one write: at most 4 a tick are
    // judged (unknown_skill), the next is refused too_fast, the rest of
    // that tick's dropped. Once told so, an enemy skill with no target
    // (invalid_target); once told that, the auto-attack on the slime.
    let unknown = ClientMsg::Combat(ClientCombat::UseSkill {
        skill: 999,
        target: None,
    });
    c.send(&vec![unknown; 12]).await;
    c.refused(SkillRefusal::TooFast).await;
    c.send(&[ClientMsg::Combat(ClientCombat::UseSkill {
        skill: 0,
        target: None,
    })])
    .await;
    c.refused(SkillRefusal::InvalidTarget).await;
    c.send(&[ClientMsg::Combat(ClientCombat::Attack { target: slime })])
        .await;
    let refusal =
        |s: &[Sample], reason: &str| value(s, "mmo_skill_refusals_total", Some(("reason", reason)));
    let after = until(admin, "the slime killed and the refusals counted", |s| {
        value(s, "mmo_monsters_killed_total", None) >= 1.0
            && refusal(s, "invalid_target") >= 1.0
            && refusal(s, "too_fast") >= 1.0
    })
    .await;
    assert!(refusal(&after, "unknown_skill") >= 4.0, "{after:?}");
    assert!(value(&after, "mmo_combat_requests_dropped_total", None) >= 1.0);
    assert!(value(&after, "mmo_skills_used_total", None) >= 1.0);
    assert!(value(&after, "mmo_skill_hits_total", None) >= 1.0);
    // The sample slime gives 20 experience; the character alone fought it.
    assert!(value(&after, "mmo_experience_granted_total", None) >= 20.0);
    assert_eq!(value(&after, "mmo_player_deaths_total", None), 0.0);

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    admin_task.abort();
    drop(content);
}
