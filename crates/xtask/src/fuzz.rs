//! `cargo xtask fuzz [seconds]`: every cargo-fuzz target in `fuzz/`, one after another, then a
//! table of how many inputs each tried.

use std::fs::File;

use crate::run::{command, output, status};
use crate::{Failure, Result, root};

/// The parsers of what people scan or type, what the token and the page make of it, then one
/// target per JSON request body type.
const TARGETS: [&str; 13] = [
    "payload",
    "operation_data",
    "review",
    "code",
    "code_input",
    "activation_code",
    "keys",
    "qr",
    "session_body",
    "activation_body",
    "operation_body",
    "verify_body",
    "login_body",
];

/// Seeds read from PowerAuth's vector files at run time (never copied into the repository):
/// (targets, file, the JSON pointer of each case's text).
const VECTOR_SEEDS: [(&[&str], &str, &str); 2] = [
    (&["payload", "review"], "mtoken-qr-parser-cases.json", "/qr"),
    (
        &["operation_data"],
        "operation-data-builder-cases.json",
        "/output",
    ),
];

/// Writes the vector cases that seed `target` into a directory under `target/fuzz-seeds/`;
/// `None` when no vector file seeds it.
fn vector_seeds(target: &str) -> Result<Option<std::path::PathBuf>> {
    let vectors = root().join("../shared/vectors/powerauth");
    let dir = root().join("target/fuzz-seeds").join(target);
    // Written afresh each run, so that a case taken out of a vector file leaves no seed behind.
    let _ = std::fs::remove_dir_all(&dir);
    let mut written = 0;
    for (targets, file, pointer) in VECTOR_SEEDS {
        if !targets.contains(&target) {
            continue;
        }
        let path = vectors.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure(format!("fuzz seeds: {}: {e}", path.display())))?;
        let cases: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Failure(format!("fuzz seeds: {}: {e}", path.display())))?;
        std::fs::create_dir_all(&dir)?;
        for case in cases["data"].as_array().into_iter().flatten() {
            if let Some(seed) = case.pointer(pointer).and_then(|v| v.as_str()) {
                std::fs::write(dir.join(format!("{file}-{written}")), seed)?;
                written += 1;
            }
        }
    }
    Ok((written > 0).then_some(dir))
}

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
        // Committed seeds (valid bodies) and the vectors' cases give the targets a start; new
        // inputs go to the first directory, the uncommitted corpus.
        let seeds = fuzz.join("seeds").join(target);
        if seeds.is_dir() {
            run.arg(&seeds);
        }
        if let Some(vectors) = vector_seeds(target)? {
            run.arg(vectors);
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
    let mut inputs: u64 = 0;
    for (target, done) in summary {
        println!("  {target:<16} {done}");
        // libFuzzer ends with "Done 18391 runs in 6 second(s)".
        inputs += done
            .split_whitespace()
            .nth(1)
            .and_then(|runs| runs.parse::<u64>().ok())
            .unwrap_or(0);
    }
    println!("  {:<16} {inputs} inputs tried in all", "");
    Ok(())
}
