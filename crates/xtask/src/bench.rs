//! `cargo xtask bench`: every figure of docs/benchmarks.md beside its peer, measured in one run
//! on this machine, written to docs/benchmarks.md and docs/benchmarks.json. Not part of `test`:
//! times are reported, never asserted.

use std::path::Path;

use crate::build::{self, esbuild, gzipped, target_dir};
use crate::run::{command, output, status};
use crate::setup::{self, CHROMIUM};
use crate::test::TestServer;
use crate::{Failure, Result, root};

/// Debian's wrk (`wrk --version` exits with 1, so its presence is read from the disk).
const WRK: &str = "/usr/bin/wrk";

/// One row of the table.
struct Row {
    figure: &'static str,
    ours: String,
    peer: String,
    /// How many times better than the peer qrauth is (above 1 is better).
    ratio: Option<f64>,
    goal: &'static str,
    met: Option<bool>,
}

pub fn run() -> Result {
    setup::run()?;
    if !Path::new(WRK).exists() {
        setup::apt_install(&["wrk"])?;
    }
    let example = worked_example()?;
    let native = criterion()?;
    let sizes = sizes()?;
    let site = site()?;
    let server = TestServer::start_built(true, &[&["--static", &site], LOADED].concat())?;
    let password = server.add_user("bench")?;
    let browser = browser(&server, &password, &example)?;
    let sqlite = Backend {
        polls: polls_per_second(&server.url)?,
        long_polls: long_polls(&server.url, server.pid())?,
        cross_wake: cross_wake(&server.url, &server.url, &password)?,
    };
    drop(server);
    let postgres = on_postgres()?;
    let flood = idle_flood()?;

    let ms = |v: f64| format!("{v:.3} ms");
    let number = |key: &str| {
        browser
            .get(key)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let (qr_ours, qr_node, qr_generator) = (
        number("qr.qrauth"),
        number("qr.node-qrcode"),
        number("qr.qrcode-generator"),
    );
    let verify_2 = native["server/verify-worst-case-2-threads"];
    let verifications = 2.0 / (verify_2 / 1e9);
    let first_qr = (number("firstQr.app"), number("firstQr.plain"));
    let pin_to_code = number("crypto.wasmPinToCode");
    let weight = |page: &str| {
        browser[format!("weight.{page}")]["total"]
            .as_u64()
            .unwrap_or(u64::MAX)
    };
    let rows = vec![
        Row {
            figure: "QR encode + SVG, §13.2 payload (268 B, level M), wasm in Chromium",
            ours: ms(qr_ours),
            peer: format!(
                "node-qrcode {} · qrcode-generator {}",
                ms(qr_node),
                ms(qr_generator)
            ),
            ratio: Some(qr_node / qr_ours),
            goal: "≥ 3× node-qrcode",
            met: Some(qr_node / qr_ours >= 3.0),
        },
        Row {
            figure: "QR encode + SVG, same payload, native (Criterion)",
            ours: ms(native["qr/qrauth"] / 1e6),
            peer: format!(
                "qrcode crate as published {}",
                ms(native["qr/qrcode-crate"] / 1e6)
            ),
            ratio: Some(native["qr/qrcode-crate"] / native["qr/qrauth"]),
            goal: "",
            met: None,
        },
        Row {
            figure: "PIN to offline code in the page (SoftwareToken.computeOfflineCode: PBKDF2 10 000, AES, HMAC chain, counter saved in IndexedDB)",
            ours: ms(pin_to_code),
            peer: format!(
                "WebCrypto, same crypto, no storage {}",
                ms(number("crypto.webCryptoPinToCode"))
            ),
            ratio: Some(number("crypto.webCryptoPinToCode") / pin_to_code),
            goal: "report; under 50 ms",
            met: Some(pin_to_code < 50.0),
        },
        Row {
            figure: "ECDSA P-256 verify of a payload in the page (SoftwareToken.reviewOffline, with its IndexedDB read)",
            ours: ms(number("crypto.wasmVerify")),
            peer: format!("WebCrypto verify {}", ms(number("crypto.webCryptoVerify"))),
            ratio: Some(number("crypto.webCryptoVerify") / number("crypto.wasmVerify")),
            goal: "report",
            met: None,
        },
        Row {
            figure: "sign-in page (`/`), everything a new visitor's first load fetches, gzip -9 of each body",
            ours: kb(weight("signIn")),
            peer: format!(
                "plain JS page + node-qrcode, same login {}",
                kb(weight("plain"))
            ),
            ratio: Some(weight("plain") as f64 / weight("signIn") as f64),
            goal: "≤ 120 KB",
            met: Some(weight("signIn") <= 120_000),
        },
        Row {
            figure: "token page (`/token`), the same",
            ours: kb(weight("token")),
            peer: "—".into(),
            ratio: None,
            goal: "≤ 250 KB",
            met: Some(weight("token") <= 250_000),
        },
        sizes.npm_row(
            "npm package `qrauth-token` (the whole token), browser build, wasm + minified JS, gzip -9",
            sizes.package,
            "node-qrcode browser bundle (esbuild, minified)",
            Some((80_000, "≤ 80 KB")),
        ),
        sizes.npm_row(
            "npm entry `qrauth-token/qr` (QR SVG and canvas, code helpers), browser build, wasm + minified JS, gzip -9",
            sizes.page_entry,
            "node-qrcode browser bundle",
            Some((25_000, "≤ 25 KB")),
        ),
        sizes.npm_row(
            "npm entry `qrauth-token/sign-in` (the light entry and `startLogin`, the sign-in session), browser build, wasm + minified JS, gzip -9",
            sizes.sign_in_entry,
            "node-qrcode browser bundle",
            None,
        ),
        sizes.npm_row(
            "npm entry `qrauth-token/elements` (`<qrauth-sign-in>`, `<qrauth-code-input>` on the sign-in entry): a whole sign-in page's code, gzip -9",
            sizes.elements_entry,
            "node-qrcode browser bundle",
            Some((120_000, "≤ 120 KB, the sign-in page's budget")),
        ),
        Row {
            figure: "navigation to a visible sign-in QR (median of 15, fresh context each)",
            ours: ms(first_qr.0),
            peer: format!(
                "plain JS page + node-qrcode, same server {}",
                ms(first_qr.1)
            ),
            ratio: Some(first_qr.1 / first_qr.0),
            goal: "≥ 1.0×: not slower than the plain page",
            met: Some(first_qr.0 <= first_qr.1),
        },
        poll_row(
            "session polls per second, SQLite, 127.0.0.1, wrk -t1 -c32 10 s",
            &sqlite.polls,
            (0.6, "≥ 0.6× the bare endpoint"),
        ),
        poll_row(
            "session polls per second, PostgreSQL (one of two instances), wrk -t1 -c32 10 s",
            &postgres.polls,
            (0.4, "≥ 0.4× the bare endpoint"),
        ),
        long_poll_row(
            "10 000 clients long-polling at once, SQLite: server RSS, errors",
            &sqlite.long_polls,
        ),
        long_poll_row(
            "10 000 clients long-polling at once, PostgreSQL: RSS of the instance, errors",
            &postgres.long_polls,
        ),
        Row {
            figure: "approval on one instance to the page's long-poll answer on another, PostgreSQL, 200 sign-ins (p99)",
            ours: format!(
                "{} (p50 {})",
                ms(postgres.cross_wake["p99Ms"].as_f64().unwrap_or(f64::NAN)),
                ms(postgres.cross_wake["p50Ms"].as_f64().unwrap_or(f64::NAN))
            ),
            peer: format!(
                "both on one SQLite server (in-process wake-up) {}",
                ms(sqlite.cross_wake["p99Ms"].as_f64().unwrap_or(f64::NAN))
            ),
            ratio: Some(
                sqlite.cross_wake["p99Ms"].as_f64().unwrap_or(f64::NAN)
                    / postgres.cross_wake["p99Ms"].as_f64().unwrap_or(f64::NAN),
            ),
            goal: "≤ 100 ms",
            met: Some(postgres.cross_wake["p99Ms"].as_f64().unwrap_or(f64::MAX) <= 100.0),
        },
        Row {
            figure: "offline code verifications per second, worst case (wrong code, flag B, look-ahead 20: 40 codes), 2 threads",
            ours: format!("{verifications:.0}/s"),
            peer: "—".into(),
            ratio: None,
            goal: "≥ 2 000/s on 2 cores",
            met: Some(verifications >= 2000.0),
        },
        Row {
            figure: "GET /api/v1/live for another client while one address holds 2 000 idle sockets (median of 21)",
            ours: format!(
                "{} ({} sockets held, the rest closed)",
                ms(flood["floodMs"].as_f64().unwrap_or(f64::NAN)),
                flood["heldOpen"]
            ),
            peer: format!(
                "the same request with no flood {}",
                ms(flood["quietMs"].as_f64().unwrap_or(f64::NAN))
            ),
            ratio: Some(
                flood["quietMs"].as_f64().unwrap_or(f64::NAN)
                    / flood["floodMs"].as_f64().unwrap_or(f64::NAN),
            ),
            goal: "< 50 ms",
            met: Some(flood["floodMs"].as_f64().unwrap_or(f64::MAX) < 50.0),
        },
    ];
    write_report(&rows, &native, &browser, &sizes, &sqlite, &postgres)
}

impl Sizes {
    /// An npm entry's size beside node-qrcode's bundle, against its budget (bytes, as the goal
    /// reads) when it has one.
    fn npm_row(
        &self,
        figure: &'static str,
        size: u64,
        peer: &str,
        budget: Option<(u64, &'static str)>,
    ) -> Row {
        Row {
            figure,
            ours: kb(size),
            peer: format!("{peer} {}", kb(self.node_qrcode)),
            ratio: Some(self.node_qrcode as f64 / size as f64),
            goal: budget.map_or("report", |(_, goal)| goal),
            met: budget.map(|(bytes, _)| size <= bytes),
        }
    }
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

/// Spec §13.2's payload and key, from the specification beside the project.
fn worked_example() -> Result<serde_json::Value> {
    let printed = output(command("cargo").args([
        "run",
        "--quiet",
        "--release",
        "--package",
        "qrauth-bench",
        "--bin",
        "worked-example",
    ]))
    .ok_or_else(|| Failure("cannot read spec §13.2's worked example".into()))?;
    Ok(serde_json::from_str(&printed)?)
}

/// Criterion's mean estimates in nanoseconds, by `group/name`.
fn criterion() -> Result<std::collections::BTreeMap<String, f64>> {
    status(
        command("cargo").args([
            "bench",
            "--package",
            "qrauth-bench",
            "--bench",
            "primitives",
            "--",
            "--warm-up-time",
            "2",
            "--measurement-time",
            "5",
        ]),
        "cargo bench (Criterion)",
    )?;
    let mut estimates = std::collections::BTreeMap::new();
    for group in ["qr", "token", "server"] {
        for entry in std::fs::read_dir(target_dir().join("criterion").join(group))? {
            let entry = entry?;
            let file = entry.path().join("new/estimates.json");
            if let Ok(text) = std::fs::read_to_string(&file) {
                let json: serde_json::Value = serde_json::from_str(&text)?;
                let mean = json["mean"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
                estimates.insert(
                    format!("{group}/{}", entry.file_name().to_string_lossy()),
                    mean,
                );
            }
        }
    }
    Ok(estimates)
}

/// gzip -9 bytes of the npm package's browser builds, and of the peer.
struct Sizes {
    /// `qrauth-token`: the whole token.
    package: u64,
    /// `qrauth-token/qr`: QR codes and typed codes.
    page_entry: u64,
    /// `qrauth-token/sign-in`: those and the sign-in session.
    sign_in_entry: u64,
    /// `qrauth-token/elements`: the sign-in entry and the custom elements.
    elements_entry: u64,
    node_qrcode: u64,
}

fn sizes() -> Result<Sizes> {
    let entries = build::npm()?;
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    let bundle = dir.join("node-qrcode.min.js");
    esbuild(
        &root().join("web/node_modules/qrcode/lib/browser.js"),
        &bundle,
    )?;
    let node_qrcode = gzipped(&bundle)?;
    // The app's pages are weighed in the browser, as a visitor fetches them.
    build::dist(&target_dir().join("bench-dist"))?;
    Ok(Sizes {
        package: entries.whole.total(),
        page_entry: entries.qr.total(),
        sign_in_entry: entries.sign_in.total(),
        elements_entry: entries.elements.total(),
        node_qrcode,
    })
}

/// The app's build plus web/bench/ (with the package and the peers), as one site.
fn site() -> Result<String> {
    let site = target_dir().join("bench-site");
    let _ = std::fs::remove_dir_all(&site);
    copy_dir(&target_dir().join("bench-dist"), &site)?;
    let bench = site.join("bench");
    copy_dir(&root().join("web/bench"), &bench)?;
    copy_dir(&root().join("web/pkg/web"), &bench.join("pkg"))?;
    esbuild(&root().join("web/bench/peers.js"), &bench.join("peers.js"))?;
    Ok(site.to_string_lossy().into_owned())
}

/// `from` into `to`, folders and all (the app's `snippets/`).
fn copy_dir(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, target)?;
        }
    }
    Ok(())
}

fn browser(
    server: &TestServer,
    password: &str,
    example: &serde_json::Value,
) -> Result<serde_json::Value> {
    let out = target_dir().join("bench/browser.json");
    status(
        command("node")
            .arg(root().join("web/bench/browser.mjs"))
            .env("QRAUTH_URL", &server.url)
            .env("QRAUTH_USER", "bench")
            .env("QRAUTH_PASSWORD", password)
            .env(
                "BENCH_PAYLOAD",
                example["payload"].as_str().unwrap_or_default(),
            )
            .env(
                "BENCH_SERVER_PUBLIC",
                example["serverPublic"].as_str().unwrap_or_default(),
            )
            .env("BENCH_OUT", &out)
            .env("CHROMIUM", CHROMIUM),
        "node web/bench/browser.mjs",
    )?;
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
    // Flattened to `group.name` keys.
    let mut flat = serde_json::Map::new();
    if let Some(groups) = json.as_object() {
        for (group, values) in groups {
            match values.as_object() {
                Some(values) => {
                    for (name, value) in values {
                        flat.insert(format!("{group}.{name}"), value.clone());
                    }
                }
                None => {
                    flat.insert(group.clone(), values.clone());
                }
            }
        }
    }
    Ok(serde_json::Value::Object(flat))
}

/// The options of a server under load from this one machine.
const LOADED: &[&str] = &[
    "--creations-per-minute",
    "1000000",
    // The 10 000 long-polls all come from this machine.
    "--max-connections-per-address",
    "20000",
];

struct Polls {
    poll: f64,
    live: f64,
}

/// The server's figures on one storage backend.
struct Backend {
    polls: Polls,
    long_polls: serde_json::Value,
    cross_wake: serde_json::Value,
}

/// The same figures on PostgreSQL: two instances on a throwaway cluster (the balancer the site
/// has is not in the way: each figure talks to an instance directly).
fn on_postgres() -> Result<Backend> {
    let qrauth = crate::run::build_qrauth(true)?;
    let site = crate::site::Site::start("bench", &qrauth, 2, 0, LOADED)?;
    let password = site.add_user("bench", false)?;
    let (a, b) = (&site.instances[0], &site.instances[1]);
    Ok(Backend {
        polls: polls_per_second(&a.url)?,
        long_polls: long_polls(&a.url, a.process.id())?,
        cross_wake: cross_wake(&a.url, &b.url, &password)?,
    })
}

fn poll_row(figure: &'static str, polls: &Polls, (ratio, goal): (f64, &'static str)) -> Row {
    Row {
        figure,
        ours: format!("{:.0}/s", polls.poll),
        peer: format!(
            "GET /api/v1/live (fixed JSON, same binary) {:.0}/s",
            polls.live
        ),
        ratio: Some(polls.poll / polls.live),
        goal,
        met: Some(polls.poll >= ratio * polls.live),
    }
}

