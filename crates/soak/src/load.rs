//! Simulated users, each a page and a phone with a token, running random full flows against
//! one server, or several on one database, while they may be killed and started again (and the
//! database restarted); then every final state is checked against what the users did.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qrauth_core::LoginState;
use qrauth_core::frame::{LoginQr, step_at};
use qrauth_core::signature::{AUTHORIZATION_HEADER, LOGIN_APPROVE_URI_ID};
use qrauth_core::wire::{
    CreateOperation, ErrorBody, LoginApproval, LoginCompleted, LoginCreated, LoginDecision,
    LoginView, NewOperation, OperationState, OperationView, Requester, ScanCode, Verdict,
    VerifyRequest,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use qrauth_server::{Database, Storage};

use crate::http::{Client, Failed, Reply};
use crate::server::{Account, Deployment, OPERATOR_TOKEN};
use crate::token::{PIN, Token, WRONG_PIN};

/// What to run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Users at once.
    pub users: usize,
    /// How long they keep starting flows.
    pub duration: Duration,
    /// SIGKILLs at random moments during the load, each followed by a restart.
    pub kills: usize,
    /// Seeds the users' choices and the moments of the kills.
    pub seed: u64,
    /// Seconds a login or an operation lives (the server's `--login-lifetime` and
    /// `--operation-lifetime`): the final check waits this long for the abandoned ones to expire.
    pub lifetime_s: u64,
    /// Restarts of the database server at random moments (with
    /// [`Deployment::restart_database`]): while it is down, changes are refused with 503 and
    /// "nothing was changed", which users take as a request to send again.
    pub database_restarts: usize,
}

/// What happened.
#[derive(Debug, Default)]
pub struct Report {
    /// Requests that got an answer.
    pub answered: u64,
    /// Requests cut off (no whole answer): the server was being killed.
    pub cut_off: u64,
    /// Requests refused with 503 while the database was down, nothing changed.
    pub unavailable: u64,
    /// When the database restarts came, from the start of the load.
    pub database_restarts: Vec<Duration>,
    /// Answers with a 5xx status: must be none.
    pub server_errors: Vec<String>,
    /// Latency of every answered request, sorted.
    pub latencies: Vec<Duration>,
    /// The slowest answered requests, slowest first: where a long tail comes from.
    pub slowest: Vec<SlowRequest>,
    /// Flows finished, by kind.
    pub flows: BTreeMap<&'static str, u64>,
    /// SIGKILLs delivered, each with the restart after it.
    pub restarts: Vec<Restart>,
    /// Every broken promise found: lost approvals, double approvals, counters going back,
    /// states that disagree with what the user did, sessions stuck. Must be empty.
    pub problems: Vec<String>,
    /// Operations and logins whose final state was checked.
    pub checked: u64,
}

impl Report {
    /// The `q`-quantile of the latencies (0.99 for p99).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[index]
    }

    /// A few lines for people.
    pub fn summary(&self) -> String {
        let flows: Vec<String> = self.flows.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!(
            "requests answered {}, cut off by kills {}, refused while the database was down \
             {}, server errors {}\n\
             latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n\
             flows: {}\n\
             slowest: {}\n\
             kills {}: {}\n\
             database restarts at {:?}\n\
             final states checked {}, problems {}",
            self.answered,
            self.cut_off,
            self.unavailable,
            self.server_errors.len(),
            ms(self.quantile(0.5)),
            ms(self.quantile(0.99)),
            ms(self.latencies.last().copied().unwrap_or_default()),
            flows.join(", "),
            self.slowest
                .iter()
                .map(|slow| format!(
                    "{} at {:.1} s took {:.1} ms ({:.1} ms connecting)",
                    slow.request,
                    slow.at.as_secs_f64(),
                    ms(slow.latency),
                    ms(slow.connecting)
                ))
                .collect::<Vec<_>>()
                .join("; "),
            self.restarts.len(),
            self.restarts
                .iter()
                .map(|restart| format!(
                    "at {:.1} s, answering again after {} ms",
                    restart.killed_at.as_secs_f64(),
                    restart.answered_after.as_millis()
                ))
                .collect::<Vec<_>>()
                .join("; "),
            self.database_restarts,
            self.checked,
            self.problems.len(),
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One of the slowest requests of a run.
#[derive(Clone, Debug)]
pub struct SlowRequest {
    /// Method and path, without the query.
    pub request: String,
    /// When it started, from the start of the load.
    pub at: Duration,
    /// How long until the whole answer was read.
    pub latency: Duration,
    /// How much of that was spent connecting.
    pub connecting: Duration,
}

/// One SIGKILL and the start after it.
#[derive(Clone, Copy, Debug)]
pub struct Restart {
    /// When the kill came, from the start of the load.
    pub killed_at: Duration,
    /// From the kill until the new server answered.
    pub answered_after: Duration,
}

/// What the harness does to the deployment at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// SIGKILL one instance, then start it again.
    Kill,
    /// Restart the database server.
    DatabaseRestart,
}

/// How many of the slowest requests a report lists.
const SLOWEST_KEPT: usize = 5;

/// A small deterministic generator (SplitMix64): the same seed makes the same choices.
#[derive(Clone)]
pub struct Dice(u64);

impl Dice {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Dice(seed)
    }

    /// The next number.
    pub fn roll(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.roll() % 100 < percent
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.roll() % n.max(1)
    }
}

