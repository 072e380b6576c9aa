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
pub fn npm() -> Result<EntrySizes> {
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
        entry(
            &pkg,
            feature,
            name,
            &[("web", web_dir), ("nodejs", node_dir)],
        )?;
        // The package is an ES module package; wasm-bindgen's Node build is CommonJS.
        std::fs::write(
            pkg.join(node_dir).join("package.json"),
            "{ \"type\": \"commonjs\" }\n",
        )?;
    }
    let sizes = entry_sizes()?;
    write_readme_sizes(&sizes)?;
    println!(
        "npm: built web/pkg (qrauth-token, qrauth-token/qr and qrauth-token/sign-in, each for web and node); sizes written into web/README.md"
    );
    Ok(sizes)
}

/// One build of qrauth-token's wasm with `feature` (an entry of the npm package, or the token
/// page's QR decoder): through wasm-bindgen as `name` for each `(target, directory under
/// pkg)`, then wasm-opt.
fn entry(pkg: &Path, feature: &str, name: &str, targets: &[(&str, &str)]) -> Result {
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
    for &(target, dir) in targets {
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
        let module = out.join(format!("{name}.js"));
        if target == "web" {
            guard_before_init(&module)?;
        }
        if feature != "js-scan" {
            append_bind_code_input(&module, target)?;
        }
        let wasm = out.join(format!("{name}_bg.wasm"));
        status(
            command("wasm-opt")
                .args(["-Oz", "--strip-debug", "--strip-producers", "-o"])
                .arg(&wasm)
                .arg(&wasm),
            "wasm-opt -Oz",
        )?;
    }
    Ok(())
}

/// Adds `bindCodeInput` (`web/bind-code-input.js`) to an entry's module, exported as its
/// wasm-bindgen exports are: the field's rules are the entry's `formatCodeInput`, and the
/// listener and its callbacks cost less in JavaScript than as wasm closures.
fn append_bind_code_input(module: &Path, target: &str) -> Result {
    let binding = std::fs::read_to_string(root().join("web/bind-code-input.js"))?;
    let mut text = std::fs::read_to_string(module)?;
    let declares = |export: &str| match target {
        "web" => text.contains(&format!("export function {export}(")),
        _ => text.contains(&format!("exports.{export} = {export};")),
    };
    if !declares("formatCodeInput") || !declares("normalizeCode") {
        return Err(Failure(format!(
            "{}: wasm-bindgen's module no longer declares formatCodeInput and normalizeCode as \
             this build expects; update append_bind_code_input",
            module.display()
        )));
    }
    text.push('\n');
    text.push_str(&binding);
    text.push_str(match target {
        "web" => "export { bindCodeInput };\n",
        _ => "exports.bindCodeInput = bindCodeInput;\n",
    });
    std::fs::write(module, text)?;
    Ok(())
}

/// What a page loads for each entry of the npm package, gzip -9 of the browser build.
pub struct EntrySizes {
    /// `qrauth-token/qr`.
    pub qr: EntrySize,
    /// `qrauth-token/sign-in`.
    pub sign_in: EntrySize,
    /// `qrauth-token/elements`: the sign-in entry and the elements' module.
    pub elements: EntrySize,
    /// `qrauth-token`, the whole token.
    pub whole: EntrySize,
}

/// Bytes of one entry after `gzip -9`: its wasm, and its JavaScript as a page's bundler ships
/// it (`esbuild --bundle --minify`, as node-qrcode is weighed beside it and as the qrauth app's
/// sign-in page is built), not wasm-bindgen's commented source.
#[derive(Clone, Copy)]
pub struct EntrySize {
    pub wasm: u64,
    pub js: u64,
}

impl EntrySize {
    pub fn total(self) -> u64 {
        self.wasm + self.js
    }
}

/// Measures the entries built in `web/pkg`.
fn entry_sizes() -> Result<EntrySizes> {
    let web = root().join("web");
    let bundles = target_dir().join("entry-sizes");
    std::fs::create_dir_all(&bundles)?;
    let bundled = |module: &Path, name: &str| -> Result<u64> {
        let out = bundles.join(format!("{name}.min.js"));
        esbuild(module, &out)?;
        gzipped(&out)
    };
    let entry = |dir: &str, name: &str| -> Result<EntrySize> {
        let dir = web.join("pkg").join(dir);
        Ok(EntrySize {
            wasm: gzipped(&dir.join(format!("{name}_bg.wasm")))?,
            js: bundled(&dir.join(format!("{name}.js")), name)?,
        })
    };
    let sign_in = entry("sign-in", "qrauth_token_sign_in")?;
    Ok(EntrySizes {
        qr: entry("qr", "qrauth_token_qr")?,
        // The elements' module imports the sign-in entry's: one bundle, as a page has it.
        elements: EntrySize {
            wasm: sign_in.wasm,
            js: bundled(&web.join("elements/elements.js"), "elements")?,
        },
        sign_in,
        whole: entry("web", "qrauth_token")?,
    })
}

