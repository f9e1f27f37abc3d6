//! The economy's model driven directly: transactions of any ops on a few
//! small inventories (trades, the same character twice, replayed and
//! skipping sequence numbers, counts and amounts at their type's edge) and
//! deletions, with the books checked after every step.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integration_tests::fuzz_checks::economy(data));
