//! `ClientMsg` decoding: never panics, and whatever decodes re-encodes and decodes
//! to the same value.
#![no_main]

use game_core::protocol::{encode_frame, ClientMsg, FRAME_HEADER_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = ClientMsg::decode(data) {
        let mut bytes = Vec::new();
        encode_frame(&msg, u32::MAX, &mut bytes).expect("re-encode");
        let again = ClientMsg::decode(&bytes[FRAME_HEADER_LEN..]).expect("decode re-encoded");
        assert_eq!(again, msg);
    }
});
