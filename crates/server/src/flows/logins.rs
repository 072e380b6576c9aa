//! Online QR login (passwordless): the page creates a session and polls it with its poll
//! secret; a token attaches by the scan code in the QR, shows who is asking, and approves with
//! a signature or denies; the page completes the approved session once and gets an identity
//! token. The transitions are core's ([`LoginState::after`]); this module applies them to the
//! stored session and wakes the page's long-poll.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qrauth_core::frame::{FrameError, LoginQr, ScannedFrame, matching_number, step_at};
use qrauth_core::signature::LOGIN_APPROVE_URI_ID;
use qrauth_core::wire::{
    LoginApproval, LoginCompleted, LoginCreated, LoginDecision, LoginView, Requester,
};
use qrauth_core::{Denial, LoginRefusal, LoginState, LoginStep};
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use super::attempts::{SignatureError, SignedRequest};
use super::{Authority, ms_until};
use crate::secrets::{random_secret, random_uuid, secret_hash};
use crate::store::{LoginChange, LoginRow, NewLoginRow, StorageError, Tx, now_ms};
use crate::vault::Vault;

/// Time a page has to complete a login once it is approved.
const COMPLETION_GRACE_MS: i64 = 60_000;

/// Why a login step was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// No session of that id.
    #[error("no such login session")]
    NotFound,
    /// The poll secret is not this session's.
    #[error("the poll secret does not belong to this login")]
    WrongPollSecret,
    /// The scan code is not a session waiting here.
    #[error("the scan code is not a login waiting here")]
    UnknownScanCode,
    /// The scanned QR frame was refused: stale (a picture of the QR), forged, or no frame.
    #[error("{0}")]
    Frame(FrameError),
    /// Number matching is on and the approval carries no number.
    #[error("type the two digits the sign-in page shows")]
    NumberRequired,
    /// The number typed on the token is not the page's: the login is now DENIED.
    #[error("the number typed is not the one the page shows")]
    WrongNumber,
    /// The login was given all the time the server allows.
    #[error("the login was extended as often as the server allows")]
    ExtensionLimit,
    /// The session's state does not allow the step.
    #[error("{0:?}")]
    Refused(LoginRefusal),
    /// The approval's signature was refused.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl crate::store::Outcome for LoginError {
    fn rolls_back(&self) -> bool {
        matches!(
            self,
            LoginError::Storage(_) | LoginError::Signature(SignatureError::Storage(_))
        )
    }
}

/// Wakes long-polls when a login changes. Waiters hold a receiver, never a database
/// connection; senders are dropped when the last waiter leaves. It also remembers what polls
/// read, until the login changes.
#[derive(Default)]
pub(crate) struct LoginWatch {
    senders: Mutex<HashMap<String, watch::Sender<()>>>,
    seen: Mutex<SeenLogins>,
}

/// Logins as polls last read them. A page polls its login again and again (every long-poll
/// starts with a read), and each read costs a trip to the database (on PostgreSQL, over the
/// network); a remembered login answers from memory. Only servers change login sessions (the
/// command line does not), and every change is announced here before its waiters wake (this
/// server's own at once, another's by LISTEN/NOTIFY), and the announcement forgets the login,
/// so an answer from memory is never older than a read just before the change. A login is
/// remembered no longer than the poll interval: the interval in which the periodic re-check
/// finds a change whose notification was lost.
#[derive(Default)]
struct SeenLogins {
    /// Moves on at every announcement: a read that began before one is not remembered after it.
    generation: u64,
    logins: HashMap<String, Seen>,
}

/// What a poll needs of a login.
#[derive(Clone)]
struct Seen {
    poll_secret_hash: Vec<u8>,
    state: LoginState,
    denial: Option<Denial>,
    expires_ms: i64,
    read_at: std::time::Instant,
}

/// Logins remembered at most; beyond it the reads older than the poll interval are dropped,
/// and if that is not enough, all of them.
const MOST_SEEN: usize = 20_000;

