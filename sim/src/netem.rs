//! A seeded model of one client's TCP connection, in virtual time.
//!
//! TCP delivers an ordered byte stream, so "loss" shows up as a retransmission
//! delay that also holds back everything behind it (head-of-line blocking), and
//! there is no duplication or reordering to model. A link has a base latency,
//! jitter, a loss rate, a bandwidth cap, and windows during which it is clogged
//! (everything is held until the window ends, as a retransmitting sender would
//! deliver it) or partitioned (the same for data in flight; the connection
//! usually dies of an idle timeout first).

use game_core::time::{Duration, Instant};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use serde::Serialize;
use std::collections::VecDeque;

/// The settings of one link, chosen by the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LinkParams {
    pub latency_ms: u32,
    pub jitter_ms: u32,
    /// Chance in 10,000 that a write is lost once and retransmitted.
    pub loss_per_10k: u32,
    /// Bytes per second in each direction; 0 is unlimited.
    pub bandwidth: u32,
}

impl LinkParams {
    pub const CLEAN: LinkParams = LinkParams {
        latency_ms: 10,
        jitter_ms: 2,
        loss_per_10k: 0,
        bandwidth: 0,
    };
}

/// A window of time during which nothing crosses the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Stall {
    pub from: Instant,
    pub until: Instant,
}

/// What travels on one direction of a connection.
#[derive(Debug)]
pub enum Item {
    Bytes(Vec<u8>),
    /// The sender closed the connection.
    Fin,
}

/// One direction of a connection: items in delivery order.
#[derive(Debug, Default)]
pub struct Pipe {
    queue: VecDeque<(Instant, Item)>,
    /// The delivery time of the newest item, while the queue holds any: kept
    /// beside the queue so a send does not read the queue's far end.
    last_at: Instant,
    /// When the sender's side of the link is free again (bandwidth).
    free_at: Instant,
    /// The largest extra delay any item suffered beyond latency plus jitter.
    pub worst_stall: Duration,
}

impl Pipe {
    /// Queues an item sent at `now`; returns its delivery time when the pipe
    /// was empty (the caller schedules a delivery event for it).
    pub fn push(
        &mut self,
        now: Instant,
        item: Item,
        params: &LinkParams,
        stalls: &[Stall],
        rng: &mut ChaCha8Rng,
    ) -> Option<Instant> {
        let size = match &item {
            Item::Bytes(b) => b.len() as u64,
            Item::Fin => 0,
        };
        let mut start = now.max(self.free_at);
        if params.bandwidth > 0 {
            let busy = size * 1_000_000 / params.bandwidth as u64;
            self.free_at = start + Duration::from_micros(busy);
            start = self.free_at;
        }
        let jitter = if params.jitter_ms == 0 {
            0
        } else {
            rng.next_u64() % (params.jitter_ms as u64 * 1000 + 1)
        };
        let nominal = start + Duration::from_micros(params.latency_ms as u64 * 1000 + jitter);
        let mut at = nominal;
        // A lost segment comes again after a retransmission timeout.
        if params.loss_per_10k > 0 && rng.next_u32() % 10_000 < params.loss_per_10k {
            at += Duration::from_millis(200 + 2 * params.latency_ms as u64);
        }
        for s in stalls {
            if at >= s.from && now < s.until {
                at = at.max(s.until + Duration::from_millis(params.latency_ms as u64));
            }
        }
        // In order: nothing overtakes what was sent before.
        let was_empty = self.queue.is_empty();
        if !was_empty {
            at = at.max(self.last_at);
        }
        self.worst_stall = self.worst_stall.max(at.saturating_since(nominal));
        self.last_at = at;
        self.queue.push_back((at, item));
        was_empty.then_some(at)
    }

    pub fn next_at(&self) -> Option<Instant> {
        self.queue.front().map(|&(t, _)| t)
    }

    pub fn pop_due(&mut self, now: Instant) -> Option<Item> {
        if self.next_at()? <= now {
            self.queue.pop_front().map(|(_, i)| i)
        } else {
            None
        }
    }

    pub fn clear(&mut self) {
        self.queue.clear();
    }

    pub fn bytes_queued(&self) -> usize {
        self.queue
            .iter()
            .map(|(_, i)| match i {
                Item::Bytes(b) => b.len(),
                Item::Fin => 0,
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use game_core::rng::{stream, StreamKind};

    #[test]
    fn delivery_is_in_order_and_stalls_hold_everything_behind() {
        let mut rng = stream(1, StreamKind::Link, 0);
        let params = LinkParams {
            latency_ms: 50,
            jitter_ms: 30,
            loss_per_10k: 2000,
            bandwidth: 10_000,
        };
        let stall = [Stall {
            from: Instant::from_micros(1_000_000),
            until: Instant::from_micros(3_000_000),
        }];
        let mut pipe = Pipe::default();
        let mut last = Instant::ZERO;
        for i in 0..100u64 {
            let now = Instant::from_micros(i * 40_000);
            pipe.push(now, Item::Bytes(vec![0; 100]), &params, &stall, &mut rng);
        }
        let mut n = 0;
        while let Some(t) = pipe.next_at() {
            assert!(t >= last);
            last = t;
            pipe.pop_due(t).unwrap();
            n += 1;
            if t > Instant::from_micros(1_050_000) && t < Instant::from_micros(3_000_000) {
                panic!("delivered inside the stall at {t:?}");
            }
        }
        assert_eq!(n, 100);
        assert!(pipe.worst_stall >= Duration::from_millis(1_000));
    }
}
