//! Drivers that run many client machines: the `mmo-bots` load tool now, the
//! deterministic simulator and turmoil harness next.

pub mod behaviour;
pub mod bots;
pub mod lab;
pub mod load;
pub mod netem;
pub mod policy;
pub mod report;
pub mod scrape;
pub mod simulator;
