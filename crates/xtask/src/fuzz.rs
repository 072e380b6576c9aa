//! `cargo xtask fuzz [seconds]`: every cargo-fuzz target in `fuzz/`, one after another, then a
//! table of how many inputs each tried.

use std::fs::File;

use crate::run::{command, output, status};
use crate::{Failure, Result, root};

/// The parsers of what people scan or type, then one target per JSON request body type.
const TARGETS: [&str; 10] = [
    "payload",
    "operation_data",
    "code",
    "activation_code",
    "keys",
    "session_body",
    "activation_body",
    "operation_body",
    "verify_body",
    "login_body",
];

pub fn run(args: &[String]) -> Result {
    let seconds: u64 = match args.first() {
        Some(text) => text
            .parse()
            .map_err(|_| Failure(format!("fuzz: {text:?} is not a number of seconds")))?,
        None => 60,
    };
    if output(command("cargo").args(["fuzz", "--version"])).is_none() {
        println!("fuzz: cargo install --locked cargo-fuzz (first run only)");
        status(
            command("cargo").args(["install", "--locked", "cargo-fuzz"]),
            "cargo install cargo-fuzz",
        )?;
    }
    let fuzz = root().join("fuzz");
    let logs = root().join("target/fuzz-logs");
    std::fs::create_dir_all(&logs)?;
    let mut summary = Vec::new();
    for target in TARGETS {
        println!("\n==> fuzz {target} for {seconds} s (log: target/fuzz-logs/{target}.log)");
        let corpus = fuzz.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        let log_path = logs.join(format!("{target}.log"));
        let mut run = command("cargo");
        run.current_dir(&fuzz)
            // cargo-fuzz passes -Z flags (sanitizers); this lets the stable toolchain take them.
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "-O", target])
            .arg(&corpus);
        // Committed seeds (valid bodies) give the body targets a start; new inputs go to the
        // first directory, the uncommitted corpus.
        let seeds = fuzz.join("seeds").join(target);
        if seeds.is_dir() {
            run.arg(&seeds);
        }
        run.arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-max_len=4096")
            .stderr(File::create(&log_path)?);
        let outcome = status(&mut run, &format!("fuzz target {target}"));
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Err(failure) = outcome {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
            return Err(failure);
        }
        let done = log
            .lines()
            .rev()
            .find(|line| line.starts_with("Done "))
            .unwrap_or("no summary line")
            .to_owned();
        println!("{target}: {done}");
        summary.push((target, done));
    }
    println!("\nfuzz: every target ran {seconds} s without a crash");
    for (target, done) in summary {
        println!("  {target:<16} {done}");
    }
    Ok(())
}
