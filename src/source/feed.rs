//! RSS/Atom/JSON Feed parsing (stub).

use crate::model::RawEntry;
use chrono_tz::Tz;

/// What the parser needs to know about where a feed came from.
#[derive(Debug, Clone)]
pub struct FeedContext<'a> {
    /// The URL the feed was fetched from (base for relative links).
    pub url: &'a str,
    /// Time zone for dates that carry no offset.
    pub timezone: Tz,
}

/// A parsed feed.
#[derive(Debug, Clone, Default)]
pub struct ParsedFeed {
    pub title: Option<String>,
    /// RSS `<ttl>` in minutes.
    pub ttl_minutes: Option<u32>,
    pub entries: Vec<RawEntry>,
    /// Entries that were skipped, each with the reason.
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
}

/// Parse decoded feed text.
pub fn parse(text: &str, ctx: &FeedContext<'_>) -> Result<ParsedFeed, FeedError> {
    let _ = (text, ctx);
    Err(FeedError::NotAFeed("stub".into()))
}
