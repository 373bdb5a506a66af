//! WeChat official-account articles as a source. They have no feed: editors
//! list article links in a file (or `yaowen add` them, or other sources
//! link to them), and each link is fetched and read as one article.
//!
//! mp.weixin.qq.com throttles and blocks quickly, so this module also owns
//! politeness (one request at a time, spaced, with jitter), per-link
//! retry state (a verification page backs off, doubling) and tombstones
//! for articles that are gone, so no cycle refetches or hammers a link.

mod page;

pub use page::{decode_entities, read_page, sanitise_body, Article, Page};

use crate::config::WechatConfig;
use crate::fetch::{FetchError, Fetched, HttpClient, Validators};
use crate::model::RawEntry;
use crate::process::canonical;
use crate::store::{LinkState, Store, StoreError, Tombstone};
use crate::text::decode;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The host of WeChat official-account articles.
pub const WECHAT_HOST: &str = "mp.weixin.qq.com";

#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    #[error("not an http(s) URL: {0:?}")]
    NotAUrl(String),
    #[error("cannot read the links file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the links file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WechatError {
    pub fn category(&self) -> &'static str {
        match self {
            WechatError::NotAUrl(_) => "url",
            WechatError::Read { .. } | WechatError::Write { .. } => "links_file",
            WechatError::Store(_) => "store",
        }
    }
}

// ---- identity -----------------------------------------------------------------

/// `(biz, mid, idx)` of a long-form article link, any host.
pub(crate) fn long_key_parts(url: &str) -> Option<(String, String, String)> {
    canonical::wechat_long_parts(&url::Url::parse(url.trim()).ok()?)
}

/// True for links on mp.weixin.qq.com.
pub fn is_wechat_host(url: &str) -> bool {
    url::Url::parse(url.trim()).is_ok_and(|url| url.host_str() == Some(WECHAT_HOST))
}

/// Parameters that name the article in a long link; everything else on an
/// article link is session or sharing noise.
const ARTICLE_PARAMS: &[&str] = &["__biz", "mid", "idx", "sn", "appmsgid", "itemidx"];

/// The link as the editor gave it, without tracking parameters and
/// fragment (`#rd`, `#wechat_redirect`): what the item shows and links to.
/// A short `/s/<slug>` link loses its whole query, a long one keeps only
/// the article parameters. `None` when `url` is not an absolute http(s) URL.
pub fn clean_link(url: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return None;
    }
    parsed.set_fragment(None);
    let key = canonical::wechat_article_key(parsed.as_str());
    let query = parsed.query().map(|query| {
        let pieces = query.split('&').filter(|piece| !piece.is_empty());
        let kept: Vec<&str> = pieces
            .map(|piece| piece.strip_prefix("amp;").unwrap_or(piece))
            .filter(|piece| {
                let name = piece.split('=').next().unwrap_or(piece);
                match key.as_deref() {
                    Some(long) if long.starts_with("wx:") => ARTICLE_PARAMS.contains(&name),
                    Some(_short) => false,
                    None => !canonical::is_tracking_param(name, true),
                }
            })
            .collect();
        kept.join("&")
    });
    parsed.set_query(query.as_deref().filter(|query| !query.is_empty()));
    Some(parsed.to_string())
}

// ---- the links file ---------------------------------------------------------------

/// One usable line of a links file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkLine {
    /// 1-based.
    pub line: usize,
    pub url: String,
}

/// What a links file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinksFile {
    pub links: Vec<LinkLine>,
    /// Lines that are not an http(s) URL: (line, text).
    pub refused: Vec<(usize, String)>,
}

/// Read the links: one URL a line, `#` starts a comment (at the start of
/// a line or after whitespace), blank lines ignored. A missing file means
/// no links yet.
pub fn read_links_file(path: &Path) -> Result<LinksFile, WechatError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(parse_links(&String::from_utf8_lossy(&bytes))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(LinksFile::default()),
        Err(source) => Err(WechatError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

pub fn parse_links(text: &str) -> LinksFile {
    let mut file = LinksFile::default();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        // A URL holds no whitespace, so ` #` can only start a comment.
        let content = match raw.find(" #").or_else(|| raw.find("\t#")) {
            Some(at) => &raw[..at],
            None => raw,
        };
        let content = content.trim().trim_start_matches('\u{feff}');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if is_http_url(content) {
            file.links.push(LinkLine {
                line,
                url: content.to_string(),
            });
        } else {
            file.refused.push((line, content.to_string()));
        }
    }
    file
}

fn is_http_url(text: &str) -> bool {
    !text.contains(char::is_whitespace)
        && url::Url::parse(text)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
}

/// What `append_link` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Added as this (1-based) line.
    Added { line: usize },
    /// The same link (tracking parameters aside) is already on this line.
    AlreadyThere { line: usize },
}

