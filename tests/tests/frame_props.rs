//! Property tests of framing: any chunking of a stream of frames decodes to the
//! same messages; arbitrary bytes never panic and never grow the buffer past one
//! frame; an oversized prefix is refused before anything is allocated.

use game_core::ids::{CharacterId, PlayerId};
use game_core::protocol::{
    encode_frame, ClientMsg, ClientSession, Credentials, FrameDecoder, FrameError, ResumeToken,
    FRAME_HEADER_LEN, MAX_CLIENT_PAYLOAD,
};
use proptest::prelude::*;

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    prop_oneof![
        (any::<u16>(), ".{0,40}").prop_map(|(protocol_version, client)| ClientMsg::Session(
            ClientSession::Hello {
                protocol_version,
                client
            }
        )),
        ".{0,64}".prop_map(|name| ClientMsg::Session(ClientSession::Login {
            credentials: Credentials::Dev { name }
        })),
        (any::<u64>(), any::<[u8; 16]>()).prop_map(|(p, t)| ClientMsg::Session(
            ClientSession::Resume {
                player: PlayerId(p),
                token: ResumeToken(t)
            }
        )),
        any::<u64>().prop_map(|c| ClientMsg::Session(ClientSession::EnterWorld {
            character: CharacterId(c)
        })),
        ".{0,32}".prop_map(|name| ClientMsg::Session(ClientSession::CreateCharacter { name })),
        ".{0,900}".prop_map(|token| ClientMsg::Session(ClientSession::Login {
            credentials: Credentials::Token { token }
        })),
        (any::<u32>(), any::<u64>()).prop_map(|(seq, client_time_us)| ClientMsg::Session(
            ClientSession::Ping {
                seq,
                client_time_us
            }
        )),
        (any::<u32>(), any::<u64>(), any::<u64>()).prop_map(|(seq, s, c)| ClientMsg::Session(
            ClientSession::Pong {
                seq,
                server_time_us: s,
                client_time_us: c
            }
        )),
        Just(ClientMsg::Session(ClientSession::Goodbye)),
    ]
}

/// Decodes `stream` fed in pieces cut at `cuts` (positions, any order).
fn decode_in_pieces(stream: &[u8], mut cuts: Vec<usize>) -> Vec<ClientMsg> {
    cuts.iter_mut().for_each(|c| *c %= stream.len() + 1);
    cuts.sort_unstable();
    cuts.push(stream.len());
    let mut dec = FrameDecoder::new(MAX_CLIENT_PAYLOAD);
    let mut out = Vec::new();
    let mut start = 0;
    for end in cuts {
        let mut piece = &stream[start..end];
        while let Some(payload) = dec.decode(&mut piece).unwrap() {
            out.push(ClientMsg::decode(payload).unwrap());
        }
        assert!(
            piece.is_empty(),
            "the decoder consumes everything it is given"
        );
        start = end;
    }
    assert_eq!(dec.buffered(), 0, "nothing left over after whole frames");
    out
}

proptest! {
    #[test]
    fn any_chunking_gives_the_same_messages(
        msgs in prop::collection::vec(client_msg(), 0..20),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let mut stream = Vec::new();
        for m in &msgs {
            encode_frame(m, MAX_CLIENT_PAYLOAD, &mut stream).unwrap();
        }
        prop_assert_eq!(decode_in_pieces(&stream, cuts), msgs.clone());
        // One byte at a time, the worst case of a slow link.
        let every_byte: Vec<usize> = (0..stream.len()).collect();
        prop_assert_eq!(decode_in_pieces(&stream, every_byte), msgs);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded(
        bytes in prop::collection::vec(any::<u8>(), 0..10_000),
        chunk in 1usize..600,
    ) {
        let mut dec = FrameDecoder::new(MAX_CLIENT_PAYLOAD);
        'outer: for mut piece in bytes.chunks(chunk) {
            loop {
                match dec.decode(&mut piece) {
                    Ok(Some(payload)) => { let _ = ClientMsg::decode(payload); }
                    Ok(None) => break,
                    Err(_) => break 'outer,
                }
                prop_assert!(dec.capacity() <= MAX_CLIENT_PAYLOAD as usize);
            }
            prop_assert!(dec.buffered() <= FRAME_HEADER_LEN + MAX_CLIENT_PAYLOAD as usize);
        }
    }

    #[test]
    fn oversized_prefix_is_refused_before_allocating(len in (MAX_CLIENT_PAYLOAD + 1)..=u32::MAX) {
        let mut dec = FrameDecoder::new(MAX_CLIENT_PAYLOAD);
        let header = len.to_le_bytes();
        let mut input = &header[..];
        prop_assert_eq!(
            dec.decode(&mut input),
            Err(FrameError::TooLarge { len, max: MAX_CLIENT_PAYLOAD })
        );
        prop_assert_eq!(dec.capacity(), 0);
    }

    #[test]
    fn whatever_decodes_re_encodes_to_the_same_value(bytes in prop::collection::vec(any::<u8>(), 1..64)) {
        if let Ok(msg) = ClientMsg::decode(&bytes) {
            let mut again = Vec::new();
            encode_frame(&msg, MAX_CLIENT_PAYLOAD, &mut again).unwrap();
            prop_assert_eq!(ClientMsg::decode(&again[FRAME_HEADER_LEN..]), Ok(msg));
        }
    }
}

/// A stream of real frames with damage here and there (a byte flipped, a
/// prefix inflated or zeroed), as the fuzz target's reference comparison sees
/// it: pieces of any size, one-shot reference, same frames, error and tail.
fn damaged_stream() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(client_msg(), 0..12),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        prop::collection::vec(1u8..64, 0..8),
    )
        .prop_map(|(msgs, damage, cuts)| {
            let mut stream = Vec::new();
            for m in &msgs {
                encode_frame(m, MAX_CLIENT_PAYLOAD, &mut stream).unwrap();
            }
            for (at, byte) in damage {
                if !stream.is_empty() {
                    let i = at.index(stream.len());
                    stream[i] = byte;
                }
            }
            // The fuzz input format: [piece count] [piece sizes] [stream].
            let mut input = vec![cuts.len() as u8];
            input.extend_from_slice(&cuts);
            input.extend_from_slice(&stream);
            input
        })
}

proptest! {
    #[test]
    fn the_decoder_agrees_with_the_reference_on_damaged_streams(input in damaged_stream()) {
        integration_tests::fuzz_checks::frame_decoder(&input);
    }
}
