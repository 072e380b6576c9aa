//! `cargo xtask test`: every check the project has, in the order that fails fastest.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::run::{Supervised, build_qrauth, command, free_port, output, qrauth_serve, status};
use crate::setup::{CHROMEDRIVER, CHROMIUM};
use crate::{Failure, Result, build, root, setup};

struct Stage {
    key: &'static str,
    name: &'static str,
    runs: &'static str,
    run: fn() -> Result,
}

const STAGES: &[Stage] = &[
    Stage {
        key: "fmt",
        name: "format",
        runs: "cargo fmt --check, of the workspace and of fuzz/",
        run: fmt,
    },
    Stage {
        key: "clippy",
        name: "clippy",
        runs: "cargo clippy --all-targets -D warnings, native, wasm32 (and each npm entry's features) and the fuzz targets",
        run: clippy,
    },
    Stage {
        key: "native",
        name: "native tests",
        runs: "cargo test --workspace --exclude qrauth-app",
        run: native_tests,
    },
    Stage {
        key: "conformance",
        name: "PowerAuth conformance",
        runs: "qrauth conformance <kind> ../shared/vectors/powerauth/<file>, for each kind",
        run: conformance,
    },
    Stage {
        key: "wasm",
        name: "wasm tests in headless Chromium",
        runs: "wasm-bindgen-test of qrauth-app, and of qrauth-token against qrauth serve",
        run: wasm_tests,
    },
    Stage {
        key: "node",
        name: "npm package, Node tests",
        runs: "cargo xtask npm, then node --test web/test (one file against qrauth serve)",
        run: node_tests,
    },
    Stage {
        key: "e2e",
        name: "end-to-end browser tests",
        runs: "cargo xtask dist, qrauth serve --static dist, node --test tests/e2e (playwright-core, Chromium); then tests/balanced through haproxy over 3 instances on PostgreSQL",
        run: end_to_end,
    },
];

/// Runs every stage, or only those named (`cargo xtask test e2e wasm`).
pub fn run(args: &[String]) -> Result {
    if let Some(unknown) = args.iter().find(|a| !STAGES.iter().any(|s| s.key == *a)) {
        let keys: Vec<_> = STAGES.iter().map(|s| s.key).collect();
        return Err(Failure(format!(
            "unknown stage {unknown:?}; stages are {}",
            keys.join(", ")
        )));
    }
    setup::run()?;
    let chosen: Vec<&Stage> = STAGES
        .iter()
        .filter(|s| args.is_empty() || args.iter().any(|a| a == s.key))
        .collect();
    let started = Instant::now();
    let mut times = Vec::new();
    for (index, stage) in chosen.iter().enumerate() {
        let position = format!("[{}/{}]", index + 1, chosen.len());
        println!("\n==> test {position} {}: {}", stage.name, stage.runs);
        let begun = Instant::now();
        (stage.run)().map_err(|Failure(e)| {
            Failure(format!(
                "test {position} {} failed: {e}\n       Fix it, then run `cargo xtask test {}` to repeat this stage.",
                stage.name, stage.key
            ))
        })?;
        times.push((stage.name, begun.elapsed().as_secs_f64()));
    }
    println!(
        "\n==> test: every stage passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    for (name, seconds) in times {
        println!("    {seconds:>6.1} s  {name}");
    }
    Ok(())
}

/// The fuzz crate, outside the workspace (cargo-fuzz builds it with sanitizer flags): formatted
/// and linted here so that its targets keep compiling between soaks.
const FUZZ_MANIFEST: &str = "fuzz/Cargo.toml";

fn fmt() -> Result {
    status(
        command("cargo").args(["fmt", "--all", "--check"]),
        "cargo fmt --check (run `cargo fmt --all`)",
    )?;
    status(
        command("cargo").args(["fmt", "--manifest-path", FUZZ_MANIFEST, "--check"]),
        "cargo fmt --check of fuzz/ (run `cargo fmt --manifest-path fuzz/Cargo.toml`)",
    )
}

