//! What must hold of chat and of parties and guilds, checked exactly:
//!
//! - lines are owed, then heard: when the server accepts a chat line or a
//!   whisper (the simulator hands each social request to the node on its own
//!   and compares the layer's line counters before and after), the checker
//!   works out from the node's state at that moment who is owed a copy:
//!   say, the speaker and the players near it (`Zone::players_near`, each
//!   also checked to be within the say radius by its position); zone,
//!   everyone on the speaker's map and channel; party and guild, their
//!   members (`Social::party_of`, `Social::guild_of`); world, everyone; a
//!   whisper, the character its name was online as (and the sender, its
//!   echo). Only characters online for the social layer (`is_online`) and
//!   not blocking the speaker are owed. Each copy joins the recipient's
//!   queue, tagged with the connection the recipient had then;
//! - every line a client hears is the first owed copy of it in its queue:
//!   never one it is not owed (outside the channel, from someone it blocks,
//!   a second copy, or out of order). Copies it skipped are lines the server
//!   shed, and `ChatMissed` (which comes just before the next line that
//!   fits) counts exactly those: at least the skipped copies owed on the
//!   connection the line came on, at most all skipped (copies owed on an
//!   earlier connection may be lost with it);
//! - nothing from a character the client blocks reaches it: every line is
//!   checked against the client's own block list as the server last sent
//!   it, which arrives in the same ordered stream (guild history included);
//! - at quiescence (the liveness phase: no faults, bots still for seconds),
//!   nothing owed on a live connection is left unheard beyond what
//!   `ChatMissed` accounts for;
//! - parties as the server holds them are consistent (every member's party
//!   is the same party, its leader a member, at least two members); every
//!   party or guild a client is shown includes it (and a guild has one
//!   leader); and once a character's party, guild and connection have not
//!   changed for [`SETTLE`] at quiescence, its client's `SocialView`, the
//!   checker's model (the last `Party` and `Guild` messages it got) and the
//!   server agree.

use super::membership::{
    disagreement, has_duplicates, party_breaks, server_membership, Membership,
};
use game_core::client::{Client, ClientEvent};
use game_core::ids::{CharacterId, ConnId};
use game_core::math::Fixed;
use game_core::node::{Location, Node};
use game_core::protocol::{ChatChannel, ClientSocial, Contact, GuildRank, ServerSocial};
use game_core::time::{Duration, Instant};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// A character's membership must be unchanged this long before its client
/// is compared with the server.
pub const SETTLE: Duration = Duration::from_millis(1_500);
/// Accepted lines remembered, to explain a line heard that was not owed.
const REMEMBER: Duration = Duration::from_secs(60);

/// What the social checks looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SocialChecks {
    pub lines_accepted: u64,
    pub copies_owed: u64,
    pub copies_heard: u64,
    /// Copies skipped, accounted for by `ChatMissed`.
    pub copies_shed: u64,
    /// Copies owed on a connection that ended before they arrived.
    pub copies_lost_with_connection: u64,
    pub say_hearers_measured: u64,
    pub memberships_compared: u64,
}

/// One sheddable message owed to a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owed {
    Line {
        channel: ChatChannel,
        from: CharacterId,
        text: Arc<str>,
    },
    /// A whisper's echo to its sender.
    Echo { to: CharacterId, text: Arc<str> },
}

#[derive(Debug)]
struct Copy {
    owed: Owed,
    conn: Option<ConnId>,
    at: Instant,
}

#[derive(Debug, Default)]
struct Inbox {
    queue: VecDeque<Copy>,
    /// `ChatMissed` counts not yet matched with skipped copies.
    missed: u64,
}

/// An accepted line: who was owed it, and who was left out for blocking.
#[derive(Debug)]
struct Accepted {
    at: Instant,
    owed: Vec<CharacterId>,
    blockers: Vec<CharacterId>,
}

/// A chat or whisper request about to reach the node.
#[derive(Debug)]
pub struct Asked {
    from: CharacterId,
    request: ClientSocial,
    /// A whisper's addressee, as online before the request.
    target: Option<CharacterId>,
    lines: [u64; 7],
}

