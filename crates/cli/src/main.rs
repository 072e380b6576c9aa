//! `qrauth`: the reference server and the admin and developer commands, in one binary.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

mod inspection;

use clap::{Args, Parser, Subcommand};
use qrauth_core::code::CodeFormat;
use qrauth_core::conformance::{self, VectorKind};
use qrauth_core::{AuthCode, OfflinePayload, PublicKey};
use qrauth_server::{Server, ServerConfig, VERSION};

#[derive(Parser)]
#[command(
    name = "qrauth",
    version,
    about = "QR-code authentication: reference server and tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (and, with --static, the built app) until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on; port 0 picks a free port, printed on start.
        #[arg(long, env = "QRAUTH_LISTEN", default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
        #[command(flatten)]
        database: Database,
        /// Directory of the built app (`trunk build --release` writes `dist/`) to serve at `/`.
        #[arg(long = "static", value_name = "DIR")]
        static_dir: Option<PathBuf>,
        /// Stop when standard input closes: lets a supervising process (tests, `cargo xtask
        /// demo`) make sure the server never outlives it.
        #[arg(long)]
        stop_on_stdin_close: bool,
    },
    /// Run a PowerAuth vector file through qrauth and print `N passed, M failed`.
    Conformance {
        /// signatures-decimal, signatures-base64, derived-keys, master-secret or ecdsa.
        kind: VectorKind,
        /// The vector file (JSON, PowerAuth's schema).
        file: PathBuf,
    },
    /// Manage people who sign in with a password.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Work with offline codes.
    Code {
        #[command(subcommand)]
        command: CodeCommand,
    },
    /// Work with offline QR payloads.
    Payload {
        #[command(subcommand)]
        command: PayloadCommand,
    },
}

/// The server's SQLite database, shared by `serve` and the admin commands.
#[derive(Args)]
struct Database {
    /// SQLite database file, created with its schema if missing.
    #[arg(
        long = "database",
        alias = "db",
        value_name = "FILE",
        env = "QRAUTH_DATABASE",
        default_value = "qrauth.sqlite3"
    )]
    path: PathBuf,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. Without --password-stdin a random password is made and printed.
    Add {
        /// The user name: letters, digits and . _ - @.
        name: String,
        #[command(flatten)]
        database: Database,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Set a new password if the user exists.
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Subcommand)]
enum PayloadCommand {
    /// Read a payload (the QR text) on standard input, print it as JSON and, given the
    /// server's public key, whether its signature verifies (exit status 1 when it does not).
    Inspect {
        /// The signer's P-256 public key, Base64 of the SEC1 point: the application's master
        /// key for key type 0, the activation's server key for key type 1.
        #[arg(long)]
        public_key: Option<String>,
    },
}

#[derive(Subcommand)]
enum CodeCommand {
    /// Print a typed code in canonical form (`12345678-90123456`), or say what is wrong with it.
    Normalize {
        /// The code as typed: spaces, dashes and full-width digits are fine.
        input: String,
        /// Components in the code (1 to 3).
        #[arg(long, default_value_t = 2)]
        components: u8,
        /// Digits per component (4 to 8).
        #[arg(long, default_value_t = 8)]
        length: u8,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("qrauth: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    database,
                    password_stdin,
                    replace,
                },
        } => runtime.block_on(add_user(&name, &database.path, password_stdin, replace)),
        Command::Conformance { kind, file } => return conformance(kind, &file),
        Command::Code {
            command:
                CodeCommand::Normalize {
                    input,
                    components,
                    length,
                },
        } => return normalize(&input, components, length),
        Command::Payload {
            command: PayloadCommand::Inspect { public_key },
        } => return inspect(public_key.as_deref()),
        Command::Serve {
            listen,
            database,
            static_dir,
            stop_on_stdin_close,
        } => runtime.block_on(serve(
            ServerConfig {
                listen,
                database: database.path,
                static_dir,
            },
            stop_on_stdin_close,
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qrauth: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn add_user(
    name: &str,
    database: &std::path::Path,
    password_stdin: bool,
    replace: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let storage = qrauth_server::Storage::open(database)?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        use std::fmt::Write as _;
        let bytes = qrauth_server::secrets::random::<12>()?;
        bytes.iter().fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
    };
    qrauth_server::users::add_user(&storage, name, &password, replace).await?;
    storage
        .audit("user.added", format!("user {name:?}"))
        .await?;
    if password_stdin {
        println!("user {name} added");
    } else {
        println!("user {name} added with password {password}");
    }
    Ok(())
}

fn normalize(input: &str, components: u8, length: u8) -> ExitCode {
    let Some(format) = CodeFormat::new(components, length) else {
        eprintln!("qrauth: a code has 1 to 3 components of 4 to 8 digits");
        return ExitCode::FAILURE;
    };
    match AuthCode::parse_as(input, format) {
        Ok(code) => {
            println!("{}", code.canonical());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("qrauth: {e}");
            ExitCode::FAILURE
        }
    }
}

fn inspect(public_key: Option<&str>) -> ExitCode {
    let mut text = String::new();
    if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
        eprintln!("qrauth: cannot read the payload from standard input: {e}");
        return ExitCode::FAILURE;
    }
    // A payload never ends with a line break; one added by `echo` or an editor is not part of it.
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let payload = match OfflinePayload::parse(text) {
        Ok(payload) => payload,
        Err(e) => {
            eprintln!("qrauth: {e}");
            return ExitCode::FAILURE;
        }
    };
    let verdict = match public_key.map(PublicKey::from_base64) {
        None => serde_json::json!({"checked": false}),
        Some(Err(e)) => {
            eprintln!("qrauth: --public-key: {e}");
            return ExitCode::FAILURE;
        }
        Some(Ok(key)) => match payload.verify_signature(&key) {
            Ok(()) => serde_json::json!({"checked": true, "valid": true}),
            Err(e) => serde_json::json!({"checked": true, "valid": false, "reason": e.to_string()}),
        },
    };
    let valid = verdict["valid"].as_bool() != Some(false);
    let mut json = inspection::payload_json(&payload);
    json["signature"] = verdict;
    println!(
        "{}",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    );
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn conformance(kind: VectorKind, file: &std::path::Path) -> ExitCode {
    let report = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))
        .and_then(|json| conformance::run(kind, &json));
    match report {
        Ok(report) => {
            println!("{report}");
            if report.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("qrauth: {}: {e}", file.display());
            ExitCode::FAILURE
        }
    }
}

async fn serve(
    config: ServerConfig,
    stop_on_stdin_close: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let database = config.database.display().to_string();
    let server = Server::bind(config).await?;
    // Scripts and tests read the port from this line when they asked for port 0.
    println!(
        "qrauth {VERSION} listening on http://{} (database {database})",
        server.local_addr()
    );
    std::io::stdout().flush()?;
    server.run(shutdown_signal(stop_on_stdin_close)).await?;
    Ok(())
}

async fn shutdown_signal(stop_on_stdin_close: bool) {
    let stdin_closed = async move {
        if stop_on_stdin_close {
            // A plain thread, not the blocking pool: a read that never returns must not keep
            // the process alive after a signal stopped the server.
            let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
                let _ = closed.send(());
            });
            let _ = on_close.await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let interrupt = async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = stdin_closed => {},
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {},
                    _ = terminate.recv() => {},
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