/// Append `url` to the links file under an exclusive lock, so an editor's
/// `yaowen add` and a concurrent append never interleave. The file (and
/// its directory) is created when missing.
pub fn append_link(path: &Path, url: &str) -> Result<Appended, WechatError> {
    let url = url.trim();
    if !is_http_url(url) {
        return Err(WechatError::NotAUrl(url.to_string()));
    }
    let write_error = |source| WechatError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(write_error)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(write_error)?;
    file.lock().map_err(write_error)?;
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).map_err(write_error)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(write_error)?;
    text.push_str(&String::from_utf8_lossy(&bytes));
    let wanted = clean_link(url);
    let existing = parse_links(&text);
    if let Some(found) = existing
        .links
        .iter()
        .find(|link| link.url == url || clean_link(&link.url) == wanted)
    {
        return Ok(Appended::AlreadyThere { line: found.line });
    }
    let mut addition = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        addition.push('\n');
    }
    addition.push_str(url);
    addition.push('\n');
    file.write_all(addition.as_bytes()).map_err(write_error)?;
    file.sync_data().map_err(write_error)?;
    // The lock is released when `file` is closed.
    Ok(Appended::Added {
        line: text.lines().count() + 1,
    })
}

// ---- politeness -------------------------------------------------------------------

/// Process-wide: when the last WeChat request finished. Holding the lock
/// across a request is what keeps requests one at a time.
static GATE: tokio::sync::Mutex<Option<Instant>> = tokio::sync::Mutex::const_new(None);

/// GET `url` once the spacing since the previous WeChat request has passed.
async fn polite_get(
    client: &HttpClient,
    url: &str,
    settings: &WechatConfig,
    allow_private: bool,
) -> Result<Fetched, FetchError> {
    let mut last = GATE.lock().await;
    if let Some(finished) = *last {
        let spacing = spacing(settings);
        let elapsed = finished.elapsed();
        if elapsed < spacing {
            tokio::time::sleep(spacing - elapsed).await;
        }
    }
    let result = client.get(url, &Validators::default(), allow_private).await;
    *last = Some(Instant::now());
    result
}

/// The minimum interval plus a random share of the jitter.
fn spacing(settings: &WechatConfig) -> Duration {
    let jitter_ms = settings.jitter_secs.saturating_mul(1000);
    let extra = if jitter_ms == 0 {
        0
    } else {
        random_u64() % (jitter_ms + 1)
    };
    Duration::from_secs(settings.min_interval_secs) + Duration::from_millis(extra)
}

/// Good enough randomness for jitter: the clock and a counter, hashed.
fn random_u64() -> u64 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    xxhash_rust::xxh3::xxh3_64(&[nanos.to_le_bytes(), count.to_le_bytes()].concat())
}

/// Wait before trying again after `attempts` failures: the minimum,
/// doubling, capped at the maximum.
pub fn backoff(settings: &WechatConfig, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(30);
    let secs = settings
        .backoff_min_secs
        .saturating_mul(1u64 << doublings)
        .min(settings.backoff_max_secs.max(settings.backoff_min_secs));
    Duration::from_secs(secs)
}

// ---- collecting ---------------------------------------------------------------------

/// What collecting needs besides the source itself.
pub struct WechatContext<'a> {
    pub client: &'a HttpClient,
    pub store: &'a Store,
    pub settings: &'a WechatConfig,
    /// This source also reads the links other sources queued (only one
    /// wechat source does, so no link is fetched twice in a cycle).
    pub read_queue: bool,
    /// The source may fetch loopback/private addresses.
    pub allow_private: bool,
}

/// What a wechat source yielded this cycle.
#[derive(Debug, Default)]
pub struct Harvest {
    pub entries: Vec<RawEntry>,
    /// Links left out, each with the reason (refused lines, gone articles,
    /// verification pages, failed fetches).
    pub skipped: Vec<String>,
}