impl LoginWatch {
    fn subscribe<'a>(&'a self, id: &'a str) -> Waiter<'a> {
        let mut senders = self.senders.lock().unwrap_or_else(|p| p.into_inner());
        let changes = senders
            .entry(id.to_owned())
            .or_insert_with(|| watch::channel(()).0)
            .subscribe();
        Waiter {
            watch: self,
            id,
            changes,
        }
    }

    fn notify(&self, id: &str) {
        self.forget(Some(id));
        let senders = self.senders.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = senders.get(id) {
            sender.send_replace(());
        }
    }

    /// Wakes every waiter, to look again after changes may have gone unannounced.
    fn notify_all(&self) {
        self.forget(None);
        let senders = self.senders.lock().unwrap_or_else(|p| p.into_inner());
        for sender in senders.values() {
            sender.send_replace(());
        }
    }

    /// Forgets login `id`, or every login.
    fn forget(&self, id: Option<&str>) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.generation += 1;
        match id {
            Some(id) => {
                seen.logins.remove(id);
            }
            None => seen.logins.clear(),
        }
    }

    /// Where a read begins, for [`LoginWatch::remember`].
    fn generation(&self) -> u64 {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .generation
    }

    /// Remembers `row` as read by a read that began at `since`, unless a change was announced
    /// since then.
    fn remember(&self, id: &str, since: u64, row: &LoginRow, lifetime: Duration) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.generation != since {
            return;
        }
        if seen.logins.len() >= MOST_SEEN {
            seen.logins.retain(|_, s| s.read_at.elapsed() < lifetime);
            if seen.logins.len() >= MOST_SEEN {
                seen.logins.clear();
            }
        }
        seen.logins.insert(
            id.to_owned(),
            Seen {
                poll_secret_hash: row.poll_secret_hash.clone(),
                state: row.state,
                denial: row.denial,
                expires_ms: row.expires_ms,
                read_at: std::time::Instant::now(),
            },
        );
    }

    /// Login `id` as a poll read it within `lifetime`.
    fn seen(&self, id: &str, lifetime: Duration) -> Option<Seen> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.logins
            .get(id)
            .filter(|s| s.read_at.elapsed() < lifetime)
            .cloned()
    }
}

/// A long-poll's place in the [`LoginWatch`]. Leaving it, also when the page goes away in the
/// middle of the wait and its request is dropped, forgets the login once no one waits on it.
struct Waiter<'a> {
    watch: &'a LoginWatch,
    id: &'a str,
    changes: watch::Receiver<()>,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        let mut senders = self.watch.senders.lock().unwrap_or_else(|p| p.into_inner());
        // Only this waiter's receiver is left; subscribing takes the same lock.
        if senders
            .get(self.id)
            .is_some_and(|s| s.receiver_count() == 1)
        {
            senders.remove(self.id);
        }
    }
}

/// Who asks for a new login.
pub(crate) struct LoginRequester {
    /// The page's origin, for the QR link.
    pub(crate) origin: String,
    /// The browser's address as the server saw it.
    pub(crate) address: String,
    /// Its User-Agent.
    pub(crate) agent: String,
}

/// An approved login, completed: the page's answer and whose browser session to start.
pub(crate) struct Completion {
    pub(crate) completed: LoginCompleted,
    pub(crate) user_id: i64,
    /// What the token proved.
    pub(crate) factors: qrauth_core::FactorType,
}

/// The audit log's name of a login's move into `state`.
fn audit_event(state: LoginState) -> &'static str {
    match state {
        LoginState::Pending => "login.created",
        LoginState::Scanned => "login.scanned",
        LoginState::Approved => "login.approved",
        LoginState::Completed => "login.completed",
        LoginState::Denied => "login.denied",
        LoginState::Expired => "login.expired",
        LoginState::Canceled => "login.canceled",
    }
}

fn check_hash(stored: &[u8], presented: &str) -> bool {
    bool::from(stored.ct_eq(&secret_hash(presented)))
}

