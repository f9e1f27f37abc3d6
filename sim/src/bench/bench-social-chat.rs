//! The chat load and presence benchmarks on one node (see the bin's header).

use crate::server::{frame, social, Server, Spent};
use game_core::ids::CharacterId;
use game_core::persist::Change;
use game_core::protocol::{ChatChannel, ClientMsg, ClientSocial};
use serde::Serialize;
use sim::report::Percentiles;

const PLAYERS_PER_CHANNEL: usize = 1000;
const PARTY: usize = 5;
const GUILD: usize = 100;
const FRIENDS: usize = 200;
const TICK_HZ: u64 = 20;

/// Lines per second by channel: 500 in all.
const MIX: [(Kind, u64); 6] = [
    (Kind::Chat(ChatChannel::Say), 200),
    (Kind::Chat(ChatChannel::Zone), 50),
    (Kind::Chat(ChatChannel::Party), 100),
    (Kind::Chat(ChatChannel::Guild), 75),
    (Kind::Whisper, 70),
    (Kind::Chat(ChatChannel::World), 5),
];

#[derive(Clone, Copy)]
enum Kind {
    Chat(ChatChannel),
    Whisper,
}

#[derive(Debug, Default, Serialize)]
pub struct Timing {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Timing {
    fn of(samples: &mut [u64]) -> Self {
        let p = Percentiles::of(samples);
        Timing {
            p50_ms: p.p50_ms,
            p99_ms: p.p99_ms,
            max_ms: p.max_ms,
        }
    }
}

#[derive(Debug, Default, Serialize, Clone)]
pub struct Delivery {
    pub channel: &'static str,
    pub lines: u64,
    pub copies: u64,
    /// Copies delivered at most 1, 2, 3+ ticks after the send.
    pub by_ticks: [u64; 3],
    pub max_ticks: u64,
}

#[derive(Debug, Serialize)]
pub struct ChatRow {
    pub players: usize,
    pub channels: usize,
    pub block: usize,
    pub ticks_each: usize,
    pub lines_per_s_offered: f64,
    pub lines_per_s_accepted: f64,
    pub refused: u64,
    pub copies_per_s: f64,
    pub shed: u64,
    /// The world tick's `handle_timeout`, by the wall clock and the CPU clock.
    pub tick_off: Timing,
    pub tick_on: Timing,
    pub tick_cpu_off: Timing,
    pub tick_cpu_on: Timing,
    /// Inputs, tick and output drain.
    pub loop_off: Timing,
    pub loop_on: Timing,
    pub loop_cpu_off: Timing,
    pub loop_cpu_on: Timing,
    /// Chat ticks whose lines include a world line, by the CPU clock.
    pub tick_cpu_world: Timing,
    pub world_ticks: usize,
    pub allocs_per_tick_off: f64,
    pub allocs_per_tick_on: f64,
    pub delivery: Vec<Delivery>,
    pub corrections: u64,
    pub closes: u64,
}

#[derive(Debug, Serialize)]
pub struct PresenceRow {
    pub friends: usize,
    pub heard: usize,
    pub ticks_to_all: Option<u64>,
}

/// What the load keeps between ticks.
struct Load {
    n: usize,
    /// Per line id: the tick count when sent, and its index in `MIX`.
    sent: Vec<(u64, u8)>,
    cursors: [usize; 6],
    /// Chat ticks so far (the mix is spread over them).
    chat_ticks: u64,
    bufs: Vec<Vec<u8>>,
    delivery: Vec<Delivery>,
    /// The last tick carried a world line (10,000 copies).
    world_line: bool,
}

const FILLER: &str = "anyone up for the bridge run? lf2m healer";

impl Load {
    fn new(n: usize) -> Self {
        Load {
            n,
            sent: Vec::new(),
            // Each channel's senders start apart and step by a prime.
            cursors: [0, n / 6, 2 * n / 6, 3 * n / 6, 4 * n / 6, 5 * n / 6],
            chat_ticks: 0,
            bufs: vec![Vec::new(); n],
            world_line: false,
            delivery: MIX
                .iter()
                .map(|(k, _)| Delivery {
                    channel: match k {
                        Kind::Chat(c) => c.label(),
                        Kind::Whisper => "whisper",
                    },
                    ..Delivery::default()
                })
                .collect(),
        }
    }

