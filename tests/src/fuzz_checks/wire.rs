//! What a fuzzed client says and hears: well-formed client messages built from
//! the protocol's examples and script bytes ([`Say`]), and a checker of the
//! server's byte stream ([`ServerStream`]).

use super::script::{Script, ScriptWriter};
use game_core::auth::{Claims, SigningKey};
use game_core::ids::{AccountId, CharacterId, EntityId, PlayerId};
use game_core::math::{Fixed, Vec2};
use game_core::protocol::{
    examples, ClientCombat, ClientMsg, ClientSession, ClientWorld, Credentials, DisconnectReason,
    EntityKind, FrameDecoder, MoveInput, ResumeToken, ServerCombat, ServerMsg, ServerSession,
    ServerWorld, MAX_SERVER_PAYLOAD, PROTOCOL_VERSION,
};
use std::sync::LazyLock;

/// What the client learned from the server, so scripted messages can be right
/// (a resume with the real token, a pong echoing the real ping, a move from
/// where the character stands, a skill of its skillbook on an entity it was
/// told about).
#[derive(Debug)]
pub struct ServerStream {
    decoder: FrameDecoder,
    pub messages: u64,
    pub disconnect: Option<DisconnectReason>,
    pub welcome: Option<(PlayerId, ResumeToken)>,
    /// The characters of the last character screen heard.
    pub characters: Vec<CharacterId>,
    pub ping: Option<(u32, u64)>,
    /// `Notice` messages heard.
    pub notices: u64,
    pub pos: Option<Vec2>,
    pub epoch: u16,
    pub move_seq: u32,
    /// The character's own entity, from the last `ZoneEntered`.
    pub entity: Option<EntityId>,
    /// Entities spawned for the client and not despawned since, in the zone
    /// it last entered, in the order they came.
    pub entities: Vec<(EntityId, EntityKind)>,
    /// The last skillbook's skills, the auto-attack first.
    pub skills: Vec<u16>,
    /// `SkillRefused` messages heard.
    pub refusals: u64,
}

impl Default for ServerStream {
    fn default() -> Self {
        ServerStream {
            decoder: FrameDecoder::new(MAX_SERVER_PAYLOAD),
            messages: 0,
            disconnect: None,
            welcome: None,
            characters: Vec::new(),
            ping: None,
            notices: 0,
            pos: None,
            epoch: 0,
            move_seq: 0,
            entity: None,
            entities: Vec::new(),
            skills: Vec::new(),
            refusals: 0,
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
                ServerMsg::Session(ServerSession::Characters { characters, .. }) => {
                    self.characters = characters.iter().map(|c| c.id).collect()
                }
                ServerMsg::Session(ServerSession::Ping {
                    seq,
                    server_time_us,
                }) => self.ping = Some((seq, server_time_us)),
                ServerMsg::Session(ServerSession::Notice { .. }) => self.notices += 1,
                ServerMsg::World(ServerWorld::ZoneEntered(z)) => {
                    self.pos = Some(z.pos);
                    self.epoch = z.epoch;
                    self.entity = Some(z.entity);
                    self.entities.clear();
                }
                ServerMsg::World(ServerWorld::WorldUpdate(u)) => {
                    if let Some(c) = u.correction {
                        self.pos = Some(c.pos);
                        self.epoch = c.epoch;
                    }
                    self.entities.retain(|(e, _)| !u.despawns.contains(e));
                    for s in &u.spawns {
                        if !self.entities.iter().any(|&(e, _)| e == s.entity) {
                            self.entities.push((s.entity, s.kind));
                        }
                    }
                }
                ServerMsg::Combat(ServerCombat::Skillbook {
                    auto_attack,
                    skills,
                    ..
                }) => {
                    self.skills = std::iter::once(auto_attack)
                        .chain(skills.iter().map(|s| s.id).filter(|&id| id != auto_attack))
                        .collect();
                }
                ServerMsg::Combat(ServerCombat::SkillRefused { .. }) => self.refusals += 1,
                _ => {}
            }
        }
    }
}

/// One example of every client message, built once: what a message step picks
/// from, so a message added to the protocol is fuzzed with no change here.
static EXAMPLES: LazyLock<Vec<ClientMsg>> = LazyLock::new(examples::client_messages);

/// Names scripted logins use: a few, so logins collide and take over.
const NAMES: [&str; 4] = ["ada", "bob", "cy", "ada "];

/// Names scripted characters are created with: a few, so they collide (in
/// any case), and one invalid.
const CHARACTER_NAMES: [&str; 5] = ["Ada", "Bob", "Cyd", "x", "ADA"];

