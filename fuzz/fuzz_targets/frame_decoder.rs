//! The frame decoder fed an arbitrary stream in arbitrary chunks: it never panics,
//! and gives the same frames (and the same error) whatever the chunking.
#![no_main]

use game_core::protocol::{FrameDecoder, FrameError, MAX_CLIENT_PAYLOAD};
use libfuzzer_sys::fuzz_target;

fn decode(stream: &[u8], chunk: usize) -> (Vec<Vec<u8>>, Option<FrameError>) {
    let mut dec = FrameDecoder::new(MAX_CLIENT_PAYLOAD);
    let mut frames = Vec::new();
    for mut piece in stream.chunks(chunk.max(1)) {
        loop {
            match dec.decode(&mut piece) {
                Ok(Some(f)) => frames.push(f.to_vec()),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
            assert!(dec.capacity() <= MAX_CLIENT_PAYLOAD as usize);
        }
    }
    (frames, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let whole = decode(stream, stream.len());
    assert_eq!(decode(stream, chunk as usize + 1), whole);
});
