//! The server's health in the words of every page's footer: the qrauth app's pages and the
//! npm package's `describeServer` say the same.

use crate::TokenError;
use crate::browser::http::Call;
use crate::browser::http::field::text;

/// What a page says until the server answers.
pub const CHECKING: &str = "Checking the server…";

/// Asks `server` (an origin, `""` for the page's own) whether it and its storage are up:
/// `Server ok · qrauth 0.1.0`, `Server unavailable · qrauth 0.1.0` when its storage does not
/// answer, or why there is no answer.
pub async fn describe(server: &str) -> String {
    let answer = Call::new(server, "GET", "/health").json_value().await;
    let read = answer.and_then(|health| Ok((text(&health, "status")?, text(&health, "version")?)));
    match read {
        Ok((status, version)) if status == "ok" => format!("Server ok · qrauth {version}"),
        Ok((status, version)) => format!("Server {status} · qrauth {version}"),
        Err(TokenError::Network(_)) => "Server unavailable: the server cannot be reached".into(),
        Err(e) => format!("Server unavailable: {e}"),
    }
}
