//! Who a player is: names, passwords, login tokens and attempt limits.
//!
//! Pure functions and bounded tables, shared by the three drivers: the login
//! service in `net-adapter` (registration and login over HTTP, hashing on a
//! blocking thread), the node (checking a token at login, refusing a replay)
//! and the simulator (its bots register and log in through the same calls).
//! Nothing here reads a clock or draws randomness: the caller passes the time
//! and the salt or key bytes.

mod limiter;
mod names;
mod password;
mod replay;
mod token;

pub use limiter::{AttemptLimiter, LimiterConfig};
pub use names::{
    name_key, validate_account_name, validate_character_name, validate_password, NameProblem,
    PasswordProblem,
};
pub use password::{hash_password, verify_password, HashMemory, PasswordParams};
pub use replay::{Admission, ReplayGuard};
pub use token::{format_unix_time, Claims, SigningKey, VerifyingKey, TOKEN_PREFIX};