fn long_poll_row(figure: &'static str, long_polls: &serde_json::Value) -> Row {
    Row {
        figure,
        ours: format!(
            "{:.0} MB peak, {} errors",
            long_polls["rssPeakKib"].as_f64().unwrap_or(f64::NAN) / 1024.0,
            long_polls["errors"]
        ),
        peer: "—".into(),
        ratio: None,
        goal: "≤ 128 MB, no errors",
        met: Some(
            long_polls["rssPeakKib"].as_f64().unwrap_or(f64::MAX) <= 128.0 * 1024.0
                && long_polls["errors"].as_u64() == Some(0),
        ),
    }
}

fn polls_per_second(url: &str) -> Result<Polls> {
    let created =
        output(command("curl").args(["-sS", "-X", "POST", &format!("{url}/api/v1/logins")]))
            .ok_or_else(|| Failure("cannot create a login to poll".into()))?;
    let login: serde_json::Value = serde_json::from_str(&created)?;
    let id = login["loginId"].as_str().unwrap_or_default();
    let secret = login["pollSecret"].as_str().unwrap_or_default();
    let poll = wrk(&format!("{url}/api/v1/logins/{id}"), Some(secret))?;
    let live = wrk(&format!("{url}/api/v1/live"), None)?;
    Ok(Polls { poll, live })
}

