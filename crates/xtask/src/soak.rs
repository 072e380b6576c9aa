//! `cargo xtask soak [--instances N --postgres] [--fuzz-seconds N]`: the long checks of
//! reliability and hostile input, not part of `test`: 200 simulated users for 60 s against a
//! release `qrauth serve`, first undisturbed, then with SIGKILLs at random moments; then every
//! fuzz target for N seconds (300; 0 skips it). About 70 minutes in all, 65 of them fuzzing.
//! With `--postgres`, N instances (3) share a throwaway PostgreSQL cluster, each request of a
//! user goes to the next instance in turn, the kills hit one instance at a time, and the second
//! phase also restarts PostgreSQL twice.

use crate::run::{build_qrauth, command, status};
use crate::{Failure, Result, flag, known_args};

/// (what, extra qrauth-soak arguments)
const PHASES: [(&str, &[&str]); 2] = [
    ("200 users for 60 s", &["--kills", "0", "--seed", "1"]),
    (
        "200 users for 60 s with 8 SIGKILLs at random moments",
        &["--kills", "8", "--seed", "2"],
    ),
];

/// PostgreSQL restarts (down for a second each) in the second phase with `--postgres`.
const DATABASE_RESTARTS: &str = "2";

/// A storage key for the soak's servers (Base64 of 32 bytes); nothing it seals outlives a run.
const SOAK_STORAGE_KEY: &str = "cXJhdXRoIHNvYWsgc3RvcmFnZSBrZXkgMzIgYnl0ZXM=";

pub fn run(args: &[String]) -> Result {
    let usage = "usage: cargo xtask soak [--instances N --postgres] [--fuzz-seconds N]";
    let postgres = args.iter().any(|a| a == "--postgres");
    let instances: usize = flag(args, "--instances", if postgres { 3 } else { 1 })?;
    let fuzz_seconds: u64 = flag(args, "--fuzz-seconds", 300)?;
    known_args(
        args,
        &["--postgres"],
        &["--instances", "--fuzz-seconds"],
        usage,
    )?;
    if instances > 1 && !postgres {
        return Err(Failure(format!(
            "several instances share only PostgreSQL: add --postgres\n{usage}"
        )));
    }
    let qrauth = build_qrauth(true)?;
    status(
        command("cargo").args(["build", "--quiet", "--release", "--package", "qrauth-soak"]),
        "cargo build --package qrauth-soak",
    )?;
    let soak = crate::build::target_dir().join("release/qrauth-soak");
    for (index, (what, extra)) in PHASES.iter().enumerate() {
        let mut phase = command(&soak);
        phase
            .arg("--qrauth")
            .arg(&qrauth)
            .args(["--users", "200", "--seconds", "60", "--lifetime", "20"])
            .args(*extra);
        // A cluster of its own for each phase, stopped when the phase ends.
        let cluster = if postgres {
            let cluster = crate::postgres::Cluster::start("soak")?;
            cluster.create_database("qrauth")?;
            phase
                .args(["--postgres", &cluster.url("qrauth")])
                .args(["--instances", &instances.to_string()])
                .env("QRAUTH_STORAGE_KEY", SOAK_STORAGE_KEY);
            if index > 0 {
                phase
                    .args(["--database-restarts", DATABASE_RESTARTS])
                    .arg("--restart-database")
                    .arg(cluster.restart_program(1)?);
            }
            Some(cluster)
        } else {
            None
        };
        let what = match &cluster {
            Some(_) if index > 0 => format!(
                "{what} (of {instances} instances on PostgreSQL, which restarts \
                 {DATABASE_RESTARTS} times)"
            ),
            Some(_) => format!("{what} (over {instances} instances on PostgreSQL)"),
            None => (*what).to_owned(),
        };
        println!("\n==> soak [{}/{}] {what}", index + 1, PHASES.len());
        status(&mut phase, &format!("soak: {what}"))?;
        drop(cluster);
    }
    if fuzz_seconds == 0 {
        return Ok(());
    }
    println!("\n==> fuzz every target for {fuzz_seconds} s");
    crate::fuzz::run(&[fuzz_seconds.to_string()])
}