#[derive(Debug, Default)]
pub struct SocialChecker {
    say_radius: Fixed,
    inboxes: BTreeMap<CharacterId, Inbox>,
    accepted: BTreeMap<(CharacterId, String), Accepted>,
    /// What the messages each client got say of its party and guild.
    model: BTreeMap<CharacterId, Membership>,
    /// Each character's membership and connection, and since when.
    stable: BTreeMap<CharacterId, (Membership, Option<ConnId>, Instant)>,
    pub counts: SocialChecks,
}

/// Node players by character: their connection and place.
type Roster = BTreeMap<CharacterId, (Option<ConnId>, Option<Location>)>;

fn roster(node: &Node) -> Roster {
    node.players()
        .filter_map(|p| Some((p.character?, (p.conn, p.location))))
        .collect()
}

impl SocialChecker {
    pub fn new(say_radius_m: u16) -> Self {
        SocialChecker {
            say_radius: Fixed::from_int(say_radius_m as i32),
            ..SocialChecker::default()
        }
    }

    pub fn on_restart(&mut self) {
        self.inboxes.clear();
        self.accepted.clear();
        self.model.clear();
        self.stable.clear();
    }

    /// Before the node reads `request` from `from`'s client.
    pub fn before(&self, node: &Node, from: CharacterId, request: &ClientSocial) -> Option<Asked> {
        let target = match request {
            ClientSocial::Chat { .. } => None,
            ClientSocial::Whisper { to, .. } => node.social().online_character(to),
            _ => return None,
        };
        Some(Asked {
            from,
            request: request.clone(),
            target,
            lines: node.social().stats().lines,
        })
    }

    /// After the node read it: if accepted, who is owed what.
    pub fn after(&mut self, node: &Node, now: Instant, asked: Asked, failures: &mut Vec<String>) {
        let lines = node.social().stats().lines;
        let Asked {
            from,
            request,
            target,
            lines: before,
        } = asked;
        let (channel, text) = match request {
            ClientSocial::Chat { channel, text } => (channel, text),
            ClientSocial::Whisper { text, .. } => (ChatChannel::Whisper, text),
            _ => return,
        };
        let i = channel as usize;
        if lines[i] == before[i] {
            return;
        }
        if lines[i] != before[i] + 1 || lines.iter().sum::<u64>() != before.iter().sum::<u64>() + 1
        {
            failures.push(format!(
                "social: one {} request from {from:?} counted {:?} lines, was {:?}",
                channel.label(),
                lines,
                before
            ));
            return;
        }
        self.counts.lines_accepted += 1;
        let roster = roster(node);
        let social = node.social();
        let mut audience: Vec<CharacterId> = match channel {
            ChatChannel::Say => self.say_audience(node, from, &roster, failures),
            ChatChannel::Zone => {
                // The zones of the speaker's map and channel.
                let world = node.world();
                let mine = roster
                    .get(&from)
                    .and_then(|r| r.1)
                    .and_then(|at| world.channel_of(at.zone));
                let zones: Vec<_> = world
                    .zones()
                    .map(|z| z.id())
                    .filter(|&z| mine.is_some() && world.channel_of(z) == mine)
                    .collect();
                roster
                    .iter()
                    .filter(|(_, r)| r.1.is_some_and(|at| zones.contains(&at.zone)))
                    .map(|(&c, _)| c)
                    .collect()
            }
            ChatChannel::Party => social
                .party_of(from)
                .map(|(_, m)| m.to_vec())
                .unwrap_or_default(),
            ChatChannel::Guild => match social.guild_of(from) {
                Some((g, _)) => roster
                    .keys()
                    .copied()
                    .filter(|&c| social.guild_of(c).is_some_and(|(h, _)| h == g))
                    .collect(),
                None => Vec::new(),
            },
            ChatChannel::World => roster.keys().copied().collect(),
            ChatChannel::Whisper => target.into_iter().collect(),
            ChatChannel::System => Vec::new(),
        };
        audience.sort_unstable();
        audience.dedup();
        audience.retain(|&c| social.is_online(c));
        let (blockers, owed): (Vec<CharacterId>, Vec<CharacterId>) =
            audience.into_iter().partition(|&c| social.blocks(c, from));
        if channel == ChatChannel::Whisper && owed.is_empty() {
            failures.push(format!(
                "social: a whisper from {from:?} accepted for {target:?}, who is offline or blocks it"
            ));
        }
        // One text shared by every copy.
        let shared: Arc<str> = text.as_str().into();
        let conn_of = |c: CharacterId| roster.get(&c).and_then(|r| r.0);
        for &c in &owed {
            self.owe(
                c,
                conn_of(c),
                now,
                Owed::Line {
                    channel,
                    from,
                    text: shared.clone(),
                },
            );
        }
        if let (ChatChannel::Whisper, Some(&to)) = (channel, owed.first()) {
            self.owe(
                from,
                conn_of(from),
                now,
                Owed::Echo {
                    to,
                    text: shared.clone(),
                },
            );
        }
        self.remember(from, text, now, owed, blockers);
    }

