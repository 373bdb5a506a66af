//! Collecting raw entries from one source, by kind: the only place that
//! knows which fetch and which parser each source kind uses.

use super::SourceError;
use crate::config::{SourceConfig, SourceKind};
use crate::fetch::{Fetched, HttpClient, Validators};
use crate::model::{RawEntry, SourceState};
use crate::source::feed;
use crate::text::decode;

/// What a source yielded this cycle.
#[derive(Debug, Default)]
pub struct Collected {
    pub entries: Vec<RawEntry>,
    /// Entries the parser left out, each with the reason.
    pub skipped: Vec<String>,
    /// Validators to remember for the next conditional GET.
    pub validators: Validators,
}

/// Fetch and parse one source. `Ok(None)` when nothing changed (304).
pub async fn collect(
    client: &HttpClient,
    source: &SourceConfig,
    state: &SourceState,
) -> Result<Option<Collected>, SourceError> {
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
) -> Result<Option<Collected>, SourceError> {
    let validators = Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    let (final_url, content_type, validators, bytes) =
        match client.get(url, &validators, source.allow_private).await? {
            Fetched::NotModified { .. } => return Ok(None),
            Fetched::Body {
                final_url,
                content_type,
                validators,
                bytes,
                ..
            } => (final_url, content_type, validators, bytes),
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
    Ok(Some(Collected {
        entries: parsed.entries,
        skipped: parsed.skipped,
        validators,
    }))
}
