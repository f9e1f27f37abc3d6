//! The login storm: quiet and storm windows of the tick, side by side.

use super::*;

/// What the storm thread needs.
pub(super) struct StormPlan {
    pub(super) accounts: usize,
    pub(super) storms: u32,
    pub(super) window: Duration,
    pub(super) concurrency: usize,
    /// How long the storm's client may go on after its window.
    pub(super) tail: Duration,
    /// When the first quiet window starts (the ramp over, the bots settled).
    pub(super) first_at: Instant,
    /// When the bots say goodbye: no window may reach past it.
    pub(super) bots_end: Instant,
    pub(super) bots_nice: i32,
    pub(super) bots_bin: PathBuf,
    pub(super) dir: PathBuf,
    pub(super) admin: SocketAddr,
    pub(super) login: SocketAddr,
    pub(super) server_pid: u32,
    pub(super) bots_pid: u32,
}

/// One look at the server (and the other processes) at a window's edge.
pub(super) struct Snapshot {
    at: Instant,
    samples: Vec<Sample>,
    /// CPU seconds by thread: (tid, name, seconds).
    threads: Vec<(u32, String, f64)>,
    bots_cpu: f64,
    storm_cpu: f64,
}

pub(super) fn snapshot(plan: &StormPlan, storm_pid: Option<u32>) -> Snapshot {
    let samples = match scrape::http_get(plan.admin, "/metrics", Duration::from_secs(5)) {
        Ok((200, body)) => scrape::parse(&body),
        _ => Vec::new(),
    };
    Snapshot {
        at: Instant::now(),
        samples,
        threads: thread_cpu(plan.server_pid),
        bots_cpu: scrape::cpu_seconds(plan.bots_pid).unwrap_or(0.0),
        storm_cpu: storm_pid
            .and_then(|p| scrape::cpu_seconds(p).ok())
            .unwrap_or(0.0),
    }
}

/// CPU seconds of every thread of `pid`, with its name (Linux).
pub(super) fn thread_cpu(pid: u32) -> Vec<(u32, String, f64)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| {
            let tid: u32 = t.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(t.path().join("comm")).ok()?;
            // The thread's own stat (`/proc/<tid>/stat` would be the whole
            // process's): utime and stime, fields 14 and 15, after the
            // parenthesised name, in 100 Hz ticks.
            let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
            let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
            let ticks: u64 =
                fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            // Field 19: the thread's nice (the blocking pool's can differ
            // from the workers').
            let nice = fields.get(16)?;
            Some((
                tid,
                format!("{} (nice {nice})", name.trim()),
                ticks as f64 / 100.0,
            ))
        })
        .collect()
}