/// Where a link came from.
#[derive(Debug, Clone)]
enum Origin {
    File { line: usize },
    Queue { from: String },
}

#[derive(Debug, Clone)]
struct Candidate {
    /// As given: requested exactly so.
    given: String,
    /// Tracking removed: shown, and the key of the per-link records.
    clean: String,
    origin: Origin,
}

/// Fetch the links of one wechat source that are not stored, gone or
/// waiting, and read each page.
pub async fn collect(ctx: &WechatContext<'_>, links_file: &Path) -> Result<Harvest, WechatError> {
    let mut harvest = Harvest::default();
    let candidates = gather_links(ctx, links_file, &mut harvest)?;
    let now = Utc::now();
    let mut collected: HashSet<String> = HashSet::new();
    let mut waiting = 0usize;
    let mut remaining = candidates.into_iter();
    while let Some(candidate) = remaining.next() {
        match visit(ctx, &candidate, now, &mut collected, &mut harvest).await? {
            Visit::Done => {}
            Visit::Waiting => waiting += 1,
            Visit::HostSlowed => {
                // WeChat asked for a check: no more requests to it this cycle.
                let deferred = 1 + remaining.count();
                harvest.skipped.push(format!(
                    "{deferred} WeChat links deferred: the host asked for verification"
                ));
                break;
            }
        }
    }
    if waiting > 0 {
        tracing::info!(waiting, "WeChat links waiting for their retry time");
    }
    Ok(harvest)
}

/// The file's links, then (for the queue reader) the queued ones; each
/// article once.
fn gather_links(
    ctx: &WechatContext<'_>,
    links_file: &Path,
    harvest: &mut Harvest,
) -> Result<Vec<Candidate>, WechatError> {
    let file = read_links_file(links_file)?;
    for (line, text) in &file.refused {
        let message = format!(
            "{}:{line}: not an http(s) URL: {text:?}",
            links_file.display()
        );
        tracing::error!("{message}; line ignored");
        harvest.skipped.push(message);
    }
    let mut from_queue = Vec::new();
    if ctx.read_queue {
        for queued in ctx.store.queued_links()? {
            from_queue.push((
                queued.url,
                Origin::Queue {
                    from: queued.from_source,
                },
            ));
        }
    }
    let from_file = file
        .links
        .into_iter()
        .map(|link| (link.url, Origin::File { line: link.line }));
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (given, origin) in from_file.chain(from_queue) {
        let Some(clean) = clean_link(&given) else {
            continue;
        };
        if seen.insert(clean.clone()) {
            out.push(Candidate {
                given,
                clean,
                origin,
            });
        }
    }
    Ok(out)
}

enum Visit {
    Done,
    Waiting,
    HostSlowed,
}

