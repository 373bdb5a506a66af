//! The data model shared by every pipeline stage: what a source yields
//! (`RawEntry`), what the store keeps (`Item`, `Curation`, `SourceState`,
//! `Digest`). Kept in one place so no stage has to reach into another to
//! learn the shape of the data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One entry as a source reports it, before identity, dedupe and summary.
/// Text fields are already decoded to UTF-8 but may still hold HTML.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawEntry {
    /// The feed's own id (RSS `guid`, Atom `id`, JSON Feed `id`), if it gave one.
    pub guid: Option<String>,
    /// The item's link, absolute.
    pub link: Option<String>,
    pub title: Option<String>,
    /// The description/summary the source gave (may be HTML).
    pub summary: Option<String>,
    /// The full content the source gave (may be HTML).
    pub content: Option<String>,
    /// Publication (or, failing that, update) time, already resolved in the
    /// source's time zone. `None` when the source gave no usable date.
    pub published: Option<DateTime<Utc>>,
    pub author: Option<String>,
    pub tags: Vec<String>,
    /// A cover or lead image URL, absolute.
    pub image: Option<String>,
    /// A source-specific story identity that overrides the guid/link rule
    /// (e.g. `wx:{biz}:{mid}:{idx}` for a WeChat article).
    pub identity: Option<String>,
    /// Other URLs that name the same item (e.g. the short `/s/<slug>` form
    /// of a WeChat article); they resolve to it in the URL index.
    pub aliases: Vec<String>,
    /// Sanitised HTML of the body, when the source extracted one.
    pub html: Option<String>,
}

/// Where an item's summary came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SummaryOrigin {
    /// The source's own description, cleaned.
    Source,
    /// Whole sentences picked from the text.
    #[default]
    Extractive,
    /// Written by a language model (optional, not built in).
    Llm,
}

/// A stored item: one story as seen at one URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id derived from identity (never random).
    pub id: String,
    /// Name of the source that yielded it.
    pub source: String,
    /// Canonical URL (tracking parameters and fragment removed).
    pub url: String,
    /// The URL as the source gave it.
    pub fetched_url: String,
    pub guid: Option<String>,
    pub title: String,
    pub author: Option<String>,
    /// When the source says it was published; `None` means undated.
    pub published: Option<DateTime<Utc>>,
    /// When yaowen first stored it.
    pub first_seen: DateTime<Utc>,
    /// Plain text of the body (may be empty).
    pub text: String,
    /// Sanitised HTML body, when one was extracted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    pub summary: String,
    pub summary_origin: SummaryOrigin,
    /// SimHash of title + text, for near-duplicate detection.
    pub fingerprint: u64,
    /// Hash of what the summary was computed from, so an unchanged item is
    /// not summarised again.
    pub content_hash: u64,
    /// Id of the first item of its near-duplicate group (itself if first).
    pub cluster: String,
    /// Other URLs where the same story was seen.
    #[serde(default)]
    pub also_at: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl Item {
    /// True when the source gave no date; such an item is shown with its
    /// `first_seen` date and marked as undated.
    pub fn is_undated(&self) -> bool {
        self.published.is_none()
    }

    /// The time used to place the item in a digest period and to order it.
    /// A date in the future (clock skew, typos, scheduled posts) is clamped
    /// to `first_seen` so it cannot pin an item to the top.
    pub fn effective_date(&self) -> DateTime<Utc> {
        match self.published {
            Some(published) if published <= self.first_seen + chrono::Duration::hours(1) => {
                published
            }
            _ => self.first_seen,
        }
    }

    /// True when this item is the first (representative) of its story.
    pub fn is_cluster_head(&self) -> bool {
        self.cluster == self.id
    }
}

/// An editor's decision about one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CurationState {
    /// Included by the default rule (a cluster head in the period).
    #[default]
    Auto,
    Included,
    Excluded,
    Pinned,
}

/// Editor overrides, kept apart from fetched data so a refetch never
/// overwrites them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Curation {
    pub state: CurationState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<chrono::NaiveDate>,
    /// Position override within the digest (lower first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<String>,
}

/// Per-source fetch state and health.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ok: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Stable category of the last error (`dns`, `connect`, `timeout`,
    /// `http`, `too_large`, `parse`, `blocked`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_kind: Option<String>,
    #[serde(default)]
    pub failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due: Option<DateTime<Utc>>,
    #[serde(default)]
    pub fetches: u64,
    #[serde(default)]
    pub errors: u64,
    #[serde(default)]
    pub items_stored: u64,
}

/// Whether a digest still follows new items or is frozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DigestStatus {
    #[default]
    Draft,
    Published,
}

/// A digest period's state. A draft is computed from the store each time;
/// publishing freezes the list of item ids and the entries as rendered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    /// The period key: its first day, `YYYY-MM-DD`.
    pub period: String,
    pub status: DigestStatus,
    /// Frozen item ids in order (set when published).
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime<Utc>>,
    /// The entries exactly as published (set when published), so a later
    /// refetch, curation or regenerate cannot change a published digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<FrozenEntry>,
}

/// One digest line as it was when the digest was published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrozenEntry {
    pub id: String,
    pub date: chrono::NaiveDate,
    pub title: String,
    pub url: String,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_at: Vec<String>,
    #[serde(default)]
    pub undated: bool,
    #[serde(default)]
    pub pinned: bool,
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn item(published: Option<DateTime<Utc>>, first_seen: DateTime<Utc>) -> Item {
        Item {
            id: "a".into(),
            source: "s".into(),
            url: "https://example.org/a".into(),
            fetched_url: "https://example.org/a".into(),
            guid: None,
            title: "t".into(),
            author: None,
            published,
            first_seen,
            text: String::new(),
            html: None,
            summary: String::new(),
            summary_origin: SummaryOrigin::Extractive,
            fingerprint: 0,
            content_hash: 0,
            cluster: "a".into(),
            also_at: vec![],
            tags: vec![],
            image: None,
        }
    }

    #[test]
    fn a_future_date_cannot_pin_an_item_to_the_top() {
        let seen = Utc
            .with_ymd_and_hms(2022, 12, 20, 8, 0, 0)
            .single()
            .unwrap_or_default();
        let next_year = Utc
            .with_ymd_and_hms(2023, 12, 20, 8, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(item(Some(next_year), seen).effective_date(), seen);
        let earlier = Utc
            .with_ymd_and_hms(2022, 12, 1, 8, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(item(Some(earlier), seen).effective_date(), earlier);
    }

    #[test]
    fn an_undated_item_is_marked_and_placed_at_first_seen() {
        let seen = Utc
            .with_ymd_and_hms(2022, 12, 20, 8, 0, 0)
            .single()
            .unwrap_or_default();
        let undated = item(None, seen);
        assert!(undated.is_undated());
        assert_eq!(undated.effective_date(), seen);
    }
}
