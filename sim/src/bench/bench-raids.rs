//! `bench-raids`: raid instances on one node (issue 20's target), beside the
//! same players in the open world, measured in the same run.
//!
//! `cargo run --release -p sim --bin bench-raids [-- --quick] [--json FILE]`
//!
//! One `Node` with its in-process store, `--players` (default 2,000) raw
//! sessions logged in through the wire and walking in the open world. Then
//! waves: everyone queues for `ember_lair` (raids of 10: 2 tanks, 2 healers,
//! 6 damage), accepts its ready check, and is moved into one of 200
//! instances; in there each walks toward the boss, auto-attacks it and
//! casts firebolts at it while the boss, its adds and its area attacks
//! fight back. After `--fight-s` the members leave and the instances close.
//!
//! Time is virtual (20 ticks a second), but each tick's work (the node's
//! `handle_timeout` and the drain of its outputs) is timed by the wall
//! clock: target, a tick's p99 within the 50 ms tick with 200 instances
//! fighting; the baseline is the same players walking in the open world.
//! Resident memory (`/proc/self/statm`) is printed before the first wave and
//! after each wave: target, no growth once 1,000 instances have come and
//! gone (five waves of 200).

use clap::Parser;
use game_core::ids::{ConnId, EntityId};
use game_core::math::{Fixed, Vec2};
use game_core::node::{InProcess, Node, NodeConfig, Output};
use game_core::protocol::{
    encode_frame, ClientCombat, ClientMsg, ClientRaid, ClientSession, ClientWorld, Credentials,
    FrameDecoder, MoveInput, ServerMsg, ServerRaid, ServerSession, ServerWorld, MAX_CLIENT_PAYLOAD,
    MAX_SERVER_PAYLOAD, PROTOCOL_VERSION,
};
use game_core::raid::Role;
use game_core::time::{Duration, Instant};
use serde::Serialize;
use sim::report::Percentiles;
use std::time::Instant as Clock;

#[derive(Parser, Debug)]
#[command(
    name = "bench-raids",
    about = "Raid instances on one node: tick time and memory beside the open world"
)]
struct Args {
    /// Two waves of 20 s fights instead of five of 30 s.
    #[arg(long)]
    quick: bool,
    /// Players (ten per instance).
    #[arg(long, default_value_t = 2_000)]
    players: usize,
    /// Waves of instances (each opens players / 10).
    #[arg(long)]
    waves: Option<usize>,
    /// Virtual seconds each wave fights.
    #[arg(long)]
    fight_s: Option<u64>,
    /// Also write the results as JSON.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

const TICK: Duration = Duration::from_millis(50);
/// `ember_lair`, the sample's raid of 10.
const LAIR: u16 = 0;
/// Firebolt (skills.toml id 1): 25 m, 1.5 s cast.
const FIREBOLT: u16 = 1;
/// Players walk at 4 m/s (under the 6 m/s limit), one input per tick.
const STEP_RAW: i32 = 4 * 256 / 20;

/// One raw session: the node's wire, decoded as far as the bench needs.
struct Player {
    conn: ConnId,
    name: String,
    role: Role,
    decoder: FrameDecoder,
    in_world: bool,
    pos: Vec2,
    epoch: u16,
    seq: u32,
    /// Where it walks to: a point of the open map, or the boss.
    goal: Vec2,
    boss: Option<EntityId>,
    instance: Option<u64>,
    attacking: bool,
    next_cast: u64,
}

struct Bench {
    node: Node,
    served: InProcess,
    players: Vec<Player>,
    now: Instant,
    ticks: u64,
    out: Vec<u8>,
}

fn send(node: &mut Node, now: Instant, conn: ConnId, msgs: &[ClientMsg], out: &mut Vec<u8>) {
    out.clear();
    for m in msgs {
        encode_frame(m, MAX_CLIENT_PAYLOAD, out).expect("a client message fits");
    }
    node.handle_bytes(now, conn, out);
}

impl Bench {
    fn new(players: usize) -> Self {
        let mut config = NodeConfig::default();
        config.max_players = players as u32 + 100;
        config.max_sessions = players as u32 + 100;
        config.max_pending_intents = config.max_pending_intents.max(players as u32 * 2);
        config.store_busy_intents = config.max_pending_intents;
        // Every session's inputs go through; the bench is not a flood.
        config.session.rate_limit_per_second = 1_000;
        config.session.rate_limit_burst = 2_000;
        config.raid.max_instances = (players / 10 + 8) as u32;
        let node = Node::new(config, 11).expect("a valid config");
        let players = (0..players)
            .map(|i| Player {
                conn: ConnId(i as u64 + 1),
                name: format!("raider{i}"),
                role: match i % 10 {
                    0 | 1 => Role::Tank,
                    2 | 3 => Role::Healer,
                    _ => Role::Damage,
                },
                decoder: FrameDecoder::new(MAX_SERVER_PAYLOAD),
                in_world: false,
                pos: Vec2::ZERO,
                epoch: 0,
                seq: 0,
                goal: Vec2::ZERO,
                boss: None,
                instance: None,
                attacking: false,
                next_cast: 0,
            })
            .collect();
        Bench {
            node,
            served: InProcess::default(),
            players,
            now: Instant::ZERO,
            ticks: 0,
            out: Vec::new(),
        }
    }

