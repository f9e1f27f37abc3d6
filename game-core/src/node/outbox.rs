//! What the node has for its driver: connections with bytes to flush, in the
//! order they were touched, and the outputs already decided (events, closes,
//! persistence intents, bus messages). Also the written buffers the driver gives
//! back, reused for the next writes so steady state allocates nothing.
//!
//! Owns no session: `connections.rs` moves a session's bytes out when its turn
//! comes.

use super::{Node, Output};
use crate::ids::ConnId;
use std::collections::VecDeque;

/// Buffers kept for reuse; more are dropped.
const MAX_REUSABLE_BUFFERS: usize = 4096;
/// A buffer bigger than this is not kept for reuse: one write to a client that
/// fell behind can be up to `max_outbound_bytes`, and a pool of thousands of
/// those would hold gigabytes. Everyday writes (a tick's update) are far smaller.
pub(super) const MAX_REUSABLE_CAPACITY: usize = 16 * 1024;

#[derive(Debug, Default)]
pub(super) struct Outbox {
    /// Connections with output to flush, each once, in the order touched.
    pub(super) to_flush: VecDeque<ConnId>,
    /// Outputs to hand out before the next flush.
    pub(super) outputs: VecDeque<Output>,
    /// Buffers the driver has finished writing.
    pub(super) reusable_buffers: Vec<Vec<u8>>,
}

impl Node {
    /// Gives back a written [`Output::Transmit`] buffer for reuse. At most
    /// 4,096 buffers of at most 16 KiB are kept.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        let kept = &mut self.outbox.reusable_buffers;
        if kept.len() < MAX_REUSABLE_BUFFERS && buffer.capacity() <= MAX_REUSABLE_CAPACITY {
            kept.push(buffer);
        }
    }
}