/// Counts shared by every user.
struct Tally {
    /// When the load began: the moments of the slowest requests count from it.
    began: Instant,
    answered: u64,
    cut_off: u64,
    unavailable: u64,
    server_errors: Vec<String>,
    latencies: Vec<Duration>,
    slowest: Vec<SlowRequest>,
    flows: BTreeMap<&'static str, u64>,
    problems: Vec<String>,
}

impl Tally {
    fn new(began: Instant) -> Self {
        Tally {
            began,
            answered: 0,
            cut_off: 0,
            unavailable: 0,
            server_errors: Vec::new(),
            latencies: Vec::new(),
            slowest: Vec::new(),
            flows: BTreeMap::new(),
            problems: Vec::new(),
        }
    }

    /// Counts an answer to `method path` that took `reply.latency`.
    fn answered(&mut self, method: &str, path: &str, reply: &Reply) {
        self.answered += 1;
        self.latencies.push(reply.latency);
        let fastest_kept = self.slowest.last().map(|slow| slow.latency);
        if self.slowest.len() < SLOWEST_KEPT || fastest_kept < Some(reply.latency) {
            let path = path.split_once('?').map_or(path, |(path, _)| path);
            self.slowest.push(SlowRequest {
                request: format!("{method} {path}"),
                at: Instant::now()
                    .checked_sub(reply.latency)
                    .map_or(Duration::ZERO, |sent| {
                        sent.saturating_duration_since(self.began)
                    }),
                latency: reply.latency,
                connecting: reply.connecting,
            });
            self.slowest
                .sort_by_key(|slow| std::cmp::Reverse(slow.latency));
            self.slowest.truncate(SLOWEST_KEPT);
        }
    }
}

/// What a user expects of one thing it did, checked at the end.
enum Expectation {
    /// An operation the user approved (or that may still be pending when abandoned).
    Operation { id: String, approved: bool },
    /// A login and the state the user left it in.
    Login {
        id: String,
        secret: String,
        state: LoginState,
    },
}

/// One simulated person: the page they sign in on and the phone with their token.
struct User {
    name: String,
    token: Token,
    /// Every instance; requests take them in turn, as a round-robin balancer with no sticky
    /// sessions sends them, so one flow crosses instances.
    clients: Arc<[Client]>,
    turn: AtomicUsize,
    dice: Dice,
    tally: Arc<Mutex<Tally>>,
    expectations: Vec<Expectation>,
    /// Failed attempts left, when known for sure (no refusal cut off since the last success).
    remaining: Option<u64>,
}

/// `reply`'s answer when it has `status`; otherwise what went wrong.
fn expect<T: DeserializeOwned>(what: &str, reply: &Reply, status: u16) -> Result<T, String> {
    if reply.status == status {
        reply.answer().map_err(|e| format!("{what}: {e}"))
    } else {
        Err(format!(
            "{what}: expected {status}, got {}",
            reply.describe()
        ))
    }
}

/// A request body as the API takes it.
fn wire_body(body: &impl Serialize) -> Value {
    serde_json::to_value(body).unwrap_or(Value::Null)
}

