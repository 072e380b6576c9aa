//! Builds of the browser parts: the npm package and the app's `dist/`.

use std::path::{Path, PathBuf};

use crate::run::{command, status};
use crate::{Result, root};

/// The npm package `qrauth-token`: an ES module for browsers and bundlers in `web/pkg/web`, a
/// CommonJS build for Node in `web/pkg/node`, both size-optimized with binaryen's wasm-opt.
pub fn npm() -> Result {
    status(
        command("cargo").args([
            "build",
            "--package",
            "qrauth-token",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
        ]),
        "cargo build (qrauth-token, wasm32)",
    )?;
    let wasm = target_dir().join("wasm32-unknown-unknown/wasm-release/qrauth_token.wasm");
    let pkg = root().join("web/pkg");
    for (target, dir) in [("web", "web"), ("nodejs", "node")] {
        let out = pkg.join(dir);
        if out.exists() {
            std::fs::remove_dir_all(&out)?;
        }
        status(
            command("wasm-bindgen")
                .args(["--target", target, "--out-dir"])
                .arg(&out)
                .arg(&wasm),
            &format!("wasm-bindgen --target {target}"),
        )?;
        let module = out.join("qrauth_token_bg.wasm");
        status(
            command("wasm-opt")
                .args(["-Oz", "--strip-debug", "--strip-producers", "-o"])
                .arg(&module)
                .arg(&module),
            "wasm-opt -Oz",
        )?;
    }
    // The package is an ES module package; wasm-bindgen's Node build is CommonJS.
    std::fs::write(
        pkg.join("node/package.json"),
        "{ \"type\": \"commonjs\" }\n",
    )?;
    println!("npm: built web/pkg (web and node)");
    Ok(())
}

/// The app, built by trunk into `dist` with the size-tuned profile and `wasm-opt -Oz`.
pub fn dist(dist: &Path) -> Result {
    // trunk builds offline, so every crate must already be in cargo's cache.
    status(command("cargo").args(["fetch", "--locked"]), "cargo fetch")?;
    status(
        command("trunk")
            .args(["build", "--release", "--dist"])
            .arg(dist),
        "trunk build --release",
    )
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}