fn clippy() -> Result {
    status(
        command("cargo").args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ]),
        "clippy (native)",
    )?;
    // The app's tests exist only for wasm32; the libraries' tests (proptest, rqrr) are native.
    for scope in [
        ["--package", "qrauth-app", "--all-targets"],
        ["--package", "qrauth-token", "--all-targets"],
    ] {
        status(
            command("cargo")
                .args(["clippy", "--target", "wasm32-unknown-unknown", "--quiet"])
                .args(scope)
                .args(["--", "-D", "warnings"]),
            "clippy (wasm32)",
        )?;
    }
    // Each entry of the npm package and the token page's QR reader is a build of its own
    // features, with code that only it compiles.
    for feature in ["js-page", "js-sign-in", "js-scan"] {
        status(
            command("cargo")
                .args(["clippy", "--target", "wasm32-unknown-unknown", "--quiet"])
                .args([
                    "--package",
                    "qrauth-token",
                    "--no-default-features",
                    "--features",
                ])
                .args([feature, "--", "-D", "warnings"]),
            &format!("clippy (wasm32, qrauth-token --features {feature})"),
        )?;
    }
    status(
        command("cargo").args([
            "clippy",
            "--manifest-path",
            FUZZ_MANIFEST,
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ]),
        "clippy (fuzz targets)",
    )
}

fn native_tests() -> Result {
    status(
        command("cargo").args(["test", "--workspace", "--exclude", "qrauth-app"]),
        "cargo test",
    )?;
    // The server's HTTP and flow tests again, on PostgreSQL: a database per test on a
    // throwaway cluster, which stops when this stage ends.
    let cluster = crate::postgres::Cluster::start("native")?;
    println!(
        "\n==> the server's HTTP and flow tests on PostgreSQL (port {})",
        cluster.port
    );
    status(
        command("cargo")
            .args([
                "test",
                "-p",
                "qrauth-server",
                "--test",
                "flows",
                "--test",
                "http",
            ])
            .env("QRAUTH_TEST_POSTGRES", cluster.url("postgres"))
            // Servers sharing a PostgreSQL database have no key file by default.
            .env("QRAUTH_STORAGE_KEY", TEST_STORAGE_KEY),
        "cargo test on PostgreSQL",
    )
}

/// A storage key for servers under test (Base64 of 32 bytes); nothing it seals outlives a run.
const TEST_STORAGE_KEY: &str = "cXJhdXRoIHRlc3Qgc3RvcmFnZSBrZXkgMzIgYnl0ZXM=";

/// The official vector files, through the command line as an integrator would run them.
fn conformance() -> Result {
    let qrauth = build_qrauth(false)?;
    let vectors = root().join("../shared/vectors/powerauth");
    for (kind, file) in [
        ("signatures-decimal", "signatures-offline.json"),
        ("derived-keys", "compute-derived-keys.json"),
        ("master-secret", "compute-master-secret-key.json"),
        ("ecdsa", "verify-activation-data-signature-v3.json"),
    ] {
        print!("{kind:>20} {file}: ");
        std::io::Write::flush(&mut std::io::stdout())?;
        status(
            command(&qrauth)
                .args(["conformance", kind])
                .arg(vectors.join(file)),
            &format!("qrauth conformance {kind}"),
        )?;
    }
    Ok(())
}

fn wasm_tests() -> Result {
    status(
        &mut wasm_test(&[
            "--package",
            "qrauth-app",
            "--test",
            "web",
            "--test",
            "token",
        ]),
        "wasm-bindgen-test of qrauth-app in Chromium",
    )?;
    // The token's tests talk to a real server from the test runner's page, another origin
    // that the server is told to allow.
    let page_port = free_port()?;
    let page_origin = format!("http://127.0.0.1:{page_port}");
    let server = TestServer::start(&[
        "--allow-origin",
        &page_origin,
        "--creations-per-minute",
        "1000",
    ])?;
    let password = server.add_user(TOKEN_TEST_USER)?;
    status(
        wasm_test(&["--package", "qrauth-token", "--test", "browser"])
            .env(
                "WASM_BINDGEN_TEST_ADDRESS",
                format!("127.0.0.1:{page_port}"),
            )
            .env("WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION", "1")
            .env("QRAUTH_TEST_SERVER", &server.url)
            .env("QRAUTH_TEST_USER", TOKEN_TEST_USER)
            .env("QRAUTH_TEST_PASSWORD", password),
        "wasm-bindgen-test of qrauth-token in Chromium",
    )
}

