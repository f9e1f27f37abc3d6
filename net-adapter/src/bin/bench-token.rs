//! How fast a game server checks login tokens, on one thread, beside what a
//! bare Ed25519 signature check of the same bytes costs; and how many
//! Argon2id hashes a core makes at the OWASP parameters.
//!
//! `cargo run --release -p net-adapter --bin bench-token [-- --seconds S]`

use game_core::auth::{
    hash_password, verify_password, Claims, PasswordParams, SigningKey, VerifyingKey,
};
use game_core::ids::AccountId;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Calls `f` for about `budget` and returns calls per second.
fn rate(budget: Duration, mut f: impl FnMut()) -> (u64, f64) {
    // Warm up (caches, branch predictors, lazy tables).
    for _ in 0..100 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..64 {
            f();
        }
        n += 64;
    }
    (n, n as f64 / start.elapsed().as_secs_f64())
}

fn main() {
    let mut seconds = 2.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--seconds", Some(s)) => seconds = s.parse().expect("--seconds takes a number"),
            _ => {
                eprintln!("usage: bench-token [--seconds S]");
                std::process::exit(2);
            }
        }
    }
    let budget = Duration::from_secs_f64(seconds);
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run with --release for meaningful figures");
    }

    let key = SigningKey::from_seed(&[7; 32]);
    let public: VerifyingKey = key.verifying_key();
    let now = 1_800_000_000;
    let claims = Claims {
        account: AccountId(123_456),
        name: "Adventurer_42".into(),
        issued_at: now,
        expires_at: now + 300,
        token_id: [0x5a; 16],
    };
    let token = key.issue(&claims);
    assert_eq!(public.verify(&token, now), Ok(claims.clone()));
    println!("token: {} bytes", token.len());

    let (n, issue) = rate(budget, || {
        black_box(key.issue(black_box(&claims)));
    });
    println!("issue (sign):                      {issue:>10.0}/s  ({n} in {seconds} s)");

    let (n, verify) = rate(budget, || {
        black_box(public.verify(black_box(&token), now).is_ok());
    });
    println!("verify (PASETO v4.public, claims): {verify:>10.0}/s  ({n} in {seconds} s)");

    // The baseline: one bare Ed25519 check of a message as long as the token.
    let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([7; 32]));
    let message = token.as_bytes();
    let signature = pair.sk.sign(message, None);
    let (n, bare) = rate(budget, || {
        black_box(pair.pk.verify(black_box(message), &signature).is_ok());
    });
    println!("bare Ed25519 verify, same bytes:   {bare:>10.0}/s  ({n} in {seconds} s)");
    println!(
        "token verify / bare Ed25519 verify: {:.2} (token overhead {:.1} us per check)",
        verify / bare,
        (1e6 / verify) - (1e6 / bare)
    );
    println!(
        "target >= 10,000 verifications/s per core: {}",
        if verify >= 10_000.0 { "met" } else { "NOT met" }
    );

    let mut memory = game_core::auth::HashMemory::new();
    let hash = hash_password(
        "correct horse battery",
        &[9; 16],
        PasswordParams::OWASP,
        &mut memory,
    )
    .expect("OWASP parameters are valid");
    let start = Instant::now();
    let mut n = 0u32;
    while n < 5 || start.elapsed() < budget {
        black_box(verify_password(
            black_box("correct horse battery"),
            &hash,
            &mut memory,
        ));
        n += 1;
    }
    let per_s = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "Argon2id at OWASP (m={} KiB, t={}, p=1): {per_s:.1} hashes/s on one core \
         ({:.1} ms each, {n} runs)",
        PasswordParams::OWASP.memory_kib,
        PasswordParams::OWASP.iterations,
        1000.0 / per_s
    );
}
