//! The reqwest-based client and what one fetch returns.

use super::guard::{self, PublicOnlyResolver};
use super::pacing::HostPacing;
use super::FetchError;
use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap, HeaderValue};
use std::sync::Arc;
use std::time::Duration;

/// Client settings (from `[fetch]` in the config).
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    pub retries: u32,
    pub user_agent: String,
    /// Requests in flight to one host at the most.
    pub per_host: usize,
    /// Least time between the starts of two requests to one host.
    pub min_host_interval: Duration,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            retries: 2,
            user_agent: concat!("yaowen/", env!("CARGO_PKG_VERSION")).to_string(),
            per_host: 1,
            min_host_interval: Duration::from_secs(1),
        }
    }
}

/// Conditional-GET validators remembered from the last successful fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What the server said about when to ask again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheHints {
    /// `Cache-Control: max-age`.
    pub max_age: Option<Duration>,
    /// `Expires`, when no max-age was given.
    pub expires: Option<DateTime<Utc>>,
    /// `Retry-After`.
    pub retry_after: Option<Duration>,
}

/// A completed fetch.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// 304: nothing changed since the validators were issued.
    NotModified { hints: CacheHints },
    /// A 2xx body (decompressed), capped at `max_body_bytes`.
    Body {
        final_url: url::Url,
        status: u16,
        content_type: Option<String>,
        validators: Validators,
        hints: CacheHints,
        bytes: Vec<u8>,
    },
}

/// The shared HTTP client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    /// Refuses internal addresses, after DNS and on every redirect.
    guarded: reqwest::Client,
    /// For sources with `allow_private = true`.
    open: reqwest::Client,
    pacing: Arc<HostPacing>,
    settings: FetchSettings,
}

