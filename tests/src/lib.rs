//! Cross-crate tests live in tests/tests/. This library holds what they share
//! with the fuzz targets in `fuzz/`: the check each target runs on one input
//! ([`fuzz_checks`]), so a crash a fuzzer finds replays under plain
//! `cargo test` on stable through the very same code.

pub mod fuzz_checks;