/// Look at one link: skip it if settled or waiting, else fetch and read it.
async fn visit(
    ctx: &WechatContext<'_>,
    candidate: &Candidate,
    now: DateTime<Utc>,
    collected: &mut HashSet<String>,
    harvest: &mut Harvest,
) -> Result<Visit, WechatError> {
    let store = ctx.store;
    let key = index_key(&candidate.clean);
    let url_identity = canonical::wechat_article_key(&candidate.clean);
    if is_settled(store, &key, url_identity.as_deref())? {
        if let Origin::Queue { .. } = candidate.origin {
            store.dequeue_link(&candidate.given)?;
        }
        return Ok(Visit::Done);
    }
    if let Some(identity) = url_identity.as_ref().filter(|id| collected.contains(*id)) {
        alias_collected(harvest, identity, &candidate.clean);
        return Ok(Visit::Done);
    }
    if let Some(state) = store.link_state(&key)? {
        if state.next_try.is_some_and(|next| next > now) {
            return Ok(Visit::Waiting);
        }
    }
    let host = host_key(&candidate.clean);
    if let Some(state) = store.link_state(&host)? {
        if state.next_try.is_some_and(|next| next > now) {
            return Ok(Visit::Waiting);
        }
    }
    let (final_url, page) = match fetch_page(ctx, &candidate.given).await {
        Ok(fetched) => fetched,
        Err(error) => {
            let next = record_failure(ctx, &key, now, format!("error: {error}"))?;
            harvest.skipped.push(format!(
                "{}: fetch failed [{}] {error}; next try {next}",
                describe(candidate),
                error.category()
            ));
            return Ok(Visit::Done);
        }
    };
    match page {
        Page::Article(article) => {
            let entry = entry_of(&article, candidate, &final_url, url_identity);
            let identity = entry.identity.clone().unwrap_or_default();
            store.remove_link_state(&key)?;
            store.remove_link_state(&host)?;
            if let Origin::Queue { .. } = candidate.origin {
                store.dequeue_link(&candidate.given)?;
            }
            if !collected.insert(identity.clone()) {
                alias_collected(harvest, &identity, &candidate.clean);
                return Ok(Visit::Done);
            }
            if let Some(id) = stored_id_of_identity(store, &identity)? {
                // Known under another URL: this one resolves to it from now on.
                store.write_batch(&[], &[(key, id)], &[])?;
            }
            harvest.entries.push(entry);
            Ok(Visit::Done)
        }
        Page::Gone(reason) => {
            let tombstone = Tombstone {
                reason: format!("WeChat: {reason}"),
                at: now,
            };
            store.put_tombstone(&key, &tombstone)?;
            store.remove_link_state(&key)?;
            if let Origin::Queue { .. } = candidate.origin {
                store.dequeue_link(&candidate.given)?;
            }
            tracing::warn!(link = %candidate.given, reason = %reason, "WeChat article gone; not fetched again");
            harvest.skipped.push(format!(
                "{}: gone ({reason}); tombstoned, not fetched again",
                describe(candidate)
            ));
            Ok(Visit::Done)
        }
        Page::Verify(reason) => {
            let next = record_failure(ctx, &key, now, "verify".to_string())?;
            record_failure(ctx, &host, now, "verify".to_string())?;
            tracing::warn!(link = %candidate.given, reason = %reason, next_try = %next, "WeChat asks for verification; backing off");
            harvest.skipped.push(format!(
                "{}: {reason}; retry after {next}",
                describe(candidate)
            ));
            Ok(Visit::HostSlowed)
        }
        Page::Unrecognised => {
            let next = record_failure(ctx, &key, now, "not an article page".to_string())?;
            harvest.skipped.push(format!(
                "{}: not an article page (unknown layout); next try {next}",
                describe(candidate)
            ));
            Ok(Visit::Done)
        }
    }
}

/// An article reached by a second link this cycle: one item, both links.
fn alias_collected(harvest: &mut Harvest, identity: &str, link: &str) {
    let earlier = harvest
        .entries
        .iter_mut()
        .find(|earlier| earlier.identity.as_deref() == Some(identity));
    if let Some(earlier) = earlier {
        if earlier.link.as_deref() != Some(link) && !earlier.aliases.iter().any(|a| a == link) {
            earlier.aliases.push(link.to_string());
        }
    }
}

/// Stored already (under this URL or its identity) or tombstoned.
fn is_settled(store: &Store, key: &str, identity: Option<&str>) -> Result<bool, StoreError> {
    if store.item_id_by_url(key)?.is_some() || store.tombstone(key)?.is_some() {
        return Ok(true);
    }
    match identity {
        Some(identity) if identity.starts_with("wx:") => {
            Ok(stored_id_of_identity(store, identity)?.is_some())
        }
        _ => Ok(false),
    }
}

/// The id of the stored item with this identity, if any (the same rule
/// ingest uses to turn an identity into an id).
fn stored_id_of_identity(store: &Store, identity: &str) -> Result<Option<String>, StoreError> {
    let id = canonical::item_id("", Some(identity), None, "", None);
    Ok(store.item(&id)?.map(|item| item.id))
}

/// The URL-index key of a link: what ingest stores items and aliases under.
fn index_key(clean: &str) -> String {
    canonical::canonical_url(clean).unwrap_or_else(|| clean.to_string())
}

