//! Who may edit: the editor token (from an environment variable or a
//! private file), constant-time comparison, in-memory login sessions with
//! expiry, and per-session CSRF tokens.

use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a login lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "yaowen_session";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token file {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}` so only its owner can read it")]
    FileNotPrivate { path: PathBuf, mode: u32 },
    #[error("cannot read the token file {path}: {source}")]
    FileUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the token file {path} is empty")]
    FileEmpty { path: PathBuf },
    #[error("no random bytes from the operating system: {0}")]
    Random(String),
}

/// The configured editor token, kept only as its SHA-256.
pub struct Token {
    digest: [u8; 32],
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    pub fn new(secret: &str) -> Token {
        Token {
            digest: Sha256::digest(secret.as_bytes()).into(),
        }
    }

    /// Whether `candidate` is the token, in time that does not depend on
    /// where the two differ (both are hashed, then every byte compared).
    pub fn matches(&self, candidate: &str) -> bool {
        let candidate: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        constant_time_eq(&self.digest, &candidate)
    }
}

/// Compare two byte strings without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// The token from the environment variable `env` when it is set and not
/// empty, else from `file`; `None` when neither gives one (read-only).
pub fn load_token(env: Option<&str>, file: Option<&Path>) -> Result<Option<Token>, TokenError> {
    Ok(load_secret(env, file)?.map(|secret| Token::new(&secret)))
}

/// The token text itself (for clients such as the CLI), by the same rules
/// as `load_token`.
pub fn load_secret(env: Option<&str>, file: Option<&Path>) -> Result<Option<String>, TokenError> {
    if let Some(value) = env.and_then(|name| std::env::var(name).ok()) {
        let value = value.trim();
        if !value.is_empty() {
            return Ok(Some(value.to_string()));
        }
    }
    match file {
        Some(path) => read_secret_file(path).map(Some),
        None => Ok(None),
    }
}

/// The token on the first line of `path`, refusing a file that anyone but
/// its owner can read.
pub fn read_token_file(path: &Path) -> Result<Token, TokenError> {
    read_secret_file(path).map(|secret| Token::new(&secret))
}

fn read_secret_file(path: &Path) -> Result<String, TokenError> {
    let unreadable = |source| TokenError::FileUnreadable {
        path: path.to_path_buf(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(unreadable)?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(TokenError::FileNotPrivate {
                path: path.to_path_buf(),
                mode: mode & 0o777,
            });
        }
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    let secret = text.lines().next().unwrap_or_default().trim();
    if secret.is_empty() {
        return Err(TokenError::FileEmpty {
            path: path.to_path_buf(),
        });
    }
    Ok(secret.to_string())
}

/// `bytes` random bytes from the operating system, as hex.
pub fn random_hex(bytes: usize) -> Result<String, TokenError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::getrandom(&mut buffer).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

/// A logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub csrf: String,
    expires: Instant,
}

/// Login sessions, in memory: a restart logs editors out, which is fine.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Start a session; returns its id and CSRF token.
    pub fn create(&self) -> Result<(String, Session), TokenError> {
        let id = random_hex(32)?;
        let session = Session {
            csrf: random_hex(32)?,
            expires: Instant::now() + SESSION_LIFETIME,
        };
        let mut map = self.map();
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        map.insert(id.clone(), session.clone());
        Ok((id, session))
    }

    /// The live session with this id.
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut map = self.map();
        match map.get(id) {
            Some(session) if session.expires > Instant::now() => Some(session.clone()),
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    pub fn remove(&self, id: &str) {
        self.map().remove(id);
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // The map holds plain values; a panic elsewhere cannot leave it half-changed.
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Session {
    /// Whether `candidate` is this session's CSRF token.
    pub fn csrf_matches(&self, candidate: &str) -> bool {
        constant_time_eq(self.csrf.as_bytes(), candidate.as_bytes())
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_matches_only_itself() {
        let token = Token::new("s3cret-token");
        assert!(token.matches("s3cret-token"));
        assert!(!token.matches("s3cret-tokeN"));
        assert!(!token.matches(""));
    }

    #[cfg(unix)]
    #[test]
    fn token_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "abc\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = read_token_file(&path).unwrap_err();
        assert!(error.to_string().contains("chmod 600"), "{error}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read_token_file(&path).unwrap().matches("abc"));
    }

    #[test]
    fn sessions_have_distinct_random_ids() {
        let sessions = Sessions::default();
        let (a, sa) = sessions.create().unwrap();
        let (b, _) = sessions.create().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(sessions.get(&a).unwrap().csrf_matches(&sa.csrf));
        sessions.remove(&a);
        assert!(sessions.get(&a).is_none());
    }

    #[test]
    fn cookies_are_found_by_name() {
        let header = "a=1; yaowen_session=abc; b=2";
        assert_eq!(cookie_value(header, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value(header, "c"), None);
    }
}