/// 200 sign-ins by QR, the page on `page`, the token on `phone` (user `bench`).
fn cross_wake(page: &str, phone: &str, password: &str) -> Result<serde_json::Value> {
    bench_program("cross-wake", &[page, phone, "bench", password, "200"])
}

/// Requests per second that wrk saw answered with 2xx.
fn wrk(url: &str, bearer: Option<&str>) -> Result<f64> {
    let mut wrk = command(WRK);
    wrk.args(["-t1", "-c32", "-d10s"]);
    if let Some(secret) = bearer {
        wrk.args(["-H", &format!("Authorization: Bearer {secret}")]);
    }
    let printed = output(wrk.arg(url)).ok_or_else(|| Failure(format!("wrk {url} failed")))?;
    print!("{printed}");
    if printed.contains("Non-2xx") {
        return Err(Failure(format!("wrk {url}: some answers were errors")));
    }
    printed
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| Failure(format!("wrk {url}: no Requests/sec")))
}

/// Builds the bench program `name` (crates/bench/src/bin) and runs it with `args`; it prints
/// one JSON line.
fn bench_program(name: &str, args: &[&str]) -> Result<serde_json::Value> {
    status(
        command("cargo").args([
            "build",
            "--quiet",
            "--release",
            "--package",
            "qrauth-bench",
            "--bin",
            name,
        ]),
        &format!("cargo build {name}"),
    )?;
    let printed = output(command(target_dir().join("release").join(name)).args(args))
        .ok_or_else(|| Failure(format!("{name} failed")))?;
    println!("{printed}");
    Ok(serde_json::from_str(printed.trim())?)
}

