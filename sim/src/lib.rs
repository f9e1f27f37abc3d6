//! Drivers that run many client machines against the real server machine:
//! the deterministic simulator (`simulator`, over the link model in `netem`),
//! the in-memory `lab` the world tests and scenario snapshots script, and the
//! bots that drive a server over real or turmoil sockets (`bots`, `load`,
//! `scrape`). Every bot follows a `policy`.

pub mod bots;
pub mod lab;
pub mod load;
pub mod netem;
pub mod policy;
pub mod report;
pub mod scrape;
pub mod simulator;

/// The old path of [`policy::Atlas`] and [`policy::Wander`], kept only because
/// `snapshots/tests/scenarios.rs` imports it from here and is edited on
/// another branch; remove it once that file imports `sim::policy`.
#[doc(hidden)]
pub mod behaviour {
    pub use crate::policy::{Atlas, Wander};
}
