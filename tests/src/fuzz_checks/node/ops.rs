//! The node target's operations: the one list, read by the check and written
//! by the seeds.

use super::super::script::{Script, ScriptWriter};
use super::super::social_request::SocialBytes;
use super::super::wire::Say;
use super::economy::EconomyBytes;
use super::raid::RaidBytes;

/// Connections a script juggles (each reconnect gets a fresh id).
pub const SLOTS: u8 = 5;

/// What a node script does. On the wire each is an opcode byte (modulo
/// [`NodeOp::COUNT`]) and its operands; a `slot` operand is one byte, modulo
/// [`SLOTS`]. A script starts with one byte, the node's seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeOp {
    /// `[slot]`: a new connection in the slot (if it holds none that is open),
    /// remembering the last welcome's player and token for a resume.
    Connect { slot: u8 },
    /// `[slot] [say: Say::LEN] [split: u8]`: a well-formed message, delivered
    /// in two reads cut at `split`.
    Say { slot: u8, say: Say, split: u8 },
    /// `[slot] [len: u8] [bytes]`: raw bytes.
    Raw { slot: u8, bytes: Vec<u8> },
    /// `[ms: u16]`: time passes, then the timers run.
    Advance { ms: u16 },
    /// Jump to the node's next deadline and run it.
    Deadline,
    /// `[slot]`: the transport is lost.
    Lost { slot: u8 },
    /// `[slot]`: the driver reports the slot's oldest write done.
    Flushed { slot: u8 },
    /// `[slot]`: the operator kicks the slot's player.
    Kick { slot: u8 },
    /// `[slot] [what: u8]`: an operator command, `what` % 8: 0 a notice (to
    /// the slot's player, or to everyone), 1 and 2 a transfer to `forest` or
    /// `meadow`, 3 a teleport to an absurd place, 4 an announcement (over the
    /// bus); `what` = 255 shuts the node down.
    Operator { slot: u8, what: u8 },
    /// `[mode: u8]`: how the store answers intents from now on.
    Store(StoreMode),
    /// `[which: u8] [fail: u8]`: the store answers the `which`-th held intent
    /// (modulo how many are held), with `Unavailable` when `fail` is odd.
    Answer { which: u8, fail: bool },
    /// `[which: u8] [fail: u8]`: the store answers, once more, the `which`-th
    /// intent it has answered (a retry after a lost acknowledgement).
    AnswerAgain { which: u8, fail: bool },
    /// `[ahead: u8]`: the store answers an id the node has not issued, `ahead`
    /// past the last it has.
    AnswerUnknown { ahead: u8 },
    /// `[hold: u8]`: from now on the bus holds the node's publications back
    /// (`hold` odd) until [`NodeOp::BusDeliver`], or hands them back at once
    /// as a server alone does.
    BusHold { hold: bool },
    /// The bus hands the node the oldest publication it holds, if the node
    /// subscribed to its topic.
    BusDeliver,
    /// `[what: u8]`: a message from another server, `what` % 4: an
    /// announcement (info, warning), or presence (online, offline) on a topic
    /// the node never subscribed to.
    BusFromAfar { what: u8 },
    /// `[slot] [request: SocialBytes]`: a social request (any kind, with any
    /// text, names of the scripts' characters or made up, ids of characters
    /// and guilds the node holds or not), as one frame.
    Social { slot: u8, request: SocialBytes },
    /// `[slot] [request: EconomyBytes]`: an economy request (any kind, with
    /// slots in range or not, counts and gold small or at their type's edge,
    /// request numbers rising, replayed or lower, names of the scripts'
    /// characters, the trade version last heard or any), as one frame.
    Economy { slot: u8, request: EconomyBytes },
    /// `[slot] [what: u8]`: the operator grants the slot's character, `what`
    /// % 4: 500 gold, an iron sword, 20 enhancement stones, 5 potions.
    Grant { slot: u8, what: u8 },
    /// `[slot] [request: RaidBytes]`: a raid request (any kind, with raid
    /// numbers in range or not, any role, alone or as a party, the ready
    /// check and instance last named to the client or any id, leaderboards
    /// of any size), as one frame.
    Raid { slot: u8, request: RaidBytes },
}

/// How the scripted store answers intents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMode {
    /// Applied and acknowledged during the drain, as `InProcess` does.
    AtOnce,
    /// Kept until an [`NodeOp::Answer`].
    Hold,
    /// Refused during the drain with `StoreError::Unavailable`.
    Unavailable,
}

impl NodeOp {
    pub const COUNT: u8 = 20;

