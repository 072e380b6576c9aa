//! `cargo xtask soak [--fuzz-seconds N]`: the long checks of reliability and hostile input,
//! not part of `test`: 200 simulated users for 60 s against a release `qrauth serve`, first
//! undisturbed, then with SIGKILLs at random moments; then every fuzz target for N seconds
//! (300). About 70 minutes in all, 65 of them fuzzing.

use crate::run::{build_qrauth, command, status};
use crate::{Failure, Result};

/// (what, extra qrauth-soak arguments)
const PHASES: [(&str, &[&str]); 2] = [
    ("200 users for 60 s", &["--kills", "0", "--seed", "1"]),
    (
        "200 users for 60 s with 8 SIGKILLs at random moments",
        &["--kills", "8", "--seed", "2"],
    ),
];

pub fn run(args: &[String]) -> Result {
    let fuzz_seconds = match args {
        [] => "300".to_owned(),
        [flag, seconds] if flag == "--fuzz-seconds" => seconds.clone(),
        _ => return Err(Failure("usage: cargo xtask soak [--fuzz-seconds N]".into())),
    };
    let qrauth = build_qrauth(true)?;
    status(
        command("cargo").args(["build", "--quiet", "--release", "--package", "qrauth-soak"]),
        "cargo build --package qrauth-soak",
    )?;
    let soak = crate::build::target_dir().join("release/qrauth-soak");
    for (index, (what, extra)) in PHASES.iter().enumerate() {
        println!("\n==> soak [{}/{}] {what}", index + 1, PHASES.len());
        status(
            command(&soak)
                .arg("--qrauth")
                .arg(&qrauth)
                .args(["--users", "200", "--seconds", "60", "--lifetime", "20"])
                .args(*extra),
            &format!("soak: {what}"),
        )?;
    }
    println!("\n==> fuzz every target for {fuzz_seconds} s");
    crate::fuzz::run(&[fuzz_seconds])
}
