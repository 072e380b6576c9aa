//! A throwaway PostgreSQL cluster for tests, the demo, the soak and the benchmarks: `initdb`
//! into `target/`, one free port on 127.0.0.1, stopped and deleted on drop. PostgreSQL refuses
//! to run as root, so as root it runs as the `postgres` user that Debian's package made.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{command, output, status};
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
        // Tuned for throwaway data: nothing here must survive a power cut, and the soak's
        // restarts must be quick.
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            dir.display()
        );
        let cluster = Cluster { dir, bin, port };
        cluster.pg_ctl(&["-w", "-t", "60", "-o", &options, "-l"], true)?;
        Ok(cluster)
    }

    fn pg_ctl(&self, args: &[&str], with_log: bool) -> Result {
        let mut pg_ctl = as_owner(&self.bin, "pg_ctl");
        pg_ctl.args(["-D"]).arg(self.dir.join("data")).args(args);
        if with_log {
            pg_ctl.arg(self.dir.join("server.log")).arg("start");
        }
        pg_ctl.stdout(std::process::Stdio::null());
        status(&mut pg_ctl, "pg_ctl")
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "fast", "-w", "stop"], false);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> Result<u16> {
    let socket = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(socket.local_addr()?.port())
}
