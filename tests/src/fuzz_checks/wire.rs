//! What a fuzzed client says and hears: well-formed client messages built from
//! script bytes, and a checker of the server's byte stream.

use super::script::{Script, ScriptWriter};
use game_core::ids::PlayerId;
use game_core::math::{Fixed, Vec2};
use game_core::protocol::{
    ClientMsg, ClientSession, ClientWorld, Credentials, DisconnectReason, FrameDecoder, MoveInput,
    ResumeToken, ServerMsg, ServerSession, ServerWorld, MAX_SERVER_PAYLOAD, PROTOCOL_VERSION,
};

/// What the client learned from the server, so scripted messages can be right
/// (a resume with the real token, a pong echoing the real ping, a move from
/// where the character stands).
#[derive(Debug)]
pub struct ServerStream {
    decoder: FrameDecoder,
    pub messages: u64,
    pub disconnect: Option<DisconnectReason>,
    pub welcome: Option<(PlayerId, ResumeToken)>,
    pub ping: Option<(u32, u64)>,
    pub pos: Option<Vec2>,
    pub epoch: u16,
    pub move_seq: u32,
}

impl Default for ServerStream {
    fn default() -> Self {
        ServerStream {
            decoder: FrameDecoder::new(MAX_SERVER_PAYLOAD),
            messages: 0,
            disconnect: None,
            welcome: None,
            ping: None,
            pos: None,
            epoch: 0,
            move_seq: 0,
        }
    }
}

impl ServerStream {
    /// Takes bytes the server sent: every frame must be a whole server message,
    /// and nothing may follow a `Disconnect`.
    pub fn receive(&mut self, mut bytes: &[u8]) {
        while let Some(payload) = self.decoder.decode(&mut bytes).expect("server framing") {
            let msg = ServerMsg::decode(payload).expect("a server message");
            assert!(
                self.disconnect.is_none(),
                "{msg:?} after {:?}",
                self.disconnect
            );
            self.messages += 1;
            match msg {
                ServerMsg::Session(ServerSession::Disconnect { reason }) => {
                    self.disconnect = Some(reason)
                }
                ServerMsg::Session(ServerSession::Welcome {
                    player,
                    resume_token,
                    ..
                }) => self.welcome = Some((player, resume_token)),
                ServerMsg::Session(ServerSession::Ping {
                    seq,
                    server_time_us,
                }) => self.ping = Some((seq, server_time_us)),
                ServerMsg::World(ServerWorld::ZoneEntered(z)) => {
                    self.pos = Some(z.pos);
                    self.epoch = z.epoch;
                }
                ServerMsg::World(ServerWorld::WorldUpdate(u)) => {
                    if let Some(c) = u.correction {
                        self.pos = Some(c.pos);
                        self.epoch = c.epoch;
                    }
                }
                _ => {}
            }
        }
    }
}

/// Names scripted logins use: a few, so logins collide and take over.
const NAMES: [&str; 4] = ["ada", "bob", "cy", "ada "];

/// Kinds of scripted message, the first operand of a message step.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `[version: u8]`: 0 is the server's version, anything else that number.
    Hello = 0,
    /// `[name: u8]`: one of a few names (one invalid).
    Login = 1,
    /// `[forge: u8]`: with the last welcome's player and token unless `forge` is odd.
    Resume = 2,
    EnterWorld = 3,
    /// `[seq: u32]`
    Ping = 4,
    /// `[forge: u8]`: echoes the last server ping unless `forge` is odd.
    Pong = 5,
    Goodbye = 6,
    /// `[how: u8] [dx: u16] [dy: u16] [seq jump: u32]`: see [`movement`].
    Move = 7,
    /// `[channel: u8]`
    SwitchChannel = 8,
}

const KINDS: u8 = 9;

impl Kind {
    pub fn write(self, w: &mut ScriptWriter) -> &mut ScriptWriter {
        w.u8(self as u8)
    }
}

/// A well-formed client message chosen by the script, using what the client
/// has heard so far.
pub fn message(script: &mut Script<'_>, heard: &mut ServerStream) -> ClientMsg {
    match script.u8() % KINDS {
        0 => {
            let v = script.u8();
            ClientMsg::Session(ClientSession::Hello {
                protocol_version: if v == 0 { PROTOCOL_VERSION } else { v as u16 },
                client: "fuzz".into(),
            })
        }
        1 => ClientMsg::Session(ClientSession::Login {
            credentials: Credentials::Dev {
                name: NAMES[script.u8() as usize % NAMES.len()].into(),
            },
        }),
        2 => {
            let forge = script.u8();
            let (player, mut token) = heard
                .welcome
                .unwrap_or((PlayerId(forge as u64), ResumeToken([forge; 16])));
            if forge & 1 == 1 {
                token.0[0] ^= 1;
            }
            ClientMsg::Session(ClientSession::Resume { player, token })
        }
        3 => ClientMsg::Session(ClientSession::EnterWorld),
        4 => ClientMsg::Session(ClientSession::Ping {
            seq: script.u32(),
            client_time_us: 1,
        }),
        5 => {
            let forge = script.u8();
            let (seq, server_time_us) = heard.ping.unwrap_or((forge as u32, forge as u64));
            ClientMsg::Session(ClientSession::Pong {
                seq: seq.wrapping_add((forge & 1) as u32),
                server_time_us,
                client_time_us: 1,
            })
        }
        6 => ClientMsg::Session(ClientSession::Goodbye),
        7 => ClientMsg::World(ClientWorld::Move(movement(script, heard))),
        _ => ClientMsg::World(ClientWorld::SwitchChannel {
            channel: script.u8() as u16 % 4,
        }),
    }
}

/// A move: from where the character stands by a step the script picks, which
/// may be honest, too long, absurd (far outside any map, the extremes of the
/// coordinate range) or made with a stale epoch; the sequence number may jump.
pub fn movement(script: &mut Script<'_>, heard: &mut ServerStream) -> MoveInput {
    let how = script.u8();
    let dx = script.u16() as i16 as i32;
    let dy = script.u16() as i16 as i32;
    let jump = script.u32();
    let here = heard.pos.unwrap_or_default();
    let pos = match how % 4 {
        // Small steps: up to 1/2 m each way.
        0 => Vec2::new(
            Fixed::from_raw(here.x.raw().saturating_add(dx / 256)),
            Fixed::from_raw(here.y.raw().saturating_add(dy / 256)),
        ),
        // Up to 128 m each way.
        1 => Vec2::new(
            Fixed::from_raw(here.x.raw().saturating_add(dx)),
            Fixed::from_raw(here.y.raw().saturating_add(dy)),
        ),
        2 => Vec2::new(
            Fixed::from_raw(if dx < 0 { i32::MIN } else { i32::MAX }),
            Fixed::from_raw(if dy < 0 { i32::MIN } else { i32::MAX }),
        ),
        _ => Vec2::new(
            Fixed::from_raw(dx.wrapping_mul(65_537)),
            Fixed::from_raw(dy.wrapping_mul(65_537)),
        ),
    };
    heard.move_seq = if how & 4 == 0 {
        heard.move_seq.wrapping_add(1)
    } else {
        heard.move_seq.wrapping_add(jump)
    };
    let epoch = if how & 8 == 0 {
        heard.epoch
    } else {
        heard.epoch.wrapping_sub(1)
    };
    MoveInput {
        seq: heard.move_seq,
        epoch,
        client_time_us: heard.move_seq as u64 * 50_000,
        pos,
        vel: Vec2::new(Fixed::from_raw(dx), Fixed::from_raw(dy)),
    }
}