/// A login's animated QR as its page shows it: the frame of the moment.
struct ShownQr {
    qr: LoginQr,
    since: Instant,
}

impl ShownQr {
    /// The scan code in the frame on the screen now.
    fn scan(&self) -> String {
        let frame = self
            .qr
            .frame(step_at(self.since.elapsed().as_millis() as u64));
        frame
            .split_once("#scan=")
            .map_or(frame.clone(), |(_, scan)| scan.to_owned())
    }
}

fn scan_code(scan: &str) -> Value {
    wire_body(&ScanCode {
        scan_code: scan.to_owned(),
    })
}

fn verify_body(code: &str) -> Value {
    wire_body(&VerifyRequest {
        code: code.to_owned(),
    })
}

/// How long one request waits for its answer; a server being restarted takes a moment.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a user keeps retrying a request the kills cut off.
const RETRY_FOR: Duration = Duration::from_secs(60);

impl User {
    fn problem(&self, text: String) {
        self.tally
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .problems
            .push(format!("{}: {text}", self.name));
    }

    fn finished(&self, flow: &'static str) {
        *self
            .tally
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .flows
            .entry(flow)
            .or_default() += 1;
    }

    /// A login this user left in `state`, to be checked at the end, and its flow counted.
    fn login_ended(&mut self, id: String, secret: String, state: LoginState, flow: &'static str) {
        self.expectations
            .push(Expectation::Login { id, secret, state });
        self.finished(flow);
    }

    /// One request; `None` when it was cut off (and counted).
    async fn once(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Option<Reply> {
        let body = body.map(Value::to_string);
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        let result = self.clients[turn % self.clients.len()]
            .send(
                method,
                path,
                headers,
                body.as_deref().map(str::as_bytes),
                REQUEST_TIMEOUT,
            )
            .await;
        let mut tally = self.tally.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(reply) if refused_unchanged(&reply) => {
                tally.unavailable += 1;
                None
            }
            Ok(reply) => {
                tally.answered(method, path, &reply);
                if reply.status >= 500 {
                    tally
                        .server_errors
                        .push(format!("{method} {path}: {}", reply.describe()));
                }
                Some(reply)
            }
            // Not HTTP: the server answered garbage, which is its fault, not the kill's.
            Err(Failed::Garbled(why)) => {
                tally.server_errors.push(format!("{method} {path}: {why}"));
                None
            }
            Err(Failed::Connection(_) | Failed::Timeout) => {
                tally.cut_off += 1;
                None
            }
        }
    }

