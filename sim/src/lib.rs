//! Drivers that run many client machines against the real server machine.
//!
//! Deterministic, in virtual time, with no IO: the simulator (`simulator`,
//! over the link model in `netem`) and the `lab` the world tests and scenario
//! snapshots script. Over real (or turmoil) sockets, on tokio and the wall
//! clock: `socket_tools`. Every bot in either follows a `policy`; `report`
//! holds the summaries both print.

pub mod crash_sweep;
pub mod lab;
pub mod netem;
pub mod policy;
pub mod report;
pub mod simulator;
pub mod socket_tools;
