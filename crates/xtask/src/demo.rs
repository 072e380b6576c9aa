//! `cargo xtask demo`: the built app and the API from one `qrauth serve`, one URL.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::run::{build_qrauth, command, output, qrauth_serve};
use crate::{Failure, Result, build, flag, known_args, root, setup};

/// Set by Ctrl-C, SIGTERM or SIGHUP.
static STOP: AtomicBool = AtomicBool::new(false);

/// The user `cargo xtask demo` makes.
const DEMO_USER: &str = "demo";

/// Instances `--postgres` starts behind the balancer unless `--instances` says otherwise.
const DEMO_INSTANCES: usize = 3;

pub fn run(args: &[String]) -> Result {
    let port: u16 = flag(args, "--port", 8080)?;
    let postgres = args.iter().any(|a| a == "--postgres");
    let instances: usize = flag(args, "--instances", DEMO_INSTANCES)?;
    known_args(
        args,
        &["--postgres"],
        &["--port", "--instances"],
        "usage: cargo xtask demo [--port P] [--postgres [--instances N]]",
    )?;
    if instances == 0 {
        return Err(Failure("--instances must be at least 1".into()));
    }
    // Without a handler, a signal would end this process before the supervisor stops the
    // server.
    ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst))
        .map_err(|e| Failure(format!("cannot handle Ctrl-C: {e}")))?;
    setup::run()?;
    let qrauth = build_qrauth(false)?;
    // Every page family (sign-in, account, token) in one dist, served as one site by the same
    // server as the API: what an operator runs. trunk serve would serve one of them.
    let dist = root().join("dist");
    println!("demo: building the app (the first build takes a few minutes)…");
    build::dist(&dist)?;
    if postgres {
        balanced(&qrauth, &dist, port, instances)
    } else {
        single(&qrauth, &dist, port)
    }
}

/// One server on a SQLite file in `.qrauth/`, kept between runs.
fn single(qrauth: &Path, dist: &Path, port: u16) -> Result {
    let data = root().join(".qrauth");
    std::fs::create_dir_all(&data)?;
    let database = data.join("demo.sqlite3");
    // A fresh password for the demo user on every start, printed with the URL.
    let seeded = output(
        command(qrauth)
            .arg("user")
            .arg("add")
            .arg(DEMO_USER)
            .arg("--replace")
            .arg("--database")
            .arg(&database),
    )
    .ok_or_else(|| Failure("qrauth user add demo failed".into()))?;
    let password = seeded
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_owned();
    let listen = format!("127.0.0.1:{port}");
    let (mut server, url) = qrauth_serve(
        qrauth,
        &[
            "--listen".as_ref(),
            listen.as_ref(),
            "--database".as_ref(),
            database.as_os_str(),
            "--static".as_ref(),
            dist.as_os_str(),
        ],
    )?;
    welcome(
        &url,
        &format!("{url}/api/v1/health   data: {}", database.display()),
        &password,
        &format!(
            "{} activation create --user {DEMO_USER} --database {}",
            qrauth.display(),
            database.display()
        ),
    );
    wait_for_stop(|| server.exited())
}

/// `instances` servers on a throwaway PostgreSQL cluster behind haproxy, as docs/deploy.md
/// describes a site that outgrew one machine.
fn balanced(qrauth: &Path, dist: &Path, port: u16, instances: usize) -> Result {
    println!("demo: starting PostgreSQL, {instances} instances of qrauth serve and haproxy…");
    let dist = dist.to_string_lossy();
    let mut site = crate::site::Site::start("demo", qrauth, instances, port, &["--static", &dist])?;
    let password = site.add_user(DEMO_USER, true)?;
    let behind: Vec<&str> = site.instances.iter().map(|i| i.url.as_str()).collect();
    welcome(
        &site.url,
        &format!(
            "haproxy round-robin over {}   statistics: {}\n  data: {} (a throwaway cluster \
             in target/, deleted when the demo stops)",
            behind.join(", "),
            site.stats_url,
            site.database
        ),
        &password,
        &format!(
            "{} activation create --user {DEMO_USER} --database {} --key-file {}",
            qrauth.display(),
            site.database,
            site.key_file.display()
        ),
    );
    wait_for_stop(|| site.any_instance_exited())
}

fn welcome(url: &str, serving: &str, password: &str, activation: &str) {
    println!();
    println!("  qrauth demo: open {url}/");
    println!("  API: {serving}");
    println!("  Sign in as {DEMO_USER:?} with password {password}");
    println!("  An activation code from the terminal: {activation}");
    println!("  Ctrl-C stops the demo.");
    println!();
}

/// Waits for Ctrl-C (dropping the supervisors then stops everything) or for a server to stop.
fn wait_for_stop(mut exited: impl FnMut() -> bool) -> Result {
    loop {
        // Ctrl-C in a terminal reaches the servers too, which may stop first.
        if STOP.load(Ordering::SeqCst) {
            println!("demo: stopping");
            return Ok(());
        }
        if exited() {
            std::thread::sleep(Duration::from_millis(200));
            if STOP.load(Ordering::SeqCst) {
                continue;
            }
            return Err(Failure("qrauth serve stopped".into()));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
