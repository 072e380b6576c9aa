//! Online QR login sessions: the states a session goes through, shared by the server that keeps
//! them and the page that polls them (`docs/api.md`).
//!
//! ```text
//! PENDING -> SCANNED -> APPROVED -> COMPLETED
//! PENDING | SCANNED -> DENIED | EXPIRED | CANCELED      (final)
//! ```

/// Where a login session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "SCREAMING_SNAKE_CASE")
)]
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
