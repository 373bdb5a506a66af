//! Escaping and link checks shared by the HTML page and feed writers, so
//! every output applies the same rules to untrusted titles, summaries and
//! URLs.

use url::Url;

/// Whether XML 1.0 allows `c` at all (control characters other than tab,
/// newline and carriage return are illegal even as character references).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Append `text` to `out` escaped for XML element content and attribute
/// values, dropping characters XML 1.0 forbids.
pub(crate) fn push_xml(out: &mut String, text: &str) {
    for c in text.chars() {
        push_xml_char(out, c);
    }
}

/// `text` escaped as by [`push_xml`], except that line breaks and tabs
/// become character references, so a value survives a reader's
/// attribute-value normalisation (which turns them into spaces) unchanged.
pub(crate) fn xml_exact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => push_xml_char(&mut out, c),
        }
    }
    out
}

fn push_xml_char(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&apos;"),
        c if is_xml_char(c) => out.push(c),
        _ => {}
    }
}

/// Append `text` escaped for HTML content or a quoted attribute. Control
/// characters are dropped first (they are parse errors in HTML).
pub(crate) fn push_html(out: &mut String, text: &str) {
    if text.chars().all(is_xml_char) {
        out.push_str(&crate::text::html::escape(text));
    } else {
        let clean: String = text.chars().filter(|&c| is_xml_char(c)).collect();
        out.push_str(&crate::text::html::escape(&clean));
    }
}

/// `url` parsed, when it is an absolute http(s) URL: the only kind that
/// may become a link (no `javascript:`, `data:`, `file:` ...).
pub(crate) fn http_url(url: &str) -> Option<Url> {
    let parsed = Url::parse(url.trim()).ok()?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some() => Some(parsed),
        _ => None,
    }
}

/// The host shown next to an "also at" link (`www.` dropped).
pub(crate) fn display_host(url: &Url) -> &str {
    let host = url.host_str().unwrap_or_default();
    host.strip_prefix("www.").unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_drops_illegal_control_characters() {
        let mut out = String::new();
        push_xml(&mut out, "a\u{0}b\u{1b}c\t<&>\"'\u{FFFE}");
        assert_eq!(out, "abc\t&lt;&amp;&gt;&quot;&apos;");
    }

    #[test]
    fn exact_xml_keeps_line_breaks_as_references() {
        assert_eq!(xml_exact("a\r\nb\tc & \u{0}d"), "a&#13;&#10;b&#9;c &amp; d");
    }

    #[test]
    fn only_http_urls_are_links() {
        assert!(http_url("https://mp.weixin.qq.com/s/abc").is_some());
        assert!(http_url("HTTP://Example.org/").is_some());
        assert!(http_url("javascript:alert(1)").is_none());
        assert!(http_url("data:text/html,<b>x</b>").is_none());
        assert!(http_url("/relative/path").is_none());
        assert!(http_url("file:///etc/passwd").is_none());
    }

    #[test]
    fn host_drops_www() {
        let url = http_url("https://www.gartner.com/doc").unwrap();
        assert_eq!(display_host(&url), "gartner.com");
    }
}
