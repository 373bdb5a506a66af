//! The embedded store: one sled database with a tree per kind of record.
//!
//! Fetched data (`items`) and editors' work (`curation`, `digests`) live in
//! separate trees so a refetch can never overwrite an editor's change. Secondary
//! indexes (`urls`, `by_date`, `heads`) are maintained here and nowhere
//! else. Small records are JSON, so a human can read one; the two kinds
//! there are tens of thousands of are compact instead: items (`records`:
//! positional binary) and their bodies (`bodies`: compressed, in a tree of
//! their own). `export` writes everything as JSON lines either way.

mod backup;
mod bodies;
mod records;

pub use backup::{ExportCounts, ImportError};

use crate::model::{Curation, Digest, Item, SourceState};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The on-disk layout version. Bump it when a record changes shape in a way
/// old code cannot read, and teach `open` to migrate.
///
/// 2: item bodies moved from `items` to `bodies` (migrated on open).
/// 3: items written as compact binary records (`records`); JSON records of
///    schema 2 are still read, so opening only updates the version.
pub const SCHEMA_VERSION: u32 = 3;

const META_SCHEMA: &[u8] = b"schema_version";

/// sled's page cache. Small: the daemon idles most of the time.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// How the database is opened.
///
/// No background flusher: sled's flusher also runs its segment cleaner,
/// which on a store fresh from a big cycle rewrote pages for as long as
/// it was watched (1.5 MB/s of writes and an fsync every 500 ms, ten
/// minutes after the cycle, with RSS growing from 60 to 99 MB), and took
/// CPU from the cycle itself. yaowen flushes where durability matters:
/// after each cycle, each editor's action, an import, and on shutdown.
fn sled_config(path: &Path) -> sled::Config {
    sled::Config::new()
        .path(path)
        .cache_capacity(CACHE_BYTES)
        .flush_every_ms(None)
}

/// Stores this process has closed (or is reopening). sled lets go of its file lock a moment
/// after the last handle is dropped (its I/O threads finish first), so a
/// reopen in the same process waits for that instead of reporting another
/// process.
static CLOSED_HERE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

impl Drop for Store {
    fn drop(&mut self) {
        mark_closed_here(&self.path);
    }
}

fn mark_closed_here(path: &Path) {
    let mut closed = CLOSED_HERE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !closed.iter().any(|closed| closed == path) {
        closed.push(path.to_path_buf());
    }
}

fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    let closed_here = || {
        CLOSED_HERE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .any(|closed| closed == path)
    };
    let mut attempts = 0;
    loop {
        match sled_config(path).open() {
            Ok(db) => {
                // Whatever was closing has let go.
                CLOSED_HERE
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .retain(|closed| closed != path);
                return Ok(db);
            }
            Err(error) => match classify_open_error(path, error) {
                // Up to 5 s: a busy I/O thread may finish a segment first.
                StoreError::Locked { .. } if attempts < 250 && closed_here() => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                error => return Err(error),
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {path} is in use by another process (is `yaowen run` running? admin commands go through its API then)")]
    Locked { path: PathBuf },
    #[error(
        "the store at {path} is corrupt ({detail}); restore it from an export (`yaowen import`)"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error("the store at {path} has schema version {found}, this yaowen knows {SCHEMA_VERSION}; use a matching yaowen or export/import")]
    Schema { path: PathBuf, found: u32 },
    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("the store at {path} is closed: reopening it failed; restart yaowen")]
    Closed { path: PathBuf },
    #[error("store I/O failed: {0}")]
    Db(#[from] sled::Error),
    #[error("a stored {what} record {key:?} is damaged: {detail}")]
    Damaged {
        what: &'static str,
        key: String,
        detail: String,
    },
    #[error("a stored {what} record {key:?} cannot be read: {source}")]
    Decode {
        what: &'static str,
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot encode a {what} record: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// Why an item was removed for good; a tombstone keeps it from coming back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tombstone {
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A link found in another source's items, queued for fetching.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueuedLink {
    pub url: String,
    /// The source whose item linked to it.
    pub from_source: String,
    pub queued_at: DateTime<Utc>,
}

/// Why a link is not fetched again yet: a verification page or a failed
/// fetch, with when to try next. Operational state only (not exported).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkState {
    /// Consecutive failed attempts (drives the back-off).
    pub attempts: u32,
    pub last_attempt: Option<DateTime<Utc>>,
    /// Not before this time.
    pub next_try: Option<DateTime<Utc>>,
    /// What happened last (`verify`, `error: …`).
    pub last_outcome: String,
}

/// The yaowen store. The sled database behind it can be closed and opened
/// again (`release_memory`): sled 0.34 keeps every page it has read in
/// memory whatever its cache setting, and only a reopen gives that back.
pub struct Store {
    path: PathBuf,
    trees: std::sync::RwLock<Option<Arc<Trees>>>,
    /// Whether any tombstone exists: most stores have none, and every new
    /// entry is checked against them, so this saves two reads per entry
    /// (reads that wait while a batch is written).
    has_tombstones: std::sync::atomic::AtomicBool,
}

/// The open sled database and its trees.
struct Trees {
    db: sled::Db,
    items: sled::Tree,
    curation: sled::Tree,
    sources: sled::Tree,
    digests: sled::Tree,
    meta: sled::Tree,
    /// canonical URL → item id (exact dedupe across sources).
    urls: sled::Tree,
    /// effective date (ms, big-endian) ++ item id → () (ordered by time).
    by_date: sled::Tree,
    /// item id or canonical URL → Tombstone.
    tombstones: sled::Tree,
    /// id of each story's first item → its fingerprint (8 bytes, big-endian),
    /// so the near-duplicate index is rebuilt without decoding items.
    heads: sled::Tree,
    /// link → QueuedLink: article links harvested from other sources,
    /// waiting for the source kind that reads them (WeChat).
    link_queue: sled::Tree,
    /// link (or `host:{host}`) → LinkState: retry bookkeeping for links
    /// fetched one by one, so a cycle does not refetch or hammer them.
    link_states: sled::Tree,
    /// first-seen time + item id → the item's text and HTML (see `bodies`).
    bodies: sled::Tree,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Open (or create) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| StoreError::Open {
                    path: path.to_path_buf(),
                    source: sled::Error::Io(e),
                })?;
            }
        }
        // sled silently starts afresh on a data file it cannot read; note
        // whether there was data, so that case is reported, not hidden.
        let had_data = std::fs::metadata(path.join("db")).is_ok_and(|meta| meta.len() > 0);
        let db = open_db(path)?;
        let trees = Trees::open(path, db)?;
        let has_tombstones = !trees.tombstones.is_empty();
        let store = Store {
            path: path.to_path_buf(),
            trees: std::sync::RwLock::new(Some(Arc::new(trees))),
            has_tombstones: std::sync::atomic::AtomicBool::new(has_tombstones),
        };
        store.check_schema(had_data)?;
        Ok(store)
    }
}

impl Trees {
    fn open(path: &Path, db: sled::Db) -> Result<Trees, StoreError> {
        let open_tree = |name: &str| db.open_tree(name).map_err(|e| classify_open_error(path, e));
        Ok(Trees {
            items: open_tree("items")?,
            curation: open_tree("curation")?,
            sources: open_tree("sources")?,
            digests: open_tree("digests")?,
            meta: open_tree("meta")?,
            urls: open_tree("urls")?,
            by_date: open_tree("by_date")?,
            tombstones: open_tree("tombstones")?,
            heads: open_tree("heads")?,
            link_queue: open_tree("link_queue")?,
            link_states: open_tree("link_states")?,
            bodies: open_tree("bodies")?,
            db,
        })
    }
}

impl Store {
    /// The open database; an error only if a reopen failed.
    fn trees(&self) -> Result<Arc<Trees>, StoreError> {
        let guard = self
            .trees
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guard
            .as_ref()
            .map(Arc::clone)
            .ok_or_else(|| StoreError::Closed {
                path: self.path.clone(),
            })
    }

