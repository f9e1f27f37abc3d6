//! The node fed arbitrary interleavings of inputs from several connections
//! (handshakes, logins, resumes, world requests, raw bytes, drops, time), with
//! a store and a bus that answer at once, late, out of order, twice, failing,
//! or for ids never issued.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integration_tests::fuzz_checks::node(data));