    /// Everyone connects, logs in, creates a character and enters the world.
    fn log_in(&mut self) {
        for i in 0..self.players.len() {
            let p = &self.players[i];
            let (conn, name) = (p.conn, p.name.clone());
            self.node.handle_connect(self.now, conn);
            let msgs = [
                ClientMsg::Session(ClientSession::Hello {
                    protocol_version: PROTOCOL_VERSION,
                    client: "bench-raids".into(),
                }),
                ClientMsg::Session(ClientSession::Login {
                    credentials: Credentials::Dev { name },
                }),
            ];
            send(&mut self.node, self.now, conn, &msgs, &mut self.out);
            self.drain();
        }
        for _ in 0..40 {
            self.tick();
        }
        let entered = self.players.iter().filter(|p| p.in_world).count();
        assert_eq!(entered, self.players.len(), "everyone entered the world");
    }

    /// One tick: every player's inputs, then the node's timers (timed, with
    /// the drain of its outputs), then the players read what they got.
    /// Returns the node's time for the tick, in microseconds.
    fn tick(&mut self) -> u64 {
        self.ticks += 1;
        for i in 0..self.players.len() {
            self.act(i);
        }
        self.now += TICK;
        let start = Clock::now();
        self.node.handle_timeout(self.now);
        let mut outputs = Vec::new();
        while let Some(out) = self.node.poll_output() {
            if let Some(out) = self.served.serve(&mut self.node, self.now, out) {
                outputs.push(out);
            }
        }
        let spent = start.elapsed().as_micros() as u64;
        for out in outputs {
            self.read(out);
        }
        spent
    }

    fn drain(&mut self) {
        while let Some(out) = self.node.poll_output() {
            if let Some(out) = self.served.serve(&mut self.node, self.now, out) {
                self.read(out);
            }
        }
    }

    fn read(&mut self, out: Output) {
        let Output::Transmit { conn, bytes } = out else {
            return;
        };
        let i = conn.0 as usize - 1;
        self.node.handle_flushed(conn, bytes.len());
        let mut input = &bytes[..];
        let mut replies = Vec::new();
        while let Ok(Some(payload)) = self.players[i].decoder.decode(&mut input) {
            let Ok(msg) = ServerMsg::decode(payload) else {
                continue;
            };
            let p = &mut self.players[i];
            match msg {
                ServerMsg::Session(ServerSession::Characters { characters, .. }) => {
                    replies.push(ClientMsg::Session(match characters.first() {
                        Some(c) => ClientSession::EnterWorld { character: c.id },
                        None => ClientSession::CreateCharacter {
                            name: format!("{}c", p.name),
                        },
                    }));
                }
                ServerMsg::Session(ServerSession::Ping {
                    seq,
                    server_time_us,
                }) => replies.push(ClientMsg::Session(ClientSession::Pong {
                    seq,
                    server_time_us,
                    client_time_us: server_time_us,
                })),
                ServerMsg::World(ServerWorld::ZoneEntered(z)) => {
                    p.in_world = true;
                    p.pos = z.pos;
                    p.epoch = z.epoch;
                    p.goal = p.pos;
                    p.attacking = false;
                }
                ServerMsg::World(ServerWorld::WorldUpdate(u)) => {
                    if let Some(c) = u.correction {
                        p.pos = c.pos;
                        p.epoch = c.epoch;
                    }
                }
                ServerMsg::Raid(ServerRaid::ReadyCheck { ready, .. }) => {
                    replies.push(ClientMsg::Raid(ClientRaid::Accept { ready }));
                }
                ServerMsg::Raid(ServerRaid::Entered(v)) => {
                    p.instance = Some(v.instance);
                    p.boss = v.boss;
                    // The boss stands at cell (32, 15) of 2 m cells.
                    p.goal = Vec2::from_ints(62, 31);
                }
                ServerMsg::Raid(ServerRaid::Left { .. }) => {
                    p.instance = None;
                    p.boss = None;
                }
                _ => {}
            }
        }
        if !replies.is_empty() {
            let conn = self.players[i].conn;
            send(&mut self.node, self.now, conn, &replies, &mut self.out);
        }
    }

