//! A throwaway PostgreSQL cluster for tests, the demo, the soak and the benchmarks: `initdb`
//! into `target/`, one free port on 127.0.0.1, stopped and deleted on drop. PostgreSQL refuses
//! to run as root, so as root it runs as the `postgres` user that Debian's package made.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{command, free_port, output, status};
use crate::{Failure, Result, build};

/// Where Debian keeps the newest installed PostgreSQL's programs.
pub fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The role every cluster made here has, with trust authentication on loopback only.
const ROLE: &str = "qrauth";

/// A running cluster of its own.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    /// The port it listens on, at 127.0.0.1.
    pub port: u16,
    /// The server's options, for a start after a stop.
    options: String,
}

fn is_root() -> bool {
    output(command("id").arg("-u")).is_some_and(|id| id.trim() == "0")
}

/// `program` of PostgreSQL, as the `postgres` user when this is root.
fn as_owner(bin: &Path, program: &str) -> Command {
    if is_root() {
        let mut runuser = command("runuser");
        runuser
            .args(["-u", "postgres", "--"])
            .arg(bin.join(program));
        runuser
    } else {
        command(bin.join(program))
    }
}

impl Cluster {
    /// Makes and starts a cluster in `target/postgres-<name>`, replacing any left there.
    pub fn start(name: &str) -> Result<Self> {
        let bin = bin_dir().ok_or_else(|| {
            Failure("PostgreSQL is not installed: run `cargo xtask setup`".into())
        })?;
        let dir = build::target_dir().join(format!("postgres-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        if is_root() {
            status(
                command("chown").args(["postgres:postgres"]).arg(&dir),
                "chown of the PostgreSQL directory",
            )?;
        }
        let data = dir.join("data");
        let initdb = output(
            as_owner(&bin, "initdb")
                .args(["-A", "trust", "-U", ROLE, "--no-sync", "-E", "UTF8", "-D"])
                .arg(&data),
        );
        if initdb.is_none() {
            return Err(Failure(format!("initdb into {} failed", data.display())));
        }
        let port = free_port()?;
        // Tuned for throwaway data: nothing here must survive a power cut (no fsync, no full
        // pages), but a crash of PostgreSQL itself, which the soak makes, must lose no commit a
        // client was told of, so commits still wait for their WAL to reach the OS.
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 \
             -c fsync=off -c full_page_writes=off",
            dir.display()
        );
        let cluster = Cluster {
            dir,
            bin,
            port,
            options,
        };
        cluster.pg_ctl(&cluster.start_args(), true)?;
        Ok(cluster)
    }

    fn start_args(&self) -> [&str; 6] {
        ["-w", "-t", "60", "-o", &self.options, "-l"]
    }

    fn pg_ctl(&self, args: &[&str], with_log: bool) -> Result {
        let mut pg_ctl = self.pg_ctl_command(args, with_log);
        pg_ctl.stdout(std::process::Stdio::null());
        status(&mut pg_ctl, "pg_ctl")
    }

    fn pg_ctl_command(&self, args: &[&str], with_log: bool) -> Command {
        let mut pg_ctl = as_owner(&self.bin, "pg_ctl");
        pg_ctl.args(["-D"]).arg(self.dir.join("data")).args(args);
        if with_log {
            pg_ctl.arg(self.dir.join("server.log")).arg("start");
        }
        pg_ctl
    }

    /// Makes an empty database `name`.
    pub fn create_database(&self, name: &str) -> Result {
        status(
            command(self.bin.join("createdb"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", ROLE])
                .arg(name),
            &format!("createdb {name}"),
        )
    }

    /// A program that stops the cluster at once, as a crash would (`-m immediate`: no
    /// checkpoint, every connection cut), and starts it again `down_seconds` later: for a
    /// harness that does not link this crate (the soak).
    pub fn restart_program(&self, down_seconds: u32) -> Result<PathBuf> {
        let stop = self.pg_ctl_command(&["-m", "immediate", "-w", "stop"], false);
        let start = self.pg_ctl_command(&self.start_args(), true);
        let script = format!(
            "#!/bin/sh\n# Written by cargo xtask: restarts {}.\nset -e\n{} >/dev/null\nsleep \
             {down_seconds}\n{} >/dev/null\n",
            self.dir.display(),
            shell_line(&stop),
            shell_line(&start)
        );
        let path = self.dir.join("restart.sh");
        std::fs::write(&path, script)?;
        let mut permissions = std::fs::metadata(&path)?.permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&path, permissions)?;
        Ok(path)
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/{name}", self.port)
    }
}

/// `command` as one line of sh, each word in single quotes.
fn shell_line(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|word| format!("'{}'", word.to_string_lossy().replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "fast", "-w", "stop"], false);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
