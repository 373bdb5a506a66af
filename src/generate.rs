//! From the store to the published site: applies editors' curation to the
//! stored items, groups them into digest periods and hands plain views to
//! `publish`. Read-only on the store.

use crate::config::Config;
use crate::model::{Curation, CurationState, Digest, DigestStatus, FrozenEntry, Item};
use crate::publish::{
    self, DigestEntry, DigestPage, FeedEntry, PublishError, SiteInfo, WriteReport,
};
use crate::store::{Store, StoreError};
use chrono::{NaiveDate, TimeZone};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// Rendering settings from the config.
pub fn site_info(config: &Config) -> SiteInfo {
    SiteInfo {
        digest_title: config.digest.title.clone(),
        feed_title: config.feed.title.clone(),
        feed_description: config.feed.description.clone(),
        base_url: config.output.base_url.clone(),
        period: config.digest.period,
        timezone: config.digest.timezone,
        front_matter: config.digest.front_matter,
    }
}

/// Everything the site shows, computed from the store.
#[derive(Debug, Default)]
pub struct SiteView {
    /// Newest period first.
    pub digests: Vec<DigestPage>,
    /// Newest first, cut to the feed's item count.
    pub latest: Vec<FeedEntry>,
}

/// Write all outputs to the configured directory.
pub fn generate(config: &Config, store: &Store) -> Result<WriteReport, GenerateError> {
    let site = site_info(config);
    let view = build_view(store, &site, config.feed.items)?;
    Ok(publish::write_site(
        &config.output.dir,
        &site,
        &view.digests,
        &view.latest,
    )?)
}

/// Compute the digests and the feed items.
pub fn build_view(
    store: &Store,
    site: &SiteInfo,
    feed_items: usize,
) -> Result<SiteView, StoreError> {
    let (curations, moved_in) = curations_and_moves(store, site)?;
    let frozen: HashMap<String, Digest> = store
        .digests()?
        .into_iter()
        .map(|d| (d.period.clone(), d))
        .collect();

    // Every period that has an item, a frozen digest or an item moved there
    // by an editor's date.
    let mut periods: BTreeSet<NaiveDate> = BTreeSet::new();
    for date in store.effective_dates() {
        periods.insert(site.period.start_at(date?, site.timezone));
    }
    periods.extend(moved_in.keys().copied());
    for period in frozen.keys() {
        if let Ok(day) = NaiveDate::parse_from_str(period, "%Y-%m-%d") {
            periods.insert(day);
        }
    }

    let mut shown_by_period = shown_entries_by_period(store, site, &curations)?;
    let mut digests = Vec::with_capacity(periods.len());
    for start in periods.into_iter().rev() {
        let key = start.format("%Y-%m-%d").to_string();
        let page = match frozen.get(&key) {
            Some(digest) if digest.status == DigestStatus::Published => {
                published_page(store, site, &curations, digest, start)?
            }
            _ => {
                let entries = shown_by_period.remove(&start).unwrap_or_default();
                draft_page(store, site, &curations, &moved_in, start, entries)?
            }
        };
        if !page.entries.is_empty() || page.published {
            digests.push(page);
        }
    }

    let mut latest_items = store.latest_items(feed_items, |item| {
        let curation = curations.get(&item.id);
        shown_by_default(item, curation)
    })?;
    latest_items.truncate(feed_items);
    let latest = latest_items
        .iter()
        .map(|item| feed_entry(item, curations.get(&item.id)))
        .collect();
    Ok(SiteView { digests, latest })
}

/// Item ids editors dated into a period, by the period's first day.
type MovedIn = HashMap<NaiveDate, Vec<String>>;

/// Every editor's curation by item id, and the items editors dated into
/// each period (by the period's first day).
fn curations_and_moves(
    store: &Store,
    site: &SiteInfo,
) -> Result<(HashMap<String, Curation>, MovedIn), StoreError> {
    let curations: HashMap<String, Curation> = store.curations().collect::<Result<_, _>>()?;
    let mut moved_in: HashMap<NaiveDate, Vec<String>> = HashMap::new();
    for (id, curation) in &curations {
        if let Some(day) = curation.date {
            moved_in
                .entry(site.period.start_of(day))
                .or_default()
                .push(id.clone());
        }
    }
    Ok((curations, moved_in))
}

/// Whether an item appears without an editor's say: a story's first item
/// that nobody excluded.
fn shown_by_default(item: &Item, curation: Option<&Curation>) -> bool {
    match curation.map(|c| c.state).unwrap_or_default() {
        CurationState::Excluded => false,
        CurationState::Included | CurationState::Pinned => true,
        CurationState::Auto => item.is_cluster_head(),
    }
}