fn long_polls(url: &str, pid: u32) -> Result<serde_json::Value> {
    bench_program("long-polls", &[url, "10000", &pid.to_string()])
}

/// A server with the default connection limits, flooded with idle sockets from 127.0.0.1 while
/// another address asks it something.
fn idle_flood() -> Result<serde_json::Value> {
    let server = TestServer::start_built(true, &[])?;
    bench_program("idle-flood", &[&server.url, "2000"])
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or_else(String::new, |kib| {
            format!(", {:.0} GiB", kib as f64 / 1024.0 / 1024.0)
        });
    let version = |program: &str, arg: &str| {
        output(command(program).arg(arg)).map_or_else(|| "?".into(), |v| v.trim().to_owned())
    };
    format!(
        "{cpu}, {cores} cores{memory}; {}; {}; node {}",
        version("rustc", "--version"),
        version(CHROMIUM, "--version"),
        version("node", "--version"),
    )
}

fn backend_json(backend: &Backend) -> serde_json::Value {
    serde_json::json!({
        "polls_per_second": { "poll": backend.polls.poll, "live": backend.polls.live },
        "long_polls": backend.long_polls,
        "cross_wake": backend.cross_wake,
    })
}

fn write_report(
    rows: &[Row],
    native: &std::collections::BTreeMap<String, f64>,
    browser: &serde_json::Value,
    sizes: &Sizes,
    sqlite: &Backend,
    postgres: &Backend,
) -> Result {
    let machine = machine();
    let mut md = String::from(
        "# Benchmarks\n\nWritten by `cargo xtask bench` (do not edit by hand): each figure and its peer measured in the same run on the same machine. \"× peer\" is how many times better qrauth does (above 1: qrauth is faster or smaller). Times are medians (browser) or Criterion means (native).\n\n",
    );
    md.push_str(&format!("Machine: {machine}.\n\n"));
    md.push_str("| figure | qrauth | peer | × peer | goal | met |\n|---|---|---|---|---|---|\n");
    for row in rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            row.figure,
            row.ours,
            row.peer,
            row.ratio.map_or("—".into(), |r| format!("{r:.2}")),
            if row.goal.is_empty() { "—" } else { row.goal },
            match row.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            }
        ));
    }
    md.push_str(
        "\n## How\n\n\
         - Native: `cargo bench -p qrauth-bench --bench primitives` (Criterion, `crates/bench/benches/primitives.rs`).\n\
         - Browser: `web/bench/browser.mjs` in headless Chromium (playwright-core) against `qrauth serve --release` serving the app and `web/bench/`; node-qrcode and qrcode-generator bundled by esbuild into the same page. QR: 30 rounds of 10 renders each, taken in turns. Crypto: a real `SoftwareToken` activated against the server; WebCrypto does the same primitives with no storage.\n\
         - Page weights: in a fresh Chromium context, every response of the first load but the API's (HTML, start-up script, JS, wasm, CSS, icon), each body `gzip -9` (Node's zlib level 9), summed once the page shows its QR or the token's home; `browser.json` lists the files.\n\
         - npm sizes: `gzip -9` of the browser build's wasm and of its JS bundled and minified by esbuild (as a page's bundler ships it, and as node-qrcode is weighed), `web/pkg/web/qrauth_token*` (whole token) and `web/pkg/qr/qrauth_token_qr*` (`qrauth-token/qr`), `web/pkg/sign-in/qrauth_token_sign_in*` (`qrauth-token/sign-in`), and those with `web/elements/elements.js` (`qrauth-token/elements`), measured by `cargo xtask npm` (`build::entry_sizes`), which also writes them into web/README.md; node-qrcode's `lib/browser.js` bundled and minified by esbuild.\n\
         - Polls: `wrk -t1 -c32 -d10s` on `GET /api/v1/logins/{id}` with the poll secret, then on `GET /api/v1/live`; wrk and the server share the 2 cores. PostgreSQL: a throwaway cluster in `target/` on the same machine (fsync off), two instances on it, wrk on one.\n\
         - Long-polls: `crates/bench/src/bin/long-polls.rs` makes 10 000 logins and holds `?wait=30` on each at once; RSS from `/proc/<pid>/status` while they wait.\n\
         - Cross-instance wake-up: `crates/bench/src/bin/cross-wake.rs` signs in 200 times by QR with a real token: the login made and long-polled on one instance, scanned and approved (a signed request) on the other; from the approval's answer to the long-poll's. The peer is the same on one SQLite server, whose wake-up is in-process.\n\
         - Verifications: Criterion, a wrong code with flag B checked over the whole look-ahead (2 × 20 codes), on two threads at once.\n",
    );
    std::fs::write(root().join("docs/benchmarks.md"), md)?;
    let json = serde_json::json!({
        "machine": machine,
        "native_ns": native,
        "browser": browser,
        "sizes_gzip_bytes": { "package": sizes.package, "package_qr_entry": sizes.page_entry, "node_qrcode_bundle": sizes.node_qrcode },
        "sqlite": backend_json(sqlite),
        "postgres": backend_json(postgres),
    });
    std::fs::write(
        root().join("docs/benchmarks.json"),
        serde_json::to_string_pretty(&json)? + "\n",
    )?;
    println!("bench: wrote docs/benchmarks.md and docs/benchmarks.json");
    Ok(())
}