    /// Iterate one tree; a closed store yields its error once.
    fn scan(
        &self,
        pick: fn(&Trees) -> &sled::Tree,
    ) -> impl Iterator<Item = Result<(sled::IVec, sled::IVec), StoreError>> {
        let (iter, error) = match self.trees() {
            Ok(trees) => (Some(pick(&trees).iter()), None),
            Err(error) => (None, Some(error)),
        };
        error.into_iter().map(Err).chain(
            iter.into_iter()
                .flatten()
                .map(|entry| entry.map_err(StoreError::from)),
        )
    }

    /// Flush, close and reopen the database, giving back the memory sled
    /// holds for every page read since it was opened (tens of MB after a
    /// cycle over thousands of items). Callers wait while it happens.
    pub fn release_memory(&self) -> Result<(), StoreError> {
        let mut guard = self
            .trees
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(trees) = guard.as_ref() {
            trees.db.flush()?;
        }
        *guard = None;
        // The file lock goes with the last handle; an iterator still alive
        // on another thread may hold one for a moment (`open_db` waits).
        mark_closed_here(&self.path);
        let trees = open_db(&self.path).and_then(|db| Trees::open(&self.path, db))?;
        *guard = Some(Arc::new(trees));
        crate::memory::release_freed_heap();
        Ok(())
    }

    fn check_schema(&self, had_data: bool) -> Result<(), StoreError> {
        match self.trees()?.meta.get(META_SCHEMA)? {
            None if had_data => Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: "the data file exists but holds no readable yaowen records".into(),
            }),
            None => {
                self.trees()?
                    .meta
                    .insert(META_SCHEMA, SCHEMA_VERSION.to_string().as_bytes())?;
                self.trees()?.db.flush()?;
                Ok(())
            }
            Some(raw) => {
                let found = std::str::from_utf8(&raw)
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                    .ok_or_else(|| StoreError::Corrupt {
                        path: self.path.clone(),
                        detail: "unreadable schema version".into(),
                    })?;
                if found == SCHEMA_VERSION {
                    Ok(())
                } else if found == 1 || found == 2 {
                    let trees = self.trees()?;
                    // Schema 2's JSON item records are read as they are.
                    let moved = if found == 1 {
                        bodies::migrate_from_v1(&trees)?
                    } else {
                        0
                    };
                    trees
                        .meta
                        .insert(META_SCHEMA, SCHEMA_VERSION.to_string().as_bytes())?;
                    trees.db.flush()?;
                    tracing::info!(path = %self.path.display(), bodies = moved,
                        "store migrated to schema {SCHEMA_VERSION}");
                    Ok(())
                } else {
                    Err(StoreError::Schema {
                        path: self.path.clone(),
                        found,
                    })
                }
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Make everything written so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.trees()?.db.flush()?;
        Ok(())
    }

