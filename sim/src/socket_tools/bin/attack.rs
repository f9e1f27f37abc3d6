//! `attack`: hostile clients against the real `mmo-server` binary, with a
//! well-behaved client measured beside them.
//!
//! For each attack it starts a fresh `mmo-server` child on a loopback port
//! (the per-address cap applies to loopback here), connects a well-behaved bot
//! (the real client machine: it logs in, enters the world, wanders and pings
//! every 200 ms), runs the attack, and prints the bot's RTT percentiles and
//! world-update rate during the attack, the server's resident memory (VmRSS
//! before, the most seen during, after; VmHWM at the end) and what the
//! attackers were told.
//!
//! ```sh
//! cargo build --release -p net-adapter --bin mmo-server
//! cargo run --release -p sim --bin attack
//! ```

use clap::Parser;
use game_core::client::ClientConfig;
use game_core::ids::CharacterId;
use game_core::math::{Fixed, Vec2};
use game_core::protocol::{
    encode_frame, ClientMsg, ClientSession, ClientWorld, Credentials, FrameDecoder, MoveInput,
    ServerMsg, ServerSession, ServerWorld, MAX_CLIENT_PAYLOAD, MAX_SERVER_PAYLOAD,
    PROTOCOL_VERSION,
};
use sim::policy::Atlas;
use sim::report::{Percentiles, Tally};
use sim::socket_tools::bot::{run_bot, OnDrop, SocketPolicy};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

#[derive(Parser, Debug)]
#[command(about = "Runs hostile clients against mmo-server and measures a well-behaved one")]
struct Args {
    /// The server binary; by default `mmo-server` beside this program.
    #[arg(long)]
    server: Option<PathBuf>,
    /// Seconds each attack runs.
    #[arg(long, default_value_t = 12)]
    seconds: u64,
    /// Only these attacks (comma-separated names).
    #[arg(long)]
    only: Option<String>,
}

const ATTACKS: [&str; 8] = [
    "baseline",
    "oversized-prefix",
    "slowloris-trickle",
    "handshake-never-finished",
    "connection-flood",
    "message-flood",
    "never-reads",
    "bad-messages",
];

