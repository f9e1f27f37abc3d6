//! The server and the bots as child processes (shared by `crash` and
//! `crash-economy`).

use sim::socket_tools::binaries::{free_port, wait_healthy};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `mmo-server` child and its ports.
pub(super) struct Server {
    pub(super) child: Child,
    pub(super) game: SocketAddr,
    /// The admin port (`crash-economy` posts operator grants to it).
    #[allow(dead_code)]
    pub(super) admin: SocketAddr,
    pub(super) log: PathBuf,
}

/// How to start a server under test.
pub(super) struct ServerSetup<'a> {
    pub(super) bin: &'a Path,
    /// The run's directory: the config and log go there.
    pub(super) dir: &'a Path,
    pub(super) data: &'a Path,
    pub(super) store_url: &'a str,
    pub(super) save_interval_ms: u32,
    /// `RUST_LOG` for the server.
    pub(super) log_filter: &'a str,
}

impl Server {
    pub(super) fn start(setup: &ServerSetup<'_>, name: &str) -> Result<Server, String> {
        let game = free_port()?;
        let admin = free_port()?;
        let login = free_port()?;
        let config = setup.dir.join(format!("server-{name}.toml"));
        let text = format!(
            "# written by the crash test\n\
             listen = \"{game}\"\n\
             data_dir = {data:?}\n\
             [store]\n\
             url = {store_url:?}\n\
             [login]\n\
             listen = \"{login}\"\n\
             [admin]\n\
             listen = \"{admin}\"\n\
             [node]\n\
             save_interval_ms = {}\n",
            setup.save_interval_ms,
            data = setup.data.display().to_string(),
            store_url = setup.store_url,
        );
        std::fs::write(&config, text)
            .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let log = setup.dir.join(format!("server-{name}.log"));
        let out = open(&log)?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(setup.bin)
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", setup.log_filter)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", setup.bin.display()))?;
        let mut server = Server {
            child,
            game,
            admin,
            log,
        };
        if let Err(e) = wait_healthy(admin, &mut server.child, Duration::from_secs(30)) {
            let _ = server.child.kill();
            let _ = server.child.wait();
            return Err(format!("{e} (log: {})", server.log.display()));
        }
        Ok(server)
    }

    /// SIGTERM (a clean shutdown: the last saves are waited for), then SIGKILL
    /// after 10 s. Whether it stopped by itself.
    pub(super) fn stop(mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let give_up = Instant::now() + Duration::from_secs(10);
        while Instant::now() < give_up {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

/// How to start `mmo-bots` against a server under test.
pub(super) struct Bots<'a> {
    pub(super) bin: &'a Path,
    pub(super) dir: &'a Path,
    pub(super) count: usize,
    pub(super) name_prefix: &'a str,
    pub(super) nice: i32,
    /// More arguments (`--mix ...`).
    pub(super) extra: &'a [String],
}

impl Bots<'_> {
    /// Starts them for `seconds`; their output goes to `<name>.txt` and
    /// their report to `<name>.json` in the run's directory.
    pub(super) fn start(
        &self,
        name: &str,
        game: SocketAddr,
        seconds: u64,
        seed: u64,
    ) -> Result<Child, String> {
        let out = open(&self.dir.join(format!("{name}.txt")))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        Command::new(self.bin)
            .arg("--addr")
            .arg(game.to_string())
            .arg("--bots")
            .arg(self.count.to_string())
            .arg("--seconds")
            .arg(seconds.to_string())
            .arg("--name-prefix")
            .arg(self.name_prefix)
            .arg("--seed")
            .arg(seed.to_string())
            .arg("--nice")
            .arg(self.nice.to_string())
            .arg("--json")
            .arg(self.dir.join(format!("{name}.json")))
            .args(self.extra)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.bin.display()))
    }
}

/// Waits for a child to exit, killing it after `limit`.
pub(super) fn wait_or_kill(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let give_up = Instant::now() + limit;
    while Instant::now() < give_up {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

pub(super) fn open(path: &Path) -> Result<std::fs::File, String> {
    std::fs::File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}
