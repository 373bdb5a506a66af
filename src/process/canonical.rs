//! URL canonicalisation and item identity (stub).

use chrono::{DateTime, Utc};

/// The canonical form of a URL: tracking parameters and fragment removed.
/// `None` when `url` is not an absolute http(s) URL.
pub fn canonical_url(url: &str) -> Option<String> {
    url::Url::parse(url).ok().map(|u| u.to_string())
}

/// A stable item id from what identifies an entry within its source.
pub fn item_id(
    source: &str,
    guid: Option<&str>,
    canonical_link: Option<&str>,
    title: &str,
    date: Option<DateTime<Utc>>,
) -> String {
    format!("{source}:{guid:?}:{canonical_link:?}:{title}:{date:?}")
}
