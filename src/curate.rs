//! Editors' actions on digests, shared by the JSON API, the web UI and the
//! CLI working directly on the store, so all three follow the same rules:
//! a request changes only the fields it names (last write wins per field),
//! read-modify-write is serialised, an item in a published digest cannot be
//! edited until the digest is reopened, and the site is regenerated after
//! every change.

use crate::config::{Config, SharedConfig, SourceKind};
use crate::generate::{self, GenerateError, PeriodView};
use crate::model::{Curation, CurationState, Digest, DigestStatus, Item, SourceState};
use crate::publish::{DigestEntry, SiteInfo};
use crate::store::{Store, StoreError};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum CurateError {
    #[error("no item with id {0:?}")]
    NoItem(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the digest {period} is published; reopen it before changing it")]
    Published { period: String },
    #[error("{0}")]
    Conflict(String),
    #[error("cannot add the link: {0}")]
    Links(#[source] crate::source::wechat::WechatError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("the change is saved but the site could not be regenerated: {0}")]
    Generate(#[from] GenerateError),
}

/// What an editor asks for about one item. Only the named fields change;
/// an empty `title`, `summary` or `date` removes that override.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CurationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `YYYY-MM-DD`; moves the item into that day's digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Include,
    Exclude,
    Pin,
    Unpin,
    Up,
    Down,
}

impl Action {
    pub fn parse(text: &str) -> Option<Action> {
        Some(match text {
            "include" => Action::Include,
            "exclude" => Action::Exclude,
            "pin" => Action::Pin,
            "unpin" => Action::Unpin,
            "up" => Action::Up,
            "down" => Action::Down,
            _ => return None,
        })
    }
}

/// One digest line for editors: what it shows plus the curation state.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    pub id: String,
    pub date: NaiveDate,
    pub title: String,
    pub url: String,
    pub summary: String,
    pub source: String,
    pub also_at: Vec<String>,
    pub undated: bool,
    pub pinned: bool,
    pub state: CurationState,
    /// Fields an editor overrode (`title`, `summary`, `date`).
    pub edited: Vec<&'static str>,
}

/// A digest for editors.
#[derive(Debug, Clone, Serialize)]
pub struct DigestDetail {
    pub period: String,
    pub label: String,
    pub status: DigestStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub entries: Vec<EntryView>,
    /// Items of the period an editor excluded.
    pub excluded: Vec<EntryView>,
}

/// A line of the digest list.
#[derive(Debug, Clone, Serialize)]
pub struct DigestSummary {
    pub period: String,
    pub label: String,
    pub status: DigestStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub entries: usize,
}

/// A stored item found by a search.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub id: String,
    pub title: String,
    pub url: String,
    pub source: String,
    pub date: NaiveDate,
    pub summary: String,
    pub state: CurationState,
}

/// A source and how its fetches go.
#[derive(Debug, Clone, Serialize)]
pub struct SourceHealth {
    pub name: String,
    pub kind: &'static str,
    pub enabled: bool,
    /// No error since the last success.
    pub healthy: bool,
    #[serde(flatten)]
    pub state: SourceState,
}

/// Where an added link went.
#[derive(Debug, Clone, Serialize)]
pub struct AddedLink {
    pub url: String,
    pub source: String,
    pub links_file: PathBuf,
    /// False when the link was already in the file.
    pub added: bool,
}

/// Applies editors' changes to one store. One per process: the mutex
/// serialises every read-modify-write (sled admits one process, so this is
/// the only writer of curation and digests).
pub struct Curator {
    /// Read afresh for each action, so a reloaded config takes effect.
    config: SharedConfig,
    store: Arc<Store>,
    write: Mutex<()>,
}

impl Curator {
    pub fn new(config: Arc<Config>, store: Arc<Store>) -> Curator {
        Curator::with_shared(SharedConfig::new(config), store)
    }

    /// A curator that follows configuration reloads.
    pub fn with_shared(config: SharedConfig, store: Arc<Store>) -> Curator {
        Curator {
            config,
            store,
            write: Mutex::new(()),
        }
    }

