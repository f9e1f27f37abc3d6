//! `crash-sweep`: every economy transaction kind, with the node or the store
//! crashing at each step of it in turn; prints one line per crash point and
//! the number swept, and exits non-zero on any violation.
//!
//! `cargo run --release -p sim --bin crash-sweep [-- --kind buy,trade]`

use sim::crash_sweep::{sweep, Kind};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut kinds = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--kind", Some(list)) => {
                for name in list.split(',') {
                    match Kind::from_label(name.trim()) {
                        Some(k) => kinds.push(k),
                        None => {
                            eprintln!("{name:?} is no transaction kind");
                            return ExitCode::FAILURE;
                        }
                    }
                }
            }
            _ => {
                eprintln!("usage: crash-sweep [--kind grant,loot,buy,...]");
                return ExitCode::FAILURE;
            }
        }
    }
    let started = std::time::Instant::now();
    let report = sweep(&kinds, |p| println!("{p}"));
    println!(
        "{} in {:.1} s",
        report.summary(),
        started.elapsed().as_secs_f64()
    );
    if report.violations() > 0 {
        eprintln!(
            "crash sweep failed: reproduce with `cargo run --release -p sim --bin crash-sweep`"
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
