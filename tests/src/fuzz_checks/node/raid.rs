//! The node target's raid part: requests built from script bytes (every
//! kind; raids in range or not, ready checks and instances the client was
//! told of or any id), what each client hears of raids, and the raid books
//! after each step: where each character is, the instances and their zones,
//! refusals counted as heard, rewards given once.

use super::super::script::{Script, ScriptWriter};
use game_core::economy::Source;
use game_core::ids::{CharacterId, ConnId, ZoneId};
use game_core::node::{Node, NodeConfig};
use game_core::persist::MemoryStore;
use game_core::protocol::{
    Cause, ClientRaid, FrameDecoder, RaidEnd, RaidRefusal, ServerEconomy, ServerMsg, ServerRaid,
    MAX_SERVER_PAYLOAD,
};
use game_core::raid::{Board, Role};
use std::collections::{BTreeMap, BTreeSet};

/// `[kind] [raid] [pick] [n: u16]`: `kind` % 9 is the request (in
/// [`ClientRaid`]'s order). `raid` % 4 is a raid number: 0 and 1 (the
/// scripts' two raids), 2 (just past them) or near `u16::MAX`. `pick`: for
/// `Queue` the role (% 3) and the party (`& 4`); for `Accept`, `Decline`,
/// `Enter` and `ClaimReward`, the ready check or instance last named to
/// the client (`pick & 1` clear; `n` before any) or the id `n`; for
/// `Leaderboard` the board (`& 1`) and the level group (`(pick >> 1) % 3`:
/// in range or not), with `top` = `n` as any `u8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RaidBytes {
    pub kind: u8,
    pub raid: u8,
    pub pick: u8,
    pub n: u16,
}

impl RaidBytes {
    pub fn read(s: &mut Script<'_>) -> RaidBytes {
        RaidBytes {
            kind: s.u8(),
            raid: s.u8(),
            pick: s.u8(),
            n: s.u16(),
        }
    }

    pub fn write(&self, w: &mut ScriptWriter) {
        w.u8(self.kind).u8(self.raid).u8(self.pick).u16(self.n);
    }

    fn raid(&self) -> u16 {
        match self.raid % 4 {
            r @ 0..=2 => u16::from(r),
            _ => u16::MAX - u16::from(self.raid / 4),
        }
    }

    /// A ready check or instance: the one last named, or any.
    fn id(&self, named: Option<u64>) -> u64 {
        match named {
            Some(id) if self.pick & 1 == 0 => id,
            _ => u64::from(self.n),
        }
    }

    /// The request from a client that heard `heard`.
    pub(super) fn request(&self, heard: &RaidHeard) -> ClientRaid {
        match self.kind % 9 {
            0 => ClientRaid::Queue {
                raid: self.raid(),
                role: Role::ALL[self.pick as usize % Role::ALL.len()],
                party: self.pick & 4 != 0,
            },
            1 => ClientRaid::LeaveQueue,
            2 => ClientRaid::Accept {
                ready: self.id(heard.ready),
            },
            3 => ClientRaid::Decline {
                ready: self.id(heard.ready),
            },
            4 => ClientRaid::Status,
            5 => ClientRaid::Enter {
                instance: self.id(heard.instance),
            },
            6 => ClientRaid::Leave,
            7 => ClientRaid::ClaimReward {
                instance: self.id(heard.instance),
            },
            _ => ClientRaid::Leaderboard {
                raid: self.raid(),
                level_group: (self.pick >> 1) % 3,
                board: Board::ALL[self.pick as usize & 1],
                top: self.n as u8,
            },
        }
    }
}

/// What one client heard of raids: the last ready check and instance
/// named to it (kept across a reconnect, as a client would).
#[derive(Debug)]
pub(super) struct RaidHeard {
    decoder: FrameDecoder,
    pub ready: Option<u64>,
    pub instance: Option<u64>,
    /// The character its connection last played.
    pub character: Option<CharacterId>,
}