    /// One tick of play: movement inputs from half the players (10 Hz
    /// each), chat lines if `chat`, then the node's tick. Returns the tick's
    /// `handle_timeout` time, the loop's time and the tick's allocations.
    fn tick(&mut self, s: &mut Server, chat: bool) -> (Spent, Spent, u64) {
        for i in 0..self.n {
            if (i as u64 + s.ticks) % 2 == 0 {
                if let Some(m) = s.move_input(i) {
                    frame(&[m], &mut self.bufs[i]);
                }
            }
        }
        self.world_line = false;
        if chat {
            self.chat_ticks += 1;
            let t = self.chat_ticks;
            for (k, &(kind, per_s)) in MIX.iter().enumerate() {
                let due = per_s * t / TICK_HZ - per_s * (t - 1) / TICK_HZ;
                if matches!(kind, Kind::Chat(ChatChannel::World)) && due > 0 {
                    self.world_line = true;
                }
                for _ in 0..due {
                    let from = self.cursors[k];
                    self.cursors[k] = (from + 7919) % self.n;
                    let id = self.sent.len() as u64;
                    self.sent.push((s.ticks, k as u8));
                    let text = format!("#{id} {FILLER}");
                    let request = match kind {
                        Kind::Chat(channel) => ClientSocial::Chat { channel, text },
                        Kind::Whisper => ClientSocial::Whisper {
                            to: s.players[(from + self.n / 2 + 1) % self.n].name.clone(),
                            text,
                        },
                    };
                    frame(&[social(request)], &mut self.bufs[from]);
                }
            }
        }
        let batch: Vec<(usize, Vec<u8>)> = self
            .bufs
            .iter_mut()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
            .map(|(i, b)| (i, std::mem::take(b)))
            .collect();
        let inputs = s.inputs(&batch);
        let (tick, drain, allocations) = if chat {
            tick_with_chat(s)
        } else {
            tick_without_chat(s)
        };
        self.account(s);
        (tick, inputs + tick + drain, allocations)
    }