const TOKEN_TEST_USER: &str = "token-test";
/// The pages' tests sign in as this user, who has no token.
const E2E_USER: &str = "alice";
/// The token's tests activate tokens for this user; a user of their own keeps the pages'
/// "no token yet" true whatever order the files run in.
const E2E_TOKEN_USER: &str = "bohumila";
/// The token's storage tests (a full disk, two tabs, reloads) have a user and a token of their
/// own, so that the counters and attempts the token story checks are not moved under it.
const E2E_STORAGE_USER: &str = "cyril";
/// The PowerAuth example's person, with two tokens of their own.
const E2E_POWERAUTH_USER: &str = "dagmar";
/// The person who signs in to an OpenID Connect relying party, with a token of their own.
const E2E_OIDC_USER: &str = "ema";
/// The relying parties, as registered: examples/oidc-app, and the one the test drives itself.
const E2E_OIDC_APP: &str = "Example app";
const E2E_OIDC_CLIENT: &str = "Example Grafana";

/// Seconds a login lives in the end-to-end tests: short enough to watch one expire and be
/// renewed, long enough for every flow that scans a sign-in QR to finish before it expires.
const E2E_LOGIN_LIFETIME: &str = "20";

/// `cargo test` for wasm32 in headless Chromium.
fn wasm_test(args: &[&str]) -> std::process::Command {
    let mut cargo = command("cargo");
    cargo
        .args(["test", "--target", "wasm32-unknown-unknown"])
        .args(args)
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env(
            "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
            root().join("webdriver.json"),
        )
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    cargo
}

/// `qrauth serve` on a free port with a fresh database, stopped and deleted on drop.
pub struct TestServer {
    pub url: String,
    /// The operator's token, as a bank's backend would send it to make payments.
    pub operator_token: String,
    qrauth: PathBuf,
    database: PathBuf,
    // Fields drop in this order: the server stops before its directory goes.
    process: Supervised,
    _data: DataDir,
}

