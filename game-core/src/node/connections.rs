//! The sessions of a node, one per connection, and their timers.
//!
//! Owns the connection inputs (connect, bytes, disconnect, flushed) and the
//! bookkeeping after anything touches a session: its deadline, its place in
//! the outbox, and, once it has closed, handing its player to the accounts.
//! A session's requests go to `routing.rs`; it never reads the world.

use super::{Node, Output};
use crate::ids::ConnId;
use crate::protocol::DisconnectReason;
use crate::session::Session;
use crate::time::Instant;

/// A session and the node's flags about it; the flags first (`repr(C)`),
/// beside the session's hot fields. Cachegrind, `sim --bots 1000 --seconds 10 --seed 42`
/// (2026-12-06), with the four `repr(C)` orderings (`node::Connection`,
/// `Session`, `Pinger`, `Client`) against none: 18.37M first-level data-cache
/// misses against 19.40M, for 0.2% more instructions; last-level misses equal.
#[derive(Debug)]
#[repr(C)]
pub(super) struct Connection {
    /// Already queued in the outbox.
    pub(super) queued_for_flush: bool,
    /// What becomes of its player after the close has been decided.
    pub(super) close_handled: bool,
    /// Admitted only to take back a player already kept (its address is at
    /// its cap): a login that would make a new player is refused.
    pub(super) resume_only: bool,
    pub(super) session: Session,
}

impl Node {
    /// A transport connection opened. Over the session cap, or while shutting down,
    /// the client is told why and the connection is closed.
    pub fn handle_connect(&mut self, now: Instant, conn: ConnId) {
        self.open(now, conn, false);
    }

    /// A transport connection opened that the driver admits only to take back
    /// a player the node keeps (a resume, or a login to an account already
    /// online): its address holds as many connections and kept players as it
    /// may. A login that would make a new player gets
    /// `Disconnect{TooManyConnections}` instead of a welcome.
    pub fn handle_connect_resume_only(&mut self, now: Instant, conn: ConnId) {
        self.open(now, conn, true);
    }

    fn open(&mut self, now: Instant, conn: ConnId, resume_only: bool) {
        self.stats.connections_opened += 1;
        let mut session = Session::new(conn, self.config.session.clone(), now);
        if self.shutting_down {
            session.close(now, DisconnectReason::ServerShutdown);
        } else if self.connections.len() >= self.config.max_sessions as usize {
            session.close(now, DisconnectReason::ServerFull);
        }
        let connection = Connection {
            session,
            queued_for_flush: false,
            close_handled: false,
            resume_only,
        };
        if let Some(old) = self.connections.insert(conn, connection) {
            // A driver that reuses a live id has a bug; keep the old one's books right.
            debug_assert!(false, "connection id {conn} reused while open");
            drop(old);
        }
        self.session_changed(now, conn);
    }

    /// Bytes arrived on a connection.
    pub fn handle_bytes(&mut self, now: Instant, conn: ConnId, mut input: &[u8]) {
        self.stats.bytes_in += input.len() as u64;
        if !self.connections.contains_key(&conn) {
            self.stats.input_after_close += 1;
            return;
        }
        // One request at a time: the node answers each before the session reads
        // on, so a pipelined `Hello, Login, EnterWorld` stays in order.
        while let Some(c) = self.connections.get_mut(&conn) {
            if c.session.is_closed() || input.is_empty() {
                break;
            }
            match c.session.handle_bytes(now, &mut input) {
                Some(request) => self.route(now, conn, request),
                None => break,
            }
        }
        self.session_changed(now, conn);
    }

    /// The transport closed (EOF or error) without a goodbye.
    pub fn handle_disconnect(&mut self, now: Instant, conn: ConnId) {
        self.close(now, conn, DisconnectReason::ConnectionLost);
    }

    /// The driver wrote `n` bytes of a [`Output::Transmit`] to the connection.
    pub fn handle_flushed(&mut self, conn: ConnId, n: usize) {
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session.handle_flushed(n);
        }
    }

    /// Closes one connection with a reason.
    pub fn close(&mut self, now: Instant, conn: ConnId, reason: DisconnectReason) {
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session.close(now, reason);
            self.session_changed(now, conn);
        }
    }

    pub(super) fn session_timeout(&mut self, now: Instant, conn: ConnId) {
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session.handle_timeout(now);
            self.session_changed(now, conn);
        }
    }

    /// Bookkeeping after anything touched a session: its timer, its place in
    /// the outbox, and, once it has closed, what becomes of its player.
    pub(super) fn session_changed(&mut self, now: Instant, conn: ConnId) {
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        let deadline = c.session.poll_timeout();
        if !c.queued_for_flush {
            c.queued_for_flush = true;
            self.outbox.to_flush.push_back(conn);
        }
        let newly_closed = match c.session.close_reason() {
            Some(reason) if !c.close_handled => Some(reason.clone()),
            _ => None,
        };
        if newly_closed.is_some() {
            c.close_handled = true;
        }
        // Session deadlines mostly move later (every message pushes the idle
        // deadline back), so an earlier armed entry is kept.
        self.session_timers.set_no_later_than(conn, deadline);
        if let Some(reason) = newly_closed {
            *self.stats.disconnects.entry(reason.label()).or_default() += 1;
            self.connection_closed(now, conn, reason);
        }
    }

    /// Moves a queued connection's output out. Called with the outbox's
    /// outputs empty: a lone `Transmit` is returned at once rather than queued
    /// and taken back (most of what a node outputs); one followed by its
    /// `Close` is queued, in that order, and the connection is forgotten.
    pub(super) fn flush(&mut self, conn: ConnId) -> Option<Output> {
        debug_assert!(self.outbox.outputs.is_empty());
        let c = self.connections.get_mut(&conn)?;
        c.queued_for_flush = false;
        let transmit = c
            .session
            .poll_transmit_from(&mut self.outbox.reusable_buffers)
            .map(|bytes| {
                self.stats.bytes_out += bytes.len() as u64;
                Output::Transmit { conn, bytes }
            });
        let Some(reason) = c.session.close_reason().cloned() else {
            return transmit;
        };
        self.outbox.outputs.extend(transmit);
        let closed = c.session.stats();
        self.stats.rate_limited += closed.rate_limited;
        self.stats.chat_shed += closed.chat_shed;
        self.stats.msgs_in += closed.msgs_in;
        self.stats.msgs_out += closed.msgs_out;
        self.connections.remove(&conn);
        self.session_timers.set(conn, None);
        self.outbox
            .outputs
            .push_back(Output::Close { conn, reason });
        None
    }
}