    /// The speaker and the players the zone says are near it, each checked
    /// against its position.
    fn say_audience(
        &mut self,
        node: &Node,
        from: CharacterId,
        roster: &Roster,
        failures: &mut Vec<String>,
    ) -> Vec<CharacterId> {
        let Some(at) = roster.get(&from).and_then(|r| r.1) else {
            return Vec::new();
        };
        let Some(zone) = node.world().zone(at.zone) else {
            return Vec::new();
        };
        let mut near = Vec::new();
        zone.players_near(at.entity, self.say_radius, &mut near);
        let centre = zone.position(at.entity);
        let mut out = vec![from];
        for p in near {
            let Some(pl) = node.player(p) else { continue };
            let Some(c) = pl.character else { continue };
            self.counts.say_hearers_measured += 1;
            let pos = pl
                .location
                .filter(|l| l.zone == at.zone)
                .and_then(|l| zone.position(l.entity));
            match (centre, pos) {
                (Some(a), Some(b)) if a.within(b, self.say_radius) => out.push(c),
                _ => failures.push(format!(
                    "social: {c:?} would hear {from:?} say something from {pos:?}, beyond {:?} of {centre:?}",
                    self.say_radius
                )),
            }
        }
        out
    }

    pub(super) fn owe(&mut self, to: CharacterId, conn: Option<ConnId>, at: Instant, owed: Owed) {
        self.counts.copies_owed += 1;
        self.inboxes
            .entry(to)
            .or_default()
            .queue
            .push_back(Copy { owed, conn, at });
    }

    /// An event `me`'s client emitted; `conn` is the connection its bytes
    /// came on.
    pub fn on_client(
        &mut self,
        client: &Client,
        conn: Option<ConnId>,
        e: &ClientEvent,
        failures: &mut Vec<String>,
    ) {
        if let ClientEvent::EnteredWorld { character, .. } = e {
            // The client's view starts afresh (not for a map change).
            if !client.social().loaded {
                self.model.insert(character.id, (None, None));
            }
            return;
        }
        let ClientEvent::Social(msg) = e else { return };
        let Some(me) = self_character(client) else {
            return;
        };
        self.on_message(me, &client.social().blocked, conn, msg, failures);
    }

