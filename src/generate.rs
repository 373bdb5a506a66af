//! From the store to the published site: applies editors' curation to the
//! stored items, groups them into digest periods and hands plain views to
//! `publish`. Read-only on the store.

use crate::config::Config;
use crate::model::{Curation, CurationState, Digest, DigestStatus, Item};
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
    let curations: HashMap<String, Curation> = store.curations().collect::<Result<_, _>>()?;
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
    let mut moved_in: HashMap<NaiveDate, Vec<String>> = HashMap::new();
    for (id, curation) in &curations {
        if let Some(day) = curation.date {
            let start = site.period.start_of(day);
            periods.insert(start);
            moved_in.entry(start).or_default().push(id.clone());
        }
    }
    for period in frozen.keys() {
        if let Ok(day) = NaiveDate::parse_from_str(period, "%Y-%m-%d") {
            periods.insert(day);
        }
    }

    let mut shown_by_period = shown_items_by_period(store, site, &curations)?;
    let mut digests = Vec::with_capacity(periods.len());
    for start in periods.into_iter().rev() {
        let key = start.format("%Y-%m-%d").to_string();
        let page = match frozen.get(&key) {
            Some(digest) if digest.status == DigestStatus::Published => {
                published_page(store, site, &curations, digest, start)?
            }
            _ => {
                let items = shown_by_period.remove(&start).unwrap_or_default();
                draft_page(store, site, &curations, &moved_in, start, items)?
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
        .map(|item| feed_entry(item, curations.get(&item.id), site))
        .collect();
    Ok(SiteView { digests, latest })
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

/// The items a draft digest may show, by period, from one pass over the
/// store in key order. Looking items up period by period through the date
/// index read them in random order, which made sled page nodes in and out
/// again (`benches/generate.rs`, 100,000 items: 1.7 s before, 0.8 s now).
/// The bodies (`text`, `html`) are dropped as soon as read; no page shows
/// them.
fn shown_items_by_period(
    store: &Store,
    site: &SiteInfo,
    curations: &HashMap<String, Curation>,
) -> Result<HashMap<NaiveDate, Vec<Item>>, StoreError> {
    let mut by_period: HashMap<NaiveDate, Vec<Item>> = HashMap::new();
    for item in store.items() {
        let mut item = item?;
        if !shown_by_default(&item, curations.get(&item.id)) {
            continue;
        }
        item.text = String::new();
        item.html = None;
        let start = site.period.start_at(item.effective_date(), site.timezone);
        by_period.entry(start).or_default().push(item);
    }
    Ok(by_period)
}

fn draft_page(
    store: &Store,
    site: &SiteInfo,
    curations: &HashMap<String, Curation>,
    moved_in: &HashMap<NaiveDate, Vec<String>>,
    start: NaiveDate,
    mut items: Vec<Item>,
) -> Result<DigestPage, StoreError> {
    // Items an editor dated into another period leave this one...
    items.retain(|item| {
        curations
            .get(&item.id)
            .and_then(|c| c.date)
            .is_none_or(|day| site.period.start_of(day) == start)
    });
    // ...and arrive in theirs.
    if let Some(ids) = moved_in.get(&start) {
        for id in ids {
            if items.iter().all(|item| &item.id != id) {
                if let Some(item) = store.item(id)? {
                    items.push(item);
                }
            }
        }
    }
    let mut entries: Vec<(Option<i64>, DigestEntry)> = items
        .iter()
        .filter(|item| shown_by_default(item, curations.get(&item.id)))
        .map(|item| {
            let curation = curations.get(&item.id);
            (
                curation.and_then(|c| c.rank),
                digest_entry(item, curation, site),
            )
        })
        .collect();
    // Pinned first; then editors' ranks; then newest first.
    entries.sort_by(|(rank_a, a), (rank_b, b)| {
        b.pinned
            .cmp(&a.pinned)
            .then_with(|| rank_a.unwrap_or(i64::MAX).cmp(&rank_b.unwrap_or(i64::MAX)))
            .then_with(|| b.date.cmp(&a.date))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(DigestPage {
        start,
        published: false,
        published_at: None,
        entries: entries.into_iter().map(|(_, entry)| entry).collect(),
    })
}

fn published_page(
    store: &Store,
    site: &SiteInfo,
    curations: &HashMap<String, Curation>,
    digest: &Digest,
    start: NaiveDate,
) -> Result<DigestPage, StoreError> {
    let mut entries = Vec::with_capacity(digest.items.len());
    for id in &digest.items {
        if let Some(item) = store.item(id)? {
            entries.push(digest_entry(&item, curations.get(id), site));
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
        title: curation
            .and_then(|c| c.title.clone())
            .unwrap_or_else(|| item.title.clone()),
        url: item.url.clone(),
        summary: curation
            .and_then(|c| c.summary.clone())
            .unwrap_or_else(|| item.summary.clone()),
        also_at: item.also_at.clone(),
        undated: item.is_undated() && curation.and_then(|c| c.date).is_none(),
        pinned: curation.is_some_and(|c| c.state == CurationState::Pinned),
        source: item.source.clone(),
    }
}

fn feed_entry(item: &Item, curation: Option<&Curation>, _site: &SiteInfo) -> FeedEntry {
    FeedEntry {
        id: item.id.clone(),
        title: curation
            .and_then(|c| c.title.clone())
            .unwrap_or_else(|| item.title.clone()),
        url: item.url.clone(),
        summary: curation
            .and_then(|c| c.summary.clone())
            .unwrap_or_else(|| item.summary.clone()),
        published: item.effective_date(),
        author: item.author.clone(),
        tags: item.tags.clone(),
    }
}