    /// The rendering settings of the configuration in force.
    pub fn site(&self) -> SiteInfo {
        generate::site_info(&self.config.get())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The period start of `text`: `current` (or empty) for now, else any
    /// day `YYYY-MM-DD` inside the period.
    pub fn period_start(&self, text: &str) -> Result<NaiveDate, CurateError> {
        let text = text.trim();
        if text.is_empty() || text == "current" {
            return Ok(self
                .site()
                .period
                .start_at(Utc::now(), self.site().timezone));
        }
        let day = parse_day(text)?;
        Ok(self.site().period.start_of(day))
    }

    /// The current period's start.
    pub fn current_period(&self) -> NaiveDate {
        self.site()
            .period
            .start_at(Utc::now(), self.site().timezone)
    }

    /// Every digest with entries or a published record, newest first, and
    /// the current period even when it is still empty.
    pub fn digests(&self) -> Result<Vec<DigestSummary>, CurateError> {
        let view = generate::build_view(&self.store, &self.site(), 0)?;
        let mut list: Vec<DigestSummary> = view
            .digests
            .iter()
            .map(|page| DigestSummary {
                period: page.start.to_string(),
                label: self.site().period_label(page.start),
                status: status_of(page.published),
                published_at: page.published_at,
                entries: page.entries.len(),
            })
            .collect();
        let current = self.current_period();
        if !view.digests.iter().any(|page| page.start == current) {
            list.push(DigestSummary {
                period: current.to_string(),
                label: self.site().period_label(current),
                status: DigestStatus::Draft,
                published_at: None,
                entries: 0,
            });
            list.sort_by(|a, b| b.period.cmp(&a.period));
        }
        Ok(list)
    }

    /// One digest for editors.
    pub fn digest(&self, start: NaiveDate) -> Result<DigestDetail, CurateError> {
        let PeriodView { page, excluded, .. } =
            generate::period_view(&self.store, &self.site(), start)?;
        let curations = self.curations()?;
        let view = |entry: &DigestEntry| entry_view(entry, curations.get(&entry.id));
        Ok(DigestDetail {
            period: start.to_string(),
            label: self.site().period_label(start),
            status: status_of(page.published),
            published_at: page.published_at,
            entries: page.entries.iter().map(view).collect(),
            excluded: excluded.iter().map(view).collect(),
        })
    }

    /// Apply an editor's request to item `id` and regenerate the site.
    pub fn curate(
        &self,
        id: &str,
        request: &CurationRequest,
        editor: &str,
    ) -> Result<Curation, CurateError> {
        let curation = {
            let _guard = self.lock();
            self.curate_locked(id, request, editor)?
        };
        self.store.flush()?;
        self.regenerate()?;
        Ok(curation)
    }

    fn curate_locked(
        &self,
        id: &str,
        request: &CurationRequest,
        editor: &str,
    ) -> Result<Curation, CurateError> {
        let item = self
            .store
            .item(id)?
            .ok_or_else(|| CurateError::NoItem(id.to_string()))?;
        if let Some(period) = self.published_digest_holding(id)? {
            return Err(CurateError::Published { period });
        }
        let mut curation = self.store.curation(id)?.unwrap_or_default();
        let date = match request.date.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(text) => Some(Some(parse_day(text)?)),
        };
        if let Some(Some(day)) = date {
            let start = self.site().period.start_of(day);
            if self.is_published(start)? {
                return Err(CurateError::Published {
                    period: start.to_string(),
                });
            }
        }
        match request.action {
            Some(Action::Include) => curation.state = CurationState::Included,
            Some(Action::Exclude) => curation.state = CurationState::Excluded,
            Some(Action::Pin) => curation.state = CurationState::Pinned,
            Some(Action::Unpin) => curation.state = CurationState::Included,
            Some(action @ (Action::Up | Action::Down)) => {
                let start = self.period_of(&item, &curation);
                if self.is_published(start)? {
                    return Err(CurateError::Published {
                        period: start.to_string(),
                    });
                }
                self.move_item(id, start, action == Action::Up, editor)?;
                curation = self.store.curation(id)?.unwrap_or_default();
            }
            None => {}
        }
        if let Some(title) = &request.title {
            curation.title = non_empty(title);
        }
        if let Some(summary) = &request.summary {
            curation.summary = non_empty(summary);
        }
        if let Some(date) = date {
            curation.date = date;
        }
        curation.edited_at = Some(Utc::now());
        curation.editor = Some(editor.to_string());
        self.store.put_curation(id, &curation)?;
        Ok(curation)
    }

