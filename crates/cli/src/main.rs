//! `qrauth`: the reference server and the admin and developer commands, in one binary.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

mod inspection;

use clap::{Args, Parser, Subcommand};
use qrauth_core::code::CodeFormat;
use qrauth_core::conformance::{self, VectorKind};
use qrauth_core::{AuthCode, OfflinePayload, PublicKey};
use qrauth_server::{
    Authority, Caller, CreateOperation, KeySource, Policy, PowerAuthRest, Server, ServerConfig,
    VERSION, Vault,
};

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
        /// Directory of the built app (`cargo xtask dist` writes `dist/`) to serve at `/`.
        #[arg(long = "static", value_name = "DIR")]
        static_dir: Option<PathBuf>,
        /// The public origin written into login QR codes and identity tokens, such as
        /// https://login.example.com. Required when listening beyond loopback; without it the
        /// Host the browser used is taken only if it names this machine (localhost, 127.0.0.1,
        /// [::1]). An https origin also turns on Secure cookies.
        #[arg(long, value_name = "URL", env = "QRAUTH_PUBLIC_URL")]
        public_url: Option<String>,
        /// Mark cookies Secure (set behind TLS).
        #[arg(long)]
        secure_cookies: bool,
        /// A file with the operator's token, made if missing: a backend that sends it as
        /// `Authorization: Bearer <token>` may create payments for any user. Without it,
        /// payments come only from the payer's own signed-in session.
        #[arg(long, value_name = "FILE", env = "QRAUTH_OPERATOR_TOKEN_FILE")]
        operator_token_file: Option<PathBuf>,
        /// Serve PowerAuth Server's REST methods for offline authentication (docs/powerauth.md)
        /// to the clients in this file: one `token:secret` per line, sent as HTTP basic. Made
        /// with one new client if missing. Off without it.
        #[arg(long, value_name = "FILE", env = "QRAUTH_POWERAUTH_CLIENTS")]
        powerauth_clients: Option<PathBuf>,
        /// The path the PowerAuth methods are mounted under, as PowerAuth Server's context
        /// path: /powerauth/rest/v3/signature/offline/verify.
        #[arg(long, value_name = "PATH", default_value = "/powerauth")]
        powerauth_prefix: String,
        /// The applicationId the PowerAuth methods answer to and report.
        #[arg(long, value_name = "ID", default_value = "qrauth")]
        powerauth_application_id: String,
        /// Let pages of this origin call the API from the browser with cookies (CORS), such
        /// as a site that embeds the qrauth-token package; repeat for several.
        #[arg(long, value_name = "ORIGIN")]
        allow_origin: Vec<String>,
        /// The service name tokens show when they approve a login.
        #[arg(long, default_value = "qrauth")]
        service_name: String,
        /// Requests per minute per client address to the endpoints that create things or check
        /// codes and signatures.
        #[arg(long, default_value_t = 60)]
        creations_per_minute: u32,
        /// Connections one client address may hold open at once; more are closed as they
        /// arrive (idle ones end after 10 s without a request).
        #[arg(long, value_name = "N", default_value_t = qrauth_server::MAX_CONNECTIONS_PER_ADDRESS)]
        max_connections_per_address: usize,
        /// A reverse proxy (an address or a range, 10.0.0.0/8) whose X-Forwarded-For names the
        /// client; repeat for several. Without it the header is ignored, and behind a proxy
        /// every client would share the proxy's rate limits.
        #[arg(long = "trusted-proxy", value_name = "CIDR")]
        trusted_proxies: Vec<qrauth_server::IpRange>,
        /// Seconds a login QR waits for a phone's approval (default 120).
        #[arg(long, value_name = "SECONDS", value_parser = lifetime_seconds)]
        login_lifetime: Option<Duration>,
        /// Seconds a frame of the animated sign-in QR may be old when a token scans it (default
        /// 5; 1 to 60). The QR changes every second; an older frame is a photo or a screenshot
        /// of it, and is refused.
        #[arg(long, value_name = "SECONDS", value_parser = frame_window_seconds)]
        qr_frame_window: Option<Duration>,
        /// Number matching for QR sign-in: once a phone scans, the page shows two digits that
        /// the person types on the token before Approve; a wrong number denies the login.
        #[arg(long, value_name = "on|off", default_value = "on", value_parser = on_off)]
        number_matching: bool,
        /// The proximity check of offline operations (PowerAuth's, spec §4.6), with the TOTP's
        /// step in seconds (1 to 300; PowerAuth's usual is 30): each payload carries the TOTP
        /// of its step, the page shows a new QR each step, and a code is accepted only for the
        /// current or the previous step. Off by default.
        #[arg(long, value_name = "SECONDS", value_parser = proximity_step_seconds)]
        offline_proximity: Option<Duration>,
        /// Seconds an offline operation (payment, offline sign-in) can be approved (default 300).
        #[arg(long, value_name = "SECONDS", value_parser = lifetime_seconds)]
        operation_lifetime: Option<Duration>,
        /// Seconds an activation code can be used (default 120).
        #[arg(long, value_name = "SECONDS", value_parser = lifetime_seconds)]
        activation_code_lifetime: Option<Duration>,
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
    /// Manage token activations.
    Activation {
        #[command(subcommand)]
        command: ActivationCommand,
    },
    /// Make offline operations (payment or login) to approve with a token.
    Operation {
        #[command(subcommand)]
        command: OperationCommand,
    },
    /// Manage the applications that sign people in through qrauth (OpenID Connect relying
    /// parties; docs/oidc.md).
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register an application; prints its client_id and, once, its secret.
    Add {
        /// What the sign-in page says is asking, such as "Grafana".
        name: String,
        /// Where the application receives codes, matched exactly; repeat for several.
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
        /// Where signing out may return to, matched exactly; repeat for several.
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (a single-page or native app): no secret, PKCE alone.
        #[arg(long)]
        public: bool,
        #[command(flatten)]
        database: Database,
    },
    /// List the registered applications.
    List {
        #[command(flatten)]
        database: Database,
    },
    /// Remove an application, and every code and token it was given.
    Remove {
        /// Its name.
        name: String,
        #[command(flatten)]
        database: Database,
    },
}