    /// Files each chat copy heard by how many ticks it took.
    fn account(&mut self, s: &mut Server) {
        for (id, _) in s.heard.lines.drain(..) {
            let (at, k) = self.sent[id as usize];
            let d = &mut self.delivery[k as usize];
            let ticks = s.ticks - at;
            d.copies += 1;
            d.by_ticks[(ticks.max(1) as usize - 1).min(2)] += 1;
            d.max_ticks = d.max_ticks.max(ticks);
        }
    }
}

/// The ticks apart by kind, so a profiler can count each alone:
/// `BENCH_NO_CPU_CLOCK=1 valgrind --tool=callgrind --toggle-collect='*tick_with_chat*' target/release/bench-social --quick --players 2000`
#[inline(never)]
fn tick_with_chat(s: &mut Server) -> (Spent, Spent, u64) {
    // Distinct bodies: the linker would fold two identical functions.
    std::hint::black_box(1);
    s.tick()
}

#[inline(never)]
fn tick_without_chat(s: &mut Server) -> (Spent, Spent, u64) {
    std::hint::black_box(0);
    s.tick()
}

/// Builds the node: `n` players in the world (parties of 5, guilds of 100)
/// and one more on the character screen whose 200 friends are among them.
fn populate(n: usize) -> Server {
    let channels = n.div_ceil(PLAYERS_PER_CHANNEL);
    let mut s = Server::new(channels as u16, PLAYERS_PER_CHANNEL as u32);
    eprintln!("bench-social: {n} players log in...");
    for _ in 0..=n {
        s.join();
    }
    let chars: Vec<CharacterId> = s.players.iter().map(|p| p.character).collect();
    for (g, members) in chars[..n].chunks(GUILD).enumerate() {
        s.preset_guild(&format!("Guild {g}"), members);
    }
    let newcomer = chars[n];
    for f in friends_of_newcomer(n) {
        s.preset(Change::SetFriends {
            a: newcomer,
            b: chars[f],
            friends: true,
        });
    }
    eprintln!("bench-social: {n} players enter the world...");
    for i in 0..n {
        s.enter(i);
    }
    eprintln!("bench-social: parties form...");
    for leader in (0..n).step_by(PARTY) {
        let invites: Vec<ClientMsg> = (leader + 1..(leader + PARTY).min(n))
            .map(|j| {
                social(ClientSocial::PartyInvite {
                    name: s.players[j].name.clone(),
                })
            })
            .collect();
        s.send(leader, &invites);
        for j in leader + 1..(leader + PARTY).min(n) {
            s.send(
                j,
                &[social(ClientSocial::PartyAnswer {
                    from: chars[leader],
                    accept: true,
                })],
            );
        }
    }
    s
}

fn friends_of_newcomer(n: usize) -> impl Iterator<Item = usize> {
    let step = (n / FRIENDS).max(1);
    (0..n).step_by(step).take(FRIENDS)
}

pub fn bench(n: usize, block: usize, blocks: usize) -> (ChatRow, PresenceRow) {
    let mut s = populate(n);
    let mut load = Load::new(n);
    eprintln!("bench-social: warm-up...");
    for b in 0..4 {
        for _ in 0..block {
            load.tick(&mut s, b % 2 == 1);
        }
    }
    let parties = s.node.social().stats().parties_formed;
    assert_eq!(parties as usize, n / PARTY, "every party formed");
    load.delivery.iter_mut().for_each(|d| {
        *d = Delivery {
            channel: d.channel,
            ..Delivery::default()
        }
    });
    let first_line = load.sent.len();
    let lines_before: u64 = s.node.social().stats().lines.iter().sum();
    let refused_before: u64 = s.heard.refusals.values().sum();
    let shed_before = s.heard.chat_missed;

    eprintln!("bench-social: {blocks} blocks of {block} ticks each, no chat / chat...");
    // [chat][tick wall, tick cpu, loop wall, loop cpu] samples in µs.
    let mut samples: [[Vec<u64>; 4]; 2] = Default::default();
    let mut allocs = [0u64; 2];
    let mut world_ticks = Vec::new();
    for b in 0..2 * blocks {
        let chat = b % 2 == 1;
        for _ in 0..block {
            let (tick, whole, allocations) = load.tick(&mut s, chat);
            let k = chat as usize;
            for (v, d) in samples[k]
                .iter_mut()
                .zip([tick.wall, tick.cpu, whole.wall, whole.cpu])
            {
                v.push(d.as_micros() as u64);
            }
            allocs[k] += allocations;
            if load.world_line {
                world_ticks.push(tick.cpu.as_micros() as u64);
            }
        }
    }
    // Copies still on their way arrive at the next tick.
    load.tick(&mut s, false);

    let ticks_each = blocks * block;
    let seconds = ticks_each as f64 / TICK_HZ as f64;
    let lines_offered = (load.sent.len() - first_line) as f64;
    let accepted = s.node.social().stats().lines.iter().sum::<u64>() - lines_before;
    for (at, k) in &load.sent[first_line..] {
        let _ = at;
        load.delivery[*k as usize].lines += 1;
    }
    let mut all = Delivery {
        channel: "all",
        ..Delivery::default()
    };
    for d in &load.delivery {
        all.lines += d.lines;
        all.copies += d.copies;
        for k in 0..3 {
            all.by_ticks[k] += d.by_ticks[k];
        }
        all.max_ticks = all.max_ticks.max(d.max_ticks);
    }
    let copies = all.copies;
    let mut delivery = load.delivery.clone();
    delivery.push(all);
    let chat = ChatRow {
        players: n,
        channels: n.div_ceil(PLAYERS_PER_CHANNEL),
        block,
        ticks_each,
        lines_per_s_offered: lines_offered / seconds,
        lines_per_s_accepted: accepted as f64 / seconds,
        refused: s.heard.refusals.values().sum::<u64>() - refused_before,
        copies_per_s: copies as f64 / seconds,
        shed: s.heard.chat_missed - shed_before,
        tick_off: Timing::of(&mut samples[0][0]),
        tick_on: Timing::of(&mut samples[1][0]),
        tick_cpu_off: Timing::of(&mut samples[0][1]),
        tick_cpu_on: Timing::of(&mut samples[1][1]),
        loop_off: Timing::of(&mut samples[0][2]),
        loop_on: Timing::of(&mut samples[1][2]),
        loop_cpu_off: Timing::of(&mut samples[0][3]),
        loop_cpu_on: Timing::of(&mut samples[1][3]),
        world_ticks: world_ticks.len(),
        tick_cpu_world: Timing::of(&mut world_ticks),
        allocs_per_tick_off: allocs[0] as f64 / ticks_each as f64,
        allocs_per_tick_on: allocs[1] as f64 / ticks_each as f64,
        delivery,
        corrections: s.node.world().zone_stats().corrections.values().sum(),
        closes: s.heard.closes,
    };
    if !s.heard.refusals.is_empty() {
        eprintln!("refusals: {:?}", s.heard.refusals);
    }
    let presence = bench_presence(&mut s, &mut load);
    (chat, presence)
}

/// The player on the character screen enters; its friends are all online.
fn bench_presence(s: &mut Server, load: &mut Load) -> PresenceRow {
    eprintln!("bench-social: presence...");
    let n = load.n;
    let newcomer = n;
    let who = s.players[newcomer].character;
    s.heard.friend_changes.clear();
    s.enter(newcomer);
    assert!(
        s.node.social().is_online(who),
        "the newcomer's social record loaded when it entered"
    );
    let loaded_at = s.ticks;
    let friends: std::collections::BTreeSet<usize> = friends_of_newcomer(n).collect();
    let mut heard = std::collections::BTreeSet::new();
    let mut ticks_to_all = None;
    for _ in 0..20 {
        load.tick(s, false);
        for &(about, i, online) in &s.heard.friend_changes {
            if about == who && online && friends.contains(&i) {
                heard.insert(i);
            }
        }
        s.heard.friend_changes.clear();
        if heard.len() == friends.len() {
            ticks_to_all = Some(s.ticks - loaded_at);
            break;
        }
    }
    PresenceRow {
        friends: friends.len(),
        heard: heard.len(),
        ticks_to_all,
    }
}