/// The login service's key in fuzzed scripts: the node is given its public
/// half ([`token_key`]) and wall clock [`UNIX_MS_AT_ZERO`].
static LOGIN_KEY: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::from_seed(&[9; 32]));

/// The wall-clock time of the node's `Instant` zero in fuzzed scripts.
pub const UNIX_MS_AT_ZERO: u64 = 1_800_000_000_000;

/// Registered accounts a token may name: 1 and 2 exist in the scripted store.
pub const TOKEN_ACCOUNTS: [&str; 2] = ["ada", "bob"];

pub fn token_key() -> game_core::auth::VerifyingKey {
    LOGIN_KEY.verifying_key()
}

/// A token by `pick` % 4: valid (for account 1 or 2 by `pick & 4`, with the
/// token id `n`, so a repeated `n` is a replay), expired, signed with another
/// key, or the example's garbage.
fn token(say: &Say, example: &str) -> String {
    let now_s = UNIX_MS_AT_ZERO / 1000;
    let claims = |expires_at| Claims {
        account: AccountId(1 + (say.pick as u64 >> 2 & 1)),
        name: TOKEN_ACCOUNTS[(say.pick as usize >> 2) & 1].into(),
        issued_at: now_s,
        expires_at,
        token_id: {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&say.n.to_le_bytes());
            id
        },
    };
    match say.pick % 4 {
        0 => LOGIN_KEY.issue(&claims(now_s + 3_600)),
        1 => LOGIN_KEY.issue(&claims(now_s - 1)),
        2 => SigningKey::from_seed(&[8; 32]).issue(&claims(now_s + 3_600)),
        _ => example.to_owned(),
    }
}

/// A message step's operands: which of the protocol's example messages, and how
/// to vary it. Always [`Say::LEN`] bytes, `[example: u8] [pick: u8] [dx: u16]
/// [dy: u16] [n: u32]`, so seeds need not know which message reads which field
/// and a mutation of the example byte leaves the rest of the script in step.
///
/// The messages the check knows are varied with what the client has heard (a
/// resume with the real token, a pong echoing the real ping, a move from where
/// the character stands); any other is sent as its example.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Say {
    /// Index into `examples::client_messages()`, modulo its length.
    pub example: u8,
    /// `Hello`: the protocol version (0 is the server's). `Login`: which of a few
    /// names (one invalid), or which kind of token (see [`token`]).
    /// `CreateCharacter`: which of a few names. `EnterWorld`,
    /// `DeleteCharacter`: a character heard of, or (odd) any id. `Resume`, `Pong`: forged when odd. `Move`: how the
    /// move is made (see [`movement`]). `SwitchChannel`: the channel, modulo 4.
    /// `UseSkill`, `Attack`: which target and which skill (see [`combat_target`]
    /// and [`skill`]).
    pub pick: u8,
    /// `Move`: the step, in raw fixed-point units. `UseSkill`: `dx` picks
    /// the skill.
    pub dx: i16,
    pub dy: i16,
    /// `Ping`: the sequence number. `Move`: the sequence jump. `UseSkill`,
    /// `Attack`: which entity heard of, or the raw id of any.
    pub n: u32,
}

impl Say {
    pub const LEN: usize = 10;

    /// The first example `is` accepts, unvaried (for seeds and tests).
    pub fn of(is: impl Fn(&ClientMsg) -> bool) -> Say {
        let i = EXAMPLES
            .iter()
            .position(is)
            .expect("an example of the message");
        Say {
            example: u8::try_from(i).expect("fewer than 256 examples"),
            ..Say::default()
        }
    }

    pub fn read(script: &mut Script<'_>) -> Say {
        Say {
            example: script.u8(),
            pick: script.u8(),
            dx: script.u16() as i16,
            dy: script.u16() as i16,
            n: script.u32(),
        }
    }

    pub fn write(&self, w: &mut ScriptWriter) {
        w.u8(self.example)
            .u8(self.pick)
            .u16(self.dx as u16)
            .u16(self.dy as u16)
            .u32(self.n);
    }