    /// A player's inputs for one tick: a step toward its goal; in a raid,
    /// auto-attack and a firebolt now and then once near the boss.
    fn act(&mut self, i: usize) {
        let tick = self.ticks;
        let p = &mut self.players[i];
        if !p.in_world {
            return;
        }
        let mut msgs = Vec::with_capacity(3);
        let d = p.goal - p.pos;
        let len = (d.length_squared_raw() as u64).isqrt() as i32;
        if len > 2 * 256 {
            let step = Vec2::new(
                Fixed::from_raw((d.x.raw() as i64 * STEP_RAW as i64 / len as i64) as i32),
                Fixed::from_raw((d.y.raw() as i64 * STEP_RAW as i64 / len as i64) as i32),
            );
            p.pos = p.pos + step;
            p.seq += 1;
            msgs.push(ClientMsg::World(ClientWorld::Move(MoveInput {
                seq: p.seq,
                epoch: p.epoch,
                client_time_us: tick * 50_000,
                pos: p.pos,
                vel: Vec2::new(
                    Fixed::from_raw(step.x.raw() * 20),
                    Fixed::from_raw(step.y.raw() * 20),
                ),
            })));
        }
        if let Some(boss) = p.boss {
            if len < 24 * 256 && tick >= p.next_cast {
                p.next_cast = tick + 40;
                msgs.push(ClientMsg::Combat(ClientCombat::UseSkill {
                    skill: FIREBOLT,
                    target: Some(boss),
                }));
            }
            if len <= 2 * 256 && !p.attacking {
                p.attacking = true;
                msgs.push(ClientMsg::Combat(ClientCombat::Attack { target: boss }));
            }
        }
        if !msgs.is_empty() {
            let conn = p.conn;
            send(&mut self.node, self.now, conn, &msgs, &mut self.out);
        }
    }

    /// Players in the open world wander between points around the spawn.
    fn wander_goals(&mut self) {
        let tick = self.ticks;
        for (i, p) in self.players.iter_mut().enumerate() {
            if p.instance.is_none() && (tick + i as u64) % 100 == 0 {
                let dx = ((i * 7 + tick as usize) % 21) as i32 - 10;
                let dy = ((i * 13 + tick as usize) % 21) as i32 - 10;
                p.goal = p.pos + Vec2::from_ints(dx, dy);
            }
        }
    }

    fn queue_everyone(&mut self) {
        for i in 0..self.players.len() {
            let p = &self.players[i];
            let msg = ClientMsg::Raid(ClientRaid::Queue {
                raid: LAIR,
                role: p.role,
                party: false,
            });
            send(&mut self.node, self.now, p.conn, &[msg], &mut self.out);
        }
        self.drain();
    }

    fn leave_everyone(&mut self) {
        for i in 0..self.players.len() {
            if self.players[i].instance.is_some() {
                let conn = self.players[i].conn;
                let msg = ClientMsg::Raid(ClientRaid::Leave);
                send(&mut self.node, self.now, conn, &[msg], &mut self.out);
            }
        }
        self.drain();
    }

