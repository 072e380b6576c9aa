//! `cargo xtask setup`: installs what the build and the tests need, once.
//!
//! Every step first checks whether its tool is already there at the right version, so a
//! second run takes seconds. Nothing is downloaded from outside the package registries.

use std::path::Path;
use std::time::Instant;

use crate::run::{command, output, status};
use crate::{Failure, Result, root};

pub const TRUNK_VERSION: &str = "0.21.14";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

type Step = (&'static str, fn() -> Result<Option<String>>);

/// Runs every step; each returns `None` when nothing was needed, or what it installed.
pub fn run() -> Result {
    let steps: [Step; 8] = [
        ("wasm32 target", wasm_target),
        ("trunk", trunk),
        ("wasm-bindgen-cli", wasm_bindgen_cli),
        ("Chromium and ChromeDriver", chromium),
        ("libfaketime (the clock-jump test)", faketime),
        ("npm packages", npm_packages),
        ("PostgreSQL (the shared-database tests)", postgresql),
        ("haproxy (the load-balanced tests)", haproxy),
    ];
    let started = Instant::now();
    for (index, (name, step)) in steps.iter().enumerate() {
        let begun = Instant::now();
        let label = format!("setup [{}/{}] {name}", index + 1, steps.len());
        match step().map_err(|Failure(e)| Failure(format!("{label}: {e}")))? {
            None => println!("{label}: present"),
            Some(what) => println!(
                "{label}: installed {what} in {:.0} s",
                begun.elapsed().as_secs_f64()
            ),
        }
    }
    println!("setup: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn wasm_target() -> Result<Option<String>> {
    let installed =
        output(command("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(None);
    }
    announce("rustup target add wasm32-unknown-unknown");
    status(
        command("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
        "rustup target add",
    )?;
    Ok(Some("wasm32-unknown-unknown".into()))
}

fn trunk() -> Result<Option<String>> {
    let wanted = format!("trunk {TRUNK_VERSION}");
    if output(command("trunk").arg("--version")).is_some_and(|v| v.trim() == wanted) {
        return Ok(None);
    }
    // Newer trunk needs a newer rustc than this machine's 1.95.
    announce(&format!(
        "cargo install --locked trunk@{TRUNK_VERSION} (first run only: about 10 minutes on 2 cores)"
    ));
    cargo_install("trunk", TRUNK_VERSION)?;
    Ok(Some(wanted))
}

fn wasm_bindgen_cli() -> Result<Option<String>> {
    let version = locked_wasm_bindgen()?;
    let trunk_toml = std::fs::read_to_string(root().join("Trunk.toml"))?;
    if !trunk_toml.contains(&format!("wasm_bindgen = \"{version}\"")) {
        return Err(Failure(format!(
            "Cargo.lock has wasm-bindgen {version} but Trunk.toml's [tools] wasm_bindgen differs: \
             make them equal"
        )));
    }
    let wanted = format!("wasm-bindgen {version}");
    let has_cli =
        output(command("wasm-bindgen").arg("--version")).is_some_and(|v| v.trim() == wanted);
    let has_runner = output(command("wasm-bindgen-test-runner").arg("--version"))
        .is_some_and(|v| v.contains(&version));
    if has_cli && has_runner {
        return Ok(None);
    }
    announce(&format!(
        "cargo install --locked wasm-bindgen-cli@{version} (first run only: about 5 minutes)"
    ));
    cargo_install("wasm-bindgen-cli", &version)?;
    Ok(Some(wanted))
}

/// `cargo install --locked`; if a crate in the published lock file has since been yanked, the
/// locked install cannot resolve, and a fresh resolution is the only way to get that version.
fn cargo_install(krate: &str, version: &str) -> Result {
    let spec = format!("{krate}@{version}");
    if status(
        command("cargo").args(["install", "--locked", &spec]),
        "cargo install --locked",
    )
    .is_ok()
    {
        return Ok(());
    }
    println!(
        "setup: {spec}'s lock file names a crate the registry no longer serves; \
         installing with freshly resolved dependencies"
    );
    status(
        command("cargo").args(["install", &spec]),
        &format!("cargo install {spec}"),
    )
}

/// The wasm-bindgen version in Cargo.lock: the CLI and trunk must match it exactly.
pub fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line != "name = \"wasm-bindgen\"" {
            continue;
        }
        if let Some(version) = lines
            .next()
            .and_then(|l| l.strip_prefix("version = \""))
            .and_then(|l| l.strip_suffix('"'))
        {
            return Ok(version.to_owned());
        }
    }
    Err(Failure("Cargo.lock names no wasm-bindgen version".into()))
}

fn chromium() -> Result<Option<String>> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(None);
    }
    apt_install(&["chromium", "chromium-driver"])?;
    Ok(Some("chromium, chromium-driver".into()))
}

/// Where Debian's libfaketime lives; the CLI's clock-jump test preloads it into the server.
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

fn faketime() -> Result<Option<String>> {
    if Path::new(LIBFAKETIME).exists() {
        return Ok(None);
    }
    apt_install(&["faketime"])?;
    Ok(Some("faketime".into()))
}

fn postgresql() -> Result<Option<String>> {
    if crate::postgres::bin_dir().is_some() {
        return Ok(None);
    }
    apt_install(&["postgresql"])?;
    Ok(Some("postgresql".into()))
}

/// Where Debian's haproxy is; the tests start their own, never the system service.
pub const HAPROXY: &str = "/usr/sbin/haproxy";

fn haproxy() -> Result<Option<String>> {
    if Path::new(HAPROXY).exists() {
        return Ok(None);
    }
    apt_install(&["haproxy"])?;
    Ok(Some("haproxy".into()))
}

/// Installs Debian packages (as root, without questions).
pub fn apt_install(packages: &[&str]) -> Result {
    let list = packages.join(" ");
    let is_root = output(command("id").arg("-u")).is_some_and(|id| id.trim() == "0");
    if !is_root {
        return Err(Failure(format!(
            "{list} missing and this is not root: run `sudo apt-get install {list}`, then run \
             this again"
        )));
    }
    announce(&format!("apt-get update && apt-get install {list}"));
    status(command("apt-get").args(["update", "-q"]), "apt-get update")?;
    status(
        command("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {list}"),
    )
}

/// The packages of the npm package's build and tests (`web/`) and of the examples
/// (`examples/*/`), each installed from its lock file when it changed.
fn npm_packages() -> Result<Option<String>> {
    let mut installed = Vec::new();
    for dir in ["web", "examples/powerauth-web", "examples/oidc-app"] {
        let path = root().join(dir);
        let marker = path.join("node_modules/.package-lock.json");
        let up_to_date = match (
            modified(&marker),
            modified(&path.join("package-lock.json")),
            modified(&path.join("package.json")),
        ) {
            (Some(marker), Some(lock), Some(manifest)) => marker >= lock && marker >= manifest,
            _ => false,
        };
        if up_to_date {
            continue;
        }
        announce(&format!("npm ci in {dir}/"));
        status(
            command("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&path),
            "npm ci",
        )?;
        installed.push(format!("{dir}/node_modules"));
    }
    Ok((!installed.is_empty()).then(|| installed.join(" and ")))
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn announce(what: &str) {
    println!("setup: {what}");
}
