//! Fetch errors, one variant per stable category.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("not an http(s) URL: {0}")]
    InvalidUrl(String),
    #[error("DNS lookup failed: {0}")]
    Dns(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("HTTP status {status}")]
    Status {
        status: u16,
        /// `Retry-After` of a 429/503, when given.
        retry_after: Option<Duration>,
    },
    #[error("body larger than the {limit}-byte cap")]
    TooLarge { limit: u64 },
    #[error("too many redirects (more than {0})")]
    Redirects(usize),
    #[error("refused: {0}")]
    Blocked(String),
    #[error("connection failed while reading the body: {0}")]
    Body(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl FetchError {
    /// A stable category name, kept in the store and shown to operators.
    pub fn category(&self) -> &'static str {
        match self {
            FetchError::InvalidUrl(_) => "url",
            FetchError::Dns(_) => "dns",
            FetchError::Connect(_) => "connect",
            FetchError::Timeout(_) => "timeout",
            FetchError::Status { .. } => "http",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Redirects(_) => "redirects",
            FetchError::Blocked(_) => "blocked",
            FetchError::Body(_) => "body",
            FetchError::Client(_) => "client",
        }
    }

    /// Whether trying again soon may help (timeouts, dropped connections, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout(_) | FetchError::Connect(_) | FetchError::Body(_) => true,
            FetchError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    pub(crate) fn from_reqwest(
        error: &reqwest::Error,
        timeout: Duration,
        redirects: usize,
    ) -> Self {
        let chain = error_chain(error);
        if chain.contains(super::guard::BLOCKED) {
            FetchError::Blocked(chain)
        } else if error.is_timeout() {
            FetchError::Timeout(timeout)
        } else if error.is_redirect() {
            FetchError::Redirects(redirects)
        } else if chain.contains("dns error") || chain.contains("failed to lookup address") {
            FetchError::Dns(with_host(error, root_cause(error)))
        } else if error.is_connect() {
            FetchError::Connect(with_host(error, root_cause(error)))
        } else if error.is_body() || error.is_decode() || error.is_request() {
            FetchError::Body(chain)
        } else {
            FetchError::Connect(chain)
        }
    }
}

/// The innermost cause: for DNS and connect failures the only part that
/// says anything ("Connection refused", "Name or service not known").
fn root_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

fn with_host(error: &reqwest::Error, message: String) -> String {
    match error.url().and_then(|url| url.host_str()) {
        Some(host) => {
            let port = error
                .url()
                .and_then(|url| url.port())
                .map(|port| format!(":{port}"))
                .unwrap_or_default();
            format!("{host}{port}: {message}")
        }
        None => message,
    }
}

/// The messages of an error and all its sources, joined; reqwest's own
/// message alone ("error sending request") says too little.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let message = inner.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = inner.source();
    }
    text
}
