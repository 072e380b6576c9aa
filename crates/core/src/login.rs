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
}
