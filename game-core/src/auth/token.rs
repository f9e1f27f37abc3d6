//! Login tokens: PASETO v4.public, signed with the login service's Ed25519 key.
//!
//! The login service holds the [`SigningKey`]; a game server holds only the
//! [`VerifyingKey`]. The claims are a JSON object: `sub` (the account id, in
//! decimal), `name` (the account name), `iat` and `exp` (issued and expiry,
//! `YYYY-MM-DDTHH:MM:SSZ`) and `jti` (a unique token id, 32 hex digits). Tokens are bound to this use
//! by an implicit assertion, so a PASETO signed by the same key for another
//! purpose does not log in.

use crate::ids::AccountId;
use crate::protocol::{TokenRefusal, MAX_TOKEN_LEN};
use pasetors::keys::{AsymmetricPublicKey, AsymmetricSecretKey};
use pasetors::token::UntrustedToken;
use pasetors::version4::{PublicToken, V4};
use pasetors::Public;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Every login token starts with this.
pub const TOKEN_PREFIX: &str = "v4.public.";

/// Binds a signature to logging in to a game server.
const IMPLICIT_ASSERTION: &[u8] = b"mmo-server game login v1";

/// What a token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    pub account: AccountId,
    pub name: String,
    /// Unix seconds, when the login service issued it.
    pub issued_at: u64,
    /// Unix seconds; the token is refused from this second on.
    pub expires_at: u64,
    pub token_id: [u8; 16],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireClaims {
    sub: String,
    name: String,
    iat: String,
    exp: String,
    jti: String,
}

/// The login service's key: signs tokens.
pub struct SigningKey {
    seed: [u8; 32],
    secret: AsymmetricSecretKey<V4>,
    public: VerifyingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The key pair for a 32-byte seed (from the OS when the login service
    /// makes its key; from the run's seed in the simulator).
    pub fn from_seed(seed: &[u8; 32]) -> SigningKey {
        let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(*seed));
        let secret = AsymmetricSecretKey::<V4>::from(pair.sk.as_ref()).expect("64-byte key");
        let public = VerifyingKey::from_bytes(pair.pk.as_ref()).expect("32-byte key");
        SigningKey {
            seed: *seed,
            secret,
            public,
        }
    }

    /// The seed, to keep the key in a file.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.public.clone()
    }

    /// A signed token carrying `claims`. Ed25519 signs deterministically: the
    /// same key and claims give the same token.
    pub fn issue(&self, claims: &Claims) -> String {
        let wire = WireClaims {
            sub: claims.account.0.to_string(),
            name: claims.name.clone(),
            iat: format_unix_time(claims.issued_at),
            exp: format_unix_time(claims.expires_at),
            jti: hex(&claims.token_id),
        };
        let message = serde_json::to_vec(&wire).expect("claims serialize");
        PublicToken::sign(&self.secret, &message, None, Some(IMPLICIT_ASSERTION))
            .expect("a non-empty message signs")
    }
}

/// A game server's key: checks tokens.
#[derive(Clone)]
pub struct VerifyingKey {
    bytes: [u8; 32],
    key: AsymmetricPublicKey<V4>,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", hex(&self.bytes[..8]))
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl VerifyingKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<VerifyingKey, String> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("an Ed25519 public key is 32 bytes, not {}", bytes.len()))?;
        let key = AsymmetricPublicKey::<V4>::from(&array).map_err(|e| format!("{e:?}"))?;
        Ok(VerifyingKey { bytes: array, key })
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.bytes
    }

    /// The claims of `token` if it is well formed, signed by this key's pair
    /// and unexpired at `now` (unix seconds). Replays are the caller's to
    /// refuse (see [`super::ReplayGuard`]).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenRefusal> {
        // No footer, not even an empty one: tokens are issued without, so
        // `v4.public.<payload>.` is not a token we issued (the token fuzz
        // target found it verifying: regressions/token/empty_footer).
        if token.len() > MAX_TOKEN_LEN
            || !token.starts_with(TOKEN_PREFIX)
            || token.split('.').count() != 3
        {
            return Err(TokenRefusal::Malformed);
        }
        let untrusted =
            UntrustedToken::<Public, V4>::try_from(token).map_err(|_| TokenRefusal::Malformed)?;
        let trusted = PublicToken::verify(&self.key, &untrusted, None, Some(IMPLICIT_ASSERTION))
            .map_err(|_| TokenRefusal::BadSignature)?;
        let claims = parse_claims(trusted.payload()).ok_or(TokenRefusal::Malformed)?;
        if now >= claims.expires_at {
            return Err(TokenRefusal::Expired);
        }
        Ok(claims)
    }
}

