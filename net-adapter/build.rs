//! Rebuilds when a migration is added or changed: `sqlx::migrate!` embeds the
//! migrations at compile time but does not tell Cargo to watch their folder,
//! so a new migration alone would leave a stale server binary.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
