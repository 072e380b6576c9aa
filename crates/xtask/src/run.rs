//! Running tools and the qrauth server as child processes.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::{Failure, Result, root};

/// A command in the workspace root, with `web/node_modules/.bin` and `~/.cargo/bin` on PATH so
/// that trunk finds npm's wasm-opt and cargo-installed tools resolve even on a fresh shell.
/// A port on 127.0.0.1 that was free a moment ago, for a server started next.
pub fn free_port() -> Result<u16> {
    let socket = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(socket.local_addr()?.port())
}

pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    command.current_dir(root()).env("PATH", tool_path());
    command
}

fn tool_path() -> std::ffi::OsString {
    let mut dirs = vec![root().join("web/node_modules/.bin")];
    // Where `cargo install` puts binaries: $CARGO_HOME/bin, by default ~/.cargo/bin.
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    if let Some(cargo_home) = cargo_home {
        dirs.push(cargo_home.join("bin"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// Runs `command` with inherited output; fails with `what` if it does not succeed.
pub fn status(command: &mut Command, what: &str) -> Result {
    let status = command.status().map_err(|e| {
        Failure(format!(
            "{what}: cannot start {:?}: {e}",
            command.get_program()
        ))
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure(format!("{what} failed ({status})")))
    }
}

/// Runs `command` and returns its standard output, or `None` if it cannot run or fails.
pub fn output(command: &mut Command) -> Option<String> {
    let output = command.stderr(Stdio::null()).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A child process that is stopped when this value is dropped, however the xtask ends.
pub struct Supervised {
    child: Child,
}

impl Supervised {
    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether the child has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // Closing the pipe stops `qrauth serve --stop-on-stdin-close` gracefully (requests
            // finish, the audit log is written); anything still running after that is killed.
            if self.child.stdin.take().is_some() {
                for _ in 0..50 {
                    if let Ok(Some(_)) = self.child.try_wait() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `name` from `command`, stopped when the returned value is dropped.
pub fn supervise(command: &mut Command, name: &'static str) -> Result<Supervised> {
    let child = command
        .spawn()
        .map_err(|e| Failure(format!("cannot start {name}: {e}")))?;
    Ok(Supervised { child })
}

/// Starts `qrauth serve` and waits until it says where it listens; returns it and its URL.
///
/// Its standard input is a pipe that only this process holds: the server stops when the pipe
/// closes, so it never outlives the xtask, even one killed with SIGKILL.
pub fn qrauth_serve(binary: &Path, args: &[&OsStr]) -> Result<(Supervised, String)> {
    let mut command = command(binary);
    command
        .arg("serve")
        .args(args)
        .arg("--stop-on-stdin-close")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut server = supervise(&mut command, "qrauth serve")?;
    let stdout = server
        .child
        .stdout
        .take()
        .ok_or_else(|| Failure("qrauth serve: no standard output".into()))?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::result::Result::ok)
        {
            println!("{line}");
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                let _ = sender.send(url.to_owned());
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = loop {
        match receiver.recv_timeout(Duration::from_millis(200)) {
            Ok(url) => break url,
            Err(_) if server.exited() => {
                return Err(Failure(
                    "qrauth serve stopped before listening: see its message above".into(),
                ));
            }
            Err(_) if Instant::now() > deadline => {
                return Err(Failure(
                    "qrauth serve did not report its address within 60 s".into(),
                ));
            }
            Err(_) => {}
        }
    };
    Ok((server, url))
}

/// Builds the `qrauth` binary (optimized when `release`) and returns its path.
pub fn build_qrauth(release: bool) -> Result<PathBuf> {
    let mut cargo = command("cargo");
    cargo.args(["build", "--quiet", "--package", "qrauth"]);
    if release {
        cargo.arg("--release");
    }
    status(&mut cargo, "cargo build --package qrauth")?;
    Ok(crate::build::target_dir()
        .join(if release { "release" } else { "debug" })
        .join("qrauth"))
}
