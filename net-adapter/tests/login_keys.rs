//! The login key files: made once, loaded after, refused with their path when wrong.

use net_adapter::login::{load_or_create_keys, load_verifying_key, KeyError};
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("login-keys-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_pair_is_made_once_as_hex_files_and_loaded_after() {
    let dir = scratch("made");
    // The folder is made too.
    let key_path = dir.join("data/login_ed25519.key");
    let pub_path = dir.join("data/login_ed25519.pub");
    let key = load_or_create_keys(&key_path, &pub_path).unwrap();
    let public = key.verifying_key();

    let seed = std::fs::read_to_string(&key_path).unwrap();
    assert_eq!(seed.len(), 65);
    assert!(seed.trim_end().bytes().all(|b| b.is_ascii_hexdigit()));
    let text = std::fs::read_to_string(&pub_path).unwrap();
    let hex: String = public
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(text, format!("{hex}\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!dir.join("data/login_ed25519.key.tmp").exists());

    let again = load_or_create_keys(&key_path, &pub_path).unwrap();
    assert_eq!(again.seed(), key.seed());
    assert_eq!(load_verifying_key(&pub_path).unwrap(), public);

    // A lost .pub is written again from the seed.
    std::fs::remove_file(&pub_path).unwrap();
    load_or_create_keys(&key_path, &pub_path).unwrap();
    assert_eq!(std::fs::read_to_string(&pub_path).unwrap(), text);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn wrong_files_are_refused_with_their_path() {
    let dir = scratch("wrong");
    let key_path = dir.join("login.key");
    let pub_path = dir.join("login.pub");

    // A .pub without its signing key: no silent new pair.
    std::fs::write(&pub_path, "00".repeat(32)).unwrap();
    let err = load_or_create_keys(&key_path, &pub_path).unwrap_err();
    assert!(matches!(err, KeyError::MissingSigningKey { .. }), "{err}");
    assert!(err.to_string().contains("login.key"), "{err}");
    std::fs::remove_file(&pub_path).unwrap();

    load_or_create_keys(&key_path, &pub_path).unwrap();
    // Another pair's public key.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    load_or_create_keys(&other.join("k"), &other.join("p")).unwrap();
    std::fs::copy(other.join("p"), &pub_path).unwrap();
    let err = load_or_create_keys(&key_path, &pub_path).unwrap_err();
    assert!(matches!(err, KeyError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("login.pub"), "{err}");

    for bad in ["", "abc", &"zz".repeat(32), &"00".repeat(33)] {
        std::fs::write(&key_path, bad).unwrap();
        let err = load_or_create_keys(&key_path, &pub_path).unwrap_err();
        assert!(matches!(err, KeyError::Malformed { .. }), "{bad:?}: {err}");
        assert!(err.to_string().contains("login.key"), "{err}");
        std::fs::write(&pub_path, bad).unwrap();
        let err = load_verifying_key(&pub_path).unwrap_err();
        assert!(matches!(err, KeyError::Malformed { .. }), "{bad:?}: {err}");
        assert!(err.to_string().contains("login.pub"), "{err}");
    }

    let missing = dir.join("nowhere.pub");
    let err = load_verifying_key(&missing).unwrap_err();
    assert!(matches!(err, KeyError::Io { .. }), "{err}");
    assert!(err.to_string().contains("nowhere.pub"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
