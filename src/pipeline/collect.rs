//! Collecting raw entries from one source, by kind: the only place that
//! knows which fetch and which parser each source kind uses.

use super::{full_text, SourceError};
use crate::config::{SourceConfig, SourceKind};
use crate::fetch::{Fetched, HttpClient, Validators};
use crate::model::{RawEntry, SourceState};
use crate::source::{feed, markdown, page};
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

/// Whether an item with this link is stored already; its page is then not
/// fetched again for full text.
pub type Known<'a> = &'a (dyn Fn(&str) -> bool + Send + Sync);

/// Fetch and parse one source. `Ok(None)` when nothing changed (304).
pub async fn collect(
    client: &HttpClient,
    source: &SourceConfig,
    state: &SourceState,
    known: Known<'_>,
) -> Result<Option<Collected>, SourceError> {
    match &source.kind {
        SourceKind::Feed { url } => {
            let mut collected = collect_feed(client, source, state, url.as_str()).await?;
            if let Some(collected) = collected.as_mut().filter(|_| source.full_text) {
                full_text::fill(client, source.timezone, &mut collected.entries, known).await;
            }
            Ok(collected)
        }
        SourceKind::Page { url, .. } => collect_page(client, source, state, url.as_str()).await,
        SourceKind::Markdown { .. } => collect_markdown(source).await.map(Some),
        other => Err(SourceError::Unsupported(other.label())),
    }
}

/// A body fetched with the source's validators; `None` on 304.
struct Body {
    final_url: url::Url,
    content_type: Option<String>,
    validators: Validators,
    bytes: Vec<u8>,
}

async fn conditional_get(
    client: &HttpClient,
    state: &SourceState,
    url: &str,
) -> Result<Option<Body>, SourceError> {
    let validators = Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    match client.get(url, &validators).await? {
        Fetched::NotModified { .. } => Ok(None),
        Fetched::Body {
            final_url,
            content_type,
            validators,
            bytes,
            ..
        } => Ok(Some(Body {
            final_url,
            content_type,
            validators,
            bytes,
        })),
    }
}

async fn collect_feed(
    client: &HttpClient,
    source: &SourceConfig,
    state: &SourceState,
    url: &str,
) -> Result<Option<Collected>, SourceError> {
    let Some(Body {
        final_url,
        content_type,
        validators,
        bytes,
    }) = conditional_get(client, state, url).await?
    else {
        return Ok(None);
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

async fn collect_page(
    client: &HttpClient,
    source: &SourceConfig,
    state: &SourceState,
    url: &str,
) -> Result<Option<Collected>, SourceError> {
    let Some(Body {
        final_url,
        content_type,
        validators,
        bytes,
    }) = conditional_get(client, state, url).await?
    else {
        return Ok(None);
    };
    let source = source.clone();
    // Decoding and selecting are CPU work: keep them off the I/O threads.
    let parsed = tokio::task::spawn_blocking(move || {
        let SourceKind::Page {
            item,
            link,
            title,
            date,
            summary,
            date_format,
            ..
        } = &source.kind
        else {
            return Err(SourceError::Crashed("page source changed kind".into()));
        };
        let spec = page::PageSpec {
            item,
            link,
            title: title.as_ref(),
            date: date.as_ref(),
            summary: summary.as_ref(),
            date_format: date_format.as_deref(),
            timezone: source.timezone,
        };
        let text = decode::decode(&bytes, content_type.as_deref()).text;
        Ok(page::parse(&text, &final_url, &spec)?)
    })
    .await
    .map_err(|e| SourceError::Crashed(e.to_string()))??;
    Ok(Some(Collected {
        entries: parsed.entries,
        skipped: parsed.skipped,
        validators,
    }))
}

/// A Markdown site is read from disk each cycle; there is nothing to ask
/// conditionally, and unchanged posts are dropped cheaply by content hash
/// at ingest.
async fn collect_markdown(source: &SourceConfig) -> Result<Collected, SourceError> {
    let source = source.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        let SourceKind::Markdown {
            path,
            base_url,
            permalink,
        } = &source.kind
        else {
            return Err(SourceError::Crashed("markdown source changed kind".into()));
        };
        let site = markdown::MarkdownSite {
            root: path,
            base_url,
            permalink: permalink.as_deref(),
            timezone: source.timezone,
        };
        Ok(markdown::read_site(&site)?)
    })
    .await
    .map_err(|e| SourceError::Crashed(e.to_string()))??;
    Ok(Collected {
        entries: parsed.entries,
        skipped: parsed.skipped,
        validators: Validators::default(),
    })
}