#[derive(Subcommand)]
enum ActivationCommand {
    /// Issue an activation code for a user and print it with its QR (valid 2 minutes).
    Create {
        /// Whose token it will be.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        database: Database,
    },
    /// Let a blocked activation sign again (after too many wrong codes).
    Unblock {
        /// The activation id.
        id: String,
        #[command(flatten)]
        database: Database,
    },
}

#[derive(Subcommand)]
enum OperationCommand {
    /// Make an operation and print its id, its payload and the QR to scan.
    Create {
        /// Whose token approves it.
        #[arg(long)]
        user: String,
        /// Flags for the token: B (biometry allowed), X (swap buttons), F (fraud warning),
        /// C (warn about phone calls). Before or after `payment`/`login`.
        #[arg(long, default_value = "", global = true)]
        flags: String,
        #[command(flatten)]
        database: Database,
        #[command(subcommand)]
        kind: OperationKind,
    },
}

#[derive(Subcommand)]
enum OperationKind {
    /// A payment.
    Payment {
        /// Such as 1250.00.
        #[arg(long)]
        amount: String,
        /// ISO 4217, such as EUR.
        #[arg(long)]
        currency: String,
        /// The payee's IBAN.
        #[arg(long)]
        iban: String,
        /// Who is paid; the title becomes "Payment to <payee>".
        #[arg(long)]
        payee: Option<String>,
        /// A note for the payer.
        #[arg(long)]
        note: Option<String>,
    },
    /// Signing in.
    Login,
}

/// The server's database, shared by `serve` and the admin commands.
#[derive(Args)]
struct Database {
    /// A SQLite file, created with its schema if missing, or a PostgreSQL URL
    /// (postgres://user[:password]@host:port/dbname) that several servers may share.
    #[arg(
        long = "database",
        visible_alias = "db",
        value_name = "FILE|URL",
        env = "QRAUTH_DATABASE",
        default_value = "qrauth.sqlite3"
    )]
    path: qrauth_server::Database,
    /// File with the key that seals private keys at rest (Base64 of 32 bytes), made if missing.
    /// Default: QRAUTH_STORAGE_KEY if set, otherwise `<database>.key` for SQLite; PostgreSQL
    /// needs one of the two, the same on every server.
    #[arg(long, value_name = "FILE", env = "QRAUTH_KEY_FILE")]
    key_file: Option<PathBuf>,
}

impl Database {
    fn key(&self) -> KeySource {
        match &self.key_file {
            Some(file) => KeySource::File(file.clone()),
            None => KeySource::default_for(&self.path),
        }
    }

    async fn authority(&self, policy: Policy) -> Result<Authority, Box<dyn std::error::Error>> {
        let vault = Vault::open(&self.key())?;
        let storage = qrauth_server::Storage::connect(&self.path).await?;
        Ok(Authority::open(storage, vault, policy).await?)
    }
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
        /// Set a new password if the user exists; it ends the user's browser sessions.
        #[arg(long)]
        replace: bool,
    },
    /// Work with a user's browser sessions.
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
}