impl RaidHeard {
    /// A new connection's, remembering what the slot's last one heard.
    pub(super) fn after(last: Option<&RaidHeard>) -> RaidHeard {
        RaidHeard {
            decoder: FrameDecoder::new(MAX_SERVER_PAYLOAD),
            ready: last.and_then(|h| h.ready),
            instance: last.and_then(|h| h.instance),
            character: last.and_then(|h| h.character),
        }
    }

    /// Takes bytes the server sent: the refusals and the raid rewards in
    /// them go to `books`, the rewards as `character`'s (the character the
    /// connection plays now, or last played).
    pub(super) fn receive(
        &mut self,
        mut bytes: &[u8],
        character: Option<CharacterId>,
        books: &mut RaidBooks,
    ) {
        if character.is_some() {
            self.character = character;
        }
        while let Ok(Some(payload)) = self.decoder.decode(&mut bytes) {
            match ServerMsg::decode(payload) {
                Ok(ServerMsg::Raid(msg)) => match msg {
                    ServerRaid::ReadyCheck { ready, .. } => self.ready = Some(ready),
                    ServerRaid::Entered(view) => self.instance = Some(view.instance),
                    ServerRaid::Refused { reason } => {
                        *books.refused_heard.entry(reason).or_default() += 1
                    }
                    _ => {}
                },
                Ok(ServerMsg::Economy(ServerEconomy::Changed {
                    cause: Cause::Raid, ..
                })) => {
                    let c = self
                        .character
                        .expect("a raid reward heard by a client that played no character");
                    *books.rewards_heard.entry(c).or_default() += 1;
                }
                _ => {}
            }
        }
    }
}

/// The raid books the check keeps across steps.
#[derive(Debug, Default)]
pub(super) struct RaidBooks {
    refused_heard: BTreeMap<RaidRefusal, u64>,
    /// Refusals counted and never heard: those queued for a connection cut
    /// off as a slow reader (its queue dropped) in the step they were made.
    lost: u64,
    /// Connections closed as slow readers since the last check.
    slow_readers: u64,
    rewards_heard: BTreeMap<CharacterId, u64>,
    /// (instance, character): each character owed or given the reward of
    /// an instance seen won.
    won: BTreeSet<(u64, CharacterId)>,
    /// Leaderboard reads the node asked the store for.
    board_reads: u64,
}

impl RaidBooks {
    pub(super) fn slow_reader_closed(&mut self) {
        self.slow_readers += 1;
    }

    pub(super) fn board_read_issued(&mut self) {
        self.board_reads += 1;
    }

