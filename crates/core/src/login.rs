//! Online QR login sessions: the states a session goes through, shared by the server that keeps
//! them and the page that polls them (`docs/api.md`).
//!
//! ```text
//! PENDING -> SCANNED -> APPROVED -> COMPLETED
//! PENDING | SCANNED -> DENIED | EXPIRED | CANCELED      (final)
//! ```
use alloc::{borrow::ToOwned, format, string::String};

/// Where a login session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "SCREAMING_SNAKE_CASE")
)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify))]
pub enum LoginState {
    /// Waiting for a token to scan the QR.
    Pending,
    /// A token scanned it; waiting for the person to approve or deny.
    Scanned,
    /// Approved; the page may complete it.
    Approved,
    /// Completed: the identity token was handed out (final).
    Completed,
    /// The person denied it (final).
    Denied,
    /// Nobody approved it in time (final).
    Expired,
    /// The page cancelled it (final).
    Canceled,
}

impl LoginState {
    /// Every state, in the order a session can go through them.
    pub const ALL: [LoginState; 7] = [
        Self::Pending,
        Self::Scanned,
        Self::Approved,
        Self::Completed,
        Self::Denied,
        Self::Expired,
        Self::Canceled,
    ];

    /// The name the API uses, `PENDING`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Scanned => "SCANNED",
            Self::Approved => "APPROVED",
            Self::Completed => "COMPLETED",
            Self::Denied => "DENIED",
            Self::Expired => "EXPIRED",
            Self::Canceled => "CANCELED",
        }
    }

    /// The state named `name` (as [`Self::as_str`] writes it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }

    /// No state follows.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Denied | Self::Expired | Self::Canceled
        )
    }

    /// Still waiting for the person: a token may scan, approve or deny, the page may cancel.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Scanned)
    }

    /// A session in this state expires when its time is up: the open ones, and an approved one
    /// that its page did not complete in time. Final states stay as they are. Reads and the
    /// server's sweep both apply this one rule.
    pub fn expires(self) -> bool {
        self.is_open() || self == Self::Approved
    }

    /// The state at `now_ms` of a session stored in this state with the expiry `expires_at_ms`.
    pub fn at(self, expires_at_ms: i64, now_ms: i64) -> Self {
        if self.expires() && expires_at_ms <= now_ms {
            Self::Expired
        } else {
            self
        }
    }

    /// The state after `step`, or why the step is refused. Attaching again to a scanned session
    /// answers the same, so a token that retries a scan is not turned away.
    pub fn after(self, step: LoginStep) -> Result<Self, LoginRefusal> {
        use LoginState::{Approved, Canceled, Completed, Denied, Expired, Pending, Scanned};
        let next = match (step, self) {
            (_, Expired) => return Err(LoginRefusal::Expired),
            (LoginStep::Attach, Pending | Scanned) => Scanned,
            (LoginStep::Approve, Scanned) => Approved,
            (LoginStep::Deny, Scanned) => Denied,
            (LoginStep::Cancel, Pending | Scanned) => Canceled,
            (LoginStep::Extend, state @ (Pending | Scanned)) => state,
            (LoginStep::Complete, Approved) => Completed,
            (LoginStep::Complete, Completed) => return Err(LoginRefusal::AlreadyCompleted),
            (step, state) => return Err(LoginRefusal::WrongState { state, step }),
        };
        Ok(next)
    }
}

/// Why a login ended `DENIED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify))]
pub enum Denial {
    /// The person chose Deny on the token.
    OnToken,
    /// The number typed on the token was not the one the page showed (number matching).
    WrongNumber,
}

impl Denial {
    /// The name the API uses, `wrong_number`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnToken => "on_token",
            Self::WrongNumber => "wrong_number",
        }
    }

    /// The denial named `name` (as [`Self::as_str`] writes it).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::OnToken, Self::WrongNumber]
            .into_iter()
            .find(|denial| denial.as_str() == name)
    }
}

/// What someone asks of a login session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginStep {
    /// A token scanned the QR.
    Attach,
    /// The person approved on the token, with a signature.
    Approve,
    /// The person refused on the token.
    Deny,
    /// The page gave up waiting.
    Cancel,
    /// The page takes the identity token of an approved session.
    Complete,
    /// The page gives the person more time (WCAG 2.2.1).
    Extend,
}

impl LoginStep {
    /// What the step needs, in words for an error message.
    pub fn requirement(self) -> &'static str {
        match self {
            Self::Attach => "it no longer waits for a token",
            Self::Approve | Self::Deny => "only a scanned login can be approved or denied",
            Self::Cancel => "only a waiting login can be cancelled",
            Self::Complete => "only an approved login can be completed",
            Self::Extend => "only a waiting login can be given more time",
        }
    }
}