/// The per-host record's key in the link-state tree.
fn host_key(url: &str) -> String {
    let authority = url::Url::parse(url)
        .ok()
        .and_then(|url| {
            let host = url.host_str()?.to_string();
            Some(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .unwrap_or_default();
    format!("host:{authority}")
}

/// Count a failed attempt and schedule the next; returns when.
fn record_failure(
    ctx: &WechatContext<'_>,
    key: &str,
    now: DateTime<Utc>,
    outcome: String,
) -> Result<DateTime<Utc>, StoreError> {
    let mut state: LinkState = ctx.store.link_state(key)?.unwrap_or_default();
    state.attempts = state.attempts.saturating_add(1);
    state.last_attempt = Some(now);
    let wait = chrono::Duration::from_std(backoff(ctx.settings, state.attempts))
        .unwrap_or(chrono::Duration::hours(6));
    let next = now + wait;
    state.next_try = Some(next);
    state.last_outcome = outcome;
    ctx.store.put_link_state(key, &state)?;
    Ok(next)
}

fn describe(candidate: &Candidate) -> String {
    match &candidate.origin {
        Origin::File { line } => format!("line {line} {}", candidate.given),
        Origin::Queue { from } => format!("{} (linked from {from})", candidate.given),
    }
}

/// Fetch and read one page; the final URL comes back too (redirects, e.g.
/// to the captcha, matter).
async fn fetch_page(ctx: &WechatContext<'_>, url: &str) -> Result<(String, Page), FetchError> {
    let (final_url, content_type, bytes) =
        match polite_get(ctx.client, url, ctx.settings, ctx.allow_private).await? {
            Fetched::Body {
                final_url,
                content_type,
                bytes,
                ..
            } => (final_url.to_string(), content_type, bytes),
            // No validators are sent, so a 304 means a broken server.
            Fetched::NotModified { .. } => return Ok((url.to_string(), Page::Unrecognised)),
        };
    let page_url = final_url.clone();
    // Parsing a 200 KB page is CPU work: keep it off the I/O threads.
    let page = tokio::task::spawn_blocking(move || {
        let text = decode::decode(&bytes, content_type.as_deref()).text;
        read_page(&text, &page_url)
    })
    .await
    .unwrap_or(Page::Unrecognised);
    Ok((final_url, page))
}

/// The raw entry of an article read from `candidate`.
fn entry_of(
    article: &Article,
    candidate: &Candidate,
    final_url: &str,
    url_identity: Option<String>,
) -> RawEntry {
    let identity = article.identity().or(url_identity);
    let mut aliases: Vec<String> = Vec::new();
    let mut add_alias = |url: Option<String>| {
        if let Some(url) = url.filter(|url| url != &candidate.clean) {
            if !aliases.contains(&url) {
                aliases.push(url);
            }
        }
    };
    add_alias(long_form_on_origin(article, &candidate.clean));
    add_alias(article.link.as_deref().and_then(clean_link));
    add_alias(clean_link(final_url));
    let author = match (&article.account, &article.author) {
        (Some(account), Some(author)) if account != author => Some(format!("{account} · {author}")),
        (Some(account), _) => Some(account.clone()),
        (None, author) => author.clone(),
    };
    RawEntry {
        guid: None,
        link: Some(candidate.clean.clone()),
        title: Some(article.title.clone()),
        summary: article.digest.clone(),
        content: article.body_html.clone(),
        published: article.published,
        author,
        tags: Vec::new(),
        image: article.cover.clone(),
        identity,
        aliases,
        html: article.body_html.clone(),
    }
}

/// `/s?__biz=…&mid=…&idx=…&sn=…` on the host the link was given on, so the
/// long link reaches the item stored from a short one.
fn long_form_on_origin(article: &Article, given: &str) -> Option<String> {
    let (biz, mid, idx) = (
        article.biz.as_ref()?,
        article.mid.as_ref()?,
        article.idx.as_ref()?,
    );
    let origin = url::Url::parse(given).ok()?.origin().ascii_serialization();
    let mut link = format!("{origin}/s?__biz={biz}&mid={mid}&idx={idx}");
    if let Some(sn) = &article.sn {
        link.push_str("&sn=");
        link.push_str(sn);
    }
    Some(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &str = "https://mp.weixin.qq.com/s?__biz=MjM5ODAyNTcwMA==&mid=2651788379&idx=1&sn=48edf72da520d08e7d7533d8a3b2f464&chksm=bd2ab4d08a5d3dc6&scene=21#wechat_redirect";

    #[test]
    fn long_and_short_links_are_keyed_by_shape() {
        assert_eq!(
            canonical::wechat_article_key(LONG).as_deref(),
            Some("wx:MjM5ODAyNTcwMA==:2651788379:1")
        );
        // Percent-encoded `==` and a loopback host name the same article.
        let encoded =
            "http://127.0.0.1:8080/s?__biz=MjM5ODAyNTcwMA%3D%3D&amp;mid=2651788379&amp;idx=1";
        assert_eq!(
            canonical::wechat_article_key(encoded).as_deref(),
            Some("wx:MjM5ODAyNTcwMA==:2651788379:1")
        );
        assert_eq!(
            canonical::wechat_article_key(
                "https://mp.weixin.qq.com/s/d5j4WawE_fzHuh4ZyRsixg?scene=1#rd"
            )
            .as_deref(),
            Some("wxs:d5j4WawE_fzHuh4ZyRsixg")
        );
        assert_eq!(
            canonical::wechat_article_key("https://mp.weixin.qq.com/mp/profile_ext?x=1"),
            None
        );
        assert_eq!(
            canonical::wechat_article_key("https://mp.weixin.qq.com/s?__biz=x&mid=abc&idx=1"),
            None
        );
    }

    #[test]
    fn clean_links_drop_tracking_but_keep_the_article() {
        assert_eq!(
            clean_link(LONG).as_deref(),
            Some("https://mp.weixin.qq.com/s?__biz=MjM5ODAyNTcwMA==&mid=2651788379&idx=1&sn=48edf72da520d08e7d7533d8a3b2f464")
        );
        assert_eq!(
            clean_link(
                "https://mp.weixin.qq.com/s/W9kb4YeuqC77pfpBAdFUOQ?sharer_sharetime=1&scene=1#rd"
            )
            .as_deref(),
            Some("https://mp.weixin.qq.com/s/W9kb4YeuqC77pfpBAdFUOQ")
        );
        assert_eq!(
            clean_link("https://example.org/a?id=3&utm_source=x").as_deref(),
            Some("https://example.org/a?id=3")
        );
        assert_eq!(clean_link("mp.weixin.qq.com/s/abc"), None);
    }

    #[test]
    fn links_file_lines_are_read_and_garbage_named_by_line() {
        let text = "\u{feff}# picks\n\nhttps://mp.weixin.qq.com/s/abc  # KubeCon\nnot a url\nftp://x.org/f\n\thttps://mp.weixin.qq.com/s/def\n";
        let file = parse_links(text);
        let urls: Vec<_> = file
            .links
            .iter()
            .map(|l| (l.line, l.url.as_str()))
            .collect();
        assert_eq!(
            urls,
            [
                (3, "https://mp.weixin.qq.com/s/abc"),
                (6, "https://mp.weixin.qq.com/s/def")
            ]
        );
        assert_eq!(
            file.refused,
            [
                (4, "not a url".to_string()),
                (5, "ftp://x.org/f".to_string())
            ]
        );
    }

    #[test]
    fn append_adds_once_and_refuses_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/links.txt");
        let first = "https://mp.weixin.qq.com/s/abc?scene=1";
        assert_eq!(
            append_link(&path, first).ok(),
            Some(Appended::Added { line: 1 })
        );
        assert_eq!(
            append_link(&path, "https://mp.weixin.qq.com/s/abc#rd").ok(),
            Some(Appended::AlreadyThere { line: 1 })
        );
        std::fs::write(&path, "# no newline at end\nhttps://a.example/x").expect("write");
        assert_eq!(
            append_link(&path, "https://mp.weixin.qq.com/s/def").ok(),
            Some(Appended::Added { line: 3 })
        );
        assert!(matches!(
            append_link(&path, "hello world"),
            Err(WechatError::NotAUrl(_))
        ));
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "# no newline at end\nhttps://a.example/x\nhttps://mp.weixin.qq.com/s/def\n"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = WechatConfig {
            min_interval_secs: 0,
            jitter_secs: 0,
            backoff_min_secs: 900,
            backoff_max_secs: 21_600,
        };
        let waits: Vec<u64> = (1..=7).map(|n| backoff(&settings, n).as_secs()).collect();
        assert_eq!(waits, [900, 1800, 3600, 7200, 14_400, 21_600, 21_600]);
        assert_eq!(backoff(&settings, 1000).as_secs(), 21_600);
    }

    #[test]
    fn spacing_stays_within_interval_plus_jitter() {
        let settings = WechatConfig {
            min_interval_secs: 2,
            jitter_secs: 3,
            backoff_min_secs: 0,
            backoff_max_secs: 0,
        };
        for _ in 0..50 {
            let wait = spacing(&settings);
            assert!(wait >= Duration::from_secs(2) && wait <= Duration::from_secs(5));
        }
    }
}