fn main() -> ExitCode {
    let args = Args::parse();
    let server = args.server.clone().unwrap_or_else(|| {
        let mut p = std::env::current_exe().expect("own path");
        p.set_file_name("mmo-server");
        p
    });
    if !server.exists() {
        eprintln!(
            "{} not found; build it first: cargo build --release -p net-adapter --bin mmo-server",
            server.display()
        );
        return ExitCode::FAILURE;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut rows = Vec::new();
    for name in ATTACKS {
        if let Some(only) = &args.only {
            if !only.split(',').any(|o| o == name) {
                continue;
            }
        }
        let row = runtime.block_on(phase(&server, name, Duration::from_secs(args.seconds)));
        match row {
            Ok(row) => {
                println!("{}", row.line());
                rows.push(row);
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!();
    println!(
        "| attack | probe RTT p50 / p99 / max (ms) | probe updates/s | probe cut | server VmRSS before / during (max) / after (MiB) | VmHWM (MiB) | attackers were told |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        println!("{}", r.markdown());
    }
    ExitCode::SUCCESS
}

struct Row {
    name: &'static str,
    rtt: Percentiles,
    updates_per_s: f64,
    probe_cut: String,
    rss_before: u64,
    rss_during: u64,
    rss_after: u64,
    hwm: u64,
    result: String,
    /// The server's own count, from its last status line.
    counted: String,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

impl Row {
    fn line(&self) -> String {
        format!(
            "{:<26} rtt p50 {:.2} p99 {:.2} max {:.2} ms ({} samples), {:.1} updates/s, probe cut: {}, rss {:.1} / {:.1} / {:.1} MiB, hwm {:.1} MiB; attackers were told {}; server counted {}",
            self.name,
            self.rtt.p50_ms,
            self.rtt.p99_ms,
            self.rtt.max_ms,
            self.rtt.samples,
            self.updates_per_s,
            self.probe_cut,
            mib(self.rss_before),
            mib(self.rss_during),
            mib(self.rss_after),
            mib(self.hwm),
            self.result,
            self.counted
        )
    }

    fn markdown(&self) -> String {
        format!(
            "| {} | {:.2} / {:.2} / {:.2} | {:.1} | {} | {:.1} / {:.1} / {:.1} | {:.1} | {} |",
            self.name,
            self.rtt.p50_ms,
            self.rtt.p99_ms,
            self.rtt.max_ms,
            self.updates_per_s,
            self.probe_cut,
            mib(self.rss_before),
            mib(self.rss_during),
            mib(self.rss_after),
            mib(self.hwm),
            self.result
        )
    }
}

/// The server under attack: a child process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    config: PathBuf,
    log: PathBuf,
}

impl Server {
    async fn start(bin: &PathBuf, extra_config: &str) -> Result<Server, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let config =
            std::env::temp_dir().join(format!("attack-{}-{port}.toml", std::process::id()));
        let text = format!("status_interval_s = 0\nper_address_exempt = []\n{extra_config}");
        std::fs::write(&config, text).map_err(|e| e.to_string())?;
        let log = config.with_extension("log");
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let server = Server {
            child,
            addr,
            config,
            log,
        };
        for _ in 0..100 {
            if let Ok(s) = TcpStream::connect(addr).await {
                drop(s);
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("the server did not start listening".into())
    }

    fn memory(&self) -> (u64, u64) {
        memory(self.child.id())
    }

    /// Stops the server the way an operator does (SIGTERM) and returns what its
    /// last status line counted: disconnects by reason and refusals.
    async fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines()
            .rev()
            .find(|l| l.contains(" status"))
            .and_then(|l| l.find("disconnects=").map(|at| l[at..].to_string()))
            .unwrap_or_else(|| "no status line".into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
        let _ = std::fs::remove_file(&self.log);
    }
}

/// (VmRSS, VmHWM) of a process, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn phase(bin: &PathBuf, name: &'static str, length: Duration) -> Result<Row, String> {
    // The non-reader must be able to ask for more than it reads without first
    // hitting the rate limit; every other attack meets the defaults.
    let extra = if name == "never-reads" {
        "[node.session]\nrate_limit_per_second = 1000000\nrate_limit_burst = 1000000\n"
    } else {
        ""
    };
    let server = Server::start(bin, extra).await?;
    let addr = server.addr;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (rss_before, _) = server.memory();

    // The well-behaved client, for the whole attack.
    let epoch = Instant::now();
    let warmup = Duration::from_millis(1_500);
    let end = epoch + warmup + length;
    let mut config = ClientConfig::new("probe");
    config.heartbeat_interval = game_core::time::Duration::from_millis(200);
    config.interpolate = false;
    let probe = tokio::spawn(run_bot(
        config,
        move || async move {
            let s = TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            Ok(s)
        },
        epoch,
        end,
        OnDrop::GiveUp,
        SocketPolicy::wander(1, 0, Arc::new(Atlas::samples())),
    ));
    tokio::time::sleep(warmup).await;

    let pid = server.child.id();
    let sampler = tokio::spawn(async move {
        let mut max = 0;
        while Instant::now() < end {
            max = max.max(memory(pid).0);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        max
    });
    let tally = Arc::new(Mutex::new(Tally::new()));
    let result = match name {
        "baseline" => {
            tokio::time::sleep_until(end).await;
            "no attack".to_string()
        }
        "oversized-prefix" => run_workers(16, end, &tally, move |i| oversized(addr, i)).await,
        "slowloris-trickle" => run_workers(30, end, &tally, move |_| trickle(addr)).await,
        "handshake-never-finished" => run_workers(30, end, &tally, move |_| silent(addr)).await,
        "connection-flood" => connection_flood(addr, end, &tally).await,
        "message-flood" => run_workers(8, end, &tally, move |i| flood(addr, i)).await,
        "never-reads" => run_workers(8, end, &tally, move |i| never_reads(addr, i)).await,
        "bad-messages" => run_workers(16, end, &tally, move |i| bad_message(addr, i)).await,
        _ => return Err(format!("unknown attack {name}")),
    };
    let outcome = probe.await.map_err(|e| e.to_string())?;
    let rss_during = sampler.await.map_err(|e| e.to_string())?;
    // Closed connections may linger 2 s for their last bytes.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_after, hwm) = server.memory();
    let counted = server.stop().await;
    let mut rtts = outcome.rtt_samples_us.clone();
    let in_world = outcome.zones_entered > 0 && outcome.welcomes == 1;
    Ok(Row {
        name,
        rtt: Percentiles::of(&mut rtts),
        updates_per_s: outcome.world_updates as f64 / (warmup + length).as_secs_f64(),
        probe_cut: if outcome.disconnects.is_empty() && in_world && outcome.connected_at_end {
            "no".into()
        } else {
            format!("{:?}", outcome.disconnects)
        },
        rss_before,
        rss_during,
        rss_after,
        hwm,
        result,
        counted,
    })
}

/// Runs `workers` copies of one attacker, each starting a new attempt as soon as
/// the last ended, until `end`; tallies what each attempt was told.
async fn run_workers<F, Fut>(
    workers: usize,
    end: Instant,
    tally: &Arc<Mutex<Tally>>,
    attempt: F,
) -> String
where
    F: Fn(usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = String> + Send,
{
    let mut tasks = Vec::new();
    for w in 0..workers {
        let attempt = attempt.clone();
        let tally = tally.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while Instant::now() < end {
                let outcome = match tokio::time::timeout_at(end, attempt(i)).await {
                    Ok(told) => told,
                    Err(_) => "still open at the end".into(),
                };
                *tally
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(outcome)
                    .or_default() += 1;
                i += workers;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    summary(tally)
}

fn summary(tally: &Arc<Mutex<Tally>>) -> String {
    let t = tally.lock().unwrap_or_else(|e| e.into_inner());
    let parts: Vec<String> = t.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    parts.join(", ")
}

fn frames(msgs: &[ClientMsg]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        encode_frame(m, MAX_CLIENT_PAYLOAD, &mut out).expect("client frame");
    }
    out
}

fn hello() -> ClientMsg {
    ClientMsg::Session(ClientSession::Hello {
        protocol_version: PROTOCOL_VERSION,
        client: "attack".into(),
    })
}

fn login(name: String) -> ClientMsg {
    ClientMsg::Session(ClientSession::Login {
        credentials: Credentials::Dev { name },
    })
}

/// Logs in as `name` and enters the world with the character of that name,
/// creating it first if the account has none; `Err` is what the server said.
async fn enter_world(stream: &mut TcpStream, name: &str) -> Result<(), String> {
    let hello_login = frames(&[hello(), login(name.to_owned())]);
    stream.write_all(&hello_login).await.map_err(|_| "reset")?;
    let mut decoder = FrameDecoder::new(MAX_SERVER_PAYLOAD);
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut created = false;
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return Err("no answer".into()),
            Ok(Ok(0)) | Ok(Err(_)) => return Err("closed without a reason".into()),
            Ok(Ok(n)) => n,
        };
        let mut input = &buf[..n];
        while let Ok(Some(p)) = decoder.decode(&mut input) {
            let reply = match ServerMsg::decode(p) {
                Ok(ServerMsg::Session(ServerSession::Disconnect { reason })) => {
                    return Err(reason.label().to_string())
                }
                Ok(ServerMsg::Session(ServerSession::EnteredWorld { .. })) => return Ok(()),
                Ok(ServerMsg::Session(ServerSession::Characters { characters, .. })) => {
                    match characters.iter().find(|c| c.name == name) {
                        Some(c) => ClientSession::EnterWorld { character: c.id },
                        None if !created => {
                            created = true;
                            ClientSession::CreateCharacter {
                                name: name.to_owned(),
                            }
                        }
                        None => return Err("character not created".into()),
                    }
                }
                _ => continue,
            };
            let bytes = frames(&[ClientMsg::Session(reply)]);
            stream.write_all(&bytes).await.map_err(|_| "reset")?;
        }
    }
}

/// Reads until the server's `Disconnect` (its reason's label), the close, or
/// `limit`; a label gains the number of movement corrections received first.
async fn told(stream: &mut TcpStream, limit: Duration) -> String {
    let mut corrections = 0;
    let label = |reason: String, corrections: u32| match corrections {
        0 => reason,
        n => format!("{reason} after {n} corrections"),
    };
    let mut decoder = FrameDecoder::new(MAX_SERVER_PAYLOAD);
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + limit;
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return label("no answer".into(), corrections),
            Ok(Ok(0)) => return label("closed without a reason".into(), corrections),
            Ok(Err(_)) => return label("reset".into(), corrections),
            Ok(Ok(n)) => n,
        };
        let mut input = &buf[..n];
        while let Ok(Some(p)) = decoder.decode(&mut input) {
            match ServerMsg::decode(p) {
                Ok(ServerMsg::Session(ServerSession::Disconnect { reason })) => {
                    return label(reason.label().to_string(), corrections)
                }
                Ok(ServerMsg::World(ServerWorld::WorldUpdate(u))) if u.correction.is_some() => {
                    corrections += 1
                }
                _ => {}
            }
        }
    }
}

/// A length prefix claiming up to 4 GiB, and nothing after it.
async fn oversized(addr: SocketAddr, i: usize) -> String {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return "connect failed".into();
    };
    let len = u32::MAX - (i as u32 % 1024) * 4096;
    if s.write_all(&len.to_le_bytes()).await.is_err() {
        return "reset".into();
    }
    told(&mut s, Duration::from_secs(5)).await
}

/// Logs in, then sends a ping frame one byte a second.
async fn trickle(addr: SocketAddr) -> String {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return "connect failed".into();
    };
    let name = format!("slow{}", next_number());
    let _ = s.write_all(&frames(&[hello(), login(name)])).await;
    let ping = frames(&[ClientMsg::Session(ClientSession::Ping {
        seq: 1,
        client_time_us: u64::MAX,
    })]);
    let (mut rd, mut wr) = s.into_split();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        let mut decoder = FrameDecoder::new(MAX_SERVER_PAYLOAD);
        loop {
            let n = match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return "closed without a reason".to_string(),
                Ok(n) => n,
            };
            let mut input = &buf[..n];
            while let Ok(Some(p)) = decoder.decode(&mut input) {
                if let Ok(ServerMsg::Session(ServerSession::Disconnect { reason })) =
                    ServerMsg::decode(p)
                {
                    return reason.label().to_string();
                }
            }
        }
    });
    for b in ping.iter().cycle() {
        if reader.is_finished() || wr.write_all(&[*b]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    reader.await.unwrap_or_else(|_| "reader failed".into())
}

/// Connects and says nothing at all.
async fn silent(addr: SocketAddr) -> String {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return "connect failed".into();
    };
    told(&mut s, Duration::from_secs(30)).await
}