/// Reads session `id` with its expiry applied, writing the expiry down when it just happened.
fn load(tx: &mut dyn Tx, id: &str) -> Result<Option<LoginRow>, StorageError> {
    let Some(mut row) = tx.login(id)? else {
        return Ok(None);
    };
    let now = now_ms();
    let state = row.state.at(row.expires_ms, now);
    if state != row.state {
        tx.set_login_state(id, state, now)?;
        tx.record(audit_event(state), id)?;
        row.state = state;
    }
    Ok(Some(row))
}

/// Session `id` for its page, which proves itself with the poll secret.
fn page_login(tx: &mut dyn Tx, id: &str, poll_secret: &str) -> Result<LoginRow, LoginError> {
    for_page(load(tx, id)?, poll_secret)
}

/// `row`, if the page's poll secret is its own.
fn for_page(row: Option<LoginRow>, poll_secret: &str) -> Result<LoginRow, LoginError> {
    let row = row.ok_or(LoginError::NotFound)?;
    if !check_hash(&row.poll_secret_hash, poll_secret) {
        return Err(LoginError::WrongPollSecret);
    }
    Ok(row)
}

/// Session `id` for a token, which proves itself with the frame of the login's QR it scanned.
/// The frame's age was checked when the token attached; approving takes the person longer.
fn token_login(
    tx: &mut dyn Tx,
    vault: &Vault,
    id: &str,
    scanned: &str,
) -> Result<LoginRow, LoginError> {
    let frame = ScannedFrame::parse(scanned).map_err(LoginError::Frame)?;
    let row = load(tx, id)?.ok_or(LoginError::NotFound)?;
    if !check_hash(&row.scan_code_hash, frame.scan_code) {
        return Err(LoginError::UnknownScanCode);
    }
    frame
        .check_mac(&vault.frame_secret(id))
        .map_err(LoginError::Frame)?;
    Ok(row)
}

/// Applies `step` to `row` by core's state machine, writing the new state and its audit event
/// (with `detail`) when the state changed.
fn step(
    tx: &mut dyn Tx,
    id: &str,
    row: &LoginRow,
    step: LoginStep,
    detail: &str,
) -> Result<LoginState, LoginError> {
    let next = row.state.after(step).map_err(LoginError::Refused)?;
    if next != row.state {
        tx.set_login_state(id, next, now_ms())?;
        tx.record(audit_event(next), detail)?;
    }
    Ok(next)
}

/// DENIED for `denial` by core's state machine, with its audit event (with `detail`).
fn deny(
    tx: &mut dyn Tx,
    id: &str,
    row: &LoginRow,
    denial: Denial,
    detail: &str,
) -> Result<LoginState, LoginError> {
    let next = row
        .state
        .after(LoginStep::Deny)
        .map_err(LoginError::Refused)?;
    tx.deny_login(id, denial, now_ms())?;
    tx.record(audit_event(next), detail)?;
    Ok(next)
}

fn page_view(id: &str, expires_ms: i64, state: LoginState, now: i64) -> LoginView {
    LoginView {
        login_id: id.to_owned(),
        state,
        expires_at: expires_ms,
        expires_in_ms: ms_until(expires_ms, now),
        number: None,
        denial: None,
    }
}

impl Authority {
    /// Wakes this server's long-polls when another server on the same database changes their
    /// login; a database only this server uses needs nothing. The watcher stops once every
    /// clone of this authority is gone.
    pub(crate) fn watch_other_servers(&self) {
        if !self.storage.is_shared() {
            return;
        }
        let watch = Arc::downgrade(&self.login_watch);
        self.storage.watch_logins(
            self.policy.poll_interval,
            Arc::new(move |change| {
                let Some(watch) = watch.upgrade() else {
                    return false;
                };
                match change {
                    LoginChange::Login(id) => watch.notify(id),
                    LoginChange::Everything => watch.notify_all(),
                    LoginChange::Nothing => {}
                }
                true
            }),
        );
    }

