//! Random secrets and identifiers, and the hashes the database keeps in their place.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::store::StorageError;

/// Random bytes from the operating system.
pub fn random<const N: usize>() -> Result<[u8; N], StorageError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| StorageError::from_message(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// `N` random bytes as URL-safe Base64 without padding: secrets that travel in headers,
/// cookies and URL fragments.
pub fn random_token<const N: usize>() -> Result<String, StorageError> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<N>()?))
}

/// A 128-bit random secret (22 characters): poll secrets and scan codes.
pub fn random_secret() -> Result<String, StorageError> {
    random_token::<16>()
}

/// A random UUID (version 4) for ids that clients see.
pub fn random_uuid() -> Result<String, StorageError> {
    let mut bytes = random::<16>()?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// What the database keeps of a secret a client presents. The secrets have at least 80 random
/// bits and live minutes, so a plain SHA-256 is enough: nothing is left to guess offline.
/// Looking a hash up by equality in SQLite does not leak the secret's bytes through timing.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The operator's credential for the API: what a bank's backend presents as
/// `Authorization: Bearer <token>` to make payments for any user (`--operator-token-file`).
/// Only its hash is held, and it is compared in constant time.
pub struct OperatorToken {
    hash: Vec<u8>,
}

impl OperatorToken {
    /// Reads the token from `path`, or makes a new random one there (mode 0600) if the file
    /// does not exist.
    pub fn open(path: &std::path::Path) -> Result<Self, StorageError> {
        let text = read_or_create(
            path,
            "operator token",
            "give it to the backends that make payments",
            random_token::<32>,
        )?;
        let token = text.trim();
        if token.len() < 22 {
            return Err(StorageError::from_message(format!(
                "the operator token in {} is too short: at least 22 characters (128 bits)",
                path.display()
            )));
        }
        Ok(OperatorToken {
            hash: secret_hash(token),
        })
    }

    /// Whether `presented` is the token.
    pub fn matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.hash.ct_eq(&secret_hash(presented)))
    }
}

/// The text of the secret file at `path`, or, when there is none, `make()` written there
/// (mode 0600) and announced with what to do with it (`use_it`).
fn read_or_create(
    path: &std::path::Path,
    what: &str,
    use_it: &str,
    make: impl FnOnce() -> Result<String, StorageError>,
) -> Result<String, StorageError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = make()?;
            crate::vault::write_new_secret_file(path, what, &text)?;
            eprintln!(
                "qrauth: created a new {what} in {}; {use_it}",
                path.display()
            );
            Ok(text)
        }
        Err(e) => Err(StorageError::from_message(format!(
            "cannot read the {what} {}: {e}",
            path.display()
        ))),
    }
}

/// The clients that may call the PowerAuth REST methods (`--powerauth-clients`), as PowerAuth
/// Server's integrations are: HTTP basic with a client token as the user name and its secret
/// as the password. The file has one `token:secret` per line (`#` starts a comment), so an
/// operator can give each application its own and retire one; only the secrets' hashes are
/// held, and they are compared in constant time.
pub struct IntegrationClients {
    clients: Vec<(String, Vec<u8>)>,
}

impl IntegrationClients {
    /// Reads the clients from `path`, or makes the file with one new client if it does not
    /// exist.
    pub fn open(path: &std::path::Path) -> Result<Self, StorageError> {
        let text = read_or_create(
            path,
            "PowerAuth client file",
            "its line is the client token and secret (token:secret) for HTTP basic",
            || Ok(format!("{}:{}", random_uuid()?, random_token::<32>()?)),
        )?;
        let bad = |line: usize, why: &str| {
            StorageError::from_message(format!("{}, line {line}: {why}", path.display()))
        };
        let mut clients = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (token, secret) = line
                .split_once(':')
                .ok_or_else(|| bad(index + 1, "write token:secret"))?;
            if token.is_empty() {
                return Err(bad(index + 1, "the client token is empty"));
            }
            if secret.len() < 22 {
                return Err(bad(
                    index + 1,
                    "the secret is too short: at least 22 characters (128 bits)",
                ));
            }
            clients.push((token.to_owned(), secret_hash(secret)));
        }
        if clients.is_empty() {
            return Err(StorageError::from_message(format!(
                "{} names no client (token:secret)",
                path.display()
            )));
        }
        Ok(IntegrationClients { clients })
    }

    /// The client token, when `token` and `secret` are one of the clients'.
    pub fn authenticate(&self, token: &str, secret: &str) -> Option<&str> {
        use subtle::ConstantTimeEq;
        let presented = secret_hash(secret);
        // Every client's secret is compared, so the time does not tell which tokens exist.
        let mut found = None;
        for (name, hash) in &self.clients {
            let right = bool::from(hash.ct_eq(&presented)) & (name == token);
            if right {
                found = Some(name.as_str());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_clients_are_read_made_and_checked() {
        let dir = std::env::temp_dir().join(format!("qrauth-clients-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();

        let made = dir.join("new");
        IntegrationClients::open(&made).unwrap();
        let line = std::fs::read_to_string(&made).unwrap();
        let (token, secret) = line.trim().split_once(':').unwrap();
        let again = IntegrationClients::open(&made).unwrap();
        assert_eq!(again.authenticate(token, secret), Some(token));
        assert_eq!(again.authenticate(token, "wrong-secret-wrong-secret"), None);
        assert_eq!(
            again.authenticate("another", secret),
            None,
            "a secret is its token's"
        );

        let two = dir.join("two");
        std::fs::write(
            &two,
            "# web\nweb:aaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\n  batch:bbbbbbbbbbbbbbbbbbbbbbbbbbbb  \n",
        )
        .unwrap();
        let clients = IntegrationClients::open(&two).unwrap();
        assert_eq!(
            clients.authenticate("batch", "bbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
            Some("batch")
        );
        assert_eq!(
            clients.authenticate("web", "bbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
            None
        );

        for (text, says) in [
            ("no-colon\n", "line 1: write token:secret"),
            ("# only a comment\n", "names no client"),
            (
                "ok:aaaaaaaaaaaaaaaaaaaaaaaaaaaa\nshort:abc\n",
                "line 2: the secret is too short",
            ),
            (
                ":aaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                "the client token is empty",
            ),
        ] {
            let bad = dir.join("bad");
            std::fs::write(&bad, text).unwrap();
            let error = IntegrationClients::open(&bad).err().unwrap().to_string();
            assert!(error.contains(says), "{text:?}: {error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
