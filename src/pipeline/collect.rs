//! Collecting raw entries from one source, by kind: the only place that
//! knows which fetch and which parser each source kind uses.

use super::{follow, full_text, SourceError};
use crate::config::{SourceConfig, SourceKind, WechatConfig};
use crate::fetch::{CacheHints, Fetched, HttpClient, Validators};
use crate::model::{RawEntry, SourceState};
use crate::source::{feed, markdown, page, wechat};
use crate::store::Store;
use crate::text::decode;
use chrono::Utc;
use std::path::Path;
use std::time::Duration;

/// What collecting needs besides the source.
pub struct CollectContext<'a> {
    pub client: &'a HttpClient,
    pub store: &'a Store,
    pub wechat: &'a WechatConfig,
    /// The wechat source that reads links queued by `follow` (the first
    /// enabled one in the config), if any.
    pub queue_reader: Option<&'a str>,
}

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

/// Whether an item with this link is stored already; its page is then not
/// fetched again for full text.
pub type Known<'a> = &'a (dyn Fn(&str) -> bool + Send + Sync);

/// Fetch and parse one source. Links to hosts the source follows are
/// queued here.
pub async fn collect(
    ctx: &CollectContext<'_>,
    source: &SourceConfig,
    state: &SourceState,
    known: Known<'_>,
) -> Result<Collection, SourceError> {
    let collection = match &source.kind {
        SourceKind::Feed { url } => {
            let mut collection = collect_feed(ctx.client, source, state, url.as_str()).await?;
            if let Collection::Collected(collected) = &mut collection {
                if source.full_text {
                    full_text::fill(ctx.client, source, &mut collected.entries, known).await;
                }
            }
            collection
        }
        SourceKind::Wechat { links_file } => {
            Collection::Collected(collect_wechat(ctx, source, links_file).await?)
        }
        SourceKind::Page { url, .. } => {
            collect_page(ctx.client, source, state, url.as_str()).await?
        }
        SourceKind::Markdown { .. } => Collection::Collected(collect_markdown(source).await?),
    };
    if let Collection::Collected(collected) = &collection {
        if !source.follow.is_empty() {
            let queued = follow::queue_followed(
                ctx.store,
                &source.name,
                &collected.entries,
                &source.follow,
            )?;
            if queued > 0 {
                tracing::info!(source = %source.name, queued, "followed links queued");
            }
        }
    }
    Ok(collection)
}

async fn collect_wechat(
    ctx: &CollectContext<'_>,
    source: &SourceConfig,
    links_file: &Path,
) -> Result<Collected, SourceError> {
    let wechat_ctx = wechat::WechatContext {
        client: ctx.client,
        store: ctx.store,
        settings: ctx.wechat,
        read_queue: ctx.queue_reader == Some(source.name.as_str()),
        allow_private: source.allow_private,
    };
    let harvest = wechat::collect(&wechat_ctx, links_file).await?;
    Ok(Collected {
        entries: harvest.entries,
        skipped: harvest.skipped,
        // Each link is its own request; there is no source-wide validator,
        // and the schedule (not the server) says when to look again.
        validators: Validators::default(),
        refresh_after: None,
    })
}

/// A fetched body, with what the server said about it.
struct Body {
    final_url: url::Url,
    content_type: Option<String>,
    validators: Validators,
    hints: CacheHints,
    bytes: Vec<u8>,
}

/// GET with the validators of the last fetch; `Err(NotModified)` on a 304.
async fn conditional_get(
    client: &HttpClient,
    source: &SourceConfig,
    state: &SourceState,
    url: &str,
) -> Result<Result<Body, Collection>, SourceError> {
    let validators = Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    Ok(
        match client.get(url, &validators, source.allow_private).await? {
            Fetched::NotModified { hints } => Err(Collection::NotModified {
                refresh_after: asked_interval(&hints, None),
            }),
            Fetched::Body {
                final_url,
                content_type,
                validators,
                hints,
                bytes,
                ..
            } => Ok(Body {
                final_url,
                content_type,
                validators,
                hints,
                bytes,
            }),
        },
    )
}

async fn collect_feed(
    client: &HttpClient,
    source: &SourceConfig,
    state: &SourceState,
    url: &str,
) -> Result<Collection, SourceError> {
    let Body {
        final_url,
        content_type,
        validators,
        hints,
        bytes,
    } = match conditional_get(client, source, state, url).await? {
        Ok(body) => body,
        Err(not_modified) => return Ok(not_modified),
    };
    let timezone = source.timezone;
    // Decoding and parsing are CPU work: keep them off the I/O threads.
    let parsed = off_thread(move || {
        let text = decode::decode(&bytes, content_type.as_deref()).text;
        let ctx = feed::FeedContext {
            url: final_url.as_str(),
            timezone,
        };
        Ok(feed::parse(&text, &ctx)?)
    })
    .await?;
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

async fn collect_page(
    client: &HttpClient,
    source: &SourceConfig,
    state: &SourceState,
    url: &str,
) -> Result<Collection, SourceError> {
    let Body {
        final_url,
        content_type,
        validators,
        hints,
        bytes,
    } = match conditional_get(client, source, state, url).await? {
        Ok(body) => body,
        Err(not_modified) => return Ok(not_modified),
    };
    let source = source.clone();
    // Decoding and selecting are CPU work: keep them off the I/O threads.
    let parsed = off_thread(move || {
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
    .await?;
    Ok(Collection::Collected(Collected {
        entries: parsed.entries,
        skipped: parsed.skipped,
        validators,
        refresh_after: asked_interval(&hints, None),
    }))
}

/// A Markdown site is read from disk each cycle; there is nothing to ask
/// conditionally, and unchanged posts are dropped cheaply by content hash
/// at ingest.
async fn collect_markdown(source: &SourceConfig) -> Result<Collected, SourceError> {
    let source = source.clone();
    let parsed = off_thread(move || {
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
    .await?;
    Ok(Collected {
        entries: parsed.entries,
        skipped: parsed.skipped,
        validators: Validators::default(),
        refresh_after: None,
    })
}

/// Run CPU work (decoding, parsing, selecting) off the I/O threads.
async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    let _cpu = super::cpu_permit().await;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SourceError::Crashed(e.to_string()))?
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