    /// After every step: a character is in at most one of a queue, a ready
    /// check and an instance; the world's instances are the node's, within
    /// the cap; every member marked inside stands in its instance's zone
    /// and everyone in an instance's zone is a member inside; no instance
    /// outlives its last member inside; every refusal counted was heard
    /// (less those lost with a slow reader's queue); no character was given
    /// an instance's reward twice, by what its clients heard nor by the
    /// store's ledger, and each reward the store marks given was given by
    /// one transaction.
    pub(super) fn check(&mut self, node: &Node, config: &NodeConfig, store: &MemoryStore) {
        let mm = node.matchmaker();
        mm.audit()
            .unwrap_or_else(|e| panic!("the raid queue's books: {e}"));
        let instances = node.instances();
        assert_eq!(
            node.world().instance_count(),
            instances.len(),
            "the world's instances are not the node's"
        );
        assert!(instances.len() <= config.raid.max_instances as usize);
        let mut member_of: BTreeMap<CharacterId, u64> = BTreeMap::new();
        let mut zones: BTreeMap<ZoneId, u64> = BTreeMap::new();
        for i in &instances {
            assert!(
                zones.insert(i.zone, i.id).is_none(),
                "two instances in one zone"
            );
            assert!(
                i.members.iter().any(|m| m.1),
                "instance {} outlived its last member inside: {i:?}",
                i.id
            );
            for &(c, inside, in_game, owed, given) in &i.members {
                assert!(member_of.insert(c, i.id).is_none(), "{c} in two instances");
                assert!(!mm.is_queued(c), "{c} queued while in instance {}", i.id);
                assert!(!inside || in_game, "{c} inside, not in the game");
                assert!(!(owed && given), "{c} owed a reward given");
                if inside {
                    let at = node
                        .players()
                        .find(|p| p.character == Some(c))
                        .and_then(|p| p.location);
                    assert_eq!(
                        at.map(|l| l.zone),
                        Some(i.zone),
                        "{c} inside instance {} stands elsewhere",
                        i.id
                    );
                }
                if i.end == Some(RaidEnd::Victory) && (owed || given) {
                    self.won.insert((i.id, c));
                }
            }
        }
        for p in node.players() {
            let Some(&id) = p.location.and_then(|at| zones.get(&at.zone)) else {
                continue;
            };
            let i = instances.iter().find(|i| i.id == id).expect("by its zone");
            let c = p.character.expect("a placed player has a character");
            assert!(
                i.members.iter().any(|m| m.0 == c && m.1),
                "{c} stands in instance {id}'s zone, not a member inside"
            );
        }
        self.check_refusals(node);
        let won = |c: CharacterId| self.won.iter().filter(|w| w.1 == c).count() as u64;
        for (&c, &n) in &self.rewards_heard {
            assert!(n <= won(c), "{c} heard {n} raid rewards, won {}", won(c));
        }
        let mut stored: BTreeMap<CharacterId, u64> = BTreeMap::new();
        for ((c, _), r) in store.ledger() {
            let raid = r.gold_in.iter().any(|g| g.1 == Source::Raid)
                || r.minted.iter().any(|m| m.2 == Source::Raid);
            if raid {
                *stored.entry(*c).or_default() += 1;
            }
        }
        for (c, n) in stored {
            assert!(n <= won(c), "{c} stored {n} raid rewards, won {}", won(c));
        }
        let wrong = store.audit_raid_rewards();
        assert!(wrong.is_empty(), "{wrong:?}");
    }

    /// Refusals by reason: none heard that was not counted; every one
    /// counted heard, less those lost with a slow reader's queue (a step
    /// that cut one off may lose any it made) and leaderboard reads the
    /// store answered after their player had gone.
    fn check_refusals(&mut self, node: &Node) {
        let counted = &node.raid_stats().refused;
        let mut unheard = 0;
        for reason in RaidRefusal::ALL {
            let c = counted.get(reason.label()).copied().unwrap_or(0);
            let h = self.refused_heard.get(&reason).copied().unwrap_or(0);
            assert!(h <= c, "{reason:?}: heard {h}, counted {c}");
            if reason != RaidRefusal::BoardUnavailable {
                unheard += c - h;
            }
        }
        let labels: u64 = counted.values().sum();
        let known: u64 = RaidRefusal::ALL
            .iter()
            .filter_map(|r| counted.get(r.label()))
            .sum();
        assert_eq!(labels, known, "a refusal counted under no reason's label");
        if self.slow_readers > 0 {
            assert!(unheard >= self.lost);
            self.lost = unheard;
            self.slow_readers = 0;
        }
        assert_eq!(unheard, self.lost, "raid refusals counted, never heard");
    }

    /// At the end, the store having answered everything: every raid that
    /// ended had its run recorded or given up on, and every leaderboard
    /// read the node asked for was answered.
    pub(super) fn finish(&self, node: &Node) {
        let s = node.raid_stats();
        assert_eq!(
            s.runs_recorded + s.runs_lost,
            s.victories + s.time_ups + s.wipes,
            "raid runs left unrecorded: {s:?}"
        );
        let unavailable = s.refused.get(RaidRefusal::BoardUnavailable.label());
        assert_eq!(
            s.boards_read + unavailable.copied().unwrap_or(0),
            self.board_reads,
            "leaderboard reads left unanswered: {s:?}"
        );
    }
}

/// The character the player on `conn` plays, if any.
pub(super) fn character_on(node: &Node, conn: ConnId) -> Option<CharacterId> {
    let player = node.session(conn)?.player()?;
    node.player(player)?.character
}
