//! `qrauth serve` as child processes (one, or several instances on one PostgreSQL database)
//! that can be killed with SIGKILL and started again on the same address and database,
//! optionally inside a wrapper (a mount namespace, a faked clock).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qrauth_server::{Authority, Database, KeySource, Policy, Storage, Vault};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::http::Client;

/// The password of every account the harness makes.
pub const PASSWORD: &str = "soak password 1";

/// The operator token the harness gives the server (`--operator-token-file`): the simulated
/// bank backend sends it to create the users' payments.
pub const OPERATOR_TOKEN: &str = "soak-operator-token-0123456789abcdef";

/// A person with a password and an activation code waiting for their token.
#[derive(Clone, Debug)]
pub struct Account {
    /// The user name.
    pub name: String,
    /// `CODE#SIGNATURE`, as the activation QR holds it.
    pub activation_qr: String,
}

/// How to run the server, and the database it keeps between runs.
pub struct Deployment {
    binary: PathBuf,
    /// The database: a SQLite file, or a PostgreSQL database every instance shares (with the
    /// storage key in `QRAUTH_STORAGE_KEY`, which the servers inherit).
    pub database: Database,
    /// The file with [`OPERATOR_TOKEN`].
    pub operator_token: PathBuf,
    /// Extra `qrauth serve` options.
    pub options: Vec<String>,
    /// A program (and its arguments) that runs `qrauth serve`, such as `unshare`.
    pub wrapper: Vec<String>,
    /// Extra environment for the server.
    pub env: Vec<(String, String)>,
    /// Where each instance listens: a free port on its first start, then the same one.
    pub listen: Vec<SocketAddr>,
    /// A program that restarts the database server (PostgreSQL), for the database faults.
    pub restart_database: Option<PathBuf>,
}

/// A started server.
pub struct Running {
    child: Child,
    /// Where it answers.
    pub client: Client,
    /// What it wrote to standard error (the operator's log).
    pub log: Arc<Mutex<Vec<String>>>,
}

/// Why the server could not be prepared or started.
pub type Error = String;

impl Deployment {
    /// A fresh SQLite database in `dir` with `users` accounts `user-0`, `user-1`, ..., each
    /// with an activation code valid for an hour.
    pub async fn create(
        binary: &Path,
        dir: &Path,
        users: usize,
    ) -> Result<(Deployment, Vec<Account>), Error> {
        Self::create_on(
            binary,
            dir,
            Database::Sqlite(dir.join("qrauth.sqlite3")),
            users,
        )
        .await
    }

    /// Like [`Deployment::create`], on `database` (an empty PostgreSQL database, say).
    pub async fn create_on(
        binary: &Path,
        dir: &Path,
        database: Database,
        users: usize,
    ) -> Result<(Deployment, Vec<Account>), Error> {
        let operator_token = dir.join("operator.token");
        std::fs::write(&operator_token, OPERATOR_TOKEN).map_err(|e| e.to_string())?;
        let storage = Storage::connect(&database)
            .await
            .map_err(|e| e.to_string())?;
        let vault = Vault::open(&KeySource::default_for(&database)).map_err(|e| e.to_string())?;
        let policy = Policy {
            activation_code_lifetime: Duration::from_secs(3600),
            ..Policy::default()
        };
        let authority = Authority::open(storage.clone(), vault, policy)
            .await
            .map_err(|e| e.to_string())?;
        let mut accounts = Vec::with_capacity(users);
        for index in 0..users {
            let name = format!("user-{index}");
            qrauth_server::users::add_user(&storage, &name, PASSWORD, false)
                .await
                .map_err(|e| e.to_string())?;
            let activation = authority
                .create_activation(&name)
                .await
                .map_err(|e| e.to_string())?;
            accounts.push(Account {
                name,
                activation_qr: activation.activation_qr,
            });
        }
        let deployment = Deployment {
            binary: binary.to_owned(),
            database,
            operator_token,
            options: Vec::new(),
            wrapper: Vec::new(),
            env: Vec::new(),
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
            restart_database: None,
        };
        Ok((deployment, accounts))
    }

    /// Runs `instances` servers on the one database from now on.
    pub fn with_instances(&mut self, instances: usize) {
        self.listen
            .resize(instances.max(1), SocketAddr::from(([127, 0, 0, 1], 0)));
    }

    /// How many servers run on the database.
    pub fn instances(&self) -> usize {
        self.listen.len()
    }

    /// Starts the (first) server and waits until it says where it listens.
    pub async fn start(&mut self) -> Result<Running, Error> {
        self.start_instance(0).await
    }

    /// Starts server `index` and waits until it says where it listens.
    pub async fn start_instance(&mut self, index: usize) -> Result<Running, Error> {
        let database = match &self.database {
            Database::Sqlite(path) => path.clone().into_os_string(),
            Database::Postgres(url) => url.into(),
        };
        let mut command = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(&self.binary);
                command
            }
            None => Command::new(&self.binary),
        };
        command
            .arg("serve")
            .arg("--listen")
            .arg(self.listen[index].to_string())
            .arg("--db")
            .arg(database)
            .arg("--operator-token-file")
            .arg(&self.operator_token)
            .args(&self.options)
            // The server never outlives the harness, even one that is killed.
            .arg("--stop-on-stdin-close")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                }
            });
        }
        let stdout = child.stdout.take().ok_or("no standard output")?;
        let mut lines = BufReader::new(stdout).lines();
        let said = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                    return Some(url.trim_start_matches("http://").to_owned());
                }
            }
            None
        })
        .await;
        let addr: SocketAddr = match said {
            Ok(Some(addr)) => addr.parse().map_err(|e| format!("{addr}: {e}"))?,
            _ => {
                let _ = child.kill().await;
                let log = log.lock().unwrap_or_else(|p| p.into_inner()).join("\n");
                return Err(format!("qrauth serve did not start: {log}"));
            }
        };
        // Keep reading so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.listen[index] = addr;
        Ok(Running {
            child,
            client: Client { addr },
            log,
        })
    }
}

impl Running {
    /// SIGKILL: no shutdown, no flush, requests in flight cut off.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// The process id (of the wrapper, when there is one).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The operator's log so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
