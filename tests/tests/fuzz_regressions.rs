//! Every fuzz target's seeds and every input a fuzzer once crashed on, replayed
//! through the same check the fuzz target runs (`integration_tests::fuzz_checks`),
//! on stable Rust, by plain `cargo test`.
//!
//! Crash inputs go in `fuzz/regressions/<target>/` (see docs/FUZZING.md).

use integration_tests::fuzz_checks::{seeds, TARGETS};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_seed_and_regression_input_passes_its_check() {
    let mut ran = 0;
    for (target, check) in TARGETS {
        for kind in ["seeds", "regressions"] {
            for file in inputs(&fuzz_dir().join(kind).join(target)) {
                let data = std::fs::read(&file).expect("readable input");
                let outcome = std::panic::catch_unwind(|| check(&data));
                assert!(outcome.is_ok(), "{target}: {} fails", file.display());
                ran += 1;
            }
        }
    }
    assert!(ran >= seeds::all().len(), "only {ran} inputs found");
}

/// The committed seed files are the generated ones, and no others;
/// `UPDATE_FUZZ_SEEDS=1` rewrites them after a protocol or script change and
/// deletes the files no longer generated.
#[test]
fn committed_seeds_are_the_generated_ones() {
    let update = std::env::var_os("UPDATE_FUZZ_SEEDS").is_some();
    let regenerate =
        "run UPDATE_FUZZ_SEEDS=1 cargo test -p integration-tests --test fuzz_regressions";
    let all = seeds::all();
    for seed in &all {
        let path = fuzz_dir().join("seeds").join(seed.target).join(&seed.name);
        if update {
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, &seed.bytes).expect("write seed");
        }
        let committed = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; {regenerate}", path.display()));
        assert_eq!(
            committed,
            seed.bytes,
            "{} is stale; {regenerate}",
            path.display()
        );
    }
    for (target, _) in TARGETS {
        for file in inputs(&fuzz_dir().join("seeds").join(target)) {
            let generated = all.iter().any(|s| {
                s.target == target && file.file_name() == Some(std::ffi::OsStr::new(&s.name))
            });
            if generated {
                continue;
            }
            if update {
                std::fs::remove_file(&file).expect("remove a stale seed");
            } else {
                panic!("{} is no longer generated; {regenerate}", file.display());
            }
        }
    }
}

/// Random inputs through the same checks, so plain `cargo test` on stable
/// explores a little beyond the committed inputs on every run. The seeds are
/// spliced in, so scripts start from real conversations.
mod random_inputs {
    use integration_tests::fuzz_checks::{seeds, TARGETS};
    use proptest::prelude::*;

    fn input() -> impl Strategy<Value = (usize, Vec<u8>)> {
        let all = seeds::all();
        let n = all.len();
        (
            0..n,
            prop::collection::vec(any::<u8>(), 0..512),
            any::<prop::sample::Index>(),
        )
            .prop_map(move |(seed, noise, at)| {
                let mut bytes = seeds::all().swap_remove(seed).bytes;
                let cut = at.index(bytes.len() + 1);
                bytes.splice(cut..cut, noise);
                (seed, bytes)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn seeds_with_random_bytes_spliced_in_pass_their_checks((seed, bytes) in input()) {
            let target = seeds::all().swap_remove(seed).target;
            let check = TARGETS.iter().find(|(t, _)| *t == target).expect("a target").1;
            check(&bytes);
        }
    }
}
