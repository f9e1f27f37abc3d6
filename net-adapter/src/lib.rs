//! The tokio driver of the pure node, and the `mmo-server` binary.
//!
//! This crate owns everything the core may not touch: sockets, the real clock,
//! tasks, signals, the config file and logs. It holds no game logic: it reads
//! bytes, stamps them with [`clock::AdapterClock`], feeds the [`game_core::node::Node`],
//! and writes what the node emits, one write per connection per flush.
//! Socket types sit behind [`transport::Listener`], so turmoil's simulated TCP
//! runs the very same accept loop and tasks (feature `turmoil`).

pub mod admin;
pub mod clock;
pub mod config;
pub mod login;
pub mod metrics;
pub mod priority;
pub mod server;
pub mod store;
pub mod transport;

pub use admin::serve_admin;
pub use config::ServerConfig;
pub use metrics::Metrics;
pub use server::{serve, serve_with, serve_with_metrics, RefusalStats, ServerReport};