    /// A new login session for the page of `requester`.
    pub(crate) async fn create_login(
        &self,
        requester: LoginRequester,
    ) -> Result<LoginCreated, LoginError> {
        let id = random_uuid()?;
        let poll_secret = random_secret()?;
        let scan_code = random_secret()?;
        let now = now_ms();
        let policy = &self.policy;
        let expires_at = now + policy.login_lifetime.as_millis() as i64;
        let (row_id, service) = (id.clone(), policy.service_name.clone());
        let (poll_hash, scan_hash) = (secret_hash(&poll_secret), secret_hash(&scan_code));
        let address = requester.address;
        let agent: String = requester.agent.chars().take(512).collect();
        self.storage
            .transaction(move |tx| {
                tx.insert_login(&NewLoginRow {
                    id: &row_id,
                    poll_secret_hash: &poll_hash,
                    scan_code_hash: &scan_hash,
                    service: &service,
                    requester_address: &address,
                    requester_agent: &agent,
                    created_ms: now,
                    expires_ms: expires_at,
                })?;
                tx.record(
                    audit_event(LoginState::Pending),
                    &format!("{row_id} from {address}"),
                )
            })
            .await?;
        let qr_secret = self.vault.frame_secret(&id);
        let qr = LoginQr::from_parts(
            format!("{}/token#scan={scan_code}", requester.origin),
            qr_secret.clone(),
        );
        Ok(LoginCreated {
            qr_text: qr.frame(0),
            qr_secret: qr_secret.to_text(),
            login_id: id,
            poll_secret,
            state: LoginState::Pending,
            expires_at,
            expires_in_ms: ms_until(expires_at, now),
            poll_interval_ms: policy.poll_interval.as_millis() as u64,
            long_poll_max_seconds: policy.max_long_poll.as_secs(),
        })
    }

    async fn login_view(&self, id: &str, poll_secret: &str) -> Result<LoginView, LoginError> {
        let lifetime = self.policy.poll_interval;
        if let Some(seen) = self.login_watch.seen(id, lifetime) {
            if !check_hash(&seen.poll_secret_hash, poll_secret) {
                return Err(LoginError::WrongPollSecret);
            }
            let now = now_ms();
            if seen.state.at(seen.expires_ms, now) == seen.state {
                return Ok(
                    self.with_news(page_view(id, seen.expires_ms, seen.state, now), seen.denial)
                );
            }
        }
        let since = self.login_watch.generation();
        let (row_id, secret) = (id.to_owned(), poll_secret.to_owned());
        // Polls are most of the traffic: a plain read of the row, unless it is due to expire,
        // which is a write with its audit event, in a transaction.
        let read = self
            .storage
            .read(move |tx| -> Result<_, LoginError> {
                let row = for_page(tx.login(&row_id)?, &secret)?;
                Ok((row.state.at(row.expires_ms, now_ms()) == row.state).then_some(row))
            })
            .await?;
        if let Some(row) = read {
            self.login_watch.remember(id, since, &row, lifetime);
            let view = page_view(id, row.expires_ms, row.state, now_ms());
            return Ok(self.with_news(view, row.denial));
        }
        let (id, secret) = (id.to_owned(), poll_secret.to_owned());
        let (view, denial) = self
            .storage
            .transaction(move |tx| -> Result<_, LoginError> {
                let row = page_login(tx, &id, &secret)?;
                Ok((
                    page_view(&id, row.expires_ms, row.state, now_ms()),
                    row.denial,
                ))
            })
            .await?;
        Ok(self.with_news(view, denial))
    }

    /// `view` with what the page shows beside the state: the number to type on the token
    /// while SCANNED (with number matching), and why a denied login was denied.
    fn with_news(&self, view: LoginView, denial: Option<Denial>) -> LoginView {
        let number = (view.state == LoginState::Scanned && self.policy.number_matching)
            .then(|| matching_number(&self.vault.frame_secret(&view.login_id)));
        LoginView {
            number,
            denial: denial.filter(|_| view.state == LoginState::Denied),
            ..view
        }
    }

