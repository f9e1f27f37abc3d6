//! The node target's operations: the one list, read by the check and written
//! by the seeds.

use super::super::script::{Script, ScriptWriter};
use super::super::wire::Say;

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
    /// `meadow`, 3 a teleport to an absurd place; `what` = 255 shuts the node
    /// down.
    Operator { slot: u8, what: u8 },
}

impl NodeOp {
    pub const COUNT: u8 = 9;

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
            _ => NodeOp::Operator {
                slot: slot(script),
                what: script.u8(),
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
            NodeOp::Deadline => {}
        }
    }
}