/// Opens connections as fast as possible and holds every one admitted.
async fn connection_flood(addr: SocketAddr, end: Instant, tally: &Arc<Mutex<Tally>>) -> String {
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let tally = tally.clone();
        tasks.push(tokio::spawn(async move {
            let mut held = Vec::new();
            while Instant::now() < end {
                let outcome = match TcpStream::connect(addr).await {
                    Err(_) => "connect failed".to_string(),
                    Ok(mut s) => {
                        let told = told(&mut s, Duration::from_millis(200)).await;
                        if told == "no answer" {
                            held.push(s);
                            "admitted and held".to_string()
                        } else {
                            told
                        }
                    }
                };
                *tally
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(outcome)
                    .or_default() += 1;
            }
            held.len()
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    summary(tally)
}

/// Logs in and sends pings as fast as the socket takes them.
async fn flood(addr: SocketAddr, i: usize) -> String {
    let Ok(s) = TcpStream::connect(addr).await else {
        return "connect failed".into();
    };
    let (mut rd, mut wr) = s.into_split();
    let _ = wr
        .write_all(&frames(&[hello(), login(format!("flood{i}"))]))
        .await;
    let pings: Vec<ClientMsg> = (0..4_000)
        .map(|seq| {
            ClientMsg::Session(ClientSession::Ping {
                seq,
                client_time_us: 0,
            })
        })
        .collect();
    let batch = frames(&pings);
    let writer = tokio::spawn(async move { while wr.write_all(&batch).await.is_ok() {} });
    let mut buf = vec![0u8; 64 * 1024];
    let mut decoder = FrameDecoder::new(MAX_SERVER_PAYLOAD);
    let told = loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break "closed without a reason".to_string(),
            Ok(n) => n,
        };
        let mut input = &buf[..n];
        let mut reason = None;
        while let Ok(Some(p)) = decoder.decode(&mut input) {
            if let Ok(ServerMsg::Session(ServerSession::Disconnect { reason: r })) =
                ServerMsg::decode(p)
            {
                reason = Some(r.label().to_string());
            }
        }
        if let Some(r) = reason {
            break r;
        }
    };
    writer.abort();
    told
}

/// Logs in with a tiny receive window and asks for pongs it never reads; once
/// the server stops taking its bytes (or after 8 s), reads what it was told.
async fn never_reads(addr: SocketAddr, i: usize) -> String {
    let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
        return "socket failed".into();
    };
    let _ = socket.set_recv_buffer_size(4096);
    let Ok(mut s) = socket.connect(addr).await else {
        return "connect failed".into();
    };
    let _ = s
        .write_all(&frames(&[hello(), login(format!("deaf{i}"))]))
        .await;
    let pings: Vec<ClientMsg> = (0..2_000)
        .map(|seq| {
            ClientMsg::Session(ClientSession::Ping {
                seq,
                client_time_us: u64::MAX,
            })
        })
        .collect();
    let batch = frames(&pings);
    let until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < until {
        match tokio::time::timeout(Duration::from_secs(1), s.write_all(&batch)).await {
            Ok(Ok(())) => {}
            _ => break,
        }
    }
    // Reads everything: what was in flight, then the reason.
    told(&mut s, Duration::from_secs(10)).await
}