    /// The state of login `id` now, or as soon as it differs from `known` within `wait` (at
    /// most the policy's longest long-poll).
    pub(crate) async fn poll_login(
        &self,
        id: &str,
        poll_secret: &str,
        wait: Duration,
        known: Option<LoginState>,
    ) -> Result<LoginView, LoginError> {
        let wait = wait.min(self.policy.max_long_poll);
        // Subscribe before reading, so a change between the read and the wait is not missed.
        let mut waiter = self.login_watch.subscribe(id);
        let first = self.login_view(id, poll_secret).await;
        match first {
            Ok(view)
                if !wait.is_zero()
                    && !view.state.is_final()
                    && known.is_none_or(|k| k == view.state) =>
            {
                let until_expiry = Duration::from_millis(view.expires_in_ms + 50);
                let deadline = tokio::time::Instant::now() + wait.min(until_expiry);
                let known = view.state;
                // A wake-up only says "look again": another server's re-check or reconnect
                // wakes waiters whose login did not change, and they go on waiting.
                loop {
                    let woken = tokio::time::timeout_at(deadline, waiter.changes.changed()).await;
                    let view = self.login_view(id, poll_secret).await;
                    match &view {
                        Ok(v) if woken.is_ok_and(|r| r.is_ok()) && v.state == known => {}
                        _ => break view,
                    }
                }
            }
            other => other,
        }
    }

    /// The person needs more time (WCAG 2.2.1): an open login lives its lifetime again from
    /// now, up to `login_lifetime × (1 + login_extensions)` from its creation.
    pub(crate) async fn extend_login(
        &self,
        id: &str,
        poll_secret: &str,
    ) -> Result<LoginView, LoginError> {
        let lifetime = self.policy.login_lifetime.as_millis() as i64;
        let longest = lifetime.saturating_mul(1 + i64::from(self.policy.login_extensions));
        let (row_id, secret) = (id.to_owned(), poll_secret.to_owned());
        let view = self
            .storage
            .transaction(move |tx| -> Result<_, LoginError> {
                let row = page_login(tx, &row_id, &secret)?;
                row.state
                    .after(LoginStep::Extend)
                    .map_err(LoginError::Refused)?;
                let now = now_ms();
                let bound = row.created_ms.saturating_add(longest);
                if row.expires_ms >= bound {
                    return Err(LoginError::ExtensionLimit);
                }
                // Asked again at once, it gives nothing more, and takes nothing away.
                let expires = (now + lifetime).min(bound).max(row.expires_ms);
                tx.extend_login(&row_id, expires, now)?;
                tx.record("login.extended", &row_id)?;
                Ok(page_view(&row_id, expires, row.state, now))
            })
            .await?;
        self.login_watch.notify(id);
        Ok(self.with_news(view, None))
    }

    /// The page gives up waiting: an open login becomes CANCELED.
    pub(crate) async fn cancel_login(
        &self,
        id: &str,
        poll_secret: &str,
    ) -> Result<LoginView, LoginError> {
        let (row_id, secret) = (id.to_owned(), poll_secret.to_owned());
        let view = self
            .storage
            .transaction(move |tx| -> Result<_, LoginError> {
                let row = page_login(tx, &row_id, &secret)?;
                let state = step(tx, &row_id, &row, LoginStep::Cancel, &row_id)?;
                Ok(LoginView {
                    expires_in_ms: 0,
                    ..page_view(&row_id, row.expires_ms, state, now_ms())
                })
            })
            .await?;
        self.login_watch.notify(id);
        Ok(view)
    }

