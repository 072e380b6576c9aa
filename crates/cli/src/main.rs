//! `qrauth`: the reference server and the admin and developer commands, in one binary.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use qrauth_core::AuthCode;
use qrauth_core::conformance::{self, VectorKind};
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
        /// SQLite database file, created with its schema if missing.
        #[arg(long, env = "QRAUTH_DATABASE", default_value = "qrauth.sqlite3")]
        database: PathBuf,
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
        /// signatures-decimal, derived-keys, master-secret or ecdsa.
        kind: VectorKind,
        /// The vector file (JSON, PowerAuth's schema).
        file: PathBuf,
    },
    /// Work with offline codes.
    Code {
        #[command(subcommand)]
        command: CodeCommand,
    },
}

#[derive(Subcommand)]
enum CodeCommand {
    /// Print a typed code in canonical form (`12345678-90123456`), or say what is wrong with it.
    Normalize {
        /// The code as typed: spaces, dashes and full-width digits are fine.
        input: String,
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
        Command::Conformance { kind, file } => return conformance(kind, &file),
        Command::Code {
            command: CodeCommand::Normalize { input },
        } => {
            return match AuthCode::parse(&input) {
                Ok(code) => {
                    println!("{}", code.canonical());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("qrauth: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Serve {
            listen,
            database,
            static_dir,
            stop_on_stdin_close,
        } => runtime.block_on(serve(
            ServerConfig {
                listen,
                database,
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
