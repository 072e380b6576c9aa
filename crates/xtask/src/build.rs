//! Builds of the browser parts: the npm package and the app's `dist/`.

use std::path::{Path, PathBuf};

use crate::run::{command, status};
use crate::{Failure, Result, root};

/// The npm package `qrauth-token`, in two entries, each an ES module for browsers and bundlers
/// and a CommonJS build for Node, size-optimized with binaryen's wasm-opt:
///
/// - `qrauth-token`, the whole package (feature `js`): `web/pkg/web`, `web/pkg/node`;
/// - `qrauth-token/qr`, QR codes and typed codes only (feature `js-page`): `web/pkg/qr`,
///   `web/pkg/qr-node`. Its own wasm, so that a page that draws codes loads no token code;
/// - `qrauth-token/sign-in`, those and the sign-in session `startLogin` (feature `js-sign-in`):
///   `web/pkg/sign-in`, `web/pkg/sign-in-node`.
pub fn npm() -> Result {
    let pkg = root().join("web/pkg");
    let entries = [
        ("js", "qrauth_token", "web", "node"),
        ("js-page", "qrauth_token_qr", "qr", "qr-node"),
        (
            "js-sign-in",
            "qrauth_token_sign_in",
            "sign-in",
            "sign-in-node",
        ),
    ];
    for (feature, name, web_dir, node_dir) in entries {
        status(
            command("cargo").args([
                "build",
                "--package",
                "qrauth-token",
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "wasm-release",
                "--no-default-features",
                "--features",
                feature,
            ]),
            &format!("cargo build (qrauth-token --features {feature}, wasm32)"),
        )?;
        let wasm = target_dir().join("wasm32-unknown-unknown/wasm-release/qrauth_token.wasm");
        for (target, dir) in [("web", web_dir), ("nodejs", node_dir)] {
            let out = pkg.join(dir);
            if out.exists() {
                std::fs::remove_dir_all(&out)?;
            }
            status(
                command("wasm-bindgen")
                    .args(["--target", target, "--out-name", name, "--out-dir"])
                    .arg(&out)
                    .arg(&wasm),
                &format!("wasm-bindgen --target {target} ({name})"),
            )?;
            if target == "web" {
                guard_before_init(&out.join(format!("{name}.js")))?;
            }
            let module = out.join(format!("{name}_bg.wasm"));
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
            pkg.join(node_dir).join("package.json"),
            "{ \"type\": \"commonjs\" }\n",
        )?;
    }
    println!(
        "npm: built web/pkg (qrauth-token, qrauth-token/qr and qrauth-token/sign-in, each for web and node)"
    );
    Ok(())
}

/// The browser build's module holds its wasm exports in `wasm`, `undefined` until `init()`:
/// a call before it would fail with "Cannot read properties of undefined". Until then `wasm` is
/// a stand-in that throws the package's own error, `init_required`, and says what to do. The
/// patterns are checked, so that a wasm-bindgen that writes its module otherwise stops the
/// build rather than shipping without the guard.
fn guard_before_init(module: &Path) -> Result {
    const DECLARED: &str = "let wasmModule, wasmInstance, wasm;";
    const LOADED_CHECK: &str = "if (wasm !== undefined) return wasm;";
    let text = std::fs::read_to_string(module)?;
    if text.matches(DECLARED).count() != 1 || !text.contains(LOADED_CHECK) {
        return Err(Failure(format!(
            "{}: wasm-bindgen's module no longer declares `wasm` as this build expects; \
             update guard_before_init",
            module.display()
        )));
    }
    let guarded = text
        .replace(
            DECLARED,
            "const NOT_LOADED = new Proxy({}, { get() {\n    \
             throw Object.assign(new Error('qrauth-token is not loaded yet: call `await init()` once before its other functions.'), { code: 'init_required' });\n\
             } });\n\
             let wasmModule, wasmInstance, wasm = NOT_LOADED;",
        )
        .replace(LOADED_CHECK, "if (wasm !== NOT_LOADED) return wasm;");
    std::fs::write(module, guarded)?;
    Ok(())
}

/// The app's page families (`crates/app/src/lib.rs`): the HTML file trunk builds each from, and
/// the binary it names. `index.html`, the sign-in page's, is the one written by hand; the others
/// are written from it here, differing only in the binary, so that every page has one head.
const PAGES: [(&str, &str); 3] = [
    ("index.html", "qrauth-sign-in"),
    ("account.html", "qrauth-account"),
    ("token.html", "qrauth-token-page"),
];

/// The app, built by trunk into `dist` with the size-tuned profile and `wasm-opt -Oz`: one
/// bundle per page family, so that a page loads only its own code, and each built file's gzip
/// beside it. trunk 0.21 empties its `--dist` on every build, so every page but the first is
/// built beside it and moved in.
pub fn dist(dist: &Path) -> Result {
    // trunk builds offline, so every crate must already be in cargo's cache.
    status(command("cargo").args(["fetch", "--locked"]), "cargo fetch")?;
    let template = std::fs::read_to_string(root().join(PAGES[0].0))?;
    let named = format!("data-bin=\"{}\"", PAGES[0].1);
    if !template.contains(&named) {
        return Err(Failure(format!("index.html does not say {named}")));
    }
    for (index, (page, binary)) in PAGES.into_iter().enumerate() {
        let out = if index == 0 {
            dist.to_owned()
        } else {
            // Beside index.html, so that its paths (crates/app/...) mean the same.
            std::fs::write(
                root().join(page),
                template.replace(&named, &format!("data-bin=\"{binary}\"")),
            )?;
            target_dir().join("trunk-pages").join(page)
        };
        status(
            command("trunk")
                .args(["build", page, "--release", "--html-output", page, "--dist"])
                .arg(&out),
            &format!("trunk build --release {page}"),
        )?;
        if index > 0 {
            for entry in std::fs::read_dir(&out)? {
                let entry = entry?;
                std::fs::rename(entry.path(), dist.join(entry.file_name()))?;
            }
        }
    }
    // `qrauth serve --static` sends these instead of compressing on every request.
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        let built = path
            .extension()
            .is_some_and(|ext| ["wasm", "js", "css"].iter().any(|e| ext == *e));
        if built {
            status(
                command("gzip").args(["-9", "--keep", "--force"]).arg(&path),
                "gzip -9",
            )?;
        }
    }
    Ok(())
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}