/// The entries a draft digest may show, by period, from one pass over the
/// store in key order. Looking items up period by period through the date
/// index read them in random order, which made sled page nodes in and out
/// again (`benches/generate.rs`, 100,000 items: 1.7 s before, 0.8 s now).
/// Each item becomes its digest entry as soon as it is read: the entry
/// keeps only what a page shows, and all shown items are held at once
/// here (with 20,000 items, whole items held ~10 MB more at the peak).
fn shown_entries_by_period(
    store: &Store,
    site: &SiteInfo,
    curations: &HashMap<String, Curation>,
) -> Result<HashMap<NaiveDate, Vec<DigestEntry>>, StoreError> {
    let mut by_period: HashMap<NaiveDate, Vec<DigestEntry>> = HashMap::new();
    // `items` reads no bodies: a digest shows titles and summaries only.
    for item in store.items() {
        let item = item?;
        let curation = curations.get(&item.id);
        if !shown_by_default(&item, curation) {
            continue;
        }
        let start = site.period.start_at(item.effective_date(), site.timezone);
        by_period
            .entry(start)
            .or_default()
            .push(digest_entry(&item, curation, site));
    }
    Ok(by_period)
}

fn draft_page(
    store: &Store,
    site: &SiteInfo,
    curations: &HashMap<String, Curation>,
    moved_in: &HashMap<NaiveDate, Vec<String>>,
    start: NaiveDate,
    mut entries: Vec<DigestEntry>,
) -> Result<DigestPage, StoreError> {
    let moves = EditorsMoves {
        site,
        curations,
        moved_in,
        start,
    };
    moves.apply(
        &mut entries,
        |entry| &entry.id,
        |id| {
            let curation = curations.get(id);
            Ok(store
                .item(id)?
                .filter(|item| shown_by_default(item, curation))
                .map(|item| digest_entry(&item, curation, site)))
        },
    )?;
    Ok(DigestPage {
        start,
        published: false,
        published_at: None,
        entries: sort_entries(entries, curations),
    })
}

/// Editors' dates for the period starting at `start`: an item dated into
/// another period leaves this one, one dated into it arrives.
struct EditorsMoves<'a> {
    site: &'a SiteInfo,
    curations: &'a HashMap<String, Curation>,
    moved_in: &'a MovedIn,
    start: NaiveDate,
}

impl EditorsMoves<'_> {
    /// Apply the moves to the period's `members` (items or entries);
    /// `arrive` makes a member of an id dated in, or leaves it out.
    fn apply<T>(
        &self,
        members: &mut Vec<T>,
        id_of: impl Fn(&T) -> &str,
        mut arrive: impl FnMut(&str) -> Result<Option<T>, StoreError>,
    ) -> Result<(), StoreError> {
        members.retain(|member| {
            self.curations
                .get(id_of(member))
                .and_then(|c| c.date)
                .is_none_or(|day| self.site.period.start_of(day) == self.start)
        });
        for id in self.moved_in.get(&self.start).into_iter().flatten() {
            if members.iter().all(|member| id_of(member) != id) {
                if let Some(member) = arrive(id)? {
                    members.push(member);
                }
            }
        }
        Ok(())
    }
}

/// Every stored item that belongs to the period starting at `start`: those
/// dated in it, less those an editor dated elsewhere, plus those an editor
/// dated into it. Unordered; excluded and duplicate items included.
fn period_items(
    store: &Store,
    site: &SiteInfo,
    curations: &HashMap<String, Curation>,
    moved_in: &HashMap<NaiveDate, Vec<String>>,
    start: NaiveDate,
) -> Result<Vec<Item>, StoreError> {
    let (from, to) = site.period.bounds(start, site.timezone);
    let mut items = store.items_between(from, to)?;
    let moves = EditorsMoves {
        site,
        curations,
        moved_in,
        start,
    };
    moves.apply(&mut items, |item| &item.id, |id| store.item(id))?;
    Ok(items)
}

/// The entries a draft shows, in display order.
fn ordered_entries(
    items: &[Item],
    curations: &HashMap<String, Curation>,
    site: &SiteInfo,
) -> Vec<DigestEntry> {
    let entries: Vec<DigestEntry> = items
        .iter()
        .filter(|item| shown_by_default(item, curations.get(&item.id)))
        .map(|item| digest_entry(item, curations.get(&item.id), site))
        .collect();
    sort_entries(entries, curations)
}

/// Display order: pinned first; then editors' ranks; then newest first.
fn sort_entries(
    entries: Vec<DigestEntry>,
    curations: &HashMap<String, Curation>,
) -> Vec<DigestEntry> {
    // The rank is looked up once per entry, not once per comparison.
    let mut ranked: Vec<(i64, DigestEntry)> = entries
        .into_iter()
        .map(|entry| {
            let rank = curations.get(&entry.id).and_then(|c| c.rank);
            (rank.unwrap_or(i64::MAX), entry)
        })
        .collect();
    ranked.sort_by(|(rank_a, a), (rank_b, b)| {
        b.pinned
            .cmp(&a.pinned)
            .then_with(|| rank_a.cmp(rank_b))
            .then_with(|| b.date.cmp(&a.date))
            .then_with(|| a.id.cmp(&b.id))
    });
    ranked.into_iter().map(|(_, entry)| entry).collect()
}