impl HttpClient {
    pub fn new(settings: FetchSettings) -> Result<Self, FetchError> {
        let build = |guarded: bool| {
            let max_redirects = settings.max_redirects;
            let policy = reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > max_redirects {
                    return attempt
                        .error(format!("too many redirects (more than {max_redirects})"));
                }
                let refusal = if guarded {
                    guard::check_url(attempt.url())
                } else if !matches!(attempt.url().scheme(), "http" | "https") {
                    Some(format!(
                        "{}: scheme {} is not http(s)",
                        guard::BLOCKED,
                        attempt.url().scheme()
                    ))
                } else {
                    None
                };
                match refusal {
                    Some(reason) => attempt.error(reason),
                    None => attempt.follow(),
                }
            });
            let mut builder = reqwest::Client::builder()
                .user_agent(settings.user_agent.clone())
                .timeout(settings.timeout)
                .connect_timeout(settings.connect_timeout)
                .redirect(policy)
                .gzip(true)
                .brotli(true)
                .deflate(true)
                .pool_idle_timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(settings.per_host.max(1));
            if guarded {
                builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
            }
            builder
                .build()
                .map_err(|e| FetchError::Client(e.to_string()))
        };
        Ok(HttpClient {
            guarded: build(true)?,
            open: build(false)?,
            pacing: Arc::new(HostPacing::new(
                settings.per_host,
                settings.min_host_interval,
            )),
            settings,
        })
    }

    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// GET `url`, retrying transient failures with back-off. Internal
    /// addresses are refused unless `allow_private`.
    pub async fn get(
        &self,
        url: &str,
        validators: &Validators,
        allow_private: bool,
    ) -> Result<Fetched, FetchError> {
        let mut attempt = 0;
        loop {
            match self.get_once(url, validators, allow_private).await {
                Err(error) if error.is_transient() && attempt < self.settings.retries => {
                    attempt += 1;
                    // 0.5 s, 1 s, 2 s...: enough to ride out a restart, short
                    // enough not to hold up the cycle.
                    let delay = Duration::from_millis(500 * (1 << (attempt - 1).min(5)));
                    tracing::debug!(url, attempt, error = %error, "retrying");
                    tokio::time::sleep(delay).await;
                }
                result => return result,
            }
        }
    }

    /// One GET without retries.
    pub async fn get_once(
        &self,
        url: &str,
        validators: &Validators,
        allow_private: bool,
    ) -> Result<Fetched, FetchError> {
        let parsed = url::Url::parse(url).map_err(|_| FetchError::InvalidUrl(url.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(FetchError::InvalidUrl(url.to_string()));
        }
        if !allow_private {
            if let Some(reason) = guard::check_url(&parsed) {
                return Err(FetchError::Blocked(reason));
            }
        }
        let _slot = self
            .pacing
            .acquire(parsed.host_str().unwrap_or_default())
            .await;
        let client = if allow_private {
            &self.open
        } else {
            &self.guarded
        };
        let mut request = client.get(parsed);
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(last_modified) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, last_modified);
        }
        let reqwest_error = |e: reqwest::Error| {
            FetchError::from_reqwest(&e, self.settings.timeout, self.settings.max_redirects)
        };
        let mut response = request.send().await.map_err(reqwest_error)?;
        let status = response.status();
        let hints = cache_hints(response.headers());
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified { hints });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: hints.retry_after,
            });
        }
        let limit = self.settings.max_body_bytes;
        let declared = response.content_length();
        let encoded = response.headers().contains_key(header::CONTENT_ENCODING);
        if let Some(length) = declared {
            if length > limit && !encoded {
                return Err(FetchError::TooLarge { limit });
            }
        }
        let headers = response.headers().clone();
        let final_url = response.url().clone();
        let capacity = declared.unwrap_or(64 * 1024).min(limit) as usize;
        let mut bytes = Vec::with_capacity(capacity);
        // Chunks arrive decompressed, so the cap bounds what we hold in
        // memory, not what crossed the wire.
        while let Some(chunk) = response.chunk().await.map_err(reqwest_error)? {
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body {
            final_url,
            status: status.as_u16(),
            content_type: header_text(&headers, header::CONTENT_TYPE),
            validators: Validators {
                etag: header_text(&headers, header::ETAG),
                last_modified: header_text(&headers, header::LAST_MODIFIED),
            },
            hints,
            bytes,
        })
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value: &HeaderValue| value.to_str().ok())
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// Read `Cache-Control`, `Expires` and `Retry-After`.
pub(crate) fn cache_hints(headers: &HeaderMap) -> CacheHints {
    let max_age = header_text(headers, header::CACHE_CONTROL).and_then(|value| {
        value.split(',').find_map(|directive| {
            let (name, seconds) = directive.trim().split_once('=')?;
            if name.trim().eq_ignore_ascii_case("max-age") {
                seconds.trim().trim_matches('"').parse::<u64>().ok()
            } else {
                None
            }
        })
    });
    let expires = header_text(headers, header::EXPIRES)
        .and_then(|value| DateTime::parse_from_rfc2822(&value).ok())
        .map(|date| date.with_timezone(&Utc));
    let retry_after = header_text(headers, header::RETRY_AFTER).and_then(|value| {
        if let Ok(seconds) = value.parse::<u64>() {
            Some(Duration::from_secs(seconds))
        } else {
            let at = DateTime::parse_from_rfc2822(&value).ok()?;
            let wait = at.with_timezone(&Utc) - Utc::now();
            Some(wait.to_std().unwrap_or_default())
        }
    });
    CacheHints {
        max_age: max_age.map(Duration::from_secs),
        expires,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_str(value) {
                map.insert(*name, value);
            }
        }
        map
    }

    #[test]
    fn reads_max_age_among_other_directives() {
        let hints = cache_hints(&headers(&[(
            "cache-control",
            "public, max-age=600, must-revalidate",
        )]));
        assert_eq!(hints.max_age, Some(Duration::from_secs(600)));
    }

    #[test]
    fn reads_retry_after_in_seconds_and_ignores_garbage() {
        let hints = cache_hints(&headers(&[("retry-after", "120")]));
        assert_eq!(hints.retry_after, Some(Duration::from_secs(120)));
        let hints = cache_hints(&headers(&[("retry-after", "soon"), ("expires", "never")]));
        assert_eq!(hints.retry_after, None);
        assert_eq!(hints.expires, None);
    }
}
