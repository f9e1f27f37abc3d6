//! Login tokens: verifying never panics, and nothing but a token the login
//! key issued verifies (no forgery by editing a real one).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integration_tests::fuzz_checks::token(data));