    /// A social message `me`'s client took in on `conn`, its block list (as
    /// the server last sent it) being `blocked`.
    pub(super) fn on_message(
        &mut self,
        me: CharacterId,
        blocked: &[Contact],
        conn: Option<ConnId>,
        msg: &ServerSocial,
        failures: &mut Vec<String>,
    ) {
        let blocked = |c: CharacterId| blocked.iter().any(|b| b.character == c);
        match msg {
            ServerSocial::Chat(line) if line.channel != ChatChannel::System => {
                if blocked(line.from) {
                    failures.push(format!(
                        "social: {me:?} heard {} line {:?} from {:?}, whom it blocks",
                        line.channel.label(),
                        line.text,
                        line.from
                    ));
                }
                let owed = Owed::Line {
                    channel: line.channel,
                    from: line.from,
                    text: line.text.as_str().into(),
                };
                self.heard(me, conn, owed, failures);
            }
            ServerSocial::Whispered { to, text } => {
                let owed = Owed::Echo {
                    to: to.character,
                    text: text.as_str().into(),
                };
                self.heard(me, conn, owed, failures);
            }
            ServerSocial::ChatMissed { count } => {
                self.inboxes.entry(me).or_default().missed += *count as u64;
            }
            ServerSocial::GuildHistory { lines } => {
                for l in lines.iter().filter(|l| blocked(l.from)) {
                    failures.push(format!(
                        "social: {me:?} was shown guild line {:?} from {:?}, whom it blocks",
                        l.text, l.from
                    ));
                }
            }
            ServerSocial::Party(p) => {
                let party = p.as_ref().map(|p| {
                    let ids: Vec<CharacterId> =
                        p.members.iter().map(|(c, _)| c.character).collect();
                    if !ids.contains(&me)
                        || !ids.contains(&p.leader)
                        || ids.len() < 2
                        || ids.len() > p.cap as usize
                        || has_duplicates(&ids)
                    {
                        failures.push(format!("social: {me:?} was shown a malformed party {p:?}"));
                    }
                    (p.leader, ids)
                });
                self.model.entry(me).or_default().0 = party;
            }
            ServerSocial::Guild(g) => {
                let guild = g.as_ref().and_then(|g| {
                    let leaders = g
                        .members
                        .iter()
                        .filter(|m| m.1 == GuildRank::Leader)
                        .count();
                    let mine = g.members.iter().find(|m| m.0.character == me).map(|m| m.1);
                    if leaders != 1 || mine.is_none() {
                        failures.push(format!(
                            "social: {me:?} was shown guild {:?} with {leaders} leaders, itself {}",
                            g.guild,
                            if mine.is_some() { "in it" } else { "not in it" }
                        ));
                    }
                    Some((g.guild, mine?))
                });
                self.model.entry(me).or_default().1 = guild;
            }
            _ => {}
        }
    }

    /// `me` heard `owed` on `conn`: it must be the first copy owed to it.
    fn heard(
        &mut self,
        me: CharacterId,
        conn: Option<ConnId>,
        owed: Owed,
        failures: &mut Vec<String>,
    ) {
        let inbox = self.inboxes.entry(me).or_default();
        let Some(k) = inbox.queue.iter().position(|c| c.owed == owed) else {
            failures.push(self.not_owed(me, &owed));
            return;
        };
        let skipped: Vec<Copy> = inbox.queue.drain(..k).collect();
        inbox.queue.pop_front();
        self.counts.copies_heard += 1;
        let here = skipped.iter().filter(|c| c.conn == conn).count() as u64;
        let all = skipped.len() as u64;
        if inbox.missed < here || inbox.missed > all {
            failures.push(format!(
                "social: {me:?} heard {owed:?} after skipping {all} owed copies ({here} on this connection; first {:?}), with {} counted missed",
                skipped.first().map(|c| &c.owed),
                inbox.missed
            ));
        }
        self.counts.copies_shed += inbox.missed.min(all);
        self.counts.copies_lost_with_connection += all - inbox.missed.min(all);
        inbox.missed = 0;
    }

    fn not_owed(&self, me: CharacterId, owed: &Owed) -> String {
        let (from, text) = match owed {
            Owed::Line { from, text, .. } => (*from, text),
            Owed::Echo { text, .. } => (me, text),
        };
        let why = match self.accepted.get(&(from, text.to_string())) {
            None => "a line the server never accepted".to_owned(),
            Some(a) if a.blockers.contains(&me) => "from a character it blocks".to_owned(),
            Some(a) if a.owed.contains(&me) => "a second copy, or out of order".to_owned(),
            Some(a) => format!("outside its channel ({} owed)", a.owed.len()),
        };
        format!("social: {me:?} heard {owed:?}, {why}")
    }