/// A published digest as it was frozen. Digests published before entries
/// were frozen (only ids kept) are rendered from the current items.
fn published_page(
    store: &Store,
    site: &SiteInfo,
    curations: &HashMap<String, Curation>,
    digest: &Digest,
    start: NaiveDate,
) -> Result<DigestPage, StoreError> {
    let mut entries = Vec::with_capacity(digest.items.len());
    if !digest.entries.is_empty() || digest.items.is_empty() {
        entries.extend(digest.entries.iter().map(thawed_entry));
    } else {
        for id in &digest.items {
            if let Some(item) = store.item(id)? {
                entries.push(digest_entry(&item, curations.get(id), site));
            }
        }
    }
    Ok(DigestPage {
        start,
        published: true,
        published_at: digest.published_at,
        entries,
    })
}

fn digest_entry(item: &Item, curation: Option<&Curation>, site: &SiteInfo) -> DigestEntry {
    let date = curation.and_then(|c| c.date).unwrap_or_else(|| {
        site.timezone
            .from_utc_datetime(&item.effective_date().naive_utc())
            .date_naive()
    });
    DigestEntry {
        id: item.id.clone(),
        date,
        title: shown_title(item, curation),
        url: item.url.clone(),
        summary: shown_summary(item, curation),
        also_at: item.also_at.clone(),
        undated: item.is_undated() && curation.and_then(|c| c.date).is_none(),
        pinned: curation.is_some_and(|c| c.state == CurationState::Pinned),
        source: item.source.clone(),
    }
}

/// The editor's title when there is one, else the fetched one.
fn shown_title(item: &Item, curation: Option<&Curation>) -> String {
    curation
        .and_then(|c| c.title.clone())
        .unwrap_or_else(|| item.title.clone())
}

/// The editor's summary when there is one, else the computed one.
fn shown_summary(item: &Item, curation: Option<&Curation>) -> String {
    curation
        .and_then(|c| c.summary.clone())
        .unwrap_or_else(|| item.summary.clone())
}

fn feed_entry(item: &Item, curation: Option<&Curation>) -> FeedEntry {
    FeedEntry {
        id: item.id.clone(),
        title: shown_title(item, curation),
        url: item.url.clone(),
        summary: shown_summary(item, curation),
        published: item.effective_date(),
        author: item.author.clone(),
        tags: item.tags.clone(),
    }
}

/// A digest entry as kept in a published `Digest`.
pub fn frozen_entry(entry: &DigestEntry) -> FrozenEntry {
    FrozenEntry {
        id: entry.id.clone(),
        date: entry.date,
        title: entry.title.clone(),
        url: entry.url.clone(),
        summary: entry.summary.clone(),
        also_at: entry.also_at.clone(),
        undated: entry.undated,
        pinned: entry.pinned,
        source: entry.source.clone(),
    }
}

fn thawed_entry(frozen: &FrozenEntry) -> DigestEntry {
    DigestEntry {
        id: frozen.id.clone(),
        date: frozen.date,
        title: frozen.title.clone(),
        url: frozen.url.clone(),
        summary: frozen.summary.clone(),
        also_at: frozen.also_at.clone(),
        undated: frozen.undated,
        pinned: frozen.pinned,
        source: frozen.source.clone(),
    }
}

/// One period as an editor sees it: what the digest shows now (frozen when
/// published), and the period's items it leaves out.
#[derive(Debug, Clone)]
pub struct PeriodView {
    pub page: DigestPage,
    /// Items of the period an editor excluded, newest first.
    pub excluded: Vec<DigestEntry>,
    /// The draft order of the period's items (for a draft this is
    /// `page.entries`); ranks are rewritten from it when an item moves.
    pub draft: Vec<DigestEntry>,
}

/// The view of the period starting at `start` (already a period start).
pub fn period_view(
    store: &Store,
    site: &SiteInfo,
    start: NaiveDate,
) -> Result<PeriodView, StoreError> {
    let (curations, moved_in) = curations_and_moves(store, site)?;
    let items = period_items(store, site, &curations, &moved_in, start)?;
    let draft = ordered_entries(&items, &curations, site);
    let mut excluded: Vec<DigestEntry> = items
        .iter()
        .filter(|item| {
            curations
                .get(&item.id)
                .is_some_and(|c| c.state == CurationState::Excluded)
        })
        .map(|item| digest_entry(item, curations.get(&item.id), site))
        .collect();
    excluded.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
    let key = start.format("%Y-%m-%d").to_string();
    let page = match store.digest(&key)? {
        Some(digest) if digest.status == DigestStatus::Published => {
            published_page(store, site, &curations, &digest, start)?
        }
        _ => DigestPage {
            start,
            published: false,
            published_at: None,
            entries: draft.clone(),
        },
    };
    Ok(PeriodView {
        page,
        excluded,
        draft,
    })
}