    fn code(&self) -> u8 {
        match self {
            NodeOp::Connect { .. } => 0,
            NodeOp::Say { .. } => 1,
            NodeOp::Raw { .. } => 2,
            NodeOp::Advance { .. } => 3,
            NodeOp::Deadline => 4,
            NodeOp::Lost { .. } => 5,
            NodeOp::Flushed { .. } => 6,
            NodeOp::Kick { .. } => 7,
            NodeOp::Operator { .. } => 8,
            NodeOp::Store(_) => 9,
            NodeOp::Answer { .. } => 10,
            NodeOp::AnswerAgain { .. } => 11,
            NodeOp::AnswerUnknown { .. } => 12,
            NodeOp::BusHold { .. } => 13,
            NodeOp::BusDeliver => 14,
            NodeOp::BusFromAfar { .. } => 15,
            NodeOp::Social { .. } => 16,
            NodeOp::Economy { .. } => 17,
            NodeOp::Grant { .. } => 18,
            NodeOp::Raid { .. } => 19,
        }
    }

    pub fn read(script: &mut Script<'_>) -> NodeOp {
        let slot = |script: &mut Script<'_>| script.u8() % SLOTS;
        match script.u8() % Self::COUNT {
            0 => NodeOp::Connect { slot: slot(script) },
            1 => NodeOp::Say {
                slot: slot(script),
                say: Say::read(script),
                split: script.u8(),
            },
            2 => {
                let slot = slot(script);
                let n = script.u8() as usize;
                NodeOp::Raw {
                    slot,
                    bytes: script.bytes(n).to_vec(),
                }
            }
            3 => NodeOp::Advance { ms: script.u16() },
            4 => NodeOp::Deadline,
            5 => NodeOp::Lost { slot: slot(script) },
            6 => NodeOp::Flushed { slot: slot(script) },
            7 => NodeOp::Kick { slot: slot(script) },
            8 => NodeOp::Operator {
                slot: slot(script),
                what: script.u8(),
            },
            9 => NodeOp::Store(match script.u8() % 3 {
                0 => StoreMode::AtOnce,
                1 => StoreMode::Hold,
                _ => StoreMode::Unavailable,
            }),
            10 => NodeOp::Answer {
                which: script.u8(),
                fail: script.u8() & 1 == 1,
            },
            11 => NodeOp::AnswerAgain {
                which: script.u8(),
                fail: script.u8() & 1 == 1,
            },
            12 => NodeOp::AnswerUnknown { ahead: script.u8() },
            13 => NodeOp::BusHold {
                hold: script.u8() & 1 == 1,
            },
            14 => NodeOp::BusDeliver,
            15 => NodeOp::BusFromAfar { what: script.u8() },
            16 => NodeOp::Social {
                slot: slot(script),
                request: SocialBytes::read(script),
            },
            17 => NodeOp::Economy {
                slot: slot(script),
                request: EconomyBytes::read(script),
            },
            18 => NodeOp::Grant {
                slot: slot(script),
                what: script.u8(),
            },
            _ => NodeOp::Raid {
                slot: slot(script),
                request: RaidBytes::read(script),
            },
        }
    }

    pub fn write(&self, w: &mut ScriptWriter) {
        w.u8(self.code());
        match self {
            NodeOp::Connect { slot }
            | NodeOp::Lost { slot }
            | NodeOp::Flushed { slot }
            | NodeOp::Kick { slot } => {
                w.u8(*slot);
            }
            NodeOp::Say { slot, say, split } => {
                w.u8(*slot);
                say.write(w);
                w.u8(*split);
            }
            NodeOp::Raw { slot, bytes } => {
                let n = u8::try_from(bytes.len()).expect("at most 255 raw bytes a step");
                w.u8(*slot).u8(n).raw(bytes);
            }
            NodeOp::Advance { ms } => {
                w.u16(*ms);
            }
            NodeOp::Operator { slot, what } => {
                w.u8(*slot).u8(*what);
            }
            NodeOp::Store(mode) => {
                w.u8(match mode {
                    StoreMode::AtOnce => 0,
                    StoreMode::Hold => 1,
                    StoreMode::Unavailable => 2,
                });
            }
            NodeOp::Answer { which, fail } | NodeOp::AnswerAgain { which, fail } => {
                w.u8(*which).u8(*fail as u8);
            }
            NodeOp::AnswerUnknown { ahead } => {
                w.u8(*ahead);
            }
            NodeOp::BusHold { hold } => {
                w.u8(*hold as u8);
            }
            NodeOp::BusFromAfar { what } => {
                w.u8(*what);
            }
            NodeOp::Social { slot, request } => {
                w.u8(*slot);
                request.write(w);
            }
            NodeOp::Economy { slot, request } => {
                w.u8(*slot);
                request.write(w);
            }
            NodeOp::Raid { slot, request } => {
                w.u8(*slot);
                request.write(w);
            }
            NodeOp::Grant { slot, what } => {
                w.u8(*slot).u8(*what);
            }
            NodeOp::Deadline | NodeOp::BusDeliver => {}
        }
    }
}