/// Bytes of `file` after `gzip -9`.
pub fn gzipped(file: &Path) -> Result<u64> {
    let out = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(file)
        .output()?;
    if !out.status.success() {
        return Err(Failure(format!("gzip -9 {} failed", file.display())));
    }
    Ok(out.stdout.len() as u64)
}

const SIZES_START: &str = "<!-- entry sizes: written by `cargo xtask npm` -->";
const SIZES_END: &str = "<!-- end of entry sizes -->";

/// The README's table of entries, with the sizes just measured, so that it never says what an
/// older build weighed.
fn write_readme_sizes(sizes: &EntrySizes) -> Result {
    let readme = root().join("web/README.md");
    let text = std::fs::read_to_string(&readme)?;
    let (Some(start), Some(end)) = (text.find(SIZES_START), text.find(SIZES_END)) else {
        return Err(Failure(format!(
            "web/README.md has no {SIZES_START} … {SIZES_END} around its table of entries"
        )));
    };
    let kb = |bytes: u64| (bytes as f64 / 1000.0).round();
    let row = |entry: &str, has: &str, size: EntrySize| {
        format!(
            "| `{entry}` | {has} | {} kB (wasm {} kB, JS {} kB) |\n",
            kb(size.total()),
            kb(size.wasm),
            kb(size.js)
        )
    };
    let table = [
        "| entry | what it has | size: wasm and minified JS, gzipped |\n|---|---|---|\n".to_owned(),
        row(
            "qrauth-token/qr",
            "`renderQrSvg`, `renderQrCanvas`, `bindCodeInput`, `formatCodeInput`, `normalizeCode`: for pages that draw codes and read typed ones",
            sizes.qr,
        ),
        row(
            "qrauth-token/sign-in",
            "the above, `startLogin`, `startCodeLogin`, `verifyCode` and the pages' words: the whole sign-in of a page",
            sizes.sign_in,
        ),
        row(
            "qrauth-token/elements",
            "`<qrauth-sign-in>` and `<qrauth-code-input>`, on the sign-in entry",
            sizes.elements,
        ),
        row(
            "qrauth-token",
            "all of the above and `SoftwareToken`, `onScanLink`, `parseOfflinePayload`",
            sizes.whole,
        ),
    ]
    .concat();
    let written = format!("{}{SIZES_START}\n{table}{}", &text[..start], &text[end..]);
    if written != text {
        std::fs::write(&readme, written)?;
    }
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

/// The page families that trunk builds from the Leptos app (`crates/app/src/lib.rs`): the HTML
/// file of each and the binary it names. Both are written here from `page.html`, the head of
/// every page (written by hand), differing only in the binary.
const PAGES: [(&str, &str); 2] = [
    ("account.html", "qrauth-account"),
    ("token.html", "qrauth-token-page"),
];

/// The app's pages in `dist`, one bundle per page family so that a page loads only its own code,
/// and each built file's gzip beside it: the account and token pages built by trunk with the
/// size-tuned profile and `wasm-opt -Oz`, and the sign-in page ([`sign_in_page`]). trunk 0.21
/// empties its `--dist` on every build, so every page but the first is built beside it and
/// moved in.
pub fn dist(dist: &Path) -> Result {
    // trunk builds offline, so every crate must already be in cargo's cache.
    status(command("cargo").args(["fetch", "--locked"]), "cargo fetch")?;
    let template = std::fs::read_to_string(root().join("page.html"))?;
    let named = format!("data-bin=\"{}\"", PAGES[0].1);
    if !template.contains(&named) {
        return Err(Failure(format!("page.html does not say {named}")));
    }
    let start = minified_script(&root().join("crates/app/boot.js"))?;
    for (index, (page, binary)) in PAGES.into_iter().enumerate() {
        let out = if index == 0 {
            dist.to_owned()
        } else {
            target_dir().join("trunk-pages").join(page)
        };
        // Beside page.html, so that its paths (crates/app/...) mean the same.
        std::fs::write(
            root().join(page),
            template.replace(&named, &format!("data-bin=\"{binary}\"")),
        )?;
        status(
            command("trunk")
                .args(["build", page, "--release", "--html-output", page, "--dist"])
                .arg(&out),
            &format!("trunk build --release {page}"),
        )?;
        let html = out.join(page);
        std::fs::write(
            &html,
            wasm_fetched_by_start(&std::fs::read_to_string(&html)?, &start)?,
        )?;
        if index > 0 {
            move_into(&out, dist)?;
        }
    }
    sign_in_page(dist)?;
    token_page_scanner(dist)?;
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

/// The head of a page as trunk wrote it, with its preload of the wasm turned into the start-up
/// script's own fetch (crates/app/boot.js), the preload's integrity in the script's
/// `data-qrauth-wasm-integrity`, and the script's text (which trunk inlines as it is, comments
/// and all) replaced by `start`, the same minified: the browser's first script is parsed
/// before anything else can start, and its comments cost ~10 ms of it on this machine. Chromium
/// ignores `integrity` on `as="fetch"` preloads and hands a preloaded response only to a
/// request with the same integrity, so the preload was either a second download or an unchecked
/// one; the script comes first in the head, so its fetch starts as early.
fn wasm_fetched_by_start(html: &str, start: &str) -> Result<String> {
    let unexpected = |what: &str| {
        Failure(format!(
            "trunk's page has no {what}: see wasm_fetched_by_start in crates/xtask/src/build.rs"
        ))
    };
    let preload = tags(html, "<link rel=\"preload\"")
        .find(|tag| html[tag.clone()].contains("type=\"application/wasm\""))
        .ok_or_else(|| unexpected("preload of the wasm"))?;
    let integrity = html[preload.clone()]
        .split("integrity=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| unexpected("integrity on the wasm preload"))?;
    const SCRIPT: &str = "<script data-qrauth-bundle=";
    let script = html
        .find(SCRIPT)
        .ok_or_else(|| unexpected("start-up script"))?;
    if script > preload.start {
        return Err(unexpected("start-up script before the wasm preload"));
    }
    let text = html[script..]
        .find('>')
        .map(|end| script + end + 1)
        .ok_or_else(|| unexpected("end to the start-up script's tag"))?;
    let text_end = html[text..]
        .find("</script>")
        .map(|end| text + end)
        .filter(|&end| end < preload.start)
        .ok_or_else(|| unexpected("start-up script closed before the wasm preload"))?;
    Ok(format!(
        "{}<script data-qrauth-wasm-integrity=\"{integrity}\" data-qrauth-bundle={}{start}{}{}",
        &html[..script],
        &html[script + SCRIPT.len()..text],
        &html[text_end..preload.start],
        &html[preload.end..]
    ))
}

/// The classic script `file` minified by esbuild, as a page inlines it.
fn minified_script(file: &Path) -> Result<String> {
    let out = target_dir().join("start-up.min.js");
    run_esbuild(file, &out, &["--minify"])?;
    Ok(std::fs::read_to_string(out)?)
}

/// Moves what is in `from` into `to`, merging folders both have (trunk writes wasm-bindgen's
/// `snippets/qrauth-app-<hash>` for each page family).
fn move_into(from: &Path, to: &Path) -> Result {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() && target.is_dir() {
            move_into(&entry.path(), &target)?;
        } else {
            std::fs::rename(entry.path(), target)?;
        }
    }
    Ok(())
}

/// The sign-in page, `/`, the one every visitor loads first: not Leptos but the npm package's
/// `<qrauth-sign-in>` (the same session, words and code field, from the sign-in entry's wasm)
/// in the app's frame, `crates/app/sign-in.js` and `sign-in.html`, bundled by esbuild into one
/// module. Its HTML is the account page's as trunk wrote it (one head for every page: start-up
/// script, styles, preloads with SRI), naming this bundle instead and with this body.
fn sign_in_page(dist: &Path) -> Result {
    use base64::Engine;
    use sha2::{Digest, Sha384};

    entry(
        &root().join("web/pkg"),
        "js-sign-in",
        "qrauth_token_sign_in",
        &[("web", "sign-in")],
    )?;
    let bundle = target_dir().join("sign-in-page.js");
    esbuild(&root().join("crates/app/sign-in.js"), &bundle)?;
    let js = std::fs::read(&bundle)?;
    let wasm = std::fs::read(root().join("web/pkg/sign-in/qrauth_token_sign_in_bg.wasm"))?;
    let name = hashed_name("qrauth-sign-in", &js, &wasm);

    let head = std::fs::read_to_string(dist.join(PAGES[0].0))?;
    let account = head
        .split("data-qrauth-bundle=\"/")
        .nth(1)
        .and_then(|rest| rest.split(".js\"").next())
        .ok_or_else(|| Failure(format!("{} names no bundle", PAGES[0].0)))?
        .to_owned();
    let integrity = |bytes: &[u8]| {
        format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
        )
    };
    let mut html = head.clone();
    for (suffix, bytes) in [(".js", &js), ("_bg.wasm", &wasm)] {
        let theirs = std::fs::read(dist.join(format!("{account}{suffix}")))?;
        html = html.replace(&integrity(&theirs), &integrity(bytes));
        std::fs::write(dist.join(format!("{name}{suffix}")), bytes)?;
    }
    let html = without_snippet_preloads(&html.replace(&account, &name));
    let body = std::fs::read_to_string(root().join("crates/app/sign-in.html"))?;
    if !html.contains("<body></body>") || html.contains(&account) {
        return Err(Failure(format!(
            "{} is not as trunk writes it: the sign-in page cannot be made from it",
            PAGES[0].0
        )));
    }
    std::fs::write(
        dist.join("index.html"),
        html.replace("<body></body>", &format!("<body>\n{body}</body>")),
    )?;
    Ok(())
}

/// The token page's QR decoder (`qrauth_token::scan`, feature `js-scan`): its own wasm, which
/// the page loads when a person first scans (`crates/app/src/token/scanner.rs`), so that the
/// token page's first load does not carry it. Named `qrauth-scan-<hash>` beside the pages, and
/// in token.html's `<meta name="qrauth-scanner">`.
fn token_page_scanner(dist: &Path) -> Result {
    let out = target_dir().join("token-page-scanner");
    entry(&out, "js-scan", "qrauth_scan", &[("web", "web")])?;
    let js = std::fs::read(out.join("web/qrauth_scan.js"))?;
    let wasm = std::fs::read(out.join("web/qrauth_scan_bg.wasm"))?;
    let name = hashed_name("qrauth-scan", &js, &wasm);
    std::fs::write(dist.join(format!("{name}.js")), js)?;
    std::fs::write(dist.join(format!("{name}_bg.wasm")), wasm)?;
    let page = dist.join(PAGES[1].0);
    let html = std::fs::read_to_string(&page)?;
    let meta = format!(
        "<meta name=\"qrauth-scanner\" data-js=\"/{name}.js\" data-wasm=\"/{name}_bg.wasm\">"
    );
    if !html.contains("</head>") {
        return Err(Failure(format!("{} has no </head>", PAGES[1].0)));
    }
    std::fs::write(
        &page,
        html.replacen("</head>", &format!("{meta}</head>"), 1),
    )?;
    Ok(())
}

/// `stem-<16 hex digits>`, the hash of a bundle's JavaScript and wasm: a name that changes with
/// the content, as trunk names its own files, so that the server lets browsers keep it.
fn hashed_name(stem: &str, js: &[u8], wasm: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(js).chain_update(wasm).finalize();
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{stem}-{hash}")
}

/// `html` without trunk's preloads of wasm-bindgen's snippets: the Leptos pages import them,
/// the sign-in page does not.
fn without_snippet_preloads(html: &str) -> String {
    let mut kept = String::with_capacity(html.len());
    let mut last = 0;
    for tag in tags(html, "<link rel=\"modulepreload\" href=\"/snippets/") {
        kept.push_str(&html[last..tag.start]);
        last = tag.end;
    }
    kept.push_str(&html[last..]);
    kept
}

/// Where the tags of `html` that begin with `start` are, each up to its `>`.
fn tags<'a>(html: &'a str, start: &'a str) -> impl Iterator<Item = std::ops::Range<usize>> + 'a {
    let mut from = 0;
    std::iter::from_fn(move || {
        let at = from + html[from..].find(start)?;
        let end = html[at..].find('>').map_or(html.len(), |i| at + i + 1);
        from = end;
        Some(at..end)
    })
}

/// A minified browser bundle of the ES module `entry` and what it imports.
pub fn esbuild(entry: &Path, out: &Path) -> Result {
    run_esbuild(
        entry,
        out,
        &["--bundle", "--minify", "--format=esm", "--platform=browser"],
    )
}

/// esbuild from the project's npm packages, `entry` to `out` with `options`.
fn run_esbuild(entry: &Path, out: &Path, options: &[&str]) -> Result {
    status(
        command(root().join("web/node_modules/.bin/esbuild"))
            .arg(entry)
            .args(options)
            .arg("--log-level=warning")
            .arg(format!("--outfile={}", out.display())),
        "esbuild",
    )
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}