    /// Swap the item with its neighbour in the draft order and write ranks
    /// for the whole period, so the order an editor sees is the order kept.
    fn move_item(
        &self,
        id: &str,
        start: NaiveDate,
        up: bool,
        editor: &str,
    ) -> Result<(), CurateError> {
        let view = generate::period_view(&self.store, &self.site(), start)?;
        let mut order = view.draft;
        let at = order
            .iter()
            .position(|entry| entry.id == id)
            .ok_or_else(|| {
                CurateError::Conflict(format!(
                    "item {id:?} is not shown in the digest {start}; include it first"
                ))
            })?;
        let other = if up { at.checked_sub(1) } else { Some(at + 1) };
        let Some(other) = other.filter(|&other| other < order.len()) else {
            return Ok(()); // already first/last
        };
        if order[other].pinned != order[at].pinned {
            // Pinned items stay above the rest; nothing to swap with.
            return Ok(());
        }
        order.swap(at, other);
        let now = Utc::now();
        for (rank, entry) in order.iter().enumerate() {
            let mut curation = self.store.curation(&entry.id)?.unwrap_or_default();
            let rank = i64::try_from(rank).unwrap_or(i64::MAX);
            if curation.rank != Some(rank) {
                curation.rank = Some(rank);
                if entry.id == id || entry.id == order[at].id {
                    curation.edited_at = Some(now);
                    curation.editor = Some(editor.to_string());
                }
                self.store.put_curation(&entry.id, &curation)?;
            }
        }
        Ok(())
    }

    /// Freeze the digest of the period starting at `start`: its item list
    /// and every entry as rendered now.
    pub fn publish(&self, start: NaiveDate) -> Result<Digest, CurateError> {
        let digest = {
            let _guard = self.lock();
            if self.is_published(start)? {
                return Err(CurateError::Conflict(format!(
                    "the digest {start} is already published"
                )));
            }
            let view = generate::period_view(&self.store, &self.site(), start)?;
            if view.draft.is_empty() {
                return Err(CurateError::BadRequest(format!(
                    "the digest {start} has no items to publish"
                )));
            }
            let digest = Digest {
                period: start.to_string(),
                status: DigestStatus::Published,
                items: view.draft.iter().map(|entry| entry.id.clone()).collect(),
                published_at: Some(Utc::now()),
                entries: view.draft.iter().map(generate::frozen_entry).collect(),
            };
            self.store.put_digest(&digest)?;
            digest
        };
        self.store.flush()?;
        self.regenerate()?;
        Ok(digest)
    }

    /// Make a published digest a draft again: it follows the store and
    /// editors' changes until it is published anew.
    pub fn reopen(&self, start: NaiveDate) -> Result<Digest, CurateError> {
        let digest = {
            let _guard = self.lock();
            if !self.is_published(start)? {
                return Err(CurateError::Conflict(format!(
                    "the digest {start} is not published"
                )));
            }
            let digest = Digest {
                period: start.to_string(),
                status: DigestStatus::Draft,
                ..Digest::default()
            };
            self.store.put_digest(&digest)?;
            digest
        };
        self.store.flush()?;
        self.regenerate()?;
        Ok(digest)
    }

