//! One session machine fed arbitrary bytes, node decisions, flushes and time:
//! no panic, its state invariants hold, its memory stays bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integration_tests::fuzz_checks::session(data));
