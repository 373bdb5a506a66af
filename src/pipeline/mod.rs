//! One fetch cycle: every selected source is fetched, decoded, parsed and
//! prepared concurrently; the results are deduped one source at a time and
//! written to the store in groups. One broken source never stops the cycle:
//! its failure is recorded in its `SourceState` and reported.

mod collect;
pub mod follow;
mod full_text;
pub mod ingest;

use crate::config::{Config, SourceConfig, SourceKind, WechatConfig};
use crate::fetch::{FetchError, HttpClient, Validators};
use crate::model::SourceState;
use crate::source::{feed, wechat};
use crate::store::{Store, StoreError};
use chrono::Utc;
use collect::{Collected, Collection};
use ingest::{Candidate, IngestContext, IngestStats, Ingestor};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tracing::Instrument;

/// Why a source failed, in a stable category.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("cannot parse the feed: {0}")]
    Parse(#[from] feed::FeedError),
    #[error(transparent)]
    Wechat(#[from] wechat::WechatError),
    #[error(transparent)]
    Layout(#[from] crate::source::page::PageError),
    #[error(transparent)]
    Markdown(#[from] crate::source::markdown::MarkdownError),
    #[error("processing crashed (a bug): {0}")]
    Crashed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SourceError {
    pub fn category(&self) -> &'static str {
        match self {
            SourceError::Fetch(error) => error.category(),
            SourceError::Parse(_) => "parse",
            SourceError::Wechat(error) => error.category(),
            SourceError::Layout(_) => "layout",
            SourceError::Markdown(_) => "files",
            SourceError::Crashed(_) => "bug",
            SourceError::Store(_) => "store",
        }
    }
}

/// The outcome of one source in a cycle.
#[derive(Debug)]
pub struct SourceOutcome {
    pub name: String,
    /// `Ok(None)` when the server said nothing changed (304).
    pub result: Result<Option<IngestStats>, SourceError>,
}

/// The outcome of a cycle.
#[derive(Debug, Default)]
pub struct CycleReport {
    pub sources: Vec<SourceOutcome>,
}

impl CycleReport {
    pub fn failed(&self) -> impl Iterator<Item = &SourceOutcome> {
        self.sources.iter().filter(|s| s.result.is_err())
    }

    pub fn new_items(&self) -> usize {
        self.stats().map(|s| s.new_items).sum()
    }

    pub fn updated_items(&self) -> usize {
        self.stats().map(|s| s.updated).sum()
    }

    /// Whether anything stored changed, so outputs need regenerating.
    pub fn changed(&self) -> bool {
        self.new_items() + self.updated_items() > 0
    }

    fn stats(&self) -> impl Iterator<Item = &IngestStats> {
        self.sources
            .iter()
            .filter_map(|s| s.result.as_ref().ok().and_then(Option::as_ref))
    }
}

/// Called after each source finishes: (done, total).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Fetch and store the given sources.
pub async fn run_cycle(
    config: &Config,
    store: &Arc<Store>,
    client: &HttpClient,
    sources: &[&SourceConfig],
    progress: Progress<'_>,
) -> Result<CycleReport, StoreError> {
    let limit = Arc::new(Semaphore::new(config.fetch.concurrency.max(1)));
    let queue_reader = queue_reader(config);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, source) in sources.iter().enumerate() {
        let source = (*source).clone();
        let store = Arc::clone(store);
        let client = client.clone();
        let limit = Arc::clone(&limit);
        let summary_chars = config.digest.summary_chars;
        let wechat = config.wechat.clone();
        let queue_reader = queue_reader.clone();
        let span = tracing::info_span!("source", source = %source.name, kind = source.kind.label());
        tasks.spawn(
            async move {
                // The permit travels with the result and is released only
                // once the result is committed: prepared items never pile up
                // in memory faster than the store takes them.
                let permit = limit.acquire_owned().await;
                let setup = Setup {
                    client: &client,
                    wechat: &wechat,
                    queue_reader: queue_reader.as_deref(),
                    summary_chars,
                };
                let result = fetch_and_prepare(&store, &setup, &source).await;
                (index, source.name, result, permit)
            }
            .instrument(span),
        );
    }
    let bounds = RefreshBounds {
        min: Duration::from_secs(config.fetch.min_refresh_secs),
        max: Duration::from_secs(config.fetch.max_refresh_secs),
    };
    let mut ingestor = Ingestor::new(store)?;
    let mut outcomes: Vec<Option<SourceOutcome>> = (0..sources.len()).map(|_| None).collect();
    let total = sources.len();
    let mut done = 0;
    // Source states waiting to be written with the pending items.
    let mut states: Vec<(String, SourceState)> = Vec::new();
    loop {
        // Write what is pending whenever no other source is ready (and
        // before waiting), or once a group is large: one store
        // write for many sources. The wait below is the loop's only
        // await, so a cycle cancelled there (SIGTERM) has written every
        // source it handled.
        let joined = match tasks.try_join_next() {
            Some(joined) => joined,
            None => {
                ingestor.flush(&std::mem::take(&mut states))?;
                match tasks.join_next().await {
                    Some(joined) => joined,
                    None => break,
                }
            }
        };
        let (index, name, prepared, _permit) = match joined {
            Ok(value) => value,
            Err(error) => {
                // A panic in a source task is a bug; the cycle goes on.
                tracing::error!(error = %error, "source task failed");
                continue;
            }
        };
        let mut state = store.source_state(&name)?;
        state.last_attempt = Some(Utc::now());
        state.fetches += 1;
        let mut asked = None;
        let result = match prepared {
            Ok(Prepared::NotModified { refresh_after }) => {
                asked = refresh_after;
                Ok(None)
            }
            Ok(Prepared::Items {
                candidates,
                mut stats,
                validators,
                refresh_after,
            }) => match ingestor.commit(candidates, &mut stats) {
                Ok(_) => {
                    asked = refresh_after;
                    state.etag = validators.etag;
                    state.last_modified = validators.last_modified;
                    state.items_stored += stats.new_items as u64;
                    Ok(Some(stats))
                }
                Err(error) => Err(SourceError::Store(error)),
            },
            Err(error) => Err(error),
        };
        match &result {
            Ok(stats) => {
                state.last_ok = state.last_attempt;
                state.failures = 0;
                state.last_error = None;
                state.last_error_kind = None;
                if let Some(stats) = stats {
                    for reason in &stats.skipped {
                        tracing::info!(source = %name, reason = %reason, "entry skipped");
                    }
                    tracing::info!(source = %name, new = stats.new_items, updated = stats.updated,
                        duplicates = stats.exact_duplicates + stats.near_duplicates, "source done");
                } else {
                    tracing::info!(source = %name, "not modified");
                }
            }
            Err(error) => {
                state.failures += 1;
                state.errors += 1;
                state.last_error = Some(error.to_string());
                state.last_error_kind = Some(error.category().to_string());
                tracing::warn!(source = %name, category = error.category(), error = %error, "source failed");
            }
        }
        state.next_due = next_due(&state, &result, asked, &bounds);
        states.push((name.clone(), state));
        if ingestor.pending_items() >= GROUP_ITEMS {
            ingestor.flush(&std::mem::take(&mut states))?;
        }
        done += 1;
        progress(done, total);
        if let Some(slot) = outcomes.get_mut(index) {
            *slot = Some(SourceOutcome { name, result });
        }
    }
    ingestor.flush(&states)?;
    store.flush()?;
    Ok(CycleReport {
        sources: outcomes.into_iter().flatten().collect(),
    })
}

/// A turn at CPU-bound work (parsing, cleaning, summarising): no more such
/// jobs run at once than there are cores, so sources waiting for a core
/// hold no thread, and no more threads (each with its own allocator arena)
/// touch memory than can run.
pub(crate) async fn cpu_permit() -> Option<tokio::sync::SemaphorePermit<'static>> {
    static CORES: std::sync::LazyLock<Semaphore> = std::sync::LazyLock::new(|| {
        Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from))
    });
    CORES.acquire().await.ok()
}