    /// At each check: the server's parties hold together; records of the
    /// past are trimmed; at quiescence, nothing owed is left unheard and
    /// settled memberships agree everywhere.
    pub fn check(
        &mut self,
        node: &Node,
        clients: &[(&Client, bool)],
        now: Instant,
        settled: bool,
        failures: &mut Vec<String>,
    ) {
        let roster = roster(node);
        let social = node.social();
        for (&c, &(conn, _)) in &roster {
            failures.extend(party_breaks(c, |x| {
                social.party_of(x).map(|(l, m)| (l, m.to_vec()))
            }));
            let m = server_membership(node, c);
            let keep = self
                .stable
                .get(&c)
                .is_some_and(|(old, oc, _)| *old == m && *oc == conn);
            if !keep {
                self.stable.insert(c, (m, conn, now));
            }
        }
        self.stable.retain(|c, _| roster.contains_key(c));
        // Copies owed to a character that has left may still be on their
        // way: its inbox goes only once they are old.
        let old = Instant::from_micros(now.as_micros().saturating_sub(REMEMBER.as_micros()));
        self.inboxes.retain(|c, i| {
            roster.contains_key(c) || i.queue.back().is_some_and(|copy| copy.at >= old)
        });
        self.accepted.retain(|_, a| a.at >= old);
        if !settled {
            return;
        }
        for &(client, honest) in clients {
            let (Some(me), true) = (self_character(client), honest) else {
                continue;
            };
            let Some(&(conn, _)) = roster.get(&me) else {
                continue;
            };
            if client.avatar().is_none() || !client.social().loaded || conn.is_none() {
                continue;
            }
            self.check_unheard(me, conn, now, failures);
            let Some((m, _, since)) = self.stable.get(&me) else {
                continue;
            };
            if now.saturating_since(*since) < SETTLE {
                continue;
            }
            self.counts.memberships_compared += 1;
            let v = client.social();
            let shown: Membership = (
                v.party.as_ref().map(|p| {
                    (
                        p.leader,
                        p.members.iter().map(|(c, _)| c.character).collect(),
                    )
                }),
                v.guild.as_ref().and_then(|g| {
                    let rank = g.members.iter().find(|x| x.0.character == me)?.1;
                    Some((g.guild, rank))
                }),
            );
            let model = self.model.get(&me).cloned().unwrap_or_default();
            failures.extend(disagreement(me, m, &shown, &model));
        }
    }

    /// At quiescence: copies owed to `me` on its live connection `conn` for
    /// [`SETTLE`] and more were heard, or counted missed.
    pub(super) fn check_unheard(
        &self,
        me: CharacterId,
        conn: Option<ConnId>,
        now: Instant,
        failures: &mut Vec<String>,
    ) {
        let Some(inbox) = self.inboxes.get(&me) else {
            return;
        };
        let unheard = inbox
            .queue
            .iter()
            .filter(|c| c.conn == conn && now.saturating_since(c.at) >= SETTLE)
            .count() as u64;
        if unheard > inbox.missed {
            failures.push(format!(
                "social: {me:?} never heard {} owed copies (first {:?}), {} counted missed",
                unheard - inbox.missed,
                inbox.queue.front().map(|c| &c.owed),
                inbox.missed
            ));
        }
    }

    /// Remembers an accepted line's audience (to explain a stray copy).
    pub(super) fn remember(
        &mut self,
        from: CharacterId,
        text: String,
        at: Instant,
        owed: Vec<CharacterId>,
        blockers: Vec<CharacterId>,
    ) {
        self.accepted
            .insert((from, text), Accepted { at, owed, blockers });
    }
}

/// The character a client plays, by the name it entered with.
pub fn self_character(client: &Client) -> Option<CharacterId> {
    let name = &client.config().character;
    client
        .characters()
        .iter()
        .find(|c| &c.name == name)
        .map(|c| c.id)
}
