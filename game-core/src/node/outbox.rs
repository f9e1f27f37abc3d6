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
    /// one buffer per connection the node may hold (`max_sessions`), each of
    /// at most 16 KiB, is kept.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        let kept = &mut self.outbox.reusable_buffers;
        // One buffer per connection can be kept (`max_sessions`): with fewer
        // (it was 4,096), the sessions past the pool started each tick with an
        // empty buffer, sized exactly to their world update, and the tick's
        // first chat line reallocated it. bench-social, 10,000 players: tick
        // p99 CPU with chat 1.10-1.16x the run without, 1.05x with the pool;
        // allocations per tick 8,295 -> 1,801 without chat.
        if kept.len() < self.config.max_sessions as usize
            && buffer.capacity() <= MAX_REUSABLE_CAPACITY
        {
            kept.push(buffer);
        }
    }
}