/// A directory deleted on drop.
struct DataDir(PathBuf);

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestServer {
    pub fn start(args: &[&str]) -> Result<Self> {
        Self::start_built(false, args)
    }

    /// The server built optimized when `release`, as benchmarks need it.
    pub fn start_built(release: bool, args: &[&str]) -> Result<Self> {
        let qrauth = build_qrauth(release)?;
        let data = DataDir(build::target_dir().join(format!(
            "test-server-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        )));
        std::fs::create_dir_all(&data.0)?;
        let database = data.0.join("qrauth.sqlite3");
        let operator = data.0.join("operator.token");
        let mut all: Vec<&std::ffi::OsStr> = vec![
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--database".as_ref(),
            database.as_os_str(),
            "--operator-token-file".as_ref(),
            operator.as_os_str(),
        ];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        let (process, url) = qrauth_serve(&qrauth, &all)?;
        let operator_token = std::fs::read_to_string(&operator)?.trim().to_owned();
        Ok(TestServer {
            url,
            operator_token,
            qrauth,
            database,
            process,
            _data: data,
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Adds a user with a random password (SQLite lets the CLI write while the server runs)
    /// and returns the password.
    pub fn add_user(&self, name: &str) -> Result<String> {
        let printed = output(
            command(&self.qrauth)
                .args(["user", "add", name, "--database"])
                .arg(&self.database),
        )
        .ok_or_else(|| Failure(format!("qrauth user add {name} failed")))?;
        printed
            .split_whitespace()
            .last()
            .map(str::to_owned)
            .ok_or_else(|| Failure("qrauth user add printed no password".into()))
    }

    /// Registers an OpenID Connect client (`qrauth client add`) that returns to its
    /// `redirect_uri` and, after signing out, to `home`; its (client_id, secret).
    pub fn add_client(
        &self,
        name: &str,
        redirect_uri: &str,
        home: &str,
    ) -> Result<(String, String)> {
        let printed = output(
            command(&self.qrauth)
                .args(["client", "add", name, "--redirect-uri", redirect_uri])
                .args(["--post-logout-redirect-uri", home])
                .arg("--database")
                .arg(&self.database),
        )
        .ok_or_else(|| Failure(format!("qrauth client add {name} failed")))?;
        let field = |label: &str| {
            printed
                .lines()
                .find_map(|line| line.strip_prefix(label))
                .map(|rest| rest.trim().to_owned())
                .ok_or_else(|| Failure(format!("qrauth client add printed no {label}")))
        };
        Ok((field("client_id")?, field("client_secret")?))
    }
}

fn node_tests() -> Result {
    build::npm()?;
    // The package's token is also tried in Node against a real server, whose logins live 5 s so
    // that the sign-in session's renewals are seen in a few seconds; a page of the elements'
    // tests is served on another origin, which the server allows.
    let page_port = free_port()?;
    let page_origin = format!("http://127.0.0.1:{page_port}");
    let server = TestServer::start(&[
        "--creations-per-minute",
        "1000",
        "--login-lifetime",
        "5",
        "--allow-origin",
        &page_origin,
    ])?;
    let password = server.add_user(NODE_TEST_USER)?;
    let elements_password = server.add_user(ELEMENTS_TEST_USER)?;
    let react_password = server.add_user(REACT_TEST_USER)?;
    // The proximity check changes every offline payload, so it has a server of its own.
    let proximity =
        TestServer::start(&["--creations-per-minute", "1000", "--offline-proximity", "2"])?;
    let proximity_password = proximity.add_user(PROXIMITY_TEST_USER)?;
    node_test(
        &root().join("web/test"),
        &[
            ("QRAUTH_URL", server.url.as_str()),
            ("QRAUTH_USER", NODE_TEST_USER),
            ("QRAUTH_PASSWORD", &password),
            ("QRAUTH_ELEMENTS_USER", ELEMENTS_TEST_USER),
            ("QRAUTH_ELEMENTS_PASSWORD", &elements_password),
            ("QRAUTH_REACT_USER", REACT_TEST_USER),
            ("QRAUTH_REACT_PASSWORD", &react_password),
            ("QRAUTH_ALLOWED_PAGE_PORT", &page_port.to_string()),
            ("QRAUTH_PROXIMITY_URL", proximity.url.as_str()),
            ("QRAUTH_PROXIMITY_USER", PROXIMITY_TEST_USER),
            ("QRAUTH_PROXIMITY_PASSWORD", &proximity_password),
        ],
    )
}

const NODE_TEST_USER: &str = "node-test";
/// The custom elements' tests and the React example's each have a user of their own, whose
/// offline operations no other file's newer token can take over.
const ELEMENTS_TEST_USER: &str = "elements-test";
const REACT_TEST_USER: &str = "react-test";
const PROXIMITY_TEST_USER: &str = "proximity-test";

fn end_to_end() -> Result {
    // Its own dist, so that a running `cargo xtask demo` and this build never share files.
    let dist = build::target_dir().join("e2e-dist");
    build::dist(&dist)?;
    let dist = dist.to_string_lossy().into_owned();
    // PowerAuth's REST methods for examples/powerauth-web, with a client the server makes.
    let powerauth_clients = build::target_dir().join("e2e-powerauth-clients");
    let _ = std::fs::remove_file(&powerauth_clients);
    let server = TestServer::start(&[
        "--static",
        &dist,
        "--creations-per-minute",
        "1000",
        "--login-lifetime",
        E2E_LOGIN_LIFETIME,
        "--powerauth-clients",
        &powerauth_clients.to_string_lossy(),
    ])?;
    let powerauth_client = std::fs::read_to_string(&powerauth_clients)?;
    let _ = std::fs::remove_file(&powerauth_clients);
    let password = server.add_user(E2E_USER)?;
    let token_password = server.add_user(E2E_TOKEN_USER)?;
    let storage_password = server.add_user(E2E_STORAGE_USER)?;
    let powerauth_password = server.add_user(E2E_POWERAUTH_USER)?;
    let oidc_password = server.add_user(E2E_OIDC_USER)?;
    // Two relying parties: examples/oidc-app, and one whose callback the test listens at, to
    // hold its codes in hand.
    let oidc_app_port = free_port()?;
    let oidc_app = format!("http://127.0.0.1:{oidc_app_port}");
    let (oidc_app_id, oidc_app_secret) = server.add_client(
        E2E_OIDC_APP,
        &format!("{oidc_app}/callback"),
        &format!("{oidc_app}/"),
    )?;
    let oidc_redirect_uri = format!("http://127.0.0.1:{}/login/generic_oauth", free_port()?);
    let (oidc_client_id, oidc_client_secret) =
        server.add_client(E2E_OIDC_CLIENT, &oidc_redirect_uri, &oidc_redirect_uri)?;
    let evidence = build::target_dir().join("e2e-evidence");
    let _ = std::fs::remove_dir_all(&evidence);
    let evidence = evidence.to_string_lossy().into_owned();
    node_test(
        &root().join("tests/e2e"),
        &[
            ("QRAUTH_URL", server.url.as_str()),
            ("QRAUTH_OPERATOR_TOKEN", server.operator_token.as_str()),
            ("QRAUTH_LOGIN_LIFETIME", E2E_LOGIN_LIFETIME),
            ("QRAUTH_E2E_EVIDENCE", &evidence),
            ("QRAUTH_USER", E2E_USER),
            ("QRAUTH_PASSWORD", &password),
            ("QRAUTH_TOKEN_USER", E2E_TOKEN_USER),
            ("QRAUTH_TOKEN_PASSWORD", &token_password),
            ("QRAUTH_STORAGE_USER", E2E_STORAGE_USER),
            ("QRAUTH_STORAGE_PASSWORD", &storage_password),
            ("QRAUTH_POWERAUTH_USER", E2E_POWERAUTH_USER),
            ("QRAUTH_POWERAUTH_PASSWORD", &powerauth_password),
            ("QRAUTH_POWERAUTH_CLIENT", powerauth_client.trim()),
            ("QRAUTH_OIDC_USER", E2E_OIDC_USER),
            ("QRAUTH_OIDC_PASSWORD", &oidc_password),
            ("QRAUTH_OIDC_CLIENT_NAME", E2E_OIDC_CLIENT),
            ("QRAUTH_OIDC_CLIENT_ID", &oidc_client_id),
            ("QRAUTH_OIDC_CLIENT_SECRET", &oidc_client_secret),
            ("QRAUTH_OIDC_REDIRECT_URI", &oidc_redirect_uri),
            ("QRAUTH_OIDC_APP_NAME", E2E_OIDC_APP),
            ("QRAUTH_OIDC_APP_PORT", &oidc_app_port.to_string()),
            ("QRAUTH_OIDC_APP_CLIENT_ID", &oidc_app_id),
            ("QRAUTH_OIDC_APP_CLIENT_SECRET", &oidc_app_secret),
            ("CHROMIUM", CHROMIUM),
        ],
    )
    .map_err(|Failure(why)| evidence_kept(why, &evidence))?;
    drop(server);
    balanced_end_to_end(&dist, &evidence)
}

fn evidence_kept(why: String, evidence: &str) -> Failure {
    Failure(format!(
        "{why}; a screenshot and the console log of each browser context of every failed test \
         are in {evidence}"
    ))
}

/// Instances behind the balancer in the end-to-end run.
const BALANCED_INSTANCES: usize = 3;

/// The proximity check's TOTP step in the balanced run, in seconds: every instance must make
/// and check the same TOTP, and re-sign the payload of the step on its own.
const BALANCED_PROXIMITY_STEP: &str = "5";

/// Sign-in by QR with the token and offline payments through haproxy, round-robin, in front
/// of three instances on one PostgreSQL database, which check proximity.
fn balanced_end_to_end(dist: &str, evidence: &str) -> Result {
    let qrauth = build_qrauth(false)?;
    let site = crate::site::Site::start(
        "e2e",
        &qrauth,
        BALANCED_INSTANCES,
        0,
        &[
            "--static",
            dist,
            "--creations-per-minute",
            "1000",
            "--login-lifetime",
            E2E_LOGIN_LIFETIME,
            "--offline-proximity",
            BALANCED_PROXIMITY_STEP,
        ],
    )?;
    println!(
        "\n==> the same app through haproxy ({}), round-robin over {BALANCED_INSTANCES} \
         instances on PostgreSQL",
        site.url
    );
    let password = site.add_user(E2E_TOKEN_USER, false)?;
    node_test(
        &root().join("tests/balanced"),
        &[
            ("QRAUTH_URL", site.url.as_str()),
            ("QRAUTH_BALANCER_STATS", site.stats_url.as_str()),
            ("QRAUTH_PROXIMITY_STEP", BALANCED_PROXIMITY_STEP),
            ("QRAUTH_LOGIN_LIFETIME", E2E_LOGIN_LIFETIME),
            ("QRAUTH_E2E_EVIDENCE", evidence),
            ("QRAUTH_TOKEN_USER", E2E_TOKEN_USER),
            ("QRAUTH_TOKEN_PASSWORD", &password),
            ("CHROMIUM", CHROMIUM),
        ],
    )
    .map_err(|Failure(why)| evidence_kept(why, evidence))
}

/// Runs every `*.test.mjs` in `dir` with Node's test runner.
pub fn node_test(dir: &Path, env: &[(&str, &str)]) -> Result {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Failure(format!("no *.test.mjs files in {}", dir.display())));
    }
    let mut node = command("node");
    node.args(["--test", "--test-reporter=spec"]).args(&files);
    for (key, value) in env {
        node.env(key, value);
    }
    status(&mut node, "node --test")
}