/// Items that make a store write worth doing even while more
/// sources are ready: bounds what waits in memory.
const GROUP_ITEMS: usize = 2000;

/// The configured bounds on how long a source may ask us to wait.
#[derive(Debug, Clone, Copy)]
pub struct RefreshBounds {
    pub min: Duration,
    pub max: Duration,
}

/// When a source may be fetched again. A success honours what the server
/// asked for (within bounds); a failure honours `Retry-After` and otherwise
/// backs off exponentially from the second failure in a row, so one blip
/// costs nothing and a dead site is asked at most once per `max`.
pub fn next_due(
    state: &SourceState,
    result: &Result<Option<IngestStats>, SourceError>,
    asked: Option<Duration>,
    bounds: &RefreshBounds,
) -> Option<chrono::DateTime<Utc>> {
    let now = state.last_attempt.unwrap_or_else(Utc::now);
    let wait = match result {
        Ok(_) => asked.map(|asked| asked.clamp(bounds.min, bounds.max.max(bounds.min))),
        Err(SourceError::Fetch(FetchError::Status {
            retry_after: Some(retry_after),
            ..
        })) => Some((*retry_after).min(bounds.max)),
        Err(_) if state.failures >= 2 => {
            let doublings = (state.failures - 2).min(20);
            Some(bounds.min.saturating_mul(1 << doublings).min(bounds.max))
        }
        Err(_) => None,
    }?;
    chrono::Duration::from_std(wait).ok().map(|wait| now + wait)
}

