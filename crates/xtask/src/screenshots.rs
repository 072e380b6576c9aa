//! `cargo xtask screenshots`: every page of the app in headless Chromium, at a phone's width
//! and a desktop's, in light and dark, into `docs/screenshots/`.

use crate::run::{command, status};
use crate::setup::CHROMIUM;
use crate::test::TestServer;
use crate::{Result, build, root, setup};

pub fn run() -> Result {
    setup::run()?;
    let dist = build::target_dir().join("screenshots-dist");
    build::dist(&dist)?;
    let dist = dist.to_string_lossy().into_owned();
    let server = TestServer::start(&["--static", &dist, "--creations-per-minute", "1000"])?;
    let password = server.add_user("alice")?;
    let out = root().join("docs/screenshots");
    std::fs::create_dir_all(&out)?;
    status(
        command("node")
            .arg(root().join("tests/e2e/screenshots.mjs"))
            .env("QRAUTH_URL", &server.url)
            .env("QRAUTH_USER", "alice")
            .env("QRAUTH_PASSWORD", password)
            .env("SCREENSHOTS", &out)
            .env("CHROMIUM", CHROMIUM),
        "node tests/e2e/screenshots.mjs",
    )?;
    println!("screenshots: written to {}", out.display());
    Ok(())
}