    /// The identity token of an approved login, exactly once, issued by `issuer`.
    pub(crate) async fn complete_login(
        &self,
        id: &str,
        poll_secret: &str,
        issuer: String,
    ) -> Result<Completion, LoginError> {
        let authority = self.clone();
        let (row_id, secret) = (id.to_owned(), poll_secret.to_owned());
        let completion = self
            .storage
            .transaction(move |tx| -> Result<_, LoginError> {
                let row = page_login(tx, &row_id, &secret)?;
                row.state
                    .after(LoginStep::Complete)
                    .map_err(LoginError::Refused)?;
                let Some((user_id, activation, factors)) = &row.approver else {
                    return Err(StorageError::bad_row(
                        "login",
                        &row_id,
                        "approved without approver",
                    )
                    .into());
                };
                let user = tx.user_name(*user_id)?.ok_or_else(|| {
                    StorageError::bad_row("login", &row_id, "its approver's user is gone")
                })?;
                let claims = super::identity::Claims::new(
                    &issuer,
                    &user,
                    &row_id,
                    activation,
                    *factors,
                    now_ms(),
                )?;
                let id_token = super::identity::sign(
                    &authority.keys.identity,
                    &authority.keys.identity_jwk,
                    &claims,
                );
                let detail = format!("{row_id} user {user:?}");
                step(tx, &row_id, &row, LoginStep::Complete, &detail)?;
                Ok(Completion {
                    completed: LoginCompleted {
                        login_id: row_id.clone(),
                        user,
                        factors: factors.name().to_owned(),
                        id_token,
                    },
                    user_id: *user_id,
                    factors: *factors,
                })
            })
            .await?;
        self.login_watch.notify(id);
        Ok(completion)
    }

    /// A token scanned a frame of a login QR: if the frame is the login's and recent, the
    /// login becomes SCANNED (attaching again while it is SCANNED answers the same) and the
    /// token learns who is asking.
    pub(crate) async fn attach_login(&self, scanned: &str) -> Result<Requester, LoginError> {
        // Refused before the database is asked when it is no frame at all.
        ScannedFrame::parse(scanned).map_err(LoginError::Frame)?;
        let scanned = scanned.to_owned();
        let vault = self.vault.clone();
        let window = self.policy.qr_frame_window.as_secs();
        let number_matching = self.policy.number_matching;
        let requester = self
            .storage
            .transaction(move |tx| -> Result<_, LoginError> {
                let frame = ScannedFrame::parse(&scanned).map_err(LoginError::Frame)?;
                let id = tx
                    .login_by_scan_code(&secret_hash(frame.scan_code))?
                    .ok_or(LoginError::UnknownScanCode)?;
                let row = load(tx, &id)?.ok_or(LoginError::UnknownScanCode)?;
                // An ended login says so, whatever the frame: the page shows a new code.
                row.state
                    .after(LoginStep::Attach)
                    .map_err(LoginError::Refused)?;
                let age_ms = u64::try_from(now_ms() - row.created_ms).unwrap_or(0);
                frame
                    .check(&vault.frame_secret(&id), step_at(age_ms), window)
                    .map_err(LoginError::Frame)?;
                let state = step(tx, &id, &row, LoginStep::Attach, &id)?;
                Ok(Requester {
                    login_id: id,
                    state,
                    number_matching,
                    service: row.service,
                    browser: qrauth_core::login::describe_browser(&row.agent),
                    address: row.address,
                    requested_at: row.created_ms,
                    expires_at: row.expires_ms,
                    expires_in_ms: ms_until(row.expires_ms, now_ms()),
                })
            })
            .await?;
        self.login_watch.notify(&requester.login_id);
        Ok(requester)
    }

