//! Tools that drive a real server over real sockets (or turmoil's, which stand
//! in for them): a bot over any async byte stream, the load generator's mix and
//! report, and a reader of the server's admin port. They read the wall clock
//! and run on tokio, so nothing here belongs in the deterministic simulator;
//! what they share with it is the bots' policies (`crate::policy`).
//!
//! The binaries built on them sit in `bin/` beside these modules: `mmo-bots`
//! (the load generator), `loadtest` (server and bots in one command) and
//! `attack` (hostile clients against `mmo-server`).

pub mod binaries;
pub mod bot;
pub mod load_report;
pub mod login_client;
pub mod mix;
pub mod scrape;
