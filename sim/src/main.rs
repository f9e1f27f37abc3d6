//! `sim`: the deterministic simulator's command line.
//!
//! `cargo run --release -p sim -- --bots 5000 --seconds 60 --seed 42 [--faults swarm]`
//! prints the trace hash and the run's figures; `--json FILE` writes them as a
//! JSON object. Exits non-zero when an invariant was violated, printing the one
//! command that reproduces the run. `SIM_SEED` in the environment sets the seed.

use clap::Parser;
use sim::policy::Kind;
use sim::simulator::{FaultMode, SimConfig, SimReport, Simulator};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "sim",
    about = "Deterministic simulation of the server with seeded bots"
)]
struct Args {
    #[arg(long, default_value_t = 500)]
    bots: usize,
    /// Simulated seconds.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Master seed (or SIM_SEED in the environment).
    #[arg(long)]
    seed: Option<u64>,
    /// clean, lossy or swarm (the seed picks the faults).
    #[arg(long, default_value = "swarm")]
    faults: FaultMode,
    /// Percent of bots that are hostile.
    #[arg(long, default_value_t = 5)]
    hostile_pct: u32,
    /// The kinds honest bots are drawn from, comma-separated (default: all).
    #[arg(long, value_parser = kinds)]
    honest: Option<Kinds>,
    /// The kinds hostile bots are drawn from, comma-separated (default: all).
    #[arg(long, value_parser = kinds)]
    hostile: Option<Kinds>,
    /// Also write the report as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Clone, Debug)]
struct Kinds(Vec<Kind>);

fn kinds(s: &str) -> Result<Kinds, String> {
    s.split(',')
        .map(|name| Kind::from_label(name.trim()).ok_or_else(|| format!("{name:?} is no bot kind")))
        .collect::<Result<Vec<_>, _>>()
        .and_then(|k| {
            if k.is_empty() {
                Err("no kinds".into())
            } else {
                Ok(Kinds(k))
            }
        })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let seed = args
        .seed
        .or_else(|| std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()))
        .unwrap_or(1);
    let mut config = SimConfig::new(args.bots, args.seconds, seed, args.faults);
    config.hostile_pct = args.hostile_pct;
    if let Some(Kinds(k)) = args.honest {
        if k.iter().any(|k| k.is_hostile()) {
            eprintln!("--honest takes honest kinds only");
            return ExitCode::FAILURE;
        }
        config.honest = k;
    }
    if let Some(Kinds(k)) = args.hostile {
        if k.iter().any(|k| !k.is_hostile()) {
            eprintln!("--hostile takes hostile kinds only");
            return ExitCode::FAILURE;
        }
        config.hostile = k;
    }
    let sim = Simulator::new(config);
    eprintln!(
        "sim: seed={seed} bots={} seconds={} {}",
        args.bots,
        args.seconds,
        sim.plan()
    );
    let tty = std::io::stderr().is_terminal();
    let report = sim.run(|done| {
        if tty {
            let width = 40;
            let filled = (done * width as f64) as usize;
            eprint!(
                "\r[{}{}] {:>3.0}%",
                "#".repeat(filled),
                " ".repeat(width - filled.min(width)),
                done * 100.0
            );
            let _ = std::io::stderr().flush();
        }
    });
    if tty {
        eprintln!();
    }
    print_report(&report);
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(e) = std::fs::write(path, json + "\n") {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if report.invariant_violations > 0 {
        eprintln!("reproduce with: {}", report.repro);
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn print_report(r: &SimReport) {
    println!("trace hash            {}", r.trace_hash);
    println!("seed                  {}", r.seed);
    println!("faults                {}", r.faults);
    println!(
        "bots                  {} ({} hostile)",
        r.bots, r.hostile_bots
    );
    println!(
        "simulated             {} s, {} events, {} ticks ({} overruns)",
        r.sim_seconds, r.events, r.ticks, r.tick_overruns
    );
    println!(
        "tick cost (wall)      p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        r.tick_wall_ms.p50_ms, r.tick_wall_ms.p99_ms, r.tick_wall_ms.max_ms
    );
    println!("bytes/client/s        {:.0}", r.bytes_per_client_per_second);
    println!(
        "corrections           {} honest, {} hostile",
        r.corrections_honest, r.corrections_hostile
    );
    println!("disconnects           {:?}", r.disconnects);
    println!(
        "interpolation error   p50 {:.3} m, p99 {:.3} m ({} samples)",
        r.interpolation_error_m.p50, r.interpolation_error_m.p99, r.interpolation_error_m.samples
    );
    println!(
        "  vs path through moves p50 {:.3} m, p99 {:.3} m ({} samples)",
        r.interpolation_error_vs_moves_m.p50,
        r.interpolation_error_vs_moves_m.p99,
        r.interpolation_error_vs_moves_m.samples
    );
    let st = &r.store;
    println!(
        "store                 {} intents in {} commits (largest {}), {} committed; {} failed in {} failed commits; {} crashes, {} lost unanswered; {} answers to a restarted node; {} refused (queue full)",
        st.intents, st.batches, st.largest_batch, st.committed, st.failed_intents, st.failed_batches,
        st.crashes, st.lost, st.to_dead_node, st.overflowed
    );
    println!(
        "logins                {} registered, {} tokens, {} unavailable, {} refused; honest bots in the world at the end {}/{}",
        r.login.registered, r.login.tokens, r.login.unavailable, r.login.refused,
        r.honest_in_world, r.honest_bots
    );
    let bad: Vec<String> = r
        .bad_tokens
        .iter()
        .map(|(k, t)| {
            format!(
                "{k:?} {} tried/{} refused/{} unanswered",
                t.tried, t.refused, t.unanswered
            )
        })
        .collect();
    println!(
        "bad tokens            {}; the node refused {}",
        if bad.is_empty() {
            "none".to_string()
        } else {
            bad.join(", ")
        },
        r.node_token_refusals
    );
    let pc = &r.persistence;
    println!(
        "persistence checks    {} saves acknowledged ({} characters held to them), {} loads checked ({} first after a restart), {} players checked",
        pc.saves_acknowledged, pc.characters_with_acked_saves, pc.loads_checked,
        pc.loads_after_restart, pc.players_checked
    );
    for (name, f) in [("fighters", &r.fighters), ("brawlers", &r.brawlers)] {
        if f.bots == 0 {
            continue;
        }
        let t = &f.tally;
        println!(
            "{name:<22}{} bots: {} kills, {} deaths, {} levels gained, {} experience, {} hits; {} skills and {} attacks sent, refused {:?}; {} held corrections, {} others",
            f.bots, t.kills, t.deaths, t.levels_gained, t.experience, t.hits, t.skills_sent,
            t.attacks_sent, t.refusals, f.held_corrections, f.corrections
        );
    }
    let c = &r.server_combat;
    println!(
        "combat (server)       {} skills used, {} hits, {} monsters killed, {} player deaths, {} experience granted, {} casts interrupted, {} requests dropped; refused {:?}",
        c.skills_used, c.hits, c.monsters_killed, c.player_deaths, c.experience_granted,
        c.casts_interrupted, c.dropped, c.refusals
    );
    let k = &r.combat_checks;
    println!(
        "combat checks         {} zone ticks ({} unpaired), {} hits, {} uses, {} mana spends checked; {} raid area hits",
        k.ticks_checked, k.ticks_unpaired, k.hits_checked, k.uses_checked, k.mana_checks, k.area_hits
    );
    if r.social.bots > 0 {
        let t = &r.social.tally;
        println!(
            "social bots           {} bots: sent {:?} and {} other requests; heard {:?}, {} missed; joined {} parties and {} guilds, made {} friends; refused {:?}",
            r.social.bots, t.sent, t.actions, t.heard, t.missed, t.parties_joined,
            t.guilds_joined, t.friends_made, t.refusals
        );
        let k = &r.social_checks;
        println!(
            "social checks         {} lines accepted, {} copies owed, {} heard, {} shed (counted missed), {} lost with their connection; {} say hearers measured, {} memberships compared",
            k.lines_accepted, k.copies_owed, k.copies_heard, k.copies_shed,
            k.copies_lost_with_connection, k.say_hearers_measured, k.memberships_compared
        );
    }
    if r.traders.bots > 0 {
        let t = &r.traders.tally;
        println!(
            "traders               {} bots: sent {} requests {:?}; {} changed, {} unanswered; {} gold from {} kills; enhanced {:?}; trades ended {:?}, {} offers changed after the other confirmed; refused {:?}",
            r.traders.bots, t.sent_total(), t.sent, t.changed, t.unanswered, t.loot_gold,
            r.traders.fight.kills, t.enhanced, t.trade_ends, t.offers_changed_after_confirm, t.refusals
        );
    }
    let n = &r.economy.node;
    let k = &r.economy.checks;
    println!(
        "economy (node)        {} requests ({} refused), {} transactions, {} committed, {} conflicts, {} retries; {} trades done of {} ended; loot {} given, {} lost",
        n.requests, n.refused, n.transactions, n.committed, n.conflicts, n.retries,
        n.trades_done, n.trades_ended, n.loot_given, n.loot_lost
    );
    println!(
        "economy checks        {} store checks ({} inventories, {} stacks, {} ledger entries at the last); {} node views compared; {} messages shown checked ({} compared whole); {} views at rest; transactions {} applied, {} replayed, {} refused by the store",
        k.store_checks, k.inventories, k.stacks, k.ledger_entries, k.node_views_compared,
        k.shown_checked, k.shown_compared, k.views_at_rest, k.tx_applied, k.tx_replayed, k.tx_refused
    );
    let rn = &r.raids.node;
    println!(
        "raids (node)          {} requests ({} refused), {} matches; instances {} opened, {} closed, peak {}; {} victories, {} time-ups, {} wipes; rewards {} owed: {} claimed, {} given at close, {} at a load, {} left to the store, {} lost; {} given from the store",
        rn.requests, rn.refused, rn.matches, rn.instances_opened, rn.instances_closed,
        rn.instances_peak, rn.victories, rn.time_ups, rn.wipes, rn.rewards_owed,
        rn.rewards_claimed, rn.rewards_given_at_close, rn.rewards_given_at_load,
        rn.rewards_stored, rn.rewards_lost, rn.rewards_from_store
    );
    if r.raids.bots > 0 {
        let t = &r.raids.tally;
        println!(
            "raiders               {} bots: {} queue requests ({} as parties), {} tickets queued, {} ready checks ({} accepted, {} declined), {} left the queue; entered {}; heard {} victories, {} time-ups, {} wipes; {} claims, {} rewards claimed, {} reward changes; {} dodge steps, {} drops; {} kills, {} deaths; refused {:?}",
            r.raids.bots, t.queue_requests, t.party_queues, t.queued, t.ready_checks, t.accepted, t.declined,
            t.left_queue, t.entered, t.victories, t.time_ups, t.wipes, t.claims_sent,
            t.rewards_claimed, t.reward_changes, t.dodges, t.drops, r.raids.fight.kills,
            r.raids.fight.deaths, t.refusals
        );
    }
    let k = &r.raids.checks;
    println!(
        "raid checks           {} ticks, {} memberships, {} matches' spreads; {} tickets told, {} judged at the end; {} rewards owed seen, {} reward changes shown",
        k.ticks_checked, k.members_checked, k.matches_checked, k.tickets, k.tickets_judged,
        k.owed_seen, k.reward_changes
    );
    if r.swindlers.bots > 0 {
        let w = &r.swindlers;
        println!(
            "swindlers             {} bots: {} economy requests sent, refused {:?}; the node: {} requests, {} refused",
            w.bots, w.sent, w.refused, w.node_requests, w.node_refused
        );
    }
    println!("invariant violations  {}", r.invariant_violations);
    for v in &r.violations {
        println!("  {v}");
    }
    println!(
        "wall time             {:.1} s: {:.1}x real time, {:.0} bot-seconds per wall-second",
        r.wall_seconds, r.speed_vs_real_time, r.bot_seconds_per_wall_second
    );
}