    /// The person approved on the token: the login becomes APPROVED for the signing
    /// activation's user, once the signature of `body` checks out. With number matching, a
    /// number that is not the page's denies the login (whoever approves without looking at the
    /// screen gets no second guess), and none at all changes nothing.
    pub(crate) async fn approve_login(
        &self,
        id: &str,
        approval: LoginApproval,
        signed: SignedRequest,
        body: Vec<u8>,
    ) -> Result<LoginDecision, LoginError> {
        let authority = self.clone();
        let vault = self.vault.clone();
        let number_matching = self.policy.number_matching;
        let row_id = id.to_owned();
        let decided = self
            .storage
            .transaction(move |tx| -> Result<_, LoginError> {
                let row = token_login(tx, &vault, &row_id, &approval.scan_code)?;
                let next = row
                    .state
                    .after(LoginStep::Approve)
                    .map_err(LoginError::Refused)?;
                if number_matching {
                    let shown = matching_number(&vault.frame_secret(&row_id));
                    let typed = approval
                        .number
                        .as_deref()
                        .ok_or(LoginError::NumberRequired)?;
                    if !bool::from(typed.as_bytes().ct_eq(shown.as_bytes())) {
                        let detail = format!("{row_id}: the number typed on the token was wrong");
                        deny(tx, &row_id, &row, Denial::WrongNumber, &detail)?;
                        return Err(LoginError::WrongNumber);
                    }
                }
                let signer =
                    authority.check_signed_request(tx, &signed, LOGIN_APPROVE_URI_ID, &body)?;
                let now = now_ms();
                tx.approve_login(
                    &row_id,
                    (signer.user_id, &signer.activation_id, signer.factors),
                    now + COMPLETION_GRACE_MS,
                    now,
                )?;
                tx.record(
                    audit_event(LoginState::Approved),
                    &format!(
                        "{row_id} by {} user {:?}",
                        signer.activation_id, signer.user
                    ),
                )?;
                Ok(LoginDecision {
                    login_id: row_id.clone(),
                    state: next,
                })
            })
            .await;
        // A wrong number was written down as a denial, which the page is waiting to hear.
        if matches!(decided, Ok(_) | Err(LoginError::WrongNumber)) {
            self.login_watch.notify(id);
        }
        decided
    }

