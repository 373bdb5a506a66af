//! Summaries (stub).

use crate::model::SummaryOrigin;

/// Pick the summary for an item: the source's own description when it is a
/// real summary, else an extractive summary of `text` within `max_chars`
/// (measured by `text::sentences::display_len`).
pub fn summarise(
    source_summary: Option<&str>,
    text: &str,
    max_chars: usize,
) -> (String, SummaryOrigin) {
    let _ = max_chars;
    match source_summary {
        Some(summary) => (summary.to_string(), SummaryOrigin::Source),
        None => (text.chars().take(60).collect(), SummaryOrigin::Extractive),
    }
}