    /// A request repeated until it is answered: for those that are safe to repeat.
    async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let started = Instant::now();
        let mut backoff = Backoff::default();
        loop {
            if let Some(reply) = self.once(method, path, headers, body).await {
                return Ok(reply);
            }
            if started.elapsed() > RETRY_FOR {
                return Err(format!("{method} {path}: no answer for {RETRY_FOR:?}"));
            }
            backoff.pause().await;
        }
    }

    async fn run_flow(&mut self) -> Result<(), String> {
        match self.dice.below(100) {
            0..40 => self.online_login().await,
            40..80 => self.offline_approval().await,
            80..90 => self.cancelled_login().await,
            _ => self.abandoned_operation().await,
        }
    }

    /// A new login as the page makes it; returns (id, poll secret, its animated QR).
    async fn new_login(&self) -> Result<(String, String, ShownQr), String> {
        let created = self
            .call("POST", "/api/v1/logins", &[], Some(&json!({})))
            .await?;
        let created: LoginCreated = expect("create login", &created, 201)?;
        let qr = LoginQr::new(&created.qr_text, &created.qr_secret)
            .ok_or(format!("QR text {:?} is no animated QR", created.qr_text))?;
        let shown = ShownQr {
            qr,
            since: Instant::now(),
        };
        Ok((created.login_id, created.poll_secret, shown))
    }

    /// The page's own request on login `id`, with its poll secret, repeated until answered.
    async fn page_call(&self, method: &str, id: &str, secret: &str) -> Result<Reply, String> {
        let bearer = format!("Bearer {secret}");
        self.call(
            method,
            &format!("/api/v1/logins/{id}"),
            &[("Authorization", &bearer)],
            None,
        )
        .await
    }

    /// The number the page shows while the login is SCANNED (number matching).
    async fn shown_number(&self, id: &str, secret: &str) -> Result<String, String> {
        let reply = self.page_call("GET", id, secret).await?;
        let view: LoginView = expect("poll", &reply, 200)?;
        view.number.ok_or(format!(
            "login {id} is {} and shows no number",
            view.state.as_str()
        ))
    }

    async fn login_state(&self, id: &str, secret: &str) -> Result<LoginState, String> {
        let reply = self.page_call("GET", id, secret).await?;
        let view: LoginView = expect("poll", &reply, 200)?;
        Ok(view.state)
    }

    /// The phone scans the page's QR: the login becomes SCANNED and shows who asks. Returns
    /// the scan code of the frame it scanned, which approving and denying repeat.
    async fn attach(&self, qr: &ShownQr) -> Result<String, String> {
        const ATTACH: &str = "/api/v1/token/logins/attach";
        let started = Instant::now();
        let mut backoff = Backoff::default();
        // Each try scans the frame on the screen then, as a person trying again would: a frame
        // kept over a server's restart would be refused as a picture of the QR.
        let (scan, reply) = loop {
            let scan = qr.scan();
            if let Some(reply) = self
                .once("POST", ATTACH, &[], Some(&scan_code(&scan)))
                .await
            {
                break (scan, reply);
            }
            if started.elapsed() > RETRY_FOR {
                return Err(format!("POST {ATTACH}: no answer for {RETRY_FOR:?}"));
            }
            backoff.pause().await;
        };
        let requester: Requester = expect("attach", &reply, 200)?;
        if requester.state != LoginState::Scanned {
            return Err(format!("attach: state {}", requester.state.as_str()));
        }
        Ok(scan)
    }

    /// The phone approves login `id` with `pin`, with a signature of its own (a repeated one
    /// would be a replay); `None` when the request was cut off.
    async fn approve_once(
        &mut self,
        id: &str,
        scan: &str,
        number: Option<&str>,
        pin: &str,
    ) -> Result<Option<Reply>, String> {
        let body = wire_body(&LoginApproval {
            scan_code: scan.to_owned(),
            number: number.map(str::to_owned),
        });
        let value = self
            .token
            .sign(LOGIN_APPROVE_URI_ID, body.to_string().as_bytes(), pin)?;
        let path = format!("/api/v1/token/logins/{id}/approve");
        Ok(self
            .once(
                "POST",
                &path,
                &[(AUTHORIZATION_HEADER, &value)],
                Some(&body),
            )
            .await)
    }

    async fn online_login(&mut self) -> Result<(), String> {
        let (id, secret, qr) = self.new_login().await?;
        let scan = self.attach(&qr).await?;
        // Number matching: the person types the two digits the page shows once scanned.
        let number = self.shown_number(&id, &secret).await?;
        if self.dice.chance(15) {
            if let Some(reply) = self
                .approve_once(&id, &scan, Some(&number), WRONG_PIN)
                .await?
            {
                expect::<ErrorBody>("approve with a wrong PIN", &reply, 401)?;
                self.counted_failure(&reply);
                self.finished("wrong PIN refused (login)");
            } else {
                self.remaining = None;
            }
            if self.login_state(&id, &secret).await? != LoginState::Scanned {
                return Err(format!("login {id} left SCANNED after a wrong PIN"));
            }
        } else if self.dice.chance(20) {
            let reply = self
                .call(
                    "POST",
                    &format!("/api/v1/token/logins/{id}/deny"),
                    &[],
                    Some(&scan_code(&scan)),
                )
                .await?;
            if reply.status != 200 && self.login_state(&id, &secret).await? != LoginState::Denied {
                return Err(format!("deny: {}", reply.describe()));
            }
            self.login_ended(id, secret, LoginState::Denied, "online login denied");
            return Ok(());
        }
        // Approve with the right PIN; a cut-off approval is looked up, then signed afresh (the
        // same signature again would be a replay, which the server rightly refuses). Each
        // signature moves the token's counter on and the server looks only 20 ahead, so the
        // phone waits longer each time, as a real one must: the page's poll may well answer
        // (from the server's memory) while the database that approvals need is down.
        let mut backoff = Backoff::default();
        loop {
            if let Some(reply) = self.approve_once(&id, &scan, Some(&number), PIN).await? {
                expect::<LoginDecision>("approve", &reply, 200)?;
                self.remaining = Some(5);
                break;
            }
            self.remaining = None;
            match self.login_state(&id, &secret).await? {
                LoginState::Approved => break,
                LoginState::Scanned => backoff.pause().await,
                other => {
                    return Err(format!(
                        "login {id} is {} after a cut-off approval",
                        other.as_str()
                    ));
                }
            }
        }
        let bearer = format!("Bearer {secret}");
        let auth = [("Authorization", bearer.as_str())];
        let complete = format!("/api/v1/logins/{id}/complete");
        loop {
            if let Some(reply) = self.once("POST", &complete, &auth, None).await {
                let done: LoginCompleted = expect("complete", &reply, 200)?;
                if done.id_token.split('.').count() != 3 {
                    return Err(format!("complete: no identity token in {done:?}"));
                }
                break;
            }
            match self.login_state(&id, &secret).await? {
                LoginState::Completed => break,
                LoginState::Approved => continue,
                other => {
                    return Err(format!(
                        "login {id} is {} after a cut-off completion",
                        other.as_str()
                    ));
                }
            }
        }
        // Completing twice gives a second identity token to nobody.
        let again = self.call("POST", &complete, &auth, None).await?;
        if again.status != 409 {
            return Err(format!("second completion: {}", again.describe()));
        }
        self.login_ended(id, secret, LoginState::Completed, "online login completed");
        Ok(())
    }

    async fn cancelled_login(&mut self) -> Result<(), String> {
        let (id, secret, qr) = self.new_login().await?;
        let scanned = self.dice.chance(50);
        let mut scan = qr.scan();
        if scanned {
            scan = self.attach(&qr).await?;
        }
        let reply = self.page_call("DELETE", &id, &secret).await?;
        if reply.status != 200 && self.login_state(&id, &secret).await? != LoginState::Canceled {
            return Err(format!("cancel: {}", reply.describe()));
        }
        // The phone is too late: a cancelled login cannot be approved.
        let started = Instant::now();
        let late = loop {
            if let Some(reply) = self.approve_once(&id, &scan, None, PIN).await? {
                break reply;
            }
            if started.elapsed() > RETRY_FOR {
                return Err(format!("approve {id}: no answer for {RETRY_FOR:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if late.status != 409 {
            return Err(format!("approving a cancelled login: {}", late.describe()));
        }
        self.login_ended(id, secret, LoginState::Canceled, "online login cancelled");
        Ok(())
    }

    async fn new_payment(&mut self) -> Result<(String, String), String> {
        let cents = 100 + self.dice.below(99_900);
        let body = wire_body(&CreateOperation::Payment {
            amount: format!("{}.{:02}", cents / 100, cents % 100),
            currency: "EUR".into(),
            iban: "CZ6508000000192000145399".into(),
            payee: Some("Soak test".into()),
            note: None,
            user: Some(self.name.clone()),
            flags: None,
        });
        // As the bank's backend makes them, with the operator's token.
        let operator = format!("Bearer {OPERATOR_TOKEN}");
        let reply = self
            .call(
                "POST",
                "/api/v1/operations",
                &[("Authorization", &operator)],
                Some(&body),
            )
            .await?;
        let created: NewOperation = expect("create operation", &reply, 201)?;
        Ok((created.operation_id, created.payload))
    }

    fn counted_failure(&mut self, reply: &Reply) {
        // A verdict says how many are left; a refused approval (an error) does not.
        let left = reply
            .answer::<Verdict>()
            .ok()
            .map(|v| u64::from(v.remaining_attempts));
        if let (Some(known), Some(left)) = (self.remaining, left)
            && left != known - 1
        {
            self.problem(format!(
                "{known} attempts left, one wrong code, then {left}"
            ));
        }
        self.remaining = left;
    }

    async fn offline_approval(&mut self) -> Result<(), String> {
        let (id, payload) = self.new_payment().await?;
        let path = format!("/api/v1/operations/{id}/verify");
        if self.dice.chance(25) {
            let wrong = self.token.offline_code(&payload, WRONG_PIN)?;
            // Not repeated when cut off: a repeat would count a second failure.
            if let Some(reply) = self
                .once("POST", &path, &[], Some(&verify_body(&wrong)))
                .await
            {
                let verdict: Verdict = expect("verify a wrong code", &reply, 200)?;
                if verdict.valid {
                    return Err(format!(
                        "a code made with a wrong PIN was accepted: {verdict:?}"
                    ));
                }
                self.counted_failure(&reply);
                self.finished("wrong code refused (offline)");
            } else {
                self.remaining = None;
            }
        }
        let code = self.token.offline_code(&payload, PIN)?;
        let body = verify_body(&code);
        let reply = self.call("POST", &path, &[], Some(&body)).await?;
        match (reply.status, reply.error_code().as_str()) {
            (200, _) if reply.answer::<Verdict>().is_ok_and(|v| v.valid) => {}
            // A cut-off attempt that had committed: the repeat finds it approved.
            (409, "operation_already_approved") => {}
            _ => return Err(format!("verify the right code: {}", reply.describe())),
        }
        self.remaining = Some(5);
        if self.dice.chance(30) {
            let replay = self.call("POST", &path, &[], Some(&body)).await?;
            if replay.error_code() != "operation_already_approved" {
                self.problem(format!(
                    "operation {id}: its code again was not refused as already approved: {}",
                    replay.describe()
                ));
            }
        }
        self.expectations
            .push(Expectation::Operation { id, approved: true });
        self.finished("offline approval");
        Ok(())
    }

    async fn abandoned_operation(&mut self) -> Result<(), String> {
        let (id, _) = self.new_payment().await?;
        self.expectations.push(Expectation::Operation {
            id,
            approved: false,
        });
        self.finished("operation abandoned");
        Ok(())
    }

    /// Checks the final state of everything this user did.
    async fn check(&self) -> u64 {
        let mut checked = 0;
        for expectation in &self.expectations {
            checked += 1;
            let outcome = match expectation {
                Expectation::Operation { id, approved } => {
                    match self
                        .call("GET", &format!("/api/v1/operations/{id}"), &[], None)
                        .await
                    {
                        Ok(reply) => {
                            let wanted = if *approved {
                                OperationState::Approved
                            } else {
                                OperationState::Expired
                            };
                            match reply.answer::<OperationView>() {
                                Ok(view) if view.state == wanted => None,
                                Ok(view) => Some(format!(
                                    "operation {id} is {}, not {}",
                                    view.state.as_str(),
                                    wanted.as_str()
                                )),
                                Err(e) => Some(format!("operation {id}: {e}")),
                            }
                        }
                        Err(e) => Some(e),
                    }
                }
                Expectation::Login { id, secret, state } => {
                    match self.login_state(id, secret).await {
                        Ok(found) => (found != *state).then(|| {
                            format!("login {id} is {}, not {}", found.as_str(), state.as_str())
                        }),
                        Err(e) => Some(e),
                    }
                }
            };
            if let Some(problem) = outcome {
                self.problem(problem);
            }
        }
        checked
    }
}

/// The deployment's database as it is now, opened beside the servers: read-only for SQLite,
/// one more client for PostgreSQL.
async fn observer(deployment: &Deployment) -> Result<Storage, String> {
    match &deployment.database {
        Database::Sqlite(path) => Storage::open_read_only(path),
        shared => Storage::connect(shared).await,
    }
    .map_err(|e| e.to_string())
}

/// Pauses between tries of a request that was not answered: 20 ms, doubling up to 500 ms.
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Backoff(Duration::from_millis(20))
    }
}

