//! Typed identifiers, so a connection id can never be passed where a player id is
//! meant. All are plain integers on the wire.

use serde::{Deserialize, Serialize};
use std::fmt;

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