/// The wechat source that reads links queued by `follow`: the first
/// enabled one in the config, so a queued link is fetched by one source.
fn queue_reader(config: &Config) -> Option<String> {
    config
        .sources
        .iter()
        .find(|source| source.enabled && matches!(source.kind, SourceKind::Wechat { .. }))
        .map(|source| source.name.clone())
}

/// What a source task needs from the cycle.
struct Setup<'a> {
    client: &'a HttpClient,
    wechat: &'a WechatConfig,
    queue_reader: Option<&'a str>,
    summary_chars: usize,
}

/// Whether a link is stored already (as an item URL or an alias). A store
/// error counts as "not known": the page is then fetched once more.
fn known_url(store: &Arc<Store>) -> impl Fn(&str) -> bool + Send + Sync {
    let store = Arc::clone(store);
    move |url: &str| {
        crate::process::canonical::canonical_url(url)
            .is_some_and(|url| matches!(store.item_id_by_url(&url), Ok(Some(_))))
    }
}

enum Prepared {
    NotModified {
        refresh_after: Option<Duration>,
    },
    Items {
        candidates: Vec<Candidate>,
        stats: IngestStats,
        validators: Validators,
        refresh_after: Option<Duration>,
    },
}

async fn fetch_and_prepare(
    store: &Arc<Store>,
    setup: &Setup<'_>,
    source: &SourceConfig,
) -> Result<Prepared, SourceError> {
    let state: SourceState = store.source_state(&source.name)?;
    let ctx = collect::CollectContext {
        client: setup.client,
        store,
        wechat: setup.wechat,
        queue_reader: setup.queue_reader,
    };
    let summary_chars = setup.summary_chars;
    let Collected {
        entries,
        skipped,
        validators,
        refresh_after,
    } = match collect::collect(&ctx, source, &state, &known_url(store)).await? {
        Collection::Collected(collected) => collected,
        Collection::NotModified { refresh_after } => {
            return Ok(Prepared::NotModified { refresh_after })
        }
    };
    let store = Arc::clone(store);
    let name = source.name.clone();
    let tags = source.tags.clone();
    // Cleaning and summarising are CPU work: keep them off the I/O threads.
    let _cpu = cpu_permit().await;
    tokio::task::spawn_blocking(move || {
        let mut stats = IngestStats {
            skipped,
            ..IngestStats::default()
        };
        let ctx = IngestContext {
            source: &name,
            summary_chars,
            tags: &tags,
            now: Utc::now(),
        };
        let candidates = ingest::prepare(&store, &ctx, entries, &mut stats)?;
        Ok(Prepared::Items {
            candidates,
            stats,
            validators,
            refresh_after,
        })
    })
    .await
    .map_err(|e| SourceError::Crashed(e.to_string()))?
}
