//! Refusals: telling a connection over a cap why, in one frame, then closing it.
//!
//! Owns the refused sockets and the slots they hold (each is a file
//! descriptor, so their number is part of the open-file budget). It may not
//! touch the node or admission's counts; it only writes one `Disconnect`.
//!
//! A refusal writes its frame, shuts the write side, and reads and drops what
//! the client sent until the client closes: closing over unread input would
//! reset the connection, and a reset can discard the reason before the client
//! reads it. Each refusal is bounded in time. When every slot is taken, the
//! oldest refusal is ended to make room once it has had
//! [`REFUSAL_MIN_TIME`] to be read, and the accept loop waits for that (new
//! connections wait in the kernel's backlog). So a burst of connections (a
//! restart, every client reconnecting) is answered in full, and a flood of
//! clients that never close costs a bounded number of descriptors and slows
//! the accept loop by at most one [`REFUSAL_MIN_TIME`] per slot's worth.

use game_core::protocol::{
    encode_frame, DisconnectReason, ServerMsg, ServerSession, MAX_SERVER_PAYLOAD,
};
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// A refusal may take this long in all, if it keeps its slot.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// A refusal keeps its slot at least this long (its frame's time to reach a
/// client across the world and be read) before it may be ended for another.
const REFUSAL_MIN_TIME: Duration = Duration::from_millis(100);

/// The refusals being written, at most one per slot.
#[derive(Debug)]
pub(super) struct Refusals {
    slots: Arc<Semaphore>,
    max: usize,
    /// Oldest first; finished ones are pruned when room is needed.
    in_flight: VecDeque<(Instant, AbortHandle)>,
}

impl Refusals {
    pub(super) fn new(slots: usize) -> Self {
        let max = slots.max(1);
        Refusals {
            slots: Arc::new(Semaphore::new(max)),
            max,
            in_flight: VecDeque::with_capacity(max),
        }
    }

    /// Tells `stream` why it is refused, in a task of its own. Returns false if
    /// it was closed without a word (no slot came free).
    pub(super) async fn refuse<S>(&mut self, mut stream: S, reason: DisconnectReason) -> bool
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let Some(permit) = self.slot().await else {
            return false;
        };
        let mut frame = Vec::new();
        let msg = ServerMsg::Session(ServerSession::Disconnect { reason });
        if encode_frame(&msg, MAX_SERVER_PAYLOAD, &mut frame).is_err() {
            return false;
        }
        let task = tokio::spawn(async move {
            let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, async {
                stream.write_all(&frame).await?;
                stream.shutdown().await?;
                let mut sink = [0u8; 1024];
                while stream.read(&mut sink).await? > 0 {}
                io::Result::Ok(())
            })
            .await;
            drop(permit);
        });
        if self.in_flight.len() >= self.max {
            self.in_flight.retain(|(_, task)| !task.is_finished());
        }
        self.in_flight
            .push_back((Instant::now(), task.abort_handle()));
        true
    }

    /// A free slot, making one if need be by ending the oldest refusal once it
    /// is [`REFUSAL_MIN_TIME`] old.
    async fn slot(&mut self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() {
            return Some(permit);
        }
        self.in_flight.retain(|(_, task)| !task.is_finished());
        if let Some((started, oldest)) = self.in_flight.pop_front() {
            tokio::time::sleep_until(started + REFUSAL_MIN_TIME).await;
            oldest.abort();
        }
        // An aborted task gives its slot back at its next poll.
        let wait = Arc::clone(&self.slots).acquire_owned();
        match tokio::time::timeout(REFUSAL_MIN_TIME, wait).await {
            Ok(Ok(permit)) => Some(permit),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use game_core::protocol::FrameDecoder;

    async fn read_reason(client: &mut tokio::io::DuplexStream) -> Option<ServerMsg> {
        let mut buf = [0u8; 64];
        let n = client.read(&mut buf).await.ok()?;
        let mut input = &buf[..n];
        let mut decoder = FrameDecoder::new(MAX_SERVER_PAYLOAD);
        let payload = decoder.decode(&mut input).ok()??;
        ServerMsg::decode(payload).ok()
    }

    #[tokio::test]
    async fn with_every_slot_taken_the_oldest_refusal_makes_room_after_its_minimum() {
        let mut refusals = Refusals::new(1);
        let full = ServerMsg::Session(ServerSession::Disconnect {
            reason: DisconnectReason::ServerFull,
        });
        // A client that never closes keeps its refusal (and the one slot) busy.
        let (mut stuck, server_side) = tokio::io::duplex(64);
        assert!(
            refusals
                .refuse(server_side, DisconnectReason::ServerFull)
                .await
        );
        let started = std::time::Instant::now();
        let (mut next, server_side) = tokio::io::duplex(64);
        assert!(
            refusals
                .refuse(server_side, DisconnectReason::ServerFull)
                .await
        );
        let waited = started.elapsed();
        assert!(
            waited >= REFUSAL_MIN_TIME - Duration::from_millis(5) && waited < REFUSAL_WRITE_TIMEOUT,
            "{waited:?}"
        );
        // Both were told why.
        assert_eq!(read_reason(&mut stuck).await, Some(full.clone()));
        assert_eq!(read_reason(&mut next).await, Some(full));
    }
}