    fn inside(&self) -> usize {
        self.players.iter().filter(|p| p.instance.is_some()).count()
    }
}

/// Resident memory, in MiB (`/proc/self/statm`, pages of 4 KiB).
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = (statm.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages as f64 * 4096.0 / (1024.0 * 1024.0)
}

#[derive(Debug, Serialize)]
struct Wave {
    wave: usize,
    instances_peak: usize,
    players_inside: usize,
    hits: u64,
    tick: Percentiles,
    all_fighting: Percentiles,
    victories: u64,
    time_ups: u64,
    wipes: u64,
    rss_after_mib: f64,
    zones_after: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    players: usize,
    open_world_tick: Percentiles,
    rss_before_mib: f64,
    waves: Vec<Wave>,
    instances_opened: u64,
    instances_closed: u64,
    rss_growth_after_first_wave_mib: f64,
    rss_growth_after_second_wave_mib: f64,
}

fn main() {
    let args = Args::parse();
    let waves = args.waves.unwrap_or(if args.quick { 2 } else { 5 });
    let fight_s = args.fight_s.unwrap_or(if args.quick { 20 } else { 30 });
    let started = Clock::now();
    let mut b = Bench::new(args.players);
    b.log_in();
    println!(
        "bench-raids: {} players in the world ({:.1} s)",
        b.players.len(),
        started.elapsed().as_secs_f64()
    );

    // Baseline: everyone walking in the open world, timed as the raids are.
    let mut open = Vec::new();
    for _ in 0..fight_s * 20 {
        b.wander_goals();
        open.push(b.tick());
    }
    let open_world_tick = Percentiles::of(&mut open);
    let zones_before = b.node.world().zones().count();
    let rss_before_mib = rss_mib();
    println!(
        "open world: tick p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {zones_before} zones; resident {rss_before_mib:.1} MiB",
        open_world_tick.p50_ms, open_world_tick.p99_ms, open_world_tick.max_ms
    );

    let mut report = Report {
        players: b.players.len(),
        open_world_tick,
        rss_before_mib,
        waves: Vec::new(),
        instances_opened: 0,
        instances_closed: 0,
        rss_growth_after_first_wave_mib: 0.0,
        rss_growth_after_second_wave_mib: 0.0,
    };
    let want = b.players.len() / 10;
    for wave in 1..=waves {
        let before = b.node.raid_stats().clone();
        b.queue_everyone();
        // The queue forms a match per queue per tick, at most the free
        // instances' worth of ready checks.
        let mut waited = 0;
        while b.node.world().instance_count() < want && waited < 4_000 {
            b.tick();
            waited += 1;
        }
        let opened = b.node.world().instance_count();
        let mut ticks = Vec::new();
        // The ticks while every instance's raid still runs (no boss dead,
        // no wipe, no time up): all 200 fights at once.
        let mut all_fighting = Vec::new();
        let mut peak = 0;
        for _ in 0..fight_s * 20 {
            let spent = b.tick();
            ticks.push(spent);
            let running = (b.node.instances().iter())
                .filter(|i| i.end.is_none())
                .count();
            if running == opened {
                all_fighting.push(spent);
            }
            peak = peak.max(b.node.world().instance_count());
        }
        let players_inside = b.inside();
        // Hits landed in the instances (the fights are real), read before
        // they close.
        let hits: u64 = (b.node.instances().iter())
            .filter_map(|i| b.node.world().zone(i.zone))
            .map(|z| z.stats().hits)
            .sum();
        b.leave_everyone();
        for _ in 0..20 {
            b.tick();
        }
        assert_eq!(b.node.world().instance_count(), 0, "every instance closed");
        let after = b.node.raid_stats();
        let w = Wave {
            wave,
            instances_peak: peak.max(opened),
            players_inside,
            hits,
            tick: Percentiles::of(&mut ticks),
            all_fighting: Percentiles::of(&mut all_fighting),
            victories: after.victories - before.victories,
            time_ups: after.time_ups - before.time_ups,
            wipes: after.wipes - before.wipes,
            rss_after_mib: rss_mib(),
            zones_after: b.node.world().zones().count(),
        };
        println!(
            "wave {wave}: {} instances, {} players inside at the end, {} hits landed; tick p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({:.2}x the open world's p99); while all {} fought ({} ticks): p50 {:.2} ms, p99 {:.2} ms; ended {} won, {} timed out, {} wiped; after: {} zones, resident {:.1} MiB",
            w.instances_peak,
            w.players_inside,
            w.hits,
            w.tick.p50_ms,
            w.tick.p99_ms,
            w.tick.max_ms,
            w.tick.p99_ms / report.open_world_tick.p99_ms.max(0.001),
            w.instances_peak,
            w.all_fighting.samples,
            w.all_fighting.p50_ms,
            w.all_fighting.p99_ms,
            w.victories,
            w.time_ups,
            w.wipes,
            w.zones_after,
            w.rss_after_mib
        );
        report.waves.push(w);
    }
    let stats = b.node.raid_stats();
    report.instances_opened = stats.instances_opened;
    report.instances_closed = stats.instances_closed;
    let first = report.waves.first().map_or(0.0, |w| w.rss_after_mib);
    let last = report.waves.last().map_or(0.0, |w| w.rss_after_mib);
    report.rss_growth_after_first_wave_mib = last - first;
    let second = report.waves.get(1).map_or(first, |w| w.rss_after_mib);
    report.rss_growth_after_second_wave_mib = last - second;
    let worst = report
        .waves
        .iter()
        .map(|w| w.tick.p99_ms)
        .fold(0.0f64, f64::max);
    println!(
        "\ninstances opened {}, closed {}; resident before {:.1} MiB, after wave 1 {first:.1} MiB, after wave 2 {second:.1} MiB, after wave {waves} {last:.1} MiB (growth since wave 1: {:+.1} MiB; since wave 2: {:+.1} MiB)",
        report.instances_opened,
        report.instances_closed,
        report.rss_before_mib,
        report.rss_growth_after_first_wave_mib,
        report.rss_growth_after_second_wave_mib
    );
    println!(
        "target: tick p99 within 50 ms with {} instances of 10: worst wave's p99 {worst:.2} ms ({}); the open world's p99 {:.2} ms",
        want,
        if worst <= 50.0 { "met" } else { "NOT met" },
        report.open_world_tick.p99_ms
    );
    println!("({:.1} s in all)", started.elapsed().as_secs_f64());
    if let Some(path) = args.json {
        let text = serde_json::to_string_pretty(&report).expect("serializable");
        std::fs::write(path, text).expect("the JSON file is writable");
    }
}