#[derive(Subcommand)]
enum SessionsCommand {
    /// Sign the user out of every browser (for a lost device or a leaked password).
    End {
        /// The user name.
        name: String,
        #[command(flatten)]
        database: Database,
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

/// Blocking threads for the database (and the password hashing that also runs there).
const STORAGE_THREADS: usize = 8;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Database work runs on blocking threads, one at a time behind the single connection's
    // lock; Tokio's default of up to 512 such threads only grows memory under load (3 000
    // long-polls arriving at once made about 200, each with its own stack).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(STORAGE_THREADS)
        .build()
    {
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
        Command::User {
            command:
                UserCommand::Sessions {
                    command: SessionsCommand::End { name, database },
                },
        } => runtime.block_on(end_sessions(&name, &database.path)),
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
            public_url,
            secure_cookies,
            operator_token_file,
            powerauth_clients,
            powerauth_prefix,
            powerauth_application_id,
            allow_origin,
            service_name,
            creations_per_minute,
            max_connections_per_address,
            trusted_proxies,
            login_lifetime,
            qr_frame_window,
            number_matching,
            offline_proximity,
            operation_lifetime,
            activation_code_lifetime,
            stop_on_stdin_close,
        } => {
            let defaults = Policy::default();
            let secure_cookies = secure_cookies
                || public_url
                    .as_deref()
                    .is_some_and(|u| u.starts_with("https://"));
            runtime.block_on(serve(
                ServerConfig {
                    listen,
                    key: database.key(),
                    database: database.path,
                    static_dir,
                    operator_token: operator_token_file,
                    powerauth: powerauth_clients.map(|clients_file| PowerAuthRest {
                        prefix: powerauth_prefix,
                        clients_file,
                        application_id: powerauth_application_id,
                    }),
                    policy: Policy {
                        public_origin: public_url,
                        secure_cookies,
                        allowed_origins: allow_origin,
                        service_name,
                        creations_per_minute,
                        max_connections_per_address,
                        trusted_proxies,
                        login_lifetime: login_lifetime.unwrap_or(defaults.login_lifetime),
                        qr_frame_window: qr_frame_window.unwrap_or(defaults.qr_frame_window),
                        number_matching,
                        offline_proximity,
                        operation_lifetime: operation_lifetime
                            .unwrap_or(defaults.operation_lifetime),
                        activation_code_lifetime: activation_code_lifetime
                            .unwrap_or(defaults.activation_code_lifetime),
                        ..defaults
                    },
                },
                stop_on_stdin_close,
            ))
        }
        Command::Activation {
            command: ActivationCommand::Create { user, database },
        } => runtime.block_on(create_activation(&user, &database)),
        Command::Client { command } => runtime.block_on(client(command)),
        Command::Activation {
            command: ActivationCommand::Unblock { id, database },
        } => runtime.block_on(unblock_activation(&id, &database)),
        Command::Operation {
            command:
                OperationCommand::Create {
                    user,
                    flags,
                    database,
                    kind,
                },
        } => runtime.block_on(create_operation(user, &flags, kind, &database)),
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
    database: &qrauth_server::Database,
    password_stdin: bool,
    replace: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let storage = qrauth_server::Storage::connect(database).await?;
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

async fn end_sessions(
    name: &str,
    database: &qrauth_server::Database,
) -> Result<(), Box<dyn std::error::Error>> {
    let storage = qrauth_server::Storage::connect(database).await?;
    let ended = qrauth_server::users::end_sessions(&storage, name).await?;
    println!("user {name}: {ended} browser sessions ended");
    Ok(())
}

/// A lifetime in whole seconds, from 5 s (enough for a test; a person needs far more) to a day.
fn lifetime_seconds(text: &str) -> Result<Duration, String> {
    const RANGE: std::ops::RangeInclusive<u64> = 5..=86_400;
    match text.parse::<u64>() {
        Ok(seconds) if RANGE.contains(&seconds) => Ok(Duration::from_secs(seconds)),
        Ok(_) => Err(format!(
            "a lifetime is {} to {} seconds",
            RANGE.start(),
            RANGE.end()
        )),
        Err(_) => Err("a lifetime is a whole number of seconds, such as 120".into()),
    }
}

fn on_off(text: &str) -> Result<bool, String> {
    match text {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err("say on or off".into()),
    }
}

fn proximity_step_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(seconds @ 1..=300) => Ok(Duration::from_secs(seconds)),
        _ => Err("a proximity step is a whole number of seconds from 1 to 300, such as 30".into()),
    }
}

fn frame_window_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(seconds @ 1..=60) => Ok(Duration::from_secs(seconds)),
        _ => Err("a frame window is a whole number of seconds from 1 to 60, such as 5".into()),
    }
}

