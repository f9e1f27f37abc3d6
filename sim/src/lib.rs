//! Drivers that run many client machines: the `mmo-bots` load tool now, the
//! deterministic simulator and turmoil harness next.

pub mod bots;
pub mod report;
