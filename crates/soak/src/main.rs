//! `qrauth-soak`: simulated users against `qrauth serve`, with SIGKILLs; prints the figures and
//! fails when a promise was broken. `cargo xtask soak` runs it with the numbers.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use qrauth_soak::load::{self, Plan};
use qrauth_soak::server::Deployment;

const USAGE: &str = "usage: qrauth-soak --qrauth PATH [--users 200] [--seconds 60] [--kills 6] \
                     [--lifetime 20] [--seed N] [--postgres URL [--instances 3] \
                     [--database-restarts N --restart-database PROGRAM]]";

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("soak: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, String> {
    let mut binary = None;
    let mut plan = Plan {
        users: 200,
        duration: Duration::from_secs(60),
        kills: 6,
        seed: 1,
        lifetime_s: 20,
        database_restarts: 0,
    };
    let mut postgres = None;
    let mut instances = 1;
    let mut restart_database = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{flag}: {text:?} is not a number"))
        };
        match flag.as_str() {
            "--qrauth" => binary = Some(PathBuf::from(value()?)),
            "--users" => plan.users = number(value()?)? as usize,
            "--seconds" => plan.duration = Duration::from_secs(number(value()?)?),
            "--kills" => plan.kills = number(value()?)? as usize,
            "--lifetime" => plan.lifetime_s = number(value()?)?,
            "--seed" => plan.seed = number(value()?)?,
            "--postgres" => postgres = Some(value()?),
            "--instances" => instances = number(value()?)? as usize,
            "--database-restarts" => plan.database_restarts = number(value()?)? as usize,
            "--restart-database" => restart_database = Some(PathBuf::from(value()?)),
            _ => return Err(USAGE.to_owned()),
        }
    }
    let binary = binary.ok_or(USAGE)?;
    if postgres.is_none() && (instances > 1 || plan.database_restarts > 0) {
        return Err(format!(
            "several instances and database restarts need --postgres\n{USAGE}"
        ));
    }
    if plan.database_restarts > 0 && restart_database.is_none() {
        return Err(format!(
            "--database-restarts needs --restart-database\n{USAGE}"
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("qrauth-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let outcome = runtime.block_on(async {
        let started = Instant::now();
        let (mut deployment, accounts) = match &postgres {
            Some(url) => {
                let database = url.parse().map_err(|e| format!("--postgres: {e}"))?;
                Deployment::create_on(&binary, &dir, database, plan.users).await?
            }
            None => Deployment::create(&binary, &dir, plan.users).await?,
        };
        deployment.options = load::server_options(&plan);
        deployment.with_instances(instances);
        deployment.restart_database = restart_database;
        println!(
            "soak: {} users with tokens, {:?} of load, {} instance(s) on {}, {} SIGKILLs, {} \
             database restarts, seed {} (set-up {:.1} s)",
            plan.users,
            plan.duration,
            deployment.instances(),
            deployment.database,
            plan.kills,
            plan.database_restarts,
            plan.seed,
            started.elapsed().as_secs_f64()
        );
        load::run(&mut deployment, &accounts, &plan).await
    });
    let _ = std::fs::remove_dir_all(&dir);
    let report = outcome?;
    println!("{}", report.summary());
    for error in &report.server_errors {
        println!("server error: {error}");
    }
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    Ok(report.server_errors.is_empty() && report.problems.is_empty())
}