    /// The person refused on the token. Needs no signature: whoever holds the scan code may
    /// refuse, and refusing grants nothing.
    pub(crate) async fn deny_login(
        &self,
        id: &str,
        scan_code: String,
    ) -> Result<LoginDecision, LoginError> {
        let vault = self.vault.clone();
        let row_id = id.to_owned();
        let view = self
            .storage
            .transaction(move |tx| -> Result<_, LoginError> {
                let row = token_login(tx, &vault, &row_id, &scan_code)?;
                let state = deny(tx, &row_id, &row, Denial::OnToken, &row_id)?;
                Ok(LoginDecision {
                    login_id: row_id.clone(),
                    state,
                })
            })
            .await?;
        self.login_watch.notify(id);
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::flows::Policy;
    use crate::flows::tests::in_memory;

    fn requester() -> LoginRequester {
        LoginRequester {
            origin: "https://login.example.com".into(),
            address: "192.0.2.1".into(),
            agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36".into(),
        }
    }

    fn scan_code(created: &LoginCreated) -> String {
        created.qr_text.split_once("#scan=").unwrap().1.to_owned()
    }

    #[tokio::test]
    async fn a_login_moves_only_as_its_state_allows_and_each_change_is_audited() {
        let authority = in_memory(Policy::default()).await;
        let created = authority.create_login(requester()).await.unwrap();
        let (id, secret, scan) = (&created.login_id, &created.poll_secret, scan_code(&created));
        assert_eq!(created.state, LoginState::Pending);
        assert!(
            created
                .qr_text
                .starts_with("https://login.example.com/token#scan=")
        );

        let poll =
            async |secret: &str| authority.poll_login(id, secret, Duration::ZERO, None).await;
        assert!(matches!(
            poll("wrong").await,
            Err(LoginError::WrongPollSecret)
        ));
        assert!(matches!(
            authority.complete_login(id, secret, "issuer".into()).await,
            Err(LoginError::Refused(LoginRefusal::WrongState {
                state: LoginState::Pending,
                step: LoginStep::Complete
            }))
        ));
        assert!(matches!(
            authority.deny_login(id, scan.clone()).await,
            Err(LoginError::Refused(LoginRefusal::WrongState {
                state: LoginState::Pending,
                step: LoginStep::Deny
            }))
        ));

        let asking = authority.attach_login(&scan).await.unwrap();
        assert_eq!(asking.state, LoginState::Scanned);
        assert_eq!(asking.browser, "Chrome 131 on Linux");
        assert_eq!(asking.address, "192.0.2.1");
        assert_eq!(
            authority.attach_login(&scan).await.unwrap().state,
            LoginState::Scanned,
            "a token that scans again is answered the same"
        );
        assert!(matches!(
            authority.attach_login("no-such-code.0.AAAAAAAAAAA").await,
            Err(LoginError::UnknownScanCode)
        ));
        assert!(matches!(
            authority.attach_login("no-frame").await,
            Err(LoginError::Frame(FrameError::Missing))
        ));
        assert!(matches!(
            authority
                .deny_login(id, "another-code.0.AAAAAAAAAAA".into())
                .await,
            Err(LoginError::UnknownScanCode)
        ));
        assert_eq!(poll(secret).await.unwrap().state, LoginState::Scanned);

        let denied = authority.deny_login(id, scan.clone()).await.unwrap();
        assert_eq!(denied.state, LoginState::Denied);
        assert_eq!(poll(secret).await.unwrap().state, LoginState::Denied);
        assert!(matches!(
            authority.cancel_login(id, secret).await,
            Err(LoginError::Refused(LoginRefusal::WrongState {
                state: LoginState::Denied,
                step: LoginStep::Cancel
            }))
        ));
        let events = authority
            .storage
            .audit_details("login.scanned")
            .await
            .unwrap();
        assert_eq!(events, [id.as_str()], "the second attach wrote nothing");
        assert_eq!(
            authority.storage.last_audit_event().await.unwrap(),
            Some(("login.denied".into(), id.clone()))
        );
    }

    #[tokio::test]
    async fn a_login_past_its_time_is_expired_for_everyone_and_written_down_once() {
        let authority = in_memory(Policy {
            login_lifetime: Duration::ZERO,
            ..Policy::default()
        })
        .await;
        let created = authority.create_login(requester()).await.unwrap();
        let (id, secret) = (&created.login_id, &created.poll_secret);
        let view = authority
            .poll_login(id, secret, Duration::ZERO, None)
            .await
            .unwrap();
        assert_eq!((view.state, view.expires_in_ms), (LoginState::Expired, 0));
        assert!(matches!(
            authority.attach_login(&scan_code(&created)).await,
            Err(LoginError::Refused(LoginRefusal::Expired))
        ));
        assert!(matches!(
            authority.cancel_login(id, secret).await,
            Err(LoginError::Refused(LoginRefusal::Expired))
        ));
        let expired = authority
            .storage
            .audit_details("login.expired")
            .await
            .unwrap();
        assert_eq!(expired, [id.as_str()]);
    }

    #[tokio::test]
    async fn a_long_poll_answers_as_soon_as_the_token_attaches() {
        let authority = in_memory(Policy::default()).await;
        let created = authority.create_login(requester()).await.unwrap();
        let waiting = {
            let authority = authority.clone();
            let (id, secret) = (created.login_id.clone(), created.poll_secret.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let view = authority
                    .poll_login(
                        &id,
                        &secret,
                        Duration::from_secs(20),
                        Some(LoginState::Pending),
                    )
                    .await;
                (view, started.elapsed())
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        authority.attach_login(&scan_code(&created)).await.unwrap();
        let (view, waited) = waiting.await.unwrap();
        assert_eq!(view.unwrap().state, LoginState::Scanned);
        assert!(waited < Duration::from_secs(10), "{waited:?}");
        assert!(
            authority.login_watch.senders.lock().unwrap().is_empty(),
            "the waiter's channel is released"
        );
    }
}