/// Draws a QR code for a terminal: two modules per character cell with half blocks, light on
/// dark inverted so it reads on dark and light themes alike (the quiet zone is drawn too).
fn terminal_qr(text: &str) -> Result<String, Box<dyn std::error::Error>> {
    use qrauth_token::qr::{ErrorCorrection, QrMatrix};
    let matrix = QrMatrix::encode(text, ErrorCorrection::Low)?;
    let quiet = 2;
    let size = matrix.width() as isize;
    let dark = |x: isize, y: isize| {
        x >= 0 && y >= 0 && x < size && y < size && matrix.is_dark(x as usize, y as usize)
    };
    let mut out = String::new();
    let mut y = -quiet;
    while y < size + quiet {
        for x in -quiet..size + quiet {
            // Light modules are drawn (full block on a dark terminal background).
            out.push(match (!dark(x, y), !dark(x, y + 1)) {
                (true, true) => '\u{2588}',
                (true, false) => '\u{2580}',
                (false, true) => '\u{2584}',
                (false, false) => ' ',
            });
        }
        out.push('\n');
        y += 2;
    }
    Ok(out)
}

async fn create_activation(
    user: &str,
    database: &Database,
) -> Result<(), Box<dyn std::error::Error>> {
    let authority = database.authority(Policy::default()).await?;
    let created = authority.create_activation(user).await?;
    println!("{}", terminal_qr(&created.activation_qr)?);
    println!("activation code  {}", created.activation_code);
    println!("activation id    {}", created.activation_id);
    println!("QR text          {}", created.activation_qr);
    println!("valid for        {} s, once", created.expires_in_ms / 1000);
    Ok(())
}

async fn client(command: ClientCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        ClientCommand::Add {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            database,
        } => {
            let authority = database.authority(Policy::default()).await?;
            let added = authority
                .add_client(qrauth_server::NewClient {
                    name: name.clone(),
                    redirect_uris,
                    post_logout_redirect_uris,
                    public,
                })
                .await?;
            println!("client {name:?} added");
            println!("client_id      {}", added.client_id);
            match added.client_secret {
                Some(secret) => {
                    println!("client_secret  {secret}");
                    println!("(shown once: only its hash is kept)");
                }
                None => println!("client_secret  none (a public client: PKCE alone)"),
            }
        }
        ClientCommand::List { database } => {
            let authority = database.authority(Policy::default()).await?;
            for client in authority.clients().await? {
                println!(
                    "{}  {:?}  {}  {}",
                    client.client_id,
                    client.name,
                    if client.public {
                        "public"
                    } else {
                        "confidential"
                    },
                    client.redirect_uris.join(" ")
                );
            }
        }
        ClientCommand::Remove { name, database } => {
            let authority = database.authority(Policy::default()).await?;
            if !authority.remove_client(&name).await? {
                return Err(format!("no client named {name:?}").into());
            }
            println!("client {name:?} removed");
        }
    }
    Ok(())
}

async fn unblock_activation(
    id: &str,
    database: &Database,
) -> Result<(), Box<dyn std::error::Error>> {
    let authority = database.authority(Policy::default()).await?;
    if authority.unblock_activation(id).await? {
        println!("activation {id} unblocked");
        Ok(())
    } else {
        Err(format!("no blocked activation {id}").into())
    }
}

async fn create_operation(
    user: String,
    flags: &str,
    kind: OperationKind,
    database: &Database,
) -> Result<(), Box<dyn std::error::Error>> {
    qrauth_core::Flags::from_letters(flags)
        .map_err(|c| format!("--flags: {c:?} is not one of B, X, F, C"))?;
    let (user, flags) = (Some(user), Some(flags.to_owned()));
    let request = match kind {
        OperationKind::Payment {
            amount,
            currency,
            iban,
            payee,
            note,
        } => CreateOperation::Payment {
            amount,
            currency,
            iban,
            payee,
            note,
            user,
            flags,
        },
        OperationKind::Login => CreateOperation::Login { user, flags },
    };
    let authority = database.authority(Policy::default()).await?;
    let created = authority
        .create_operation(request, Caller::Operator)
        .await?;
    println!("{}", terminal_qr(&created.payload)?);
    println!("operation id  {}", created.operation_id);
    println!(
        "key type      {} ({})",
        created.key_type,
        if created.key_type == 1 {
            "signed with the user's activation"
        } else {
            "signed with the master key: the user has no active activation"
        }
    );
    println!("valid for     {} s", created.expires_in_ms / 1000);
    println!("payload:\n{}", created.payload);
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
    let database = config.database.to_string();
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
