//! The benches' clocks: time spent by the node, by the wall clock and by
//! its thread's CPU clock (the machine may be shared; the CPU clock does not
//! count time spent waiting for a core, nor other threads). Shared by
//! bench-social and bench-economy (`#[path]`).

use std::time::{Duration as Wall, Instant as Clock};

/// Time spent: wall clock and this thread's CPU clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spent {
    pub wall: Wall,
    pub cpu: Wall,
}

impl std::ops::AddAssign for Spent {
    fn add_assign(&mut self, o: Spent) {
        self.wall += o.wall;
        self.cpu += o.cpu;
    }
}

impl std::ops::Add for Spent {
    type Output = Spent;
    fn add(mut self, o: Spent) -> Spent {
        self += o;
        self
    }
}

/// When a measurement started, by both clocks.
pub struct Mark(Clock, Wall);

/// Cleared by `BENCH_NO_CPU_CLOCK=1` (valgrind cannot run rustix's vDSO
/// lookup; the CPU figures then read 0).
pub static CPU_CLOCK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

fn cpu_now() -> Wall {
    if !CPU_CLOCK.load(std::sync::atomic::Ordering::Relaxed) {
        return Wall::ZERO;
    }
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Wall::new(t.tv_sec as u64, t.tv_nsec as u32)
}

impl Mark {
    pub fn now() -> Self {
        Mark(Clock::now(), cpu_now())
    }

    pub fn spent(&self) -> Spent {
        Spent {
            wall: self.0.elapsed(),
            cpu: cpu_now().saturating_sub(self.1),
        }
    }
}
