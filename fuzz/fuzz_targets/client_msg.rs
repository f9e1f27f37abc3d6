//! Message decoding: never panics, whatever decodes re-encodes and decodes to the
//! same value, and the fast `WorldUpdate` reader agrees with postcard.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integration_tests::fuzz_checks::client_msg(data));