    /// The message, using what the client has heard so far.
    pub fn message(&self, heard: &mut ServerStream) -> ClientMsg {
        let mut msg = EXAMPLES[self.example as usize % EXAMPLES.len()].clone();
        let pick = self.pick;
        match &mut msg {
            ClientMsg::Session(ClientSession::Hello {
                protocol_version,
                client,
            }) => {
                *protocol_version = if pick == 0 {
                    PROTOCOL_VERSION
                } else {
                    pick as u16
                };
                *client = "fuzz".into();
            }
            ClientMsg::Session(ClientSession::Login {
                credentials: Credentials::Dev { name },
            }) => *name = NAMES[pick as usize % NAMES.len()].into(),
            ClientMsg::Session(ClientSession::Login {
                credentials: Credentials::Token { token: t },
            }) => *t = token(self, t),
            ClientMsg::Session(ClientSession::CreateCharacter { name }) => {
                *name = CHARACTER_NAMES[pick as usize % CHARACTER_NAMES.len()].into()
            }
            ClientMsg::Session(
                ClientSession::EnterWorld { character }
                | ClientSession::DeleteCharacter { character },
            ) => {
                // One the client was shown, or (odd `pick`) any id at all.
                *character = match heard.characters.len() {
                    n if n > 0 && pick & 1 == 0 => heard.characters[self.n as usize % n],
                    _ => CharacterId(self.n as u64 % 8),
                };
            }
            ClientMsg::Session(ClientSession::Resume { player, token }) => {
                (*player, *token) = heard
                    .welcome
                    .unwrap_or((PlayerId(pick as u64), ResumeToken([pick; 16])));
                if pick & 1 == 1 {
                    token.0[0] ^= 1;
                }
            }
            ClientMsg::Session(ClientSession::Ping {
                seq,
                client_time_us,
            }) => {
                *seq = self.n;
                *client_time_us = 1;
            }
            ClientMsg::Session(ClientSession::Pong {
                seq,
                server_time_us,
                client_time_us,
            }) => {
                let (ping, at) = heard.ping.unwrap_or((pick as u32, pick as u64));
                *seq = ping.wrapping_add((pick & 1) as u32);
                *server_time_us = at;
                *client_time_us = 1;
            }
            ClientMsg::World(ClientWorld::Move(input)) => *input = movement(self, heard),
            ClientMsg::World(ClientWorld::SwitchChannel { channel }) => {
                *channel = pick as u16 % 4;
            }
            ClientMsg::Combat(ClientCombat::UseSkill { skill: s, target }) => {
                *s = skill(self, heard);
                *target = combat_target(self, heard);
            }
            ClientMsg::Combat(ClientCombat::Attack { target }) => {
                *target = combat_target(self, heard).unwrap_or(EntityId(self.n as u64));
            }
            // `StopAttack` and `CancelCast` have nothing to vary.
            // Sent as the example: a new message is fuzzed before the check
            // learns to vary it.
            _ => {}
        }
        msg
    }
}

/// A move: from where the character stands by a step the script picks, which
/// may be honest, too long, absurd (far outside any map, the extremes of the
/// coordinate range) or made with a stale epoch; the sequence number may jump.
/// `pick` % 4: half a metre at most, 128 m at most, the extremes, anywhere;
/// `pick & 4`: the sequence jumps by `n`; `pick & 8`: a stale epoch.
fn movement(say: &Say, heard: &mut ServerStream) -> MoveInput {
    let how = say.pick;
    let dx = say.dx as i32;
    let dy = say.dy as i32;
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
        heard.move_seq.wrapping_add(say.n)
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

/// A combat request's target, by `pick` % 4: 0 a monster the client was
/// told about (the `n`-th, modulo how many), 1 any entity it was told about
/// (the `n`-th: a monster, an NPC, another player), 2 its own character, 3
/// none (`pick & 4` clear) or any id at all (`n`, set). With nothing heard of
/// yet (before `ZoneEntered`), 0 and 1 fall back on any entity heard of, then
/// its own character, then the id `n`.
fn combat_target(say: &Say, heard: &ServerStream) -> Option<EntityId> {
    let any = EntityId(say.n as u64);
    let nth = |of: &[EntityId]| (!of.is_empty()).then(|| of[say.n as usize % of.len()]);
    let all: Vec<EntityId> = heard.entities.iter().map(|&(e, _)| e).collect();
    let fallback = nth(&all).or(heard.entity).unwrap_or(any);
    match say.pick % 4 {
        0 => {
            let monsters: Vec<EntityId> = heard
                .entities
                .iter()
                .filter(|(_, kind)| *kind == EntityKind::Monster)
                .map(|&(e, _)| e)
                .collect();
            Some(nth(&monsters).unwrap_or(fallback))
        }
        1 => Some(fallback),
        2 => heard.entity.or(Some(any)),
        _ if say.pick & 4 == 0 => None,
        _ => Some(any),
    }
}

/// A `UseSkill`'s skill, by `(pick >> 3)` % 4: 0 to 2 one of the last
/// skillbook's (the `dx`-th, modulo how many; `dx` % 8 before any skillbook),
/// 3 any id at all (`dx`).
fn skill(say: &Say, heard: &ServerStream) -> u16 {
    let any = say.dx as u16;
    match ((say.pick >> 3) % 4, heard.skills.len()) {
        (3, _) => any,
        (_, 0) => any % 8,
        (_, n) => heard.skills[any as usize % n],
    }
}
