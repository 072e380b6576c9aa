//! `cargo xtask`: set-up, builds, the demo and the test suite of qrauth, so that two commands
//! work on a fresh machine.

mod bench;
mod build;
mod demo;
mod fuzz;
mod postgres;
mod run;
mod screenshots;
mod setup;
mod site;
mod soak;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  setup              install what is missing: wasm32 target, trunk, wasm-bindgen-cli,
                     Chromium and its driver, the npm packages in web/
  demo [--port P] [--postgres [--instances N]]
                     set up, build the app (as dist), then serve it and the API with one
                     `qrauth serve` on 127.0.0.1:P (8080); with --postgres, N (3) of them
                     on a throwaway PostgreSQL cluster behind haproxy at that port;
                     Ctrl-C stops it
  test               set up, then run every check: format, clippy, native tests, wasm
                     tests in headless Chromium, Node tests of the npm package, end-to-end
                     browser tests against the real server
  bench              measure every figure of docs/benchmarks.md beside its peer (native
                     Criterion, Chromium, wrk, 10 000 long-polls) and rewrite that file
  fuzz [SECONDS]     run every fuzz target in fuzz/ for SECONDS (60) each; not part of test
  soak [--instances N --postgres] [--fuzz-seconds N]
                     200 simulated users for 60 s against a release server, then again with
                     SIGKILLs at random moments, then every fuzz target for N (300) s; not
                     part of test (about 70 minutes). With --postgres, N (3) instances on a
                     throwaway PostgreSQL cluster, which the second phase restarts twice
  screenshots        every page at 390 px and 1280 px, light and dark, in headless
                     Chromium, into docs/screenshots/
  npm                build the npm package qrauth-token (and its entry qrauth-token/qr)
                     into web/pkg/
  dist               build the app's three bundles into dist/ (trunk build --release of
                     account.html and token.html, the sign-in page with esbuild), each
                     file's gzip beside it
";

/// A failure that ends the command, with what to do about it.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// The result of every xtask step.
pub type Result<T = ()> = std::result::Result<T, Failure>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(),
        Some("demo") => demo::run(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("screenshots") => screenshots::run(),
        Some("npm") => setup::run().and_then(|()| build::npm().map(drop)),
        Some("dist") => setup::run().and_then(|()| build::dist(&root().join("dist"))),
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(Failure(format!("unknown command {other:?}\n\n{USAGE}"))),
        None => Err(Failure(USAGE.to_owned())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives in `crates/xtask`.
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

/// Refuses any argument that is neither one of `switches` nor one of `valued` (with the value
/// after it).
pub fn known_args(args: &[String], switches: &[&str], valued: &[&str], usage: &str) -> Result {
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if valued.contains(&arg.as_str()) {
            rest.next();
        } else if !switches.contains(&arg.as_str()) {
            return Err(Failure(format!("unknown argument {arg:?}\n{usage}")));
        }
    }
    Ok(())
}

/// Reads `--name value` from `args`, or `default`.
pub fn flag<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => {
            let value = args
                .get(i + 1)
                .ok_or_else(|| Failure(format!("{name} needs a value")))?;
            value
                .parse()
                .map_err(|_| Failure(format!("{name}: cannot read {value:?}")))
        }
    }
}