    /// Stored items whose title or text holds every word of `query`
    /// (case-insensitive substring, so Chinese words match inside text),
    /// newest first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, CurateError> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let items = self.store.latest_items(limit, |item| {
            let title = item.title.to_lowercase();
            let summary = item.summary.to_lowercase();
            let mut text: Option<String> = None;
            words.iter().all(|word| {
                if title.contains(word.as_str()) || summary.contains(word.as_str()) {
                    return true;
                }
                // The body only when title and summary do not answer; an
                // unreadable body reads as no match rather than no search.
                let text = text.get_or_insert_with(|| {
                    let mut with_body = item.clone();
                    match self.store.load_body(&mut with_body) {
                        Ok(()) => with_body.text.to_lowercase(),
                        Err(error) => {
                            tracing::warn!(item = %item.id, error = %error, "search skipped a body");
                            String::new()
                        }
                    }
                });
                text.contains(word.as_str())
            })
        })?;
        let mut hits = Vec::with_capacity(items.len());
        for item in items {
            let curation = self.store.curation(&item.id)?;
            hits.push(SearchHit {
                date: curation
                    .as_ref()
                    .and_then(|c| c.date)
                    .unwrap_or_else(|| self.local_day(item.effective_date())),
                state: curation.map(|c| c.state).unwrap_or_default(),
                id: item.id,
                title: item.title,
                url: item.url,
                source: item.source,
                summary: item.summary,
            });
        }
        Ok(hits)
    }

    /// Every configured source with its fetch state.
    pub fn sources(&self) -> Result<Vec<SourceHealth>, CurateError> {
        let config = self.config.get();
        let mut out = Vec::with_capacity(config.sources.len());
        for source in &config.sources {
            let state = self.store.source_state(&source.name)?;
            out.push(SourceHealth {
                name: source.name.clone(),
                kind: source.kind.label(),
                enabled: source.enabled,
                healthy: state.last_error.is_none(),
                state,
            });
        }
        Ok(out)
    }

    /// Queue `url` for the next fetch of a WeChat source (the named one, or
    /// the first configured).
    pub fn add_link(&self, url: &str, source: Option<&str>) -> Result<AddedLink, CurateError> {
        let url = http_link(url)?;
        let (name, links_file) = self.wechat_links_file(source)?;
        // The same locked append as `yaowen add`.
        let added = match crate::source::wechat::append_link(&links_file, &url) {
            Ok(crate::source::wechat::Appended::Added { .. }) => true,
            Ok(crate::source::wechat::Appended::AlreadyThere { .. }) => false,
            Err(error) => return Err(CurateError::Links(error)),
        };
        Ok(AddedLink {
            url,
            source: name,
            links_file,
            added,
        })
    }

    fn wechat_links_file(&self, wanted: Option<&str>) -> Result<(String, PathBuf), CurateError> {
        let config = self.config.get();
        let found = config.sources.iter().find_map(|source| match &source.kind {
            SourceKind::Wechat { links_file } if wanted.is_none_or(|name| name == source.name) => {
                Some((source.name.clone(), links_file.clone()))
            }
            _ => None,
        });
        found.ok_or_else(|| {
            CurateError::BadRequest(match wanted {
                Some(name) => format!("no wechat source named {name:?}"),
                None => "no wechat source is configured to take links".to_string(),
            })
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic while holding the lock leaves no half-written record
        // (each put is atomic), so a poisoned lock is safe to take.
        self.write
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn regenerate(&self) -> Result<(), CurateError> {
        generate::generate(&self.config.get(), &self.store)?;
        Ok(())
    }

    fn curations(&self) -> Result<HashMap<String, Curation>, StoreError> {
        self.store.curations().collect()
    }

    fn is_published(&self, start: NaiveDate) -> Result<bool, StoreError> {
        Ok(self
            .store
            .digest(&start.to_string())?
            .is_some_and(|d| d.status == DigestStatus::Published))
    }

    /// The period of a published digest whose frozen list holds `id`.
    fn published_digest_holding(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .store
            .digests()?
            .into_iter()
            .find(|d| d.status == DigestStatus::Published && d.items.iter().any(|i| i == id))
            .map(|d| d.period))
    }

    fn period_of(&self, item: &Item, curation: &Curation) -> NaiveDate {
        match curation.date {
            Some(day) => self.site().period.start_of(day),
            None => self
                .site()
                .period
                .start_at(item.effective_date(), self.site().timezone),
        }
    }

    fn local_day(&self, at: DateTime<Utc>) -> NaiveDate {
        self.site()
            .timezone
            .from_utc_datetime(&at.naive_utc())
            .date_naive()
    }
}

fn status_of(published: bool) -> DigestStatus {
    if published {
        DigestStatus::Published
    } else {
        DigestStatus::Draft
    }
}

fn entry_view(entry: &DigestEntry, curation: Option<&Curation>) -> EntryView {
    let mut edited = Vec::new();
    if let Some(curation) = curation {
        if curation.title.is_some() {
            edited.push("title");
        }
        if curation.summary.is_some() {
            edited.push("summary");
        }
        if curation.date.is_some() {
            edited.push("date");
        }
    }
    EntryView {
        id: entry.id.clone(),
        date: entry.date,
        title: entry.title.clone(),
        url: entry.url.clone(),
        summary: entry.summary.clone(),
        source: entry.source.clone(),
        also_at: entry.also_at.clone(),
        undated: entry.undated,
        pinned: entry.pinned,
        state: curation.map(|c| c.state).unwrap_or_default(),
        edited,
    }
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn parse_day(text: &str) -> Result<NaiveDate, CurateError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| CurateError::BadRequest(format!("{text:?} is not a date (YYYY-MM-DD)")))
}

/// `text` as an absolute http(s) URL without whitespace, or a clear error.
fn http_link(text: &str) -> Result<String, CurateError> {
    let text = text.trim();
    let parsed = url::Url::parse(text)
        .map_err(|_| CurateError::BadRequest(format!("{text:?} is not an absolute URL")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(CurateError::BadRequest(format!(
            "{text:?} is not an http(s) URL"
        )));
    }
    Ok(parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_links_are_taken() {
        assert!(http_link("javascript:alert(1)").is_err());
        assert!(http_link("not a url").is_err());
        assert_eq!(
            http_link(" https://mp.weixin.qq.com/s/x ").unwrap(),
            "https://mp.weixin.qq.com/s/x"
        );
    }
}
