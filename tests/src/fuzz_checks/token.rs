//! Login tokens, as a game server reads them: `VerifyingKey::verify` never
//! panics on any text, and nothing verifies but a token the key's pair
//! issued (no forgery by editing a real token), unexpired.
//!
//! Input: `[mode] [rest]`. Mode even: `rest` (lossy UTF-8) is the token.
//! Mode odd: a real token (`rest[0]` picks which) edited by the `(at, byte)`
//! pairs of `rest[1..]`.

use super::wire::{token_key, UNIX_MS_AT_ZERO};
use game_core::auth::{Claims, SigningKey};
use game_core::ids::AccountId;
use game_core::protocol::TokenRefusal;
use std::sync::LazyLock;

const NOW_S: u64 = UNIX_MS_AT_ZERO / 1000;

/// Tokens the login key issued: all unexpired at `NOW_S` but the last.
static ISSUED: LazyLock<Vec<String>> = LazyLock::new(|| {
    let key = SigningKey::from_seed(&[9; 32]);
    [(1, 300), (2, 3_600), (77, 1), (1, 0)]
        .into_iter()
        .map(|(account, ttl)| {
            key.issue(&Claims {
                account: AccountId(account),
                name: "ada".into(),
                issued_at: NOW_S,
                expires_at: NOW_S + ttl,
                token_id: [account as u8; 16],
            })
        })
        .collect()
});

pub fn token(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let key = token_key();
    let text = if mode % 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let Some((&pick, edits)) = rest.split_first() else {
            return;
        };
        let mut bytes = ISSUED[pick as usize % ISSUED.len()].clone().into_bytes();
        for edit in edits.chunks_exact(2) {
            let at = edit[0] as usize % bytes.len();
            bytes[at] = edit[1];
        }
        String::from_utf8_lossy(&bytes).into_owned()
    };
    match key.verify(&text, NOW_S) {
        Ok(claims) => {
            let i = ISSUED.iter().position(|t| *t == text);
            assert!(
                i.is_some(),
                "a token the key never issued verified: {text:?}"
            );
            assert!(claims.expires_at > NOW_S);
        }
        Err(refusal) => {
            if let Some(i) = ISSUED.iter().position(|t| *t == text) {
                assert_eq!(i, ISSUED.len() - 1, "an issued token refused");
                assert_eq!(refusal, TokenRefusal::Expired);
            }
        }
    }
}

/// Seeds: each issued token as text, edited once, and some garbage.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds: Vec<(String, Vec<u8>)> = ISSUED
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut bytes = vec![0];
            bytes.extend_from_slice(t.as_bytes());
            (format!("issued_{i}"), bytes)
        })
        .collect();
    seeds.push(("edited_payload".into(), vec![1, 0, 12, b'A']));
    seeds.push(("edited_signature".into(), vec![1, 1, 200, b'x', 201, b'y']));
    seeds.push(("garbage".into(), b"\x00v4.public.!!not base64!!".to_vec()));
    seeds.push(("other_purpose".into(), b"\x00v4.local.abcd".to_vec()));
    seeds
}