impl Backoff {
    async fn pause(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(Duration::from_millis(500));
    }
}

/// A 503 that says the database was out of reach and nothing was changed: the server's promise
/// while PostgreSQL restarts, after which the same request may be sent again.
fn refused_unchanged(reply: &Reply) -> bool {
    reply.status == 503
        && reply.error_code() == "storage_unavailable"
        && reply.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nothing was changed"))
}

/// Counters and failed attempts of every activation as the database holds them now.
async fn counters(deployment: &Deployment) -> Result<BTreeMap<String, (i64, u32)>, String> {
    let counters = observer(deployment)
        .await?
        .active_counters()
        .await
        .map_err(|e| e.to_string())?;
    Ok(counters
        .into_iter()
        .map(|(id, counter, failed)| (id, (counter, failed)))
        .collect())
}

/// The `qrauth serve` options for a plan: its lifetimes, and no per-address creation limit
/// (every simulated user comes from 127.0.0.1).
pub fn server_options(plan: &Plan) -> Vec<String> {
    let lifetime = plan.lifetime_s.to_string();
    [
        "--creations-per-minute",
        "1000000000",
        "--login-lifetime",
        &lifetime,
        "--operation-lifetime",
        &lifetime,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Runs the plan against the servers started from `deployment` with `accounts`.
pub async fn run(
    deployment: &mut Deployment,
    accounts: &[Account],
    plan: &Plan,
) -> Result<Report, String> {
    let mut servers = Vec::with_capacity(deployment.instances());
    for index in 0..deployment.instances() {
        servers.push(deployment.start_instance(index).await?);
    }
    let clients: Arc<[Client]> = servers.iter().map(|s| s.client).collect();
    let mut tokens = Vec::with_capacity(accounts.len());
    for (index, account) in accounts.iter().enumerate() {
        let client = &clients[index % clients.len()];
        tokens.push(Token::activate(client, &account.activation_qr, &account.name).await?);
    }
    // One clock for the kills and the slowest requests, so that they can be told apart.
    let began = Instant::now();
    let tally = Arc::new(Mutex::new(Tally::new(began)));
    let mut users = Vec::with_capacity(accounts.len());
    for (index, (account, token)) in accounts.iter().zip(tokens).enumerate() {
        users.push(User {
            name: account.name.clone(),
            token,
            clients: Arc::clone(&clients),
            turn: AtomicUsize::new(index),
            dice: Dice::new(plan.seed ^ (index as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)),
            tally: Arc::clone(&tally),
            expectations: Vec::new(),
            remaining: Some(5),
        });
    }
    let deadline = began + plan.duration;
    let mut tasks = Vec::new();
    for mut user in users {
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                if let Err(problem) = user.run_flow().await {
                    user.problem(problem);
                    // Sign the activation's counter back in step before going on.
                    user.remaining = None;
                }
            }
            user
        }));
    }

    // The faults, at random moments through the load: a SIGKILL of one instance (counters read
    // before it must be there, or further on, after its restart), or a database restart.
    let mut dice = Dice::new(plan.seed.rotate_left(17));
    let mut faults: Vec<(Duration, Fault)> = std::iter::repeat_n(Fault::Kill, plan.kills)
        .chain(std::iter::repeat_n(
            Fault::DatabaseRestart,
            plan.database_restarts,
        ))
        .map(|fault| {
            let at = 0.05 + 0.9 * (dice.below(10_000) as f64 / 10_000.0);
            (plan.duration.mul_f64(at), fault)
        })
        .collect();
    faults.sort_by_key(|(at, _)| *at);
    let mut restarts = Vec::new();
    let mut database_restarts = Vec::new();
    let mut problems = Vec::new();
    for (at, fault) in faults {
        tokio::time::sleep_until((began + at).into()).await;
        if fault == Fault::DatabaseRestart {
            let restart = deployment
                .restart_database
                .clone()
                .ok_or("database restarts need a program that restarts the database")?;
            database_restarts.push(began.elapsed());
            let done = tokio::process::Command::new(&restart)
                .status()
                .await
                .map_err(|e| format!("{}: {e}", restart.display()))?;
            if !done.success() {
                return Err(format!("{} failed: {done}", restart.display()));
            }
            continue;
        }
        let victim = (dice.below(servers.len() as u64)) as usize;
        let before = counters(deployment).await?;
        let killed_server = servers.swap_remove(victim);
        killed_server.kill().await;
        let killed = Instant::now();
        servers.push(deployment.start_instance(victim).await?);
        let last = servers.len() - 1;
        servers.swap(victim, last);
        restarts.push(Restart {
            killed_at: killed - began,
            answered_after: killed.elapsed(),
        });
        let after = counters(deployment).await?;
        for (id, (counter, _)) in &before {
            match after.get(id) {
                Some((now, _)) if now >= counter => {}
                Some((now, _)) => problems.push(format!(
                    "activation {id}: counter {counter} before the kill, {now} after"
                )),
                None => problems.push(format!("activation {id} is no longer active after a kill")),
            }
        }
    }
    let mut users = Vec::new();
    for task in tasks {
        users.push(
            task.await
                .map_err(|e| format!("a user's task failed: {e}"))?,
        );
    }

    // Abandoned operations and logins expire on their own; wait for that, then check all.
    tokio::time::sleep(Duration::from_secs(plan.lifetime_s + 1)).await;
    let mut checked = 0;
    for user in &users {
        checked += user.check().await;
    }
    for user in &users {
        let counters = counters(deployment).await?;
        match counters.get(user.token.activation_id()) {
            Some((server, _)) if (*server as u64) <= user.token.counter() => {}
            Some((server, _)) => problems.push(format!(
                "{}: the server's counter {server} is ahead of the token's {}",
                user.name,
                user.token.counter()
            )),
            None => problems.push(format!("{}: activation not active at the end", user.name)),
        }
    }
    problems.extend(stuck(deployment).await?);
    problems.extend(approved_twice(deployment).await?);
    for server in servers {
        problems.extend(
            server
                .log_lines()
                .into_iter()
                .filter(|line| line.contains("panicked")),
        );
        server.kill().await;
    }

    let mut tally = std::mem::replace(
        &mut *tally.lock().unwrap_or_else(|p| p.into_inner()),
        Tally::new(began),
    );
    tally.latencies.sort();
    problems.extend(tally.problems);
    Ok(Report {
        answered: tally.answered,
        cut_off: tally.cut_off,
        unavailable: tally.unavailable,
        database_restarts,
        server_errors: tally.server_errors,
        latencies: tally.latencies,
        slowest: tally.slowest,
        flows: tally.flows,
        restarts,
        problems,
        checked,
    })
}

