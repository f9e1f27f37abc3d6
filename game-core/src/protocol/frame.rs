//! Length-prefixed framing and the incremental decoder.
//!
//! The decoder copies at most one frame into its buffer, and only after the length
//! prefix has passed the size check, so a peer that claims a 4 GiB frame costs
//! nothing. A frame that arrives whole is handed out in place, not copied. It
//! gives the same frames for any chunking of the stream.

use serde::Serialize;
use std::fmt;

/// Bytes in the length prefix (a little-endian `u32` counting the payload).
pub const FRAME_HEADER_LEN: usize = 4;

/// Why the byte stream cannot be framed. Once a decoder fails it stays failed:
/// a stream that lost its framing cannot be trusted again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The length prefix announces more than the maximum payload.
    TooLarge { len: u32, max: u32 },
    /// The length prefix announces an empty payload, which is never a message.
    Empty,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the {max} byte limit")
            }
            FrameError::Empty => f.write_str("empty frame"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Room made before encoding: more than most messages take (a move is under
/// 48 bytes), so one allocation holds them.
const SMALL_FRAME: usize = 64;

/// Appends `msg` as one frame to `out`. Fails (leaving `out` as it was) only if the
/// payload would exceed `max_payload`, which for messages we build is our bug.
pub fn encode_frame<T: Serialize>(
    msg: &T,
    max_payload: u32,
    out: &mut Vec<u8>,
) -> Result<(), FrameError> {
    let start = out.len();
    // Postcard appends byte by byte: into an empty buffer (a client's, after
    // each write) that would grow it several times for one small message.
    out.reserve(SMALL_FRAME);
    out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
    // Serialising our message types into a Vec cannot fail: postcard errors only
    // for sequences of unknown length, which no message contains.
    let mut out_vec = postcard::to_extend(msg, std::mem::take(out))
        .expect("postcard serialisation into a Vec is infallible for wire messages");
    let len = out_vec.len() - start - FRAME_HEADER_LEN;
    if len as u64 > max_payload as u64 || len == 0 {
        out_vec.truncate(start);
        *out = out_vec;
        return Err(FrameError::TooLarge {
            len: u32::try_from(len).unwrap_or(u32::MAX),
            max: max_payload,
        });
    }
    out_vec[start..start + FRAME_HEADER_LEN].copy_from_slice(&(len as u32).to_le_bytes());
    *out = out_vec;
    Ok(())
}

/// Incremental frame decoder: feed it whatever the socket returned.
#[derive(Debug)]
pub struct FrameDecoder {
    max_payload: u32,
    header: [u8; FRAME_HEADER_LEN],
    header_len: usize,
    /// The current frame's payload length, once the header is complete.
    payload_len: Option<usize>,
    payload: Vec<u8>,
    /// The last call returned a frame, to be discarded before reading on.
    delivered: bool,
    failed: Option<FrameError>,
}

impl FrameDecoder {
    pub fn new(max_payload: u32) -> Self {
        FrameDecoder {
            max_payload,
            header: [0; FRAME_HEADER_LEN],
            header_len: 0,
            payload_len: None,
            payload: Vec::new(),
            delivered: false,
            failed: None,
        }
    }

    /// Takes bytes from the front of `input` until one frame is complete and returns
    /// its payload, or returns `Ok(None)` once `input` is used up mid-frame. Call it
    /// again with the remaining input until it returns `Ok(None)`.
    pub fn decode<'s, 'i: 's>(
        &'s mut self,
        input: &mut &'i [u8],
    ) -> Result<Option<&'s [u8]>, FrameError> {
        if let Some(err) = self.failed {
            return Err(err);
        }
        if self.delivered {
            self.delivered = false;
            self.header_len = 0;
            self.payload_len = None;
            self.payload.clear();
        }
        if self.payload_len.is_none() {
            let take = (FRAME_HEADER_LEN - self.header_len).min(input.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&input[..take]);
            self.header_len += take;
            *input = &input[take..];
            if self.header_len < FRAME_HEADER_LEN {
                return Ok(None);
            }
            let len = u32::from_le_bytes(self.header);
            if len > self.max_payload {
                return Err(self.fail(FrameError::TooLarge {
                    len,
                    max: self.max_payload,
                }));
            }
            if len == 0 {
                return Err(self.fail(FrameError::Empty));
            }
            self.payload_len = Some(len as usize);
            // The whole payload is here: hand it out in place.
            if let Some((frame, rest)) = input.split_at_checked(len as usize) {
                *input = rest;
                self.delivered = true;
                return Ok(Some(frame));
            }
            self.payload.reserve_exact(len as usize);
        }
        let want = self.payload_len.unwrap_or(0);
        let take = (want - self.payload.len()).min(input.len());
        self.payload.extend_from_slice(&input[..take]);
        *input = &input[take..];
        if self.payload.len() < want {
            return Ok(None);
        }
        self.delivered = true;
        Ok(Some(&self.payload))
    }

    /// Bytes held for an incomplete frame (bounded by 4 + the maximum payload).
    pub fn buffered(&self) -> usize {
        if self.delivered {
            0
        } else {
            self.header_len + self.payload.len()
        }
    }

    /// Memory reserved by the decoder's buffer.
    pub fn capacity(&self) -> usize {
        self.payload.capacity()
    }

    fn fail(&mut self, err: FrameError) -> FrameError {
        self.failed = Some(err);
        self.payload = Vec::new();
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(stream: &[u8], chunk: usize) -> Vec<Vec<u8>> {
        let mut dec = FrameDecoder::new(1024);
        let mut out = Vec::new();
        for mut piece in stream.chunks(chunk) {
            while let Some(f) = dec.decode(&mut piece).unwrap() {
                out.push(f.to_vec());
            }
            assert!(piece.is_empty());
        }
        out
    }

    #[test]
    fn same_frames_for_any_chunk_size() {
        let mut stream = Vec::new();
        for n in 1..6u8 {
            encode_frame(&vec![n; n as usize], 1024, &mut stream).unwrap();
        }
        let whole = frames(&stream, stream.len());
        assert_eq!(whole.len(), 5);
        for chunk in 1..stream.len() {
            assert_eq!(frames(&stream, chunk), whole, "chunk size {chunk}");
        }
    }

    #[test]
    fn oversized_prefix_is_rejected_before_allocating() {
        let mut dec = FrameDecoder::new(1024);
        let mut input: &[u8] = &u32::MAX.to_le_bytes();
        assert_eq!(
            dec.decode(&mut input),
            Err(FrameError::TooLarge {
                len: u32::MAX,
                max: 1024
            })
        );
        assert_eq!(dec.capacity(), 0);
        // The failure is sticky.
        let mut more: &[u8] = &[1, 0, 0, 0, 7];
        assert!(dec.decode(&mut more).is_err());
    }

    #[test]
    fn empty_frame_is_an_error() {
        let mut dec = FrameDecoder::new(1024);
        let mut input: &[u8] = &[0, 0, 0, 0];
        assert_eq!(dec.decode(&mut input), Err(FrameError::Empty));
    }

    #[test]
    fn encode_refuses_payload_over_the_limit() {
        let mut out = vec![9];
        let err = encode_frame(&vec![0u8; 100], 10, &mut out).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { max: 10, .. }));
        assert_eq!(out, vec![9]);
    }
}
