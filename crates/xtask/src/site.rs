//! Several `qrauth serve` on one throwaway PostgreSQL cluster behind haproxy, round-robin with
//! no sticky sessions: the set-up `docs/deploy.md` describes, started for the end-to-end run,
//! `cargo xtask demo --postgres` and the soak, and stopped when the value is dropped.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::postgres::Cluster;
use crate::run::{Supervised, command, free_port, output, qrauth_serve, status, supervise};
use crate::setup::HAPROXY;
use crate::{Failure, Result, build};

/// The database every instance shares.
const DATABASE: &str = "qrauth";

/// One `qrauth serve` of the site.
pub struct Instance {
    /// Where it listens itself, behind the balancer.
    pub url: String,
    pub process: Supervised,
}

/// The running site.
pub struct Site {
    /// The balancer's address: the one URL people and tests use.
    pub url: String,
    /// haproxy's statistics (CSV at `<stats_url>;csv`): which instances are up, and how many
    /// requests each served (`tests/balanced/` reads them).
    pub stats_url: String,
    /// The PostgreSQL URL the instances share, for the command line.
    pub database: String,
    /// The key file every instance holds.
    pub key_file: PathBuf,
    qrauth: PathBuf,
    dir: PathBuf,
    // Fields drop in this order: the balancer, then the instances, then the database.
    _haproxy: Supervised,
    pub instances: Vec<Instance>,
    _cluster: Cluster,
}

impl Site {
    /// `instances` servers of `qrauth` on a new cluster in `target/postgres-<name>`, each
    /// started with `args` as well, behind a balancer on `port` (0: any free one).
    pub fn start(
        name: &str,
        qrauth: &Path,
        instances: usize,
        port: u16,
        args: &[&str],
    ) -> Result<Self> {
        let cluster = Cluster::start(name)?;
        cluster.create_database(DATABASE)?;
        let dir = build::target_dir().join(format!("site-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let key_file = dir.join("storage.key");
        let operator = dir.join("operator.token");
        let database = cluster.url(DATABASE);
        let mut serve_args: Vec<String> = [
            "--listen",
            "127.0.0.1:0",
            "--database",
            &database,
            "--key-file",
            &key_file.to_string_lossy(),
            "--operator-token-file",
            &operator.to_string_lossy(),
            // haproxy names the client in X-Forwarded-For: rate limits and the address the
            // token shows are the person's, not the balancer's.
            "--trusted-proxy",
            "127.0.0.1/32",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        serve_args.extend(args.iter().map(|s| s.to_string()));
        // One after another: the first makes the key file and the operator token that the
        // others then read.
        let mut started = Vec::new();
        for _ in 0..instances {
            started.push(start_instance(qrauth, &serve_args)?);
        }
        let port = if port == 0 { free_port()? } else { port };
        let stats_port = free_port()?;
        let config = dir.join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(port, stats_port, &started))?;
        status(
            command(HAPROXY).arg("-c").arg("-q").arg("-f").arg(&config),
            "haproxy -c (the generated configuration)",
        )?;
        let haproxy = supervise(
            command(HAPROXY).arg("-W").arg("-db").arg("-f").arg(&config),
            "haproxy",
        )?;
        let site = Site {
            url: format!("http://127.0.0.1:{port}"),
            stats_url: format!("http://127.0.0.1:{stats_port}/stats"),
            database,
            key_file,
            qrauth: qrauth.to_owned(),
            dir,
            _haproxy: haproxy,
            instances: started,
            _cluster: cluster,
        };
        site.wait_until_every_instance_is_up()?;
        Ok(site)
    }

    /// Adds a user with a random password through the command line, on the shared database,
    /// and returns the password.
    pub fn add_user(&self, name: &str, replace: bool) -> Result<String> {
        let mut add = command(&self.qrauth);
        add.args(["user", "add", name, "--database", &self.database])
            .arg("--key-file")
            .arg(&self.key_file);
        if replace {
            add.arg("--replace");
        }
        let printed =
            output(&mut add).ok_or_else(|| Failure(format!("qrauth user add {name} failed")))?;
        printed
            .split_whitespace()
            .last()
            .map(str::to_owned)
            .ok_or_else(|| Failure("qrauth user add printed no password".into()))
    }

    /// Whether an instance has stopped by itself.
    pub fn any_instance_exited(&mut self) -> bool {
        self.instances.iter_mut().any(|i| i.process.exited())
    }

    fn wait_until_every_instance_is_up(&self) -> Result {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let csv = http_get(&format!("{};csv", self.stats_url)).unwrap_or_default();
            let up = csv
                .lines()
                .filter(|line| line.starts_with("qrauth,") && line.contains(",UP,"))
                .count();
            if up == self.instances.len() {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(Failure(format!(
                    "haproxy saw {up} of {} instances up within 30 s",
                    self.instances.len()
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_instance(qrauth: &Path, args: &[String]) -> Result<Instance> {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    let (process, url) = qrauth_serve(qrauth, &args)?;
    Ok(Instance { url, process })
}

fn instance_name(index: usize) -> String {
    format!("qrauth{}", index + 1)
}

/// `127.0.0.1:8081` of `http://127.0.0.1:8081`.
fn host_port(url: &str) -> Result<String> {
    url.strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/').to_owned())
        .ok_or_else(|| Failure(format!("{url} is not an http:// URL")))
}

/// The configuration `docs/deploy.md` shows, for instances on loopback.
fn haproxy_config(port: u16, stats_port: u16, instances: &[Instance]) -> String {
    let mut servers = String::new();
    for (index, instance) in instances.iter().enumerate() {
        let address = host_port(&instance.url).unwrap_or_default();
        servers.push_str(&format!(
            "    server {} {address} check inter 500ms fall 2 rise 1\n",
            instance_name(index)
        ));
    }
    format!(
        "# Written by cargo xtask for a throwaway site; docs/deploy.md explains each line.
# No global maxconn: haproxy derives it from the limit of open files it is given.
defaults
    mode http
    option forwardfor
    timeout connect 5s
    # Above the longest long-poll (30 s): a waiting page is not cut off.
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    # A request that found its instance gone goes to another; only before anything was sent,
    # so a request is never applied twice.
    retries 2
    option redispatch

frontend site
    bind 127.0.0.1:{port}
    default_backend qrauth

backend qrauth
    balance roundrobin
    option httpchk GET /api/v1/live
    http-check expect status 200
{servers}
frontend stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats
"
    )
}

/// The body of a GET on loopback, over plain HTTP/1.0.
fn http_get(url: &str) -> Result<String> {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| Failure(format!("{url} is not an http:// URL")))?;
    let (address, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    Ok(reply
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default())
}
