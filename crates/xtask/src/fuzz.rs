//! `cargo xtask fuzz [seconds]`: every cargo-fuzz target in `fuzz/`, one after another.

use crate::run::{command, output, status};
use crate::{Failure, Result, root};

const TARGETS: [&str; 4] = ["payload", "operation_data", "code", "activation_code"];

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
    for target in TARGETS {
        println!("\n==> fuzz {target} for {seconds} s");
        status(
            command("cargo")
                .current_dir(root().join("fuzz"))
                // cargo-fuzz passes -Z flags (sanitizers); this lets the stable toolchain take them.
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["fuzz", "run", "-O", target, "--"])
                .arg(format!("-max_total_time={seconds}"))
                .arg("-max_len=4096"),
            &format!("fuzz target {target}"),
        )?;
    }
    Ok(())
}
