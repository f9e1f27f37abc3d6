//! The login service's Ed25519 key pair, in two files.
//!
//! - the signing key file holds the 32-byte seed as 64 lowercase hex digits
//!   and a newline, mode 0600 (only the login service reads it);
//! - the verifying key file holds the 32-byte public key the same way, and is
//!   what a game server needs (copy it; it is not secret).
//!
//! On first start [`load_or_create_keys`] draws the seed from the OS and writes
//! both (each through a temporary file and a rename, so a crash never leaves
//! half a key); later starts load them and check that they belong together.

use game_core::auth::{SigningKey, VerifyingKey};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A key file that could not be read, written or understood.
#[derive(Debug)]
pub enum KeyError {
    Io {
        path: PathBuf,
        source: io::Error,
    },
    /// Not 64 hex digits, or not a valid Ed25519 key.
    Malformed {
        path: PathBuf,
        reason: String,
    },
    /// The verifying key file is not the signing key's public half.
    Mismatch {
        signing: PathBuf,
        verifying: PathBuf,
    },
    /// A verifying key exists without its signing key: making a new pair would
    /// silently invalidate every game server's copy, so the operator decides.
    MissingSigningKey {
        signing: PathBuf,
        verifying: PathBuf,
    },
    /// The OS gave no randomness for a new seed.
    Random(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            KeyError::Malformed { path, reason } => write!(f, "{}: {reason}", path.display()),
            KeyError::Mismatch { signing, verifying } => write!(
                f,
                "{} is not the public key of {}",
                verifying.display(),
                signing.display()
            ),
            KeyError::MissingSigningKey { signing, verifying } => write!(
                f,
                "{} exists but {} does not: restore the signing key, or remove the \
                 verifying key to make a new pair (game servers then need the new one)",
                verifying.display(),
                signing.display()
            ),
            KeyError::Random(e) => write!(f, "no randomness for a new login key: {e}"),
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The signing key from `signing_path`, made (with its verifying key file at
/// `verifying_path`) on first start. The verifying file is rewritten from the
/// seed when missing, and must match it when present.
pub fn load_or_create_keys(
    signing_path: &Path,
    verifying_path: &Path,
) -> Result<SigningKey, KeyError> {
    let key = match read_hex32(signing_path)? {
        Some(seed) => SigningKey::from_seed(&seed),
        None => {
            if verifying_path.exists() {
                return Err(KeyError::MissingSigningKey {
                    signing: signing_path.to_owned(),
                    verifying: verifying_path.to_owned(),
                });
            }
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
            write_hex(signing_path, &seed, true)?;
            SigningKey::from_seed(&seed)
        }
    };
    warn_if_readable_by_others(signing_path);
    match read_hex32(verifying_path)? {
        Some(bytes) if bytes == key.verifying_key().to_bytes() => {}
        Some(_) => {
            return Err(KeyError::Mismatch {
                signing: signing_path.to_owned(),
                verifying: verifying_path.to_owned(),
            })
        }
        None => write_hex(verifying_path, &key.verifying_key().to_bytes(), false)?,
    }
    Ok(key)
}

/// A game server's copy of the verifying key.
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    let bytes = read_hex32(path)?.ok_or_else(|| KeyError::Io {
        path: path.to_owned(),
        source: io::Error::from(io::ErrorKind::NotFound),
    })?;
    VerifyingKey::from_bytes(&bytes).map_err(|reason| KeyError::Malformed {
        path: path.to_owned(),
        reason,
    })
}

/// The 32 bytes in a hex key file, or `None` when there is no file.
fn read_hex32(path: &Path) -> Result<Option<[u8; 32]>, KeyError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(KeyError::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    let malformed = |reason: &str| KeyError::Malformed {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let digits = text.trim_ascii();
    if digits.len() != 64 {
        return Err(malformed(&format!(
            "expected 64 hex digits (32 bytes), found {} characters",
            digits.len()
        )));
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks(2)) {
        let hi = hex_value(pair[0]).ok_or_else(|| malformed("not a hex digit"))?;
        let lo = hex_value(pair[1]).ok_or_else(|| malformed("not a hex digit"))?;
        *byte = hi << 4 | lo;
    }
    Ok(Some(out))
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn write_hex(path: &Path, bytes: &[u8; 32], secret: bool) -> Result<(), KeyError> {
    let io_err = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io_err)?;
    }
    let mut text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    text.push('\n');
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(if secret { 0o600 } else { 0o644 });
        }
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        if secret {
            // A stale temporary file keeps its old mode through `open`.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(io_err)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "the login signing key is readable by other users (chmod 600 it)"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
