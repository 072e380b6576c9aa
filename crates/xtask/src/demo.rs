//! `cargo xtask demo`: the app from `trunk serve`, the API from `qrauth serve`, one URL.

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::run::{build_qrauth, command, output, qrauth_serve, status, supervise};
use crate::{Failure, Result, flag, root, setup};

/// Set by Ctrl-C, SIGTERM or SIGHUP.
static STOP: AtomicBool = AtomicBool::new(false);

/// The user `cargo xtask demo` makes.
const DEMO_USER: &str = "demo";

/// The port of `qrauth serve` that Trunk.toml's [[proxy]] names.
const API_PORT: u16 = 8081;

pub fn run(args: &[String]) -> Result {
    let port: u16 = flag(args, "--port", 8080)?;
    // Without a handler, a signal would end this process before the supervisors stop the
    // servers; trunk would be left running.
    ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst))
        .map_err(|e| Failure(format!("cannot handle Ctrl-C: {e}")))?;
    setup::run()?;
    let qrauth = build_qrauth(false)?;
    let data = root().join(".qrauth");
    std::fs::create_dir_all(&data)?;
    let database = data.join("demo.sqlite3");
    // Trunk.toml's [[proxy]] sends /api/ here; trunk 0.21 cannot replace it from the command
    // line (a second proxy on the same path makes it panic), so the API port is fixed.
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
    let listen = format!("127.0.0.1:{API_PORT}");
    // Login QR codes link to the page the person sees (trunk's port), not to the API behind
    // trunk's proxy.
    let public_url = format!("http://127.0.0.1:{port}");
    let (_api, api_url) = qrauth_serve(
        &qrauth,
        &[
            "--listen".as_ref(),
            listen.as_ref(),
            "--database".as_ref(),
            database.as_os_str(),
            "--public-url".as_ref(),
            public_url.as_ref(),
        ],
    )?;
    // trunk builds offline, so every crate must already be in cargo's cache.
    status(command("cargo").args(["fetch", "--locked"]), "cargo fetch")?;
    let mut trunk = supervise(
        command("trunk").args([
            "serve",
            "--release",
            "--address",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ]),
        "trunk serve",
    )?;
    println!("demo: trunk is building the app (the first build takes a few minutes)…");
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if STOP.load(Ordering::SeqCst) {
            return Ok(());
        }
        if trunk.exited() {
            return Err(Failure("trunk serve stopped before serving the app".into()));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    println!();
    println!("  qrauth demo: open http://127.0.0.1:{port}/");
    println!(
        "  API: {api_url}/api/v1/health   data: {}",
        database.display()
    );
    println!("  Sign in as {DEMO_USER:?} with password {password}");
    println!(
        "  An activation code from the terminal: {} activation create --user {DEMO_USER} --db {}",
        qrauth.display(),
        database.display()
    );
    println!("  Ctrl-C stops both servers.");
    println!();
    while !trunk.exited() {
        if STOP.load(Ordering::SeqCst) {
            println!("demo: stopping");
            return Ok(()); // dropping the supervisors stops both servers
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(Failure("trunk serve stopped".into()))
}
