//! The server and the bots as child processes.

use super::*;

/// A running `mmo-server` child and its ports.
pub(super) struct Server {
    pub(super) child: Child,
    pub(super) game: SocketAddr,
    pub(super) log: PathBuf,
}

impl Server {
    pub(super) fn start(
        bin: &Path,
        dir: &Path,
        name: &str,
        data: &Path,
        store_url: &str,
        args: &Args,
    ) -> Result<Server, String> {
        let game = free_port()?;
        let admin = free_port()?;
        let login = free_port()?;
        let config = dir.join(format!("server-{name}.toml"));
        let text = format!(
            "# written by crash\n\
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
            args.save_interval_ms,
            data = data.display().to_string(),
        );
        std::fs::write(&config, text)
            .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let log = dir.join(format!("server-{name}.log"));
        let out = open(&log)?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", SERVER_LOG)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut server = Server { child, game, log };
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

pub(super) fn start_bots(
    args: &Args,
    setup: &RunSetup<'_>,
    dir: &Path,
    name: &str,
    game: SocketAddr,
    seconds: u64,
    seed: u64,
) -> Result<Child, String> {
    let out = open(&dir.join(format!("{name}.txt")))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    Command::new(setup.bots_bin)
        .arg("--addr")
        .arg(game.to_string())
        .arg("--bots")
        .arg(args.bots.to_string())
        .arg("--seconds")
        .arg(seconds.to_string())
        .arg("--name-prefix")
        .arg(NAME_PREFIX)
        .arg("--seed")
        .arg(seed.to_string())
        .arg("--nice")
        .arg(args.bots_nice.to_string())
        .arg("--json")
        .arg(dir.join(format!("{name}.json")))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", setup.bots_bin.display()))
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