    /// Whether the store still reads back what it wrote (for the watchdog
    /// and `/healthz`).
    pub fn check_health(&self) -> Result<(), StoreError> {
        match self.trees()?.meta.get(META_SCHEMA)? {
            Some(_) => Ok(()),
            None => Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: "schema version missing".into(),
            }),
        }
    }

    /// Bytes the store takes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.trees()
            .ok()
            .and_then(|trees| trees.db.size_on_disk().ok())
            .unwrap_or(0)
    }

    // ---- items ----------------------------------------------------------

    /// The item without its body (`text` empty, `html` none): what
    /// listing, dedupe and generation need. See `item_with_body`.
    pub fn item(&self, id: &str) -> Result<Option<Item>, StoreError> {
        match self.trees()?.items.get(id.as_bytes())? {
            Some(raw) => records::decode(id.as_bytes(), &raw).map(Some),
            None => Ok(None),
        }
    }

    /// The item with its text and HTML.
    pub fn item_with_body(&self, id: &str) -> Result<Option<Item>, StoreError> {
        let Some(mut item) = self.item(id)? else {
            return Ok(None);
        };
        self.load_body(&mut item)?;
        Ok(Some(item))
    }

    /// Fill in the text and HTML of an item read without them.
    pub fn load_body(&self, item: &mut Item) -> Result<(), StoreError> {
        if let Some(raw) = self.trees()?.bodies.get(bodies::key(item))? {
            bodies::decode_into(item, &raw)?;
        }
        Ok(())
    }

    /// The id of the item stored under `canonical_url`, if any.
    pub fn item_id_by_url(&self, canonical_url: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .trees()?
            .urls
            .get(canonical_url.as_bytes())?
            .map(|raw| String::from_utf8_lossy(&raw).into_owned()))
    }

    /// Insert or replace items, keeping the indexes in step. An item without
    /// a body (as `item` returns it) keeps the body stored for it. The caller
    /// flushes once per batch (`flush`).
    pub fn put_items(&self, items: &[Item]) -> Result<(), StoreError> {
        self.write_batch(items, &[], &[])
    }

    /// `put_items`, plus other URLs that resolve to items (aliases) and the
    /// states of the sources the items came from.
    ///
    /// The writes go in steps: new index entries and bodies, the item
    /// records, removal of the index entries they made stale, the source
    /// states. sled recovers a prefix of one writer's writes, so a crash
    /// (before the caller's `flush`) can leave index entries naming items
    /// not yet written or written with another date, never an item missing
    /// from an index or a source's new ETag saved without its items. Every
    /// reader skips an index entry that does not match its item, and the
    /// sources are fetched again in full, which writes their items and
    /// index entries again. A body written without its item stays
    /// unreferenced (space, not damage).
    ///
    /// This used to be one sled transaction over the six trees. Its reads
    /// of every key before writing it, and the global lock sled takes for
    /// a transaction (which stalls every reader in every thread, the
    /// parallel summarising included), made the cold 1,000-feed pass 20%
    /// slower (2.50 s against 2.01 s, five runs each).
    pub fn write_batch(
        &self,
        items: &[Item],
        aliases: &[(String, String)],
        states: &[(String, SourceState)],
    ) -> Result<(), StoreError> {
        let trees = self.trees()?;
        let mut records = Vec::with_capacity(items.len());
        // Index entries the new records make stale, removed after them.
        let mut stale_dates = Vec::new();
        let mut not_heads = Vec::new();
        for item in items {
            let id = item.id.as_bytes();
            if let Some(old) = self.item(&item.id)? {
                if old.effective_date() != item.effective_date() {
                    stale_dates.push(date_key(old.effective_date(), &old.id));
                }
            }
            trees
                .by_date
                .insert(date_key(item.effective_date(), &item.id), Vec::new())?;
            if item.is_cluster_head() {
                trees.heads.insert(id, &item.fingerprint.to_be_bytes())?;
            } else {
                not_heads.push(id);
            }
            trees.urls.insert(item.url.as_bytes(), id)?;
            let record = if bodies::has_body(item) {
                trees
                    .bodies
                    .insert(bodies::key(item), bodies::encode(item)?)?;
                records::encode(&bodies::without_body(item))?
            } else {
                records::encode(item)?
            };
            records.push((id, record));
        }
        for (url, id) in aliases {
            trees.urls.insert(url.as_bytes(), id.as_bytes())?;
        }
        for (id, record) in records {
            trees.items.insert(id, record)?;
        }
        for key in stale_dates {
            trees.by_date.remove(key)?;
        }
        for id in not_heads {
            trees.heads.remove(id)?;
        }
        for (name, state) in states {
            trees
                .sources
                .insert(name.as_bytes(), encode("source", state)?)?;
        }
        Ok(())
    }

    /// (id, fingerprint) of the first item of every story.
    pub fn cluster_heads(&self) -> impl Iterator<Item = Result<(String, u64), StoreError>> + '_ {
        self.scan(|t| &t.heads).map(|entry| {
            let (key, value) = entry?;
            let mut raw = [0u8; 8];
            if value.len() == 8 {
                raw.copy_from_slice(&value);
            }
            Ok((
                String::from_utf8_lossy(&key).into_owned(),
                u64::from_be_bytes(raw),
            ))
        })
    }

    pub fn item_count(&self) -> usize {
        self.trees().map_or(0, |trees| trees.items.len())
    }

    /// Every item without its body, in id order.
    pub fn items(&self) -> impl Iterator<Item = Result<Item, StoreError>> + '_ {
        self.scan(|t| &t.items).map(|entry| {
            let (key, value) = entry?;
            records::decode(&key, &value)
        })
    }

    /// Items whose effective date is in `[from, to)`, oldest first.
    pub fn items_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Item>, StoreError> {
        let start = time_prefix(from);
        let end = time_prefix(to);
        let mut out = Vec::new();
        for entry in self.trees()?.by_date.range(start..end) {
            let (key, _) = entry?;
            if let Some(item) = self.dated_item(&key)? {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// Up to `limit` items that pass `keep`, newest effective date first.
    pub fn latest_items(
        &self,
        limit: usize,
        mut keep: impl FnMut(&Item) -> bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::with_capacity(limit.min(1024));
        for entry in self.trees()?.by_date.iter().rev() {
            if out.len() >= limit {
                break;
            }
            let (key, _) = entry?;
            if let Some(item) = self.dated_item(&key)? {
                if keep(&item) {
                    out.push(item);
                }
            }
        }
        Ok(out)
    }

    /// The item a date-index entry names, if the entry is current (see
    /// `write_batch` for how an entry can outlive its item's date).
    fn dated_item(&self, key: &[u8]) -> Result<Option<Item>, StoreError> {
        Ok(self
            .item(id_of_date_key(key))?
            .filter(|item| date_key(item.effective_date(), &item.id) == key))
    }

    /// The effective date of every item, oldest first, read from the date
    /// index alone (no item is decoded).
    pub fn effective_dates(&self) -> impl Iterator<Item = Result<DateTime<Utc>, StoreError>> + '_ {
        self.scan(|t| &t.by_date)
            .map(|entry| entry.map(|(key, _)| time_of_date_key(&key)))
    }

    // ---- tombstones -----------------------------------------------------

    pub fn tombstone(&self, key: &str) -> Result<Option<Tombstone>, StoreError> {
        if !self
            .has_tombstones
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return Ok(None);
        }
        get_json(&self.trees()?.tombstones, "tombstone", key)
    }

    pub fn put_tombstone(&self, key: &str, tombstone: &Tombstone) -> Result<(), StoreError> {
        self.has_tombstones
            .store(true, std::sync::atomic::Ordering::Release);
        self.trees()?
            .tombstones
            .insert(key.as_bytes(), encode("tombstone", tombstone)?)?;
        Ok(())
    }

    // ---- link queue and per-link state ------------------------------------

    /// Queue `url` (found in an item of `from_source`). Returns false when
    /// it was queued already (the first queueing is kept).
    pub fn queue_link(&self, url: &str, from_source: &str) -> Result<bool, StoreError> {
        if self.trees()?.link_queue.contains_key(url.as_bytes())? {
            return Ok(false);
        }
        let record = QueuedLink {
            url: url.to_string(),
            from_source: from_source.to_string(),
            queued_at: Utc::now(),
        };
        self.trees()?
            .link_queue
            .insert(url.as_bytes(), encode("queued link", &record)?)?;
        Ok(true)
    }

    /// Every queued link, oldest first.
    pub fn queued_links(&self) -> Result<Vec<QueuedLink>, StoreError> {
        let mut links = self
            .trees()?
            .link_queue
            .iter()
            .map(|entry| {
                let (key, value) = entry?;
                decode::<QueuedLink>("queued link", &key, &value)
            })
            .collect::<Result<Vec<_>, _>>()?;
        links.sort_by_key(|link| link.queued_at);
        Ok(links)
    }

    /// Take `url` off the queue (it was stored or is gone).
    pub fn dequeue_link(&self, url: &str) -> Result<(), StoreError> {
        self.trees()?.link_queue.remove(url.as_bytes())?;
        Ok(())
    }

    pub fn link_state(&self, key: &str) -> Result<Option<LinkState>, StoreError> {
        get_json(&self.trees()?.link_states, "link state", key)
    }

    pub fn put_link_state(&self, key: &str, state: &LinkState) -> Result<(), StoreError> {
        self.trees()?
            .link_states
            .insert(key.as_bytes(), encode("link state", state)?)?;
        Ok(())
    }

    pub fn remove_link_state(&self, key: &str) -> Result<(), StoreError> {
        self.trees()?.link_states.remove(key.as_bytes())?;
        Ok(())
    }

    // ---- curation -------------------------------------------------------

    pub fn curation(&self, id: &str) -> Result<Option<Curation>, StoreError> {
        get_json(&self.trees()?.curation, "curation", id)
    }

    pub fn put_curation(&self, id: &str, curation: &Curation) -> Result<(), StoreError> {
        self.trees()?
            .curation
            .insert(id.as_bytes(), encode("curation", curation)?)?;
        Ok(())
    }

    pub fn curations(&self) -> impl Iterator<Item = Result<(String, Curation), StoreError>> + '_ {
        self.scan(|t| &t.curation).map(|entry| {
            let (key, value) = entry?;
            let curation = decode("curation", &key, &value)?;
            Ok((String::from_utf8_lossy(&key).into_owned(), curation))
        })
    }

    // ---- sources --------------------------------------------------------

    pub fn source_state(&self, name: &str) -> Result<SourceState, StoreError> {
        Ok(get_json(&self.trees()?.sources, "source", name)?.unwrap_or_default())
    }

    pub fn put_source_state(&self, name: &str, state: &SourceState) -> Result<(), StoreError> {
        self.trees()?
            .sources
            .insert(name.as_bytes(), encode("source", state)?)?;
        Ok(())
    }

    pub fn source_states(
        &self,
    ) -> impl Iterator<Item = Result<(String, SourceState), StoreError>> + '_ {
        self.scan(|t| &t.sources).map(|entry| {
            let (key, value) = entry?;
            let state = decode("source", &key, &value)?;
            Ok((String::from_utf8_lossy(&key).into_owned(), state))
        })
    }

    // ---- digests --------------------------------------------------------

    pub fn digest(&self, period: &str) -> Result<Option<Digest>, StoreError> {
        get_json(&self.trees()?.digests, "digest", period)
    }

    pub fn put_digest(&self, digest: &Digest) -> Result<(), StoreError> {
        self.trees()?
            .digests
            .insert(digest.period.as_bytes(), encode("digest", digest)?)?;
        Ok(())
    }

    /// Every digest record, oldest period first.
    pub fn digests(&self) -> Result<Vec<Digest>, StoreError> {
        self.trees()?
            .digests
            .iter()
            .map(|entry| {
                let (key, value) = entry?;
                decode("digest", &key, &value)
            })
            .collect()
    }
}

