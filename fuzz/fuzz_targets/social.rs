//! The social layer driven directly by several characters: arrivals, moves,
//! drops and departures, any request with any text, a store that answers at
//! once, late, failing, twice or never, time, and the operator's mutes and
//! system lines.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integration_tests::fuzz_checks::social(data));
