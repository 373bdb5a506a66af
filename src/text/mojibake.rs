//! Mojibake repair (stub).

/// Repair UTF-8 text that was misread as cp1252/Latin-1 and saved again.
/// Returns `None` when the text does not look like such mojibake or the
/// repair is not clearly right.
pub fn repair(_text: &str) -> Option<String> {
    None
}