fn classify_open_error(path: &Path, error: sled::Error) -> StoreError {
    match &error {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Locked {
                path: path.to_path_buf(),
            }
        }
        sled::Error::Corruption { .. } => StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: error.to_string(),
        },
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            StoreError::Corrupt {
                path: path.to_path_buf(),
                detail: io.to_string(),
            }
        }
        _ => StoreError::Open {
            path: path.to_path_buf(),
            source: error,
        },
    }
}

fn time_prefix(at: DateTime<Utc>) -> [u8; 8] {
    // Shift so dates before 1970 still sort correctly as unsigned bytes.
    let shifted = (at.timestamp_millis() as u64) ^ (1u64 << 63);
    shifted.to_be_bytes()
}

fn date_key(at: DateTime<Utc>, id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + id.len());
    key.extend_from_slice(&time_prefix(at));
    key.extend_from_slice(id.as_bytes());
    key
}

fn id_of_date_key(key: &[u8]) -> &str {
    std::str::from_utf8(key.get(8..).unwrap_or_default()).unwrap_or_default()
}

fn time_of_date_key(key: &[u8]) -> DateTime<Utc> {
    let mut raw = [0u8; 8];
    if let Some(prefix) = key.get(..8) {
        raw.copy_from_slice(prefix);
    }
    let millis = (u64::from_be_bytes(raw) ^ (1u64 << 63)) as i64;
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

fn encode<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|source| StoreError::Encode { what, source })
}

fn decode<T: DeserializeOwned>(
    what: &'static str,
    key: &[u8],
    value: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(value).map_err(|source| StoreError::Decode {
        what,
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}

fn get_json<T: DeserializeOwned>(
    tree: &sled::Tree,
    what: &'static str,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match tree.get(key.as_bytes())? {
        Some(value) => decode(what, key.as_bytes(), &value).map(Some),
        None => Ok(None),
    }
}
