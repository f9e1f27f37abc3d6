//! Typed identifiers, so a connection id can never be passed where a player id is
//! meant. All are plain integers on the wire.

use serde::{Deserialize, Serialize};
// The one HashMap the core allows (clippy.toml bans the type for its random
// seed): `IdMap` pins a seedless hasher.
#[allow(clippy::disallowed_types)]
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// A hash map keyed by ids: a lookup is one multiply and usually one cache
/// line, where a `BTreeMap` walks several nodes. The hasher has no random
/// seed, so the same inserts give the same layout and iteration order on
/// every run (still, code whose output depends on the order sorts first).
#[allow(clippy::disallowed_types)]
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// See [`IdMap`]: a multiplicative hash of integer ids.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub u64);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

id_type!(
    /// One transport connection, chosen by the driver; never reused within a process.
    ConnId,
    "conn#"
);
id_type!(
    /// A player (a logged-in character); survives reconnects within the grace period.
    PlayerId,
    "player#"
);
id_type!(
    /// Anything that exists in a zone: players and non-player entities.
    EntityId,
    "entity#"
);
id_type!(
    /// A zone: one map, channel or instance.
    ZoneId,
    "zone#"
);
id_type!(
    /// A persistence intent: unique within a node, so a store applies each once.
    IntentId,
    "intent#"
);
id_type!(
    /// An account, chosen by the store when it is registered; never reused.
    AccountId,
    "account#"
);
id_type!(
    /// A character of an account, chosen by the store when it is created; never reused.
    CharacterId,
    "character#"
);

id_type!(
    /// A guild, chosen by the store when it is founded; never reused.
    GuildId,
    "guild#"
);
