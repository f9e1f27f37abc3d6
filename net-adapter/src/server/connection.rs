//! The connection task: moves bytes between one socket and the core loop.
//!
//! Owns one socket (both halves) from admission to close. It may not touch the
//! node or decide anything about the session: it forwards what it reads as
//! stamped events, writes what the core sends, and reports how much it wrote
//! through a shared counter.

use super::messages::{Command, Event, ReturnedBuffers, Stamped, Written};
use crate::clock::AdapterClock;
use game_core::ids::ConnId;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 4096;

/// Moves bytes between one socket and the core until the core closes it.
///
/// After the core's close the write half is shut down (the peer reads its
/// `Disconnect`, then EOF) and what the peer still sends is read and dropped
/// until it closes too, or the linger ends the task. Closing a socket with
/// unread input would send a reset instead, and a reset can discard the
/// `Disconnect` before the peer reads it: a flooding client would never learn
/// why it was cut.
pub(super) async fn connection<S: AsyncRead + AsyncWrite>(
    conn: ConnId,
    stream: S,
    clock: AdapterClock,
    events: mpsc::Sender<Stamped>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    written: Arc<Written>,
    returned: Arc<ReturnedBuffers>,
) {
    let (mut rd, mut wr) = tokio::io::split(stream);
    // Both halves run in this one task; the flags only need to be Send.
    let closing = AtomicBool::new(false);
    let peer_done = AtomicBool::new(false);
    let reader_events = events.clone();
    let reader = async {
        let mut buf = [0u8; READ_CHUNK];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    peer_done.store(true, Ordering::Relaxed);
                    if closing.load(Ordering::Relaxed) {
                        return;
                    }
                    let _ = reader_events
                        .send((clock.now(), Event::Lost { conn }))
                        .await;
                    break;
                }
                // Closed by the core: the input means nothing any more.
                Ok(_) if closing.load(Ordering::Relaxed) => {}
                Ok(n) => {
                    let data = buf[..n].to_vec();
                    if reader_events
                        .send((clock.now(), Event::Bytes { conn, data }))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        // Keep the write side going until the core says close.
        std::future::pending::<()>().await;
    };
    let writer = async {
        while let Some(command) = commands.recv().await {
            match command {
                Command::Write(bytes) => {
                    if wr.write_all(&bytes).await.is_err() {
                        let _ = events.send((clock.now(), Event::Lost { conn })).await;
                        return;
                    }
                    written.bytes.fetch_add(bytes.len(), Ordering::Relaxed);
                    returned.give(bytes);
                }
                Command::Close => break,
            }
        }
        let _ = wr.shutdown().await;
        closing.store(true, Ordering::Relaxed);
        if !peer_done.load(Ordering::Relaxed) {
            // The reader drops what still arrives until the peer closes.
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        // Fixed order, so a turmoil replay is the same whatever is ready.
        biased;
        _ = reader => {}
        _ = writer => {}
    }
}