/// Why a login session refused a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Its time is up.
    Expired,
    /// It was completed already: the identity token is handed out once.
    AlreadyCompleted,
    /// The step does not apply in this state.
    WrongState {
        /// Where the session stands.
        state: LoginState,
        /// What was asked.
        step: LoginStep,
    },
}

/// A short description of a browser from its User-Agent, as people know it: `Chrome 131 on
/// Linux`. The server shows the browser asking to sign in; the token names itself with it.
pub fn describe_browser(agent: &str) -> String {
    let version_of = |marker: &str| {
        agent.split(marker).nth(1).map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap_or("")
                .to_owned()
        })
    };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
    ]
    .iter()
    .find_map(|(marker, name)| version_of(marker).map(|v| format!("{name} {v}")))
    .or_else(|| {
        agent
            .contains("Safari/")
            .then(|| match version_of("Version/") {
                Some(v) => format!("Safari {v}"),
                None => "Safari".to_owned(),
            })
    });
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| agent.contains(marker))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b,
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) => "An unknown browser".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_name() {
        for state in LoginState::ALL {
            assert_eq!(LoginState::from_name(state.as_str()), Some(state));
        }
        assert_eq!(LoginState::from_name("pending"), None);
    }

    #[test]
    fn every_step_from_every_state_goes_where_the_state_machine_says() {
        use LoginState::*;
        use LoginStep::*;
        let wrong = |state, step| Err(LoginRefusal::WrongState { state, step });
        let table: [(LoginState, [Result<LoginState, LoginRefusal>; 6]); 7] = [
            //          Attach, Approve, Deny, Cancel, Complete, Extend
            (
                Pending,
                [
                    Ok(Scanned),
                    wrong(Pending, Approve),
                    wrong(Pending, Deny),
                    Ok(Canceled),
                    wrong(Pending, Complete),
                    Ok(Pending),
                ],
            ),
            (
                Scanned,
                [
                    Ok(Scanned),
                    Ok(Approved),
                    Ok(Denied),
                    Ok(Canceled),
                    wrong(Scanned, Complete),
                    Ok(Scanned),
                ],
            ),
            (
                Approved,
                [
                    wrong(Approved, Attach),
                    wrong(Approved, Approve),
                    wrong(Approved, Deny),
                    wrong(Approved, Cancel),
                    Ok(Completed),
                    wrong(Approved, Extend),
                ],
            ),
            (
                Completed,
                [
                    wrong(Completed, Attach),
                    wrong(Completed, Approve),
                    wrong(Completed, Deny),
                    wrong(Completed, Cancel),
                    Err(LoginRefusal::AlreadyCompleted),
                    wrong(Completed, Extend),
                ],
            ),
            (
                Denied,
                [
                    wrong(Denied, Attach),
                    wrong(Denied, Approve),
                    wrong(Denied, Deny),
                    wrong(Denied, Cancel),
                    wrong(Denied, Complete),
                    wrong(Denied, Extend),
                ],
            ),
            (Expired, [Err(LoginRefusal::Expired); 6]),
            (
                Canceled,
                [
                    wrong(Canceled, Attach),
                    wrong(Canceled, Approve),
                    wrong(Canceled, Deny),
                    wrong(Canceled, Cancel),
                    wrong(Canceled, Complete),
                    wrong(Canceled, Extend),
                ],
            ),
        ];
        for (state, expected) in table {
            for (step, want) in [Attach, Approve, Deny, Cancel, Complete, Extend]
                .into_iter()
                .zip(expected)
            {
                assert_eq!(state.after(step), want, "{state:?} + {step:?}");
            }
        }
    }

    #[test]
    fn open_and_approved_sessions_expire_when_due_and_final_ones_never() {
        for state in LoginState::ALL {
            assert_eq!(state.at(1_000, 999), state, "{state:?} before its expiry");
            let due = state.at(1_000, 1_000);
            if state.expires() {
                assert_eq!(due, LoginState::Expired, "{state:?}");
            } else {
                assert_eq!(due, state, "{state:?}");
            }
        }
        assert!(LoginState::Approved.expires());
        assert!(!LoginState::Completed.expires());
    }

    #[test]
    fn browsers_are_described_as_people_know_them() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(describe_browser(chrome), "Chrome 131 on Linux");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_browser(safari), "Safari 17 on iOS");
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(describe_browser(firefox), "Firefox 133 on Windows");
        assert_eq!(describe_browser(""), "An unknown browser");
        assert_eq!(describe_browser("curl/8.0"), "An unknown browser");
    }
}