/// The server between two snapshots.
pub(super) fn window(plan: &StormPlan, a: &Snapshot, b: &Snapshot) -> Window {
    let seconds = (b.at - a.at).as_secs_f64().max(1e-3);
    let ticks = Buckets::of(&b.samples, "mmo_tick_duration_seconds")
        .since(&Buckets::of(&a.samples, "mmo_tick_duration_seconds"));
    let cpu = Buckets::of(&b.samples, "mmo_tick_cpu_seconds")
        .since(&Buckets::of(&a.samples, "mmo_tick_cpu_seconds"));
    let delta = |name: &str| scrape::total(&b.samples, name) - scrape::total(&a.samples, name);
    let ms = |s: Option<f64>| s.map(|v| v * 1000.0);
    let before = |tid: u32| a.threads.iter().find(|t| t.0 == tid).map_or(0.0, |t| t.2);
    let mut loop_thread = 0.0;
    let mut others: Vec<(String, f64)> = Vec::new();
    for (tid, name, cpu) in &b.threads {
        let used = (cpu - before(*tid)) / seconds;
        if *tid == plan.server_pid {
            loop_thread = used;
        } else {
            match others.iter_mut().find(|(n, _)| n == name) {
                Some((_, c)) => *c += used,
                None => others.push((name.clone(), used)),
            }
        }
    }
    others.retain(|(_, c)| *c >= 0.005);
    others.sort_by(|x, y| y.1.total_cmp(&x.1));
    let answers = |s: &[Sample]| -> Vec<(String, f64)> {
        s.iter()
            .filter(|s| s.name == "mmo_login_http_requests_total")
            .map(|s| {
                let label = s
                    .labels
                    .iter()
                    .map(|(_, v)| v.as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                (label, s.value)
            })
            .collect()
    };
    let before_answers = answers(&a.samples);
    let login_answers = answers(&b.samples)
        .into_iter()
        .map(|(k, v)| {
            let was = before_answers
                .iter()
                .find(|(l, _)| *l == k)
                .map_or(0.0, |x| x.1);
            (k, v - was)
        })
        .filter(|(_, v)| *v > 0.0)
        .collect::<Vec<_>>();
    let logins = login_answers
        .iter()
        .find(|(k, _)| k == "logged_in")
        .map_or(0.0, |x| x.1);
    Window {
        buckets: ticks.clone(),
        cpu_buckets: cpu.clone(),
        seconds,
        ticks: ticks.count(),
        tick_p50_ms: ms(ticks.quantile(0.5)),
        tick_p99_ms: ms(ticks.quantile(0.99)),
        tick_p99_bound_ms: ms(ticks.quantile_bound(0.99)),
        tick_cpu_p99_ms: ms(cpu.quantile(0.99)),
        tick_waiting_ms_per_s: delta("mmo_tick_waiting_seconds_total") * 1000.0 / seconds,
        tick_overruns: delta("mmo_tick_overruns_total"),
        loop_thread_cores: loop_thread,
        other_threads_cores: others,
        bots_cores: (b.bots_cpu - a.bots_cpu) / seconds,
        storm_client_cores: (b.storm_cpu - a.storm_cpu) / seconds,
        hash_seconds_per_s: delta("mmo_login_http_hash_seconds_total") / seconds,
        login_answers,
        logins_per_s: logins / seconds,
        load_average: scrape::load_average(),
    }
}

pub(super) fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

/// Each storm: a quiet window, then the storm's client started and the
/// storm's window measured; the client waited for, then a short gap.
pub(super) fn run_storms(plan: StormPlan) -> Vec<StormRun> {
    let mut runs = Vec::new();
    let mut next = plan.first_at;
    for k in 0..plan.storms {
        let mut run = StormRun::default();
        let ends = next + 2 * plan.window;
        if ends > plan.bots_end {
            eprintln!("loadtest: storm {k} skipped: the bots end before its windows would");
            break;
        }
        sleep_until(next);
        let quiet_start = snapshot(&plan, None);
        sleep_until(next + plan.window);
        let quiet_end = snapshot(&plan, None);
        run.quiet = window(&plan, &quiet_start, &quiet_end);

        let report = plan.dir.join(format!("storm{k}.json"));
        let _ = std::fs::remove_file(&report);
        let spawned = open(&plan.dir.join(format!("storm{k}.txt"))).and_then(|out| {
            Command::new(&plan.bots_bin)
                .args(["--auth", "password", "--login-only", "--register-first"])
                .arg("--login-url")
                .arg(format!("http://{}", plan.login))
                .arg("--bots")
                .arg(plan.accounts.to_string())
                .arg("--name-prefix")
                .arg(format!("storm{k}n"))
                .arg("--login-concurrency")
                .arg(plan.concurrency.to_string())
                .arg("--nice")
                .arg(plan.bots_nice.to_string())
                .arg("--json")
                .arg(&report)
                .stdout(out)
                .spawn()
                .map_err(|e| format!("cannot start the storm: {e}"))
        });
        let mut client = match spawned {
            Ok(c) => c,
            Err(e) => {
                run.note = Some(e);
                runs.push(run);
                break;
            }
        };
        let storm_pid = client.id();
        let mut storm_start = snapshot(&plan, Some(storm_pid));
        storm_start.storm_cpu = 0.0;
        let window_end = storm_start.at + plan.window;
        let mut ended_early = false;
        while Instant::now() < window_end {
            if let Ok(Some(_)) = client.try_wait() {
                ended_early = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let storm_end = snapshot(&plan, Some(storm_pid));
        run.storm = window(&plan, &storm_start, &storm_end);
        if ended_early {
            run.note = Some(format!(
                "the storm ended {:.1} s into its {} s window: the window is its whole length",
                run.storm.seconds,
                plan.window.as_secs()
            ));
        }
        // After the tail, SIGTERM: the client starts no more accounts and
        // lets those in flight finish (a request cut off would cancel the
        // service's work mid-way), then reports; SIGKILL if it hangs.
        let stop_at = storm_end.at + plan.tail;
        let mut kill_at: Option<Instant> = None;
        let status = loop {
            match client.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if kill_at.is_some_and(|t| Instant::now() >= t) => {
                    let _ = client.kill();
                    let _ = client.wait();
                    break Err("killed: it did not stop within STORM_DRAIN_S".to_owned());
                }
                Ok(None) if kill_at.is_none() && Instant::now() >= stop_at => {
                    let _ = Command::new("kill")
                        .args(["-TERM", &storm_pid.to_string()])
                        .status();
                    kill_at = Some(Instant::now() + Duration::from_secs(STORM_DRAIN_S));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => break Err(e.to_string()),
            }
        };
        run.login = std::fs::read_to_string(&report)
            .ok()
            .and_then(|t| serde_json::from_str::<LoadReport>(&t).ok())
            .and_then(|r| r.login);
        match (&run.login, status) {
            (None, status) => {
                run.note = Some(format!(
                    "the storm's client wrote no report ({})",
                    status.map_or_else(|e| e, |s| s.to_string())
                ))
            }
            (Some(l), _) if l.not_started > 0 => {
                run.note = Some(format!(
                    "stopped after its window: {} of {} accounts signed in, {} not started",
                    l.signed_in, plan.accounts, l.not_started
                ))
            }
            _ => {}
        }
        run.p99_ratio = match (run.quiet.tick_p99_ms, run.storm.tick_p99_ms) {
            (Some(q), Some(s)) if q > 0.0 => Some(s / q),
            _ => None,
        };
        if let Some(r) = run.p99_ratio {
            eprintln!(
                "loadtest: storm {k}: tick p99 {:.2} ms quiet, {:.2} ms in the storm (x{r:.2}); {:.1} logins/s in the window",
                run.quiet.tick_p99_ms.unwrap_or(0.0),
                run.storm.tick_p99_ms.unwrap_or(0.0),
                run.storm.logins_per_s
            );
        }
        runs.push(run);
        next = Instant::now() + Duration::from_secs(STORM_GAP_S);
    }
    runs
}

pub(super) fn print_storms(args: &Args, runs: &[StormRun]) {
    let hash = args
        .hash_concurrency
        .map_or("the server's default (one per core)".to_owned(), |n| {
            n.to_string()
        });
    println!(
        "login storms: {} accounts each, {} requests at once, max_hash_concurrency {hash}",
        args.storm, args.storm_concurrency
    );
    let opt = |v: Option<f64>| v.map_or("-".to_owned(), |x| format!("{x:.2}"));
    println!(
        "  {:<3} {:>7} {:>7} {:>6} {:>9} {:>9} {:>12} {:>12} {:>11}  429/503/408",
        "#",
        "quiet",
        "storm",
        "ratio",
        "on-CPU q",
        "on-CPU s",
        "wait q ms/s",
        "wait s ms/s",
        "logins/s",
    );
    for (k, r) in runs.iter().enumerate() {
        let lps = format!("{:.1}", r.storm.logins_per_s);
        let refusals = r.login.as_ref().map_or("-".into(), |l| {
            format!(
                "{}/{}/{}",
                l.counts.rate_limited, l.counts.busy, l.counts.timed_out
            )
        });
        println!(
            "  {:<3} {:>7} {:>7} {:>6} {:>9} {:>9} {:>12.1} {:>12.1} {:>11}  {}",
            k,
            opt(r.quiet.tick_p99_ms),
            opt(r.storm.tick_p99_ms),
            r.p99_ratio.map_or("-".into(), |x| format!("{x:.2}")),
            opt(r.quiet.tick_cpu_p99_ms),
            opt(r.storm.tick_cpu_p99_ms),
            r.quiet.tick_waiting_ms_per_s,
            r.storm.tick_waiting_ms_per_s,
            lps,
            refusals
        );
    }
    println!(
        "  (tick p99 in ms over each window; on-CPU: the tick's own CPU time, p99; \
         logins/s: tokens the server issued in the storm's window)"
    );
    let p = pooled(runs);
    println!(
        "  pooled: tick p99 {} ms quiet ({} ticks), {} ms storm ({} ticks), ratio {}; \
         on-CPU p99 {} / {} ms; game loop thread {:.2} / {:.2} cores; {:.1} logins/s",
        opt(p.quiet_p99_ms),
        p.quiet_ticks,
        opt(p.storm_p99_ms),
        p.storm_ticks,
        p.p99_ratio.map_or("-".into(), |x| format!("{x:.2}")),
        opt(p.quiet_cpu_p99_ms),
        opt(p.storm_cpu_p99_ms),
        p.quiet_loop_cores,
        p.storm_loop_cores,
        p.storm_logins_per_s
    );
    for (k, r) in runs.iter().enumerate() {
        for (label, w) in [("quiet", &r.quiet), ("storm", &r.storm)] {
            let others = w
                .other_threads_cores
                .iter()
                .map(|(n, c)| format!("{n} {c:.2}"))
                .collect::<Vec<_>>()
                .join(", ");
            println!(
                "  {k} {label}: {:.1} s, {} ticks, p50 {} ms, p99 {} ms (bucket <= {}), {} overruns;\n      CPU cores: game loop {:.2}, other server threads [{others}], bots {:.2}, storm client {:.2};\n      Argon2 {:.2} s/s; load {}",
                w.seconds,
                w.ticks,
                opt(w.tick_p50_ms),
                opt(w.tick_p99_ms),
                opt(w.tick_p99_bound_ms),
                w.tick_overruns,
                w.loop_thread_cores,
                w.bots_cores,
                w.storm_client_cores,
                w.hash_seconds_per_s,
                w.load_average.map_or("-".into(), |l| format!("{l:.2}")),
            );
        }
        if let Some(note) = &r.note {
            println!("  {k} note: {note}");
        }
        if let Some(l) = &r.login {
            println!(
                "  {k} storm: {} signed in ({} failed) in {:.1} s, {:.1} logins/s, sign-in p50 {:.0} ms p99 {:.0} ms;\n      {} requests, 429 {}, 503 {}, 408 {}",
                l.signed_in,
                l.failed,
                l.seconds,
                l.logins_per_s,
                l.sign_in.p50_ms,
                l.sign_in.p99_ms,
                l.counts.requests,
                l.counts.rate_limited,
                l.counts.busy,
                l.counts.timed_out
            );
        }
    }
}

/// The tick over every quiet window and over every storm window: on a
/// shared machine whose load drifts from minute to minute, short windows
/// taken in turn and pooled compare like with like better than one pair.
#[derive(Debug, Default, Serialize)]
pub(super) struct Pooled {
    quiet_ticks: f64,
    storm_ticks: f64,
    quiet_p99_ms: Option<f64>,
    storm_p99_ms: Option<f64>,
    p99_ratio: Option<f64>,
    quiet_cpu_p99_ms: Option<f64>,
    storm_cpu_p99_ms: Option<f64>,
    quiet_loop_cores: f64,
    storm_loop_cores: f64,
    storm_logins_per_s: f64,
}

pub(super) fn pooled(runs: &[StormRun]) -> Pooled {
    let sum = |pick: fn(&StormRun) -> &Buckets| -> Buckets {
        let mut total: Vec<(f64, f64)> = Vec::new();
        for b in runs.iter().map(pick) {
            for &(le, n) in &b.0 {
                match total.iter_mut().find(|(l, _)| *l == le) {
                    Some((_, t)) => *t += n,
                    None => total.push((le, n)),
                }
            }
        }
        total.sort_by(|a, b| a.0.total_cmp(&b.0));
        Buckets(total)
    };
    let quiet = sum(|r| &r.quiet.buckets);
    let storm = sum(|r| &r.storm.buckets);
    let ms = |s: Option<f64>| s.map(|v| v * 1000.0);
    let mean = |f: fn(&StormRun) -> (f64, f64)| -> f64 {
        let (num, den) = runs
            .iter()
            .map(f)
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x * y, b + y));
        if den > 0.0 {
            num / den
        } else {
            0.0
        }
    };
    let quiet_p99_ms = ms(quiet.quantile(0.99));
    let storm_p99_ms = ms(storm.quantile(0.99));
    Pooled {
        quiet_ticks: quiet.count(),
        storm_ticks: storm.count(),
        quiet_p99_ms,
        storm_p99_ms,
        p99_ratio: match (quiet_p99_ms, storm_p99_ms) {
            (Some(q), Some(s)) if q > 0.0 => Some(s / q),
            _ => None,
        },
        quiet_cpu_p99_ms: ms(sum(|r| &r.quiet.cpu_buckets).quantile(0.99)),
        storm_cpu_p99_ms: ms(sum(|r| &r.storm.cpu_buckets).quantile(0.99)),
        quiet_loop_cores: mean(|r| (r.quiet.loop_thread_cores, r.quiet.seconds)),
        storm_loop_cores: mean(|r| (r.storm.loop_thread_cores, r.storm.seconds)),
        storm_logins_per_s: mean(|r| (r.storm.logins_per_s, r.storm.seconds)),
    }
}

pub(super) fn storm_verdicts(runs: &[StormRun]) -> Vec<Verdict> {
    let mut v = Vec::new();
    let ratios: Vec<String> = runs
        .iter()
        .map(|r| r.p99_ratio.map_or("-".into(), |x| format!("{x:.2}")))
        .collect();
    let p = pooled(runs);
    v.push(Verdict {
        target: "a login storm moves tick p99 by <= 10% (pooled)".into(),
        measured: format!(
            "{} pooled; each pair {}",
            p.p99_ratio.map_or("-".into(), |x| format!("{x:.2}")),
            ratios.join(", ")
        ),
        met: p.p99_ratio.is_some_and(|r| r <= 1.10),
    });
    let failed: usize = runs
        .iter()
        .filter_map(|r| r.login.as_ref())
        .map(|l| l.failed)
        .sum();
    v.push(Verdict {
        target: "no storm account refused or given up on".into(),
        measured: format!("{failed} (storms stopped unfinished are not counted)"),
        met: failed == 0,
    });
    v
}
