//! `cargo xtask demo`: the app from `trunk serve`, the API from `qrauth serve`, one URL.

use std::net::TcpStream;
use std::time::Duration;

use crate::run::{build_qrauth, command, qrauth_serve, status, supervise};
use crate::{Failure, Result, flag, root, setup};

/// The port of `qrauth serve` that Trunk.toml's [[proxy]] names.
const API_PORT: u16 = 8081;

pub fn run(args: &[String]) -> Result {
    let port: u16 = flag(args, "--port", 8080)?;
    setup::run()?;
    let qrauth = build_qrauth()?;
    let data = root().join(".qrauth");
    std::fs::create_dir_all(&data)?;
    let database = data.join("demo.sqlite3");
    // Trunk.toml's [[proxy]] sends /api/ here; trunk 0.21 cannot replace it from the command
    // line (a second proxy on the same path makes it panic), so the API port is fixed.
    let listen = format!("127.0.0.1:{API_PORT}");
    let (_api, api_url) = qrauth_serve(
        &qrauth,
        &[
            "--listen".as_ref(),
            listen.as_ref(),
            "--database".as_ref(),
            database.as_os_str(),
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
    println!("  Ctrl-C stops both servers.");
    println!();
    trunk.wait()
}
