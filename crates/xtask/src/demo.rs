//! `cargo xtask demo`: the built app and the API from one `qrauth serve`, one URL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::run::{build_qrauth, command, output, qrauth_serve};
use crate::{Failure, Result, build, flag, root, setup};

/// Set by Ctrl-C, SIGTERM or SIGHUP.
static STOP: AtomicBool = AtomicBool::new(false);

/// The user `cargo xtask demo` makes.
const DEMO_USER: &str = "demo";

pub fn run(args: &[String]) -> Result {
    let port: u16 = flag(args, "--port", 8080)?;
    // Without a handler, a signal would end this process before the supervisor stops the
    // server.
    ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst))
        .map_err(|e| Failure(format!("cannot handle Ctrl-C: {e}")))?;
    setup::run()?;
    let qrauth = build_qrauth(false)?;
    // Both page families (index.html and token.html) in one dist, served as one site by the
    // same server as the API: what an operator runs. trunk serve would serve one of them.
    let dist = root().join("dist");
    println!("demo: building the app (the first build takes a few minutes)…");
    build::dist(&dist)?;
    let data = root().join(".qrauth");
    std::fs::create_dir_all(&data)?;
    let database = data.join("demo.sqlite3");
    // A fresh password for the demo user on every start, printed with the URL.
    let seeded = output(
        command(&qrauth)
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
        &qrauth,
        &[
            "--listen".as_ref(),
            listen.as_ref(),
            "--database".as_ref(),
            database.as_os_str(),
            "--static".as_ref(),
            dist.as_os_str(),
        ],
    )?;
    println!();
    println!("  qrauth demo: open {url}/");
    println!("  API: {url}/api/v1/health   data: {}", database.display());
    println!("  Sign in as {DEMO_USER:?} with password {password}");
    println!(
        "  An activation code from the terminal: {} activation create --user {DEMO_USER} --db {}",
        qrauth.display(),
        database.display()
    );
    println!("  Ctrl-C stops the server.");
    println!();
    while !server.exited() {
        if STOP.load(Ordering::SeqCst) {
            println!("demo: stopping");
            return Ok(()); // dropping the supervisor stops the server
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(Failure("qrauth serve stopped".into()))
}
