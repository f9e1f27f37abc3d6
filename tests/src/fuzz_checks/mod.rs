//! The body of every fuzz target, as plain functions over one input.
//!
//! `fuzz/fuzz_targets/*.rs` call these under libFuzzer; `tests/tests/fuzz_regressions.rs`
//! calls them on every committed seed and regression input. A check panics when
//! an invariant breaks, and only then.
//!
//! The session and node targets read their input as a script: each step is an
//! opcode byte and its operands ([`Script`]), so a mutation of one step leaves the
//! others meaningful and the fuzzer reaches deep states (logged in, in the world)
//! instead of dying on the first byte. Each machine has one list of its
//! operations ([`SessionOp`], [`NodeOp`]), which the check reads and the seeds
//! write; a message step picks one of the protocol's example messages ([`Say`]),
//! so a message added to the protocol is fuzzed with no change here.

mod economy;
mod economy_seeds;
mod frames;
mod node;
mod raid_seeds;
mod script;
pub mod seeds;
mod session;
mod social;
mod social_request;
mod social_seeds;
mod token;
mod wire;

pub use economy::{economy, EconomyOp, OpBytes, PartBytes};
pub use frames::{client_msg, frame_decoder};
pub use node::{node, EconomyBytes, NodeOp, RaidBytes, StoreMode};
pub use script::{Script, ScriptWriter};
pub use session::{session, SessionOp};
pub use social::{social, SocialOp};
pub use social_request::SocialBytes;
pub use token::token;
pub use wire::Say;

/// The check of one fuzz target: panics on an input that breaks its rules.
pub type Check = fn(&[u8]);

/// The fuzz targets, by name: the directory names under `fuzz/seeds/` and
/// `fuzz/regressions/`.
pub const TARGETS: [(&str, Check); 7] = [
    ("frame_decoder", frame_decoder),
    ("client_msg", client_msg),
    ("session", session),
    ("node", node),
    ("token", token),
    ("social", social),
    ("economy", economy),
];
