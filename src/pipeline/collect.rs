//! Collecting raw entries from one source, by kind: the only place that
//! knows which fetch and which parser each source kind uses.

use super::SourceError;
use crate::config::{SourceConfig, SourceKind};
use crate::fetch::{CacheHints, Fetched, HttpClient, Validators};
use crate::model::{RawEntry, SourceState};
use crate::source::feed;
use crate::text::decode;
use chrono::Utc;
use std::time::Duration;

/// What a source yielded this cycle.
#[derive(Debug, Default)]
pub struct Collected {
    pub entries: Vec<RawEntry>,
    /// Entries the parser left out, each with the reason.
    pub skipped: Vec<String>,
    /// Validators to remember for the next conditional GET.
    pub validators: Validators,
    /// How long the source asked us to wait before asking again.
    pub refresh_after: Option<Duration>,
}

/// The result of collecting one source.
#[derive(Debug)]
pub enum Collection {
    /// Nothing changed since the last fetch (304).
    NotModified {
        refresh_after: Option<Duration>,
    },
    Collected(Collected),
}

/// Fetch and parse one source.
pub async fn collect(
    client: &HttpClient,
    source: &SourceConfig,
    state: &SourceState,
) -> Result<Collection, SourceError> {
    match &source.kind {
        SourceKind::Feed { url } => collect_feed(client, source, state, url.as_str()).await,
        other => Err(SourceError::Unsupported(other.label())),
    }
}

async fn collect_feed(
    client: &HttpClient,
    source: &SourceConfig,
    state: &SourceState,
    url: &str,
) -> Result<Collection, SourceError> {
    let validators = Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    let (final_url, content_type, validators, hints, bytes) =
        match client.get(url, &validators, source.allow_private).await? {
            Fetched::NotModified { hints } => {
                return Ok(Collection::NotModified {
                    refresh_after: asked_interval(&hints, None),
                })
            }
            Fetched::Body {
                final_url,
                content_type,
                validators,
                hints,
                bytes,
                ..
            } => (final_url, content_type, validators, hints, bytes),
        };
    let timezone = source.timezone;
    // Decoding and parsing are CPU work: keep them off the I/O threads.
    let parsed = tokio::task::spawn_blocking(move || {
        let text = decode::decode(&bytes, content_type.as_deref()).text;
        let ctx = feed::FeedContext {
            url: final_url.as_str(),
            timezone,
        };
        feed::parse(&text, &ctx)
    })
    .await
    .map_err(|e| SourceError::Crashed(e.to_string()))??;
    let ttl = parsed
        .ttl_minutes
        .map(|minutes| Duration::from_secs(u64::from(minutes) * 60));
    Ok(Collection::Collected(Collected {
        entries: parsed.entries,
        skipped: parsed.skipped,
        validators,
        refresh_after: asked_interval(&hints, ttl),
    }))
}

/// The longest wait the server asked for: `Cache-Control: max-age`,
/// `Expires`, or RSS `<ttl>`.
fn asked_interval(hints: &CacheHints, ttl: Option<Duration>) -> Option<Duration> {
    let expires = hints.expires.and_then(|at| (at - Utc::now()).to_std().ok());
    let max_age = hints.max_age.or(expires);
    [max_age, ttl, hints.retry_after]
        .into_iter()
        .flatten()
        .max()
}
