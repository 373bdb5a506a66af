//! Date parsing (stub).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Parse a date as found in feeds and pages; dates without an offset (and
/// `CST` for a China time zone) are read in `timezone`.
pub fn parse_date(text: &str, timezone: Tz) -> Option<DateTime<Utc>> {
    let _ = timezone;
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}
