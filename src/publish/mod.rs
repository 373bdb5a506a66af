//! Publishing: digest periods, the Markdown and HTML digest pages, the index
//! page and the RSS/Atom feeds. Works from plain view structs so it never
//! needs to know how the store keeps things.

pub mod atomic;
pub(crate) mod escape;
pub mod feeds;
pub mod html;
pub mod markdown;
pub mod period;

use chrono::{DateTime, NaiveDate, Utc};
use std::path::{Path, PathBuf};

pub use atomic::write_atomic;

pub use feeds::{render_atom, render_digests_rss, render_rss};
pub use html::{render_digest_html, render_index_html};
pub use markdown::render_markdown;
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

impl SiteInfo {
    /// Absolute URL of `path` (relative to the site root) under `base_url`.
    pub fn url_of(&self, path: &str) -> String {
        let base = self.base_url.trim();
        if base.is_empty() || base.ends_with('/') {
            format!("{base}{path}")
        } else {
            format!("{base}/{path}")
        }
    }

    /// How a period is shown: `2022-12-19` (daily) or
    /// `2022-12-19 – 2022-12-25` (weekly).
    pub fn period_label(&self, start: NaiveDate) -> String {
        match self.period {
            PeriodKind::Daily => start.to_string(),
            PeriodKind::Weekly => {
                let last = start + chrono::Duration::days(self.period.days() - 1);
                format!("{start} – {last}")
            }
        }
    }
}

/// Site-relative path of a digest page (`digest/2022-12-19.html`).
pub fn digest_path(start: NaiveDate, extension: &str) -> String {
    format!("digest/{start}.{extension}")
}

/// What `write_site` wrote.
#[derive(Debug, Default, Clone)]
pub struct WriteReport {
    /// Every output file of the site, whether rewritten or not.
    pub files: Vec<PathBuf>,
    /// The files whose content changed (and were replaced) in this run.
    pub changed: Vec<PathBuf>,
    /// Stale digest pages removed (periods that no longer have a digest).
    pub removed: Vec<PathBuf>,
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
///
/// Files whose content did not change are left alone, so a regenerated
/// site keeps its mtimes and ETags and only the current digest is written.
pub fn write_site(
    dir: &Path,
    site: &SiteInfo,
    digests: &[DigestPage],
    latest: &[FeedEntry],
) -> Result<WriteReport, PublishError> {
    let mut report = WriteReport::default();
    let mut output = |relative: &str, content: String| -> Result<(), PublishError> {
        let path = dir.join(relative);
        if atomic::write_if_changed(&path, content.as_bytes())? {
            report.changed.push(path.clone());
        }
        report.files.push(path);
        Ok(())
    };
    output("index.html", render_index_html(site, digests))?;
    for page in digests {
        output(&digest_path(page.start, "md"), render_markdown(site, page))?;
        output(
            &digest_path(page.start, "html"),
            render_digest_html(site, page),
        )?;
    }
    output("feed.xml", render_rss(site, latest))?;
    output("atom.xml", render_atom(site, latest))?;
    output("digests.xml", render_digests_rss(site, digests))?;
    report.removed = remove_stale_digests(&dir.join("digest"), digests)?;
    Ok(report)
}

/// Remove `digest/YYYY-MM-DD.md|html` files whose period no longer has a
/// digest (an editor deleted it, or every item in it was excluded): left
/// in place they would still be served, with content the store no longer
/// stands behind, and nothing would link to them. Only names yaowen itself
/// writes are touched; anything else in `digest/` (an editor's own notes,
/// images) is kept.
fn remove_stale_digests(
    digest_dir: &Path,
    digests: &[DigestPage],
) -> Result<Vec<PathBuf>, PublishError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PublishError::Io { path, source }
    };
    let listing = match std::fs::read_dir(digest_dir) {
        Ok(listing) => listing,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io_error(digest_dir)(error)),
    };
    let current: std::collections::HashSet<NaiveDate> =
        digests.iter().map(|page| page.start).collect();
    let mut removed = Vec::new();
    for dir_entry in listing {
        let dir_entry = dir_entry.map_err(io_error(digest_dir))?;
        let name = dir_entry.file_name();
        let Some(start) = name.to_str().and_then(digest_file_date) else {
            continue;
        };
        if !current.contains(&start) {
            let path = dir_entry.path();
            std::fs::remove_file(&path).map_err(io_error(&path))?;
            removed.push(path);
        }
    }
    removed.sort();
    Ok(removed)
}

/// The period start of a file name yaowen writes (`2022-12-19.md` or
/// `2022-12-19.html`), `None` for any other name.
fn digest_file_date(name: &str) -> Option<NaiveDate> {
    let stem = name
        .strip_suffix(".md")
        .or_else(|| name.strip_suffix(".html"))?;
    let well_formed = stem.len() == 10
        && stem.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !well_formed {
        return None;
    }
    NaiveDate::parse_from_str(stem, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yaowen_digest_names_are_recognised() {
        let day = NaiveDate::from_ymd_opt(2022, 12, 19);
        assert_eq!(digest_file_date("2022-12-19.md"), day);
        assert_eq!(digest_file_date("2022-12-19.html"), day);
        for other in [
            "2022-12-19.txt",
            "2022-12-19.md.bak",
            "notes.md",
            "2022-12-9.md",
            "2022-13-40.html",
            "+2022-12-19.md",
            ".yaowen-tmp-1-0-2022-12-19.md",
        ] {
            assert_eq!(digest_file_date(other), None, "{other}");
        }
    }

    #[test]
    fn weekly_label_spans_monday_to_sunday() {
        let site = SiteInfo {
            digest_title: String::new(),
            feed_title: String::new(),
            feed_description: String::new(),
            base_url: "https://example.org/news".into(),
            period: PeriodKind::Weekly,
            timezone: chrono_tz::Asia::Shanghai,
            front_matter: false,
        };
        let start = NaiveDate::from_ymd_opt(2022, 12, 19).unwrap();
        assert_eq!(site.period_label(start), "2022-12-19 – 2022-12-25");
        assert_eq!(site.url_of("feed.xml"), "https://example.org/news/feed.xml");
    }
}