/// Unknown tags, garbage, messages out of order, absurd values.
async fn bad_message(addr: SocketAddr, i: usize) -> String {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return "connect failed".into();
    };
    let absurd = ClientMsg::World(ClientWorld::Move(MoveInput {
        seq: u32::MAX - i as u32,
        epoch: 0,
        client_time_us: 0,
        pos: Vec2::new(Fixed::from_raw(i32::MAX), Fixed::from_raw(i32::MIN)),
        vel: Vec2::new(Fixed::from_raw(i32::MIN), Fixed::from_raw(i32::MAX)),
    }));
    let bytes = match i % 5 {
        0 => {
            let mut b = frames(&[hello()]);
            b.extend_from_slice(&[1, 0, 0, 0, 0x63]);
            b
        }
        1 => {
            let mut b = frames(&[hello()]);
            b.extend_from_slice(&[6, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xff]);
            b
        }
        2 => frames(&[hello(), absurd]),
        3 => frames(&[ClientMsg::Session(ClientSession::EnterWorld {
            character: CharacterId(1),
        })]),
        _ => {
            // Logged in and in the world: absurd moves are corrected, not
            // applied (the first; the rest carry a stale epoch and are
            // ignored), and the connection stays until the goodbye, sent
            // after a tick has judged them.
            if let Err(told) = enter_world(&mut s, &format!("absurd{i}")).await {
                return told;
            }
            let msgs = vec![absurd; 5];
            if s.write_all(&frames(&msgs)).await.is_err() {
                return "reset".into();
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
            frames(&[ClientMsg::Session(ClientSession::Goodbye)])
        }
    };
    if s.write_all(&bytes).await.is_err() {
        return "reset".into();
    }
    told(&mut s, Duration::from_secs(5)).await
}

fn next_number() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
