//! The pure, deterministic core of the MMO server.
//!
//! Everything here is a state machine driven from outside: inputs arrive through
//! `handle_*` methods that take `now` as a value, outputs are drained with `poll_*`
//! methods, and the next deadline comes from `poll_timeout()`. Nothing in this crate
//! reads a clock, draws OS randomness, spawns a thread or touches a socket or file
//! (`clippy.toml` beside this crate forbids them), so the tokio adapter, the
//! simulator, the fuzzers and the snapshot tests all drive the very same code.
//!
//! Modules depend only downwards:
//!
//! ```text
//! time, rng, math, ids      foundation, no game meaning
//! timers                    deadlines keyed by whatever a machine times
//! protocol                  bytes <-> typed messages, nothing else
//! auth                      names, passwords, login tokens, attempt limits
//! persist, bus              the store contract and cross-server messages (types only)
//! aoi                       interest management, usable on its own
//! heartbeat                 RTT and clock-offset estimation from ping/pong
//! session                   one connection's life
//! zone                      one map instance: tick, movement, replication, NPCs
//! node                      every session, player and zone of one server process
//! client                    the client-side machine: prediction, interpolation
//! ```

#![forbid(unsafe_code)]

pub mod aoi;
pub mod auth;
pub mod bus;
pub mod client;
pub mod combat;
pub mod content;
pub mod economy;
mod headroom;
pub mod heartbeat;
pub mod ids;
pub mod math;
pub mod node;
pub mod persist;
pub mod protocol;
pub mod raid;
pub mod rng;
pub mod session;
pub mod social;
pub mod time;
pub mod timers;
pub mod zone;

pub use time::{Duration, Instant, Tick};
