//! HTML to text and escaping (stub).

/// Plain text of an HTML fragment or document: scripts and styles dropped,
/// block elements separated by newlines, whitespace collapsed.
pub fn to_text(html: &str) -> String {
    html.to_string()
}

/// Escape text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
