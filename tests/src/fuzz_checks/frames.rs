//! Checks of the byte parsers: the frame decoder and message decoding.

use game_core::protocol::{
    encode_frame, read_world_update, ClientMsg, FrameDecoder, FrameError, ServerMsg, ServerWorld,
    FRAME_HEADER_LEN, MAX_CLIENT_PAYLOAD,
};

/// What a decoder made of a whole stream: the frames, the error that ended it,
/// and the bytes of an unfinished frame left at the end.
#[derive(Debug, PartialEq, Eq)]
struct Decoded {
    frames: Vec<Vec<u8>>,
    error: Option<FrameError>,
    leftover: usize,
}

/// The framing rules of docs/PROTOCOL.md, applied to the whole stream at once.
fn reference(stream: &[u8], max: u32) -> Decoded {
    let mut frames = Vec::new();
    let mut rest = stream;
    loop {
        if rest.len() < FRAME_HEADER_LEN {
            return Decoded {
                frames,
                error: None,
                leftover: rest.len(),
            };
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let error = if len > max {
            Some(FrameError::TooLarge { len, max })
        } else if len == 0 {
            Some(FrameError::Empty)
        } else {
            None
        };
        if error.is_some() {
            return Decoded {
                frames,
                error,
                leftover: 0,
            };
        }
        let end = FRAME_HEADER_LEN + len as usize;
        if rest.len() < end {
            return Decoded {
                frames,
                error: None,
                leftover: rest.len(),
            };
        }
        frames.push(rest[FRAME_HEADER_LEN..end].to_vec());
        rest = &rest[end..];
    }
}

/// Feeds `stream` to a [`FrameDecoder`] in pieces whose sizes cycle through
/// `cuts` (a size of 0 feeds an empty piece first, then one byte), checking its
/// bounds throughout.
fn incremental(stream: &[u8], cuts: &[u8], max: u32) -> Decoded {
    let mut dec = FrameDecoder::new(max);
    let mut frames = Vec::new();
    let mut rest = stream;
    let mut sizes = cuts.iter().cycle();
    while !rest.is_empty() {
        let size = match sizes.next() {
            Some(&s) => s as usize,
            None => rest.len(),
        };
        if size == 0 {
            let mut nothing: &[u8] = &[];
            assert!(matches!(dec.decode(&mut nothing), Ok(None) | Err(_)));
        }
        let (mut piece, tail) = rest.split_at(size.clamp(1, rest.len()));
        rest = tail;
        loop {
            let before = piece.len();
            match dec.decode(&mut piece) {
                Ok(Some(f)) => frames.push(f.to_vec()),
                Ok(None) => {
                    assert!(piece.is_empty(), "Ok(None) with input left");
                    break;
                }
                Err(e) => {
                    return Decoded {
                        frames,
                        error: Some(e),
                        leftover: 0,
                    }
                }
            }
            assert!(piece.len() < before, "a frame from no input");
            assert!(dec.capacity() <= max as usize, "buffer grew past a frame");
        }
        assert!(dec.buffered() < FRAME_HEADER_LEN + max as usize);
    }
    Decoded {
        frames,
        leftover: dec.buffered(),
        error: None,
    }
}

/// The frame decoder fed an arbitrary stream in arbitrary pieces gives what the
/// reference gives for the whole stream: the same frames, the same error, the
/// same unfinished tail. Input: `[n] [n piece sizes] [stream]`; a small limit
/// (first piece size) makes the size check reachable.
pub fn frame_decoder(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (cuts, stream) = rest.split_at((n as usize % 32).min(rest.len()));
    for max in [
        MAX_CLIENT_PAYLOAD,
        1 + cuts.first().copied().unwrap_or(0) as u32,
    ] {
        let expected = reference(stream, max);
        assert_eq!(incremental(stream, cuts, max), expected, "pieces {cuts:?}");
        assert_eq!(incremental(stream, &[1], max), expected, "byte by byte");
    }
}

/// Message decoding never panics, and whatever decodes re-encodes to bytes that
/// decode to the same value. The fast `WorldUpdate` reader accepts exactly what
/// postcard accepts, with the same result.
pub fn client_msg(data: &[u8]) {
    if let Ok(msg) = ClientMsg::decode(data) {
        let mut bytes = Vec::new();
        encode_frame(&msg, u32::MAX, &mut bytes).expect("re-encode");
        let again = ClientMsg::decode(&bytes[FRAME_HEADER_LEN..]).expect("decode re-encoded");
        assert_eq!(again, msg);
    }
    let server = ServerMsg::decode(data);
    if let Ok(msg) = &server {
        let mut bytes = Vec::new();
        encode_frame(msg, u32::MAX, &mut bytes).expect("re-encode");
        assert_eq!(
            ServerMsg::decode(&bytes[FRAME_HEADER_LEN..]).as_ref(),
            Ok(msg)
        );
    }
    let fast = read_world_update(data).ok();
    let slow = match server {
        Ok(ServerMsg::World(ServerWorld::WorldUpdate(u))) => Some(u),
        _ => None,
    };
    assert_eq!(fast, slow, "the fast reader disagrees with postcard");
}