fn parse_claims(payload: &str) -> Option<Claims> {
    let wire: WireClaims = serde_json::from_str(payload).ok()?;
    let account = AccountId(wire.sub.parse().ok()?);
    let issued_at = parse_unix_time(&wire.iat)?;
    let expires_at = parse_unix_time(&wire.exp)?;
    let id = wire.jti.as_bytes();
    if id.len() != 32 {
        return None;
    }
    let mut token_id = [0u8; 16];
    for (i, pair) in id.chunks(2).enumerate() {
        let digits = std::str::from_utf8(pair).ok()?;
        token_id[i] = u8::from_str_radix(digits, 16).ok()?;
    }
    Some(Claims {
        account,
        name: wire.name,
        issued_at,
        expires_at,
        token_id,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYY-MM-DDTHH:MM:SSZ` for unix seconds (UTC), as PASETO's `exp` wants.
pub fn format_unix_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The inverse of [`format_unix_time`]; `+00:00` is accepted for `Z`.
fn parse_unix_time(text: &str) -> Option<u64> {
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let b = text.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let s = text.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    if hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let days = days_from_civil(y as i64, m as u32, d as u32);
    if civil_from_days(days) != (y as i64, m as u32, d as u32) {
        return None; // 31 February and the like
    }
    Some(days as u64 * 86_400 + hh * 3600 + mm * 60 + ss)
}

// Howard Hinnant's civil-date algorithms (public domain), proleptic Gregorian.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(expires_at: u64) -> Claims {
        Claims {
            account: AccountId(17),
            name: "ada".into(),
            issued_at: 700,
            expires_at,
            token_id: [0xab; 16],
        }
    }

    #[test]
    fn a_token_verifies_with_its_key_until_it_expires() {
        let key = SigningKey::from_seed(&[1; 32]);
        let token = key.issue(&claims(1_000));
        assert!(token.starts_with(TOKEN_PREFIX));
        let public = key.verifying_key();
        assert_eq!(public.verify(&token, 999), Ok(claims(1_000)));
        assert_eq!(public.verify(&token, 1_000), Err(TokenRefusal::Expired));
        let other = SigningKey::from_seed(&[2; 32]).verifying_key();
        assert_eq!(other.verify(&token, 0), Err(TokenRefusal::BadSignature));
        // One flipped character in the payload or signature: not this key's.
        let mut forged = token.clone().into_bytes();
        let i = TOKEN_PREFIX.len() + 5;
        forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        assert_eq!(public.verify(&forged, 0), Err(TokenRefusal::BadSignature));
        assert_eq!(public.verify("v4.public.", 0), Err(TokenRefusal::Malformed));
        assert_eq!(
            public.verify("v4.local.abc", 0),
            Err(TokenRefusal::Malformed)
        );
        assert_eq!(
            public.verify(&"v4.public.A".repeat(200), 0),
            Err(TokenRefusal::Malformed)
        );
        // Deterministic: the simulator's tokens replay from the seed.
        assert_eq!(token, key.issue(&claims(1_000)));
        // The same token with a footer, even an empty one, is not the one
        // issued.
        for footer in [".", ".e30"] {
            let with = format!("{token}{footer}");
            assert_eq!(public.verify(&with, 0), Err(TokenRefusal::Malformed));
        }
    }

    #[test]
    fn unix_times_round_trip_through_text() {
        for secs in [
            0,
            951_782_400,
            1_796_534_928,
            4_102_444_799,
            253_402_300_799,
        ] {
            assert_eq!(
                parse_unix_time(&format_unix_time(secs)),
                Some(secs),
                "{secs}"
            );
        }
        assert_eq!(format_unix_time(1_796_534_928), "2026-12-06T05:28:48Z");
        assert_eq!(parse_unix_time("2026-02-31T00:00:00Z"), None);
        assert_eq!(parse_unix_time("2026-12-06T05:28:48"), None);
        assert_eq!(
            parse_unix_time("2026-12-06T05:28:48+00:00"),
            Some(1_796_534_928)
        );
        assert_eq!(parse_unix_time("+026-12-06T05:28:48Z"), None);
    }
}
