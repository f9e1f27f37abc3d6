//! The frame decoder fed an arbitrary stream in arbitrary pieces: it never panics,
//! stays within one frame of memory, and gives the same frames, error and
//! unfinished tail as a one-shot decode of the whole stream.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integration_tests::fuzz_checks::frame_decoder(data));
