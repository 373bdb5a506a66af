//! Collecting raw entries from one source, by kind: the only place that
//! knows which fetch and which parser each source kind uses.

use super::{follow, SourceError};
use crate::config::{SourceConfig, SourceKind, WechatConfig};
use crate::fetch::{CacheHints, Fetched, HttpClient, Validators};
use crate::model::{RawEntry, SourceState};
use crate::source::{feed, wechat};
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

/// Fetch and parse one source. Links to hosts the source follows are
/// queued here.
pub async fn collect(
    ctx: &CollectContext<'_>,
    source: &SourceConfig,
    state: &SourceState,
) -> Result<Collection, SourceError> {
    let collection = match &source.kind {
        SourceKind::Feed { url } => collect_feed(ctx.client, source, state, url.as_str()).await?,
        SourceKind::Wechat { links_file } => {
            Collection::Collected(collect_wechat(ctx, source, links_file).await?)
        }
        other => return Err(SourceError::Unsupported(other.label())),
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