/// Logins and operations that are not final although their time is up. Expiry is applied when
/// a row is read, so a row past its expiry is EXPIRED to everyone who asks; a row whose expiry
/// is further away than a lifetime could never leave its state.
async fn stuck(deployment: &Deployment) -> Result<Vec<String>, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis() as i64;
    let waiting = observer(deployment)
        .await?
        .waiting_at(now)
        .await
        .map_err(|e| e.to_string())?;
    Ok(waiting
        .into_iter()
        .map(|row| format!("{row} has not expired after the load"))
        .collect())
}

/// Operations whose approval the audit log records more than once.
async fn approved_twice(deployment: &Deployment) -> Result<Vec<String>, String> {
    let approvals = observer(deployment)
        .await?
        .audit_details("operation.approved")
        .await
        .map_err(|e| e.to_string())?;
    let mut times: BTreeMap<String, usize> = BTreeMap::new();
    for detail in approvals {
        let id = detail.split(' ').next().unwrap_or_default().to_owned();
        *times.entry(id).or_default() += 1;
    }
    Ok(times
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, n)| format!("operation {id} approved {n} times"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(latency_ms: u64) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
            latency: Duration::from_millis(latency_ms),
            connecting: Duration::from_millis(latency_ms / 2),
        }
    }

    #[test]
    fn the_report_keeps_the_five_slowest_requests_slowest_first() {
        let mut tally = Tally::new(Instant::now());
        for (i, latency) in [30, 900, 10, 450, 70, 1200, 20, 300, 5, 600]
            .into_iter()
            .enumerate()
        {
            tally.answered(
                "GET",
                &format!("/api/v1/logins/{i}?wait=20"),
                &reply(latency),
            );
        }
        let kept: Vec<(u128, &str)> = tally
            .slowest
            .iter()
            .map(|slow| (slow.latency.as_millis(), slow.request.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                (1200, "GET /api/v1/logins/5"),
                (900, "GET /api/v1/logins/1"),
                (600, "GET /api/v1/logins/9"),
                (450, "GET /api/v1/logins/3"),
                (300, "GET /api/v1/logins/7"),
            ]
        );
        assert_eq!(tally.answered, 10);
        assert_eq!(tally.slowest[0].connecting, Duration::from_millis(600));
    }
}
