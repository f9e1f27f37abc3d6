//! Thread priorities: the game loop above the threads that serve it.
//!
//! `mmo-server` runs the game loop on its main thread and everything else
//! (connections, the login service, the store worker, and SQLite's
//! connection threads, which take the nice of the thread that starts them)
//! on runtime threads `io_threads_nice` below it. On a machine with few
//! cores, a burst of commits then waits for the tick rather than stretching
//! it: in `bench-economy` on 2 cores, the tick's p99 by the wall went from
//! 1.17-1.22x its no-economy figure to about its CPU figure once the
//! store's threads ran lower (see the commit that added this module).

/// The calling thread's nice value (on Linux, nice is per thread); 0 where
/// it cannot be read.
pub fn this_thread_nice() -> i32 {
    rustix::process::getpriority_process(None).unwrap_or(0)
}

/// Sets the calling thread's nice value (at most 19). Raising it needs no
/// privilege; where it fails, a warning says so and the thread runs on.
pub fn set_this_thread_nice(nice: i32) {
    let nice = nice.min(19);
    if rustix::process::getpriority_process(None) == Ok(nice) {
        return;
    }
    if let Err(e) = rustix::process::setpriority_process(None, nice) {
        tracing::warn!("cannot set a thread's priority to nice {nice}: {e}");
    }
}
