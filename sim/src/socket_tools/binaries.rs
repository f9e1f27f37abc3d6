//! Finding (and building) the binaries the socket tools start, and what
//! starting a server needs: a free port, and waiting for it to be healthy.

use super::scrape;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The `mmo-server` and `mmo-bots` binaries a tool drives: those given, or
/// the ones beside the tool's own binary, built first when it runs through
/// cargo (`tool` names it in what it prints).
pub fn server_and_bots(
    tool: &str,
    server_bin: Option<&Path>,
    bots_bin: Option<&Path>,
) -> Result<(PathBuf, PathBuf), String> {
    let here = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = here
        .parent()
        .ok_or("no directory for this binary")?
        .to_owned();
    let need_build = server_bin.is_none() || bots_bin.is_none();
    if need_build {
        if let Ok(cargo) = std::env::var("CARGO") {
            let release = dir.file_name().is_some_and(|n| n == "release");
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
            eprintln!("{tool}: building mmo-server and mmo-bots");
            let mut build = Command::new(cargo);
            build
                .arg("build")
                .arg("--manifest-path")
                .arg(&manifest)
                .args(["-p", "net-adapter", "--bin", "mmo-server"])
                .args(["-p", "sim", "--bin", "mmo-bots"]);
            if release {
                build.arg("--release");
            }
            let ok = build.status().map_err(|e| e.to_string())?.success();
            if !ok {
                return Err("building the binaries failed".into());
            }
        }
    }
    let server = server_bin.map_or_else(|| dir.join("mmo-server"), Path::to_path_buf);
    let bots = bots_bin.map_or_else(|| dir.join("mmo-bots"), Path::to_path_buf);
    for b in [&server, &bots] {
        if !b.exists() {
            return Err(format!(
                "{} not found: run through cargo, or pass --server-bin/--bots-bin",
                b.display()
            ));
        }
    }
    Ok((server, bots))
}

/// A free loopback port, for a server the tool starts.
pub fn free_port() -> Result<SocketAddr, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))
}

/// Waits until the server started as `server` answers `/healthz` on its
/// admin port, at most `limit`; fails at once if it exits.
pub fn wait_healthy(admin: SocketAddr, server: &mut Child, limit: Duration) -> Result<(), String> {
    let give_up = Instant::now() + limit;
    while Instant::now() < give_up {
        if let Some(status) = server.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("mmo-server exited at start ({status})"));
        }
        if let Ok((200, _)) = scrape::http_get(admin, "/healthz", Duration::from_secs(1)) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "mmo-server did not become healthy in {} s",
        limit.as_secs()
    ))
}
