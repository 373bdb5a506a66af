//! The Markdown digest page, in exactly the format editors publish by hand
//! (`seeds/000_*.txt`), so yaowen's output can replace theirs in a Hugo or
//! Jekyll site without a diff in style.
//!
//! ```text
//! # 社区要闻
//!
//! - [**2022-12-21 Title**](https://example.org/a)
//!   ␠␠(a line of exactly two spaces)
//!
//!     Summary, indented by four spaces.
//!
//!     A second paragraph, indented too.
//! ```
//!
//! Entries are separated by one blank line and the page ends without a
//! trailing newline, as the hand-written pages do.

use super::{DigestPage, SiteInfo};
use chrono::SecondsFormat;
use std::fmt::Write as _;

/// Render `page` as Markdown, entries in the order given.
pub fn render_markdown(site: &SiteInfo, page: &DigestPage) -> String {
    let mut out = String::with_capacity(256 + page.entries.len() * 512);
    if site.front_matter {
        push_front_matter(&mut out, site, page);
    }
    out.push_str("# ");
    push_inline_text(&mut out, &site.digest_title);
    for entry in &page.entries {
        out.push_str("\n\n");
        push_entry_line(&mut out, &entry.date.to_string(), &entry.title, &entry.url);
        out.push_str("\n  \n");
        if !push_summary(&mut out, &entry.summary) {
            // No summary: the entry ends with its two-space line.
            out.pop();
        }
    }
    out
}

/// Hugo front matter: the page title (digest title + period start) and its
/// date (when it was published, else the period's first instant).
fn push_front_matter(out: &mut String, site: &SiteInfo, page: &DigestPage) {
    let date = page
        .published_at
        .unwrap_or_else(|| site.period.bounds(page.start, site.timezone).0)
        .with_timezone(&site.timezone)
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    out.push_str("---\ntitle: \"");
    push_yaml_quoted(out, &format!("{} {}", site.digest_title, page.start));
    // Writing to a String cannot fail.
    let _ = write!(out, "\"\ndate: {date}\n---\n\n");
}

/// Contents of a YAML double-quoted scalar, on one line.
fn push_yaml_quoted(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

/// `- [**{date} {title}**]({url})`; an entry whose URL is not http(s) gets
/// no link at all (`javascript:` and the like must not become clickable
/// in whatever renders this Markdown).
fn push_entry_line(out: &mut String, date: &str, title: &str, url: &str) {
    let linked = super::escape::http_url(url).is_some();
    out.push_str(if linked { "- [**" } else { "- **" });
    out.push_str(date);
    let start = out.len();
    out.push(' ');
    push_inline_text(out, title);
    if out.len() == start + 1 {
        // An empty title would leave `**date **`, which is not bold text.
        out.pop();
    }
    if linked {
        out.push_str("**](");
        push_link_destination(out, url.trim());
        out.push(')');
    } else {
        out.push_str("**");
    }
}

/// Title text on one line: whitespace runs (newlines included) become one
/// space, and characters that would end the link text, start emphasis,
/// a code span or inline HTML are backslash-escaped.
fn push_inline_text(out: &mut String, text: &str) {
    for (index, word) in text.split_whitespace().enumerate() {
        if index > 0 {
            out.push(' ');
        }
        for c in word.chars() {
            if matches!(c, '\\' | '[' | ']' | '*' | '`' | '<' | '>' | '_') {
                out.push('\\');
            }
            if !c.is_control() {
                out.push(c);
            }
        }
    }
}

/// A link destination that cannot end early: characters that would close
/// `(...)`, start a link title or break the line are percent-encoded.
fn push_link_destination(out: &mut String, url: &str) {
    for c in url.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '\\' => out.push_str("%5C"),
            c if c.is_control() || c.is_whitespace() => {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "%{byte:02X}");
                }
            }
            c => out.push(c),
        }
    }
}

/// The summary, each paragraph's lines indented by four spaces, paragraphs
/// separated by one empty line. Returns whether anything was written.
/// The summary is kept as Markdown (editors write image lines in it).
fn push_summary(out: &mut String, summary: &str) -> bool {
    let mut wrote = false;
    let mut pending_break = false;
    for line in summary.lines().map(str::trim) {
        if line.is_empty() {
            pending_break = wrote;
            continue;
        }
        if wrote {
            out.push('\n');
        }
        if pending_break {
            out.push('\n');
            pending_break = false;
        }
        out.push_str("    ");
        out.extend(line.chars().filter(|c| !c.is_control()));
        wrote = true;
    }
    wrote
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::publish::{DigestEntry, PeriodKind};
    use chrono::NaiveDate;

    /// The weekly site the publisher's page tests render for (HTML too).
    pub(in crate::publish) fn site(front_matter: bool) -> SiteInfo {
        SiteInfo {
            digest_title: "社区要闻".into(),
            feed_title: "社区要闻".into(),
            feed_description: String::new(),
            base_url: "https://example.org/news/".into(),
            period: PeriodKind::Weekly,
            timezone: chrono_tz::Asia::Shanghai,
            front_matter,
        }
    }

    /// A dated, unpinned entry seen at one place only.
    pub(in crate::publish) fn entry(title: &str, url: &str, summary: &str) -> DigestEntry {
        DigestEntry {
            id: "id".into(),
            date: NaiveDate::from_ymd_opt(2022, 12, 21).unwrap(),
            title: title.into(),
            url: url.into(),
            summary: summary.into(),
            also_at: vec![],
            undated: false,
            pinned: false,
            source: "s".into(),
        }
    }

    fn page(entries: Vec<DigestEntry>) -> DigestPage {
        DigestPage {
            start: NaiveDate::from_ymd_opt(2022, 12, 19).unwrap(),
            published: false,
            published_at: None,
            entries,
        }
    }

    #[test]
    fn hostile_title_cannot_break_the_link() {
        let out = render_markdown(
            &site(false),
            &page(vec![entry(
                "a] [b](javascript:x) *c*\nsecond line",
                "https://e.org/a b(c)<d>",
                "s",
            )]),
        );
        let line = out.lines().nth(2).unwrap();
        assert_eq!(
            line,
            r"- [**2022-12-21 a\] \[b\](javascript:x) \*c\* second line**](https://e.org/a%20b%28c%29%3Cd%3E)"
        );
    }

    #[test]
    fn non_http_url_is_not_linked() {
        let out = render_markdown(
            &site(false),
            &page(vec![entry("t", "javascript:alert(1)", "s")]),
        );
        assert!(out.contains("- **2022-12-21 t**\n"), "{out}");
        assert!(!out.contains("javascript"), "{out}");
    }

    #[test]
    fn front_matter_has_title_and_local_date() {
        let out = render_markdown(&site(true), &page(vec![entry("t", "https://e.org/", "s")]));
        assert!(out.starts_with(
            "---\ntitle: \"社区要闻 2022-12-19\"\ndate: 2022-12-19T00:00:00+08:00\n---\n\n# 社区要闻\n\n- [**"
        ), "{out}");
    }

    #[test]
    fn empty_summary_and_empty_page() {
        assert_eq!(render_markdown(&site(false), &page(vec![])), "# 社区要闻");
        let out = render_markdown(&site(false), &page(vec![entry("", "https://e.org/", "")]));
        assert_eq!(out, "# 社区要闻\n\n- [**2022-12-21**](https://e.org/)\n  ");
    }
}
