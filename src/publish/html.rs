//! The HTML digest pages and `index.html`: self-contained pages (inline
//! CSS, no scripts, no external resources) that read well on a phone, in
//! light and dark mode, for subscribers who do not use a feed reader.
//!
//! Everything that came from a source is untrusted: text is escaped, and
//! only absolute http(s) URLs become links.

use super::escape::{display_host, http_url, push_html};
use super::{digest_path, DigestEntry, DigestPage, SiteInfo};
use std::fmt::Write as _;

/// Inline style sheet: one readable column, CJK-friendly fonts and line
/// height, colours from custom properties switched by `prefers-color-scheme`.
const STYLE: &str = r#":root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--link:#0550ae;--line:#d8dee4;--mark-bg:#fff1c2;--mark-fg:#6b4b00}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e6edf3;--muted:#9aa4ae;--link:#6cb6ff;--line:#30363d;--mark-bg:#3d3000;--mark-fg:#f2cc60}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:17px/1.8 -apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",system-ui,sans-serif}
main{max-width:42rem;margin:0 auto;padding:1.5rem 1rem 3rem}
a{color:var(--link);text-decoration:none}
a:hover,a:focus{text-decoration:underline}
h1{font-size:1.6rem;line-height:1.35;margin:0}
.period{color:var(--muted);margin:.25rem 0 1rem}
nav,footer{font-size:.9rem;color:var(--muted)}
nav a,footer a{margin-right:1em}
h2.section{font-size:1.2rem;margin:2rem 0 .5rem}
ol.entries{list-style:none;margin:0;padding:0}
.entry{padding:1rem 0;border-top:1px solid var(--line)}
.entry h3{font-size:1.08rem;line-height:1.55;margin:.2rem 0 .4rem;font-weight:600}
.meta{margin:0;color:var(--muted);font-size:.85rem}
.mark{display:inline-block;margin-left:.5em;padding:0 .45em;border-radius:.3em;background:var(--mark-bg);color:var(--mark-fg);font-size:.8rem;line-height:1.6}
.summary p{margin:.3rem 0}
.also,.url{color:var(--muted);font-size:.85rem;margin:.3rem 0 0}
.url{font-family:ui-monospace,monospace}
p,h3,li{overflow-wrap:anywhere}
ul.digests{padding-left:1.2rem}
footer{margin-top:2rem;border-top:1px solid var(--line);padding-top:1rem}"#;

/// Where the other outputs are, seen from the page being written.
struct PageLinks<'a> {
    /// Prefix that leads from this page to the site root (`""` or `"../"`).
    to_root: &'a str,
}

impl PageLinks<'_> {
    fn push(&self, out: &mut String, path: &str) {
        out.push_str(self.to_root);
        out.push_str(path);
    }
}

/// The HTML page of one digest (`digest/{start}.html`).
pub fn render_digest_html(site: &SiteInfo, page: &DigestPage) -> String {
    let mut out = String::with_capacity(4096 + page.entries.len() * 1024);
    let links = PageLinks { to_root: "../" };
    let label = site.period_label(page.start);
    let title = format!("{} · {label}", site.digest_title);
    push_head(
        &mut out,
        site,
        &title,
        &digest_path(page.start, "html"),
        &links,
    );
    out.push_str("<h1>");
    push_html(&mut out, &site.digest_title);
    out.push_str("</h1>\n<p class=\"period\">");
    push_period(&mut out, &label, page);
    out.push_str("</p>\n<nav><a href=\"");
    links.push(&mut out, "index.html");
    out.push_str("\">首页</a><a href=\"");
    out.push_str(&page.start.to_string());
    out.push_str(".md\" type=\"text/markdown\">Markdown 版</a></nav>\n");
    push_entries(&mut out, &page.entries);
    push_footer(&mut out, &links);
    out
}

/// `index.html`: the newest digest's entries first, then every digest,
/// newest first, with its item count. `digests` is newest first.
pub fn render_index_html(site: &SiteInfo, digests: &[DigestPage]) -> String {
    let entry_count = digests.first().map_or(0, |page| page.entries.len());
    let mut out = String::with_capacity(4096 + entry_count * 1024 + digests.len() * 128);
    let links = PageLinks { to_root: "" };
    push_head(&mut out, site, &site.digest_title, "index.html", &links);
    out.push_str("<h1>");
    push_html(&mut out, &site.digest_title);
    out.push_str("</h1>\n");
    match digests.first() {
        None => out.push_str("<p class=\"period\">还没有内容。</p>\n"),
        Some(latest) => {
            out.push_str("<h2 class=\"section\">本期 · <a href=\"");
            out.push_str(&digest_path(latest.start, "html"));
            out.push_str("\">");
            push_period(&mut out, &site.period_label(latest.start), latest);
            out.push_str("</a></h2>\n");
            push_entries(&mut out, &latest.entries);
            push_digest_list(&mut out, site, digests);
        }
    }
    push_footer(&mut out, &links);
    out
}

/// Doctype, head (charset, viewport, title, inline CSS, feed discovery
/// links) and the opening of `<main>`.
fn push_head(out: &mut String, site: &SiteInfo, title: &str, own_path: &str, links: &PageLinks) {
    out.push_str(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"yaowen\">\n<title>",
    );
    push_html(out, title);
    out.push_str("</title>\n<link rel=\"canonical\" href=\"");
    push_html(out, &site.url_of(own_path));
    out.push_str("\">\n");
    for (kind, file, name) in [
        ("application/rss+xml", "feed.xml", site.feed_title.as_str()),
        ("application/atom+xml", "atom.xml", site.feed_title.as_str()),
        (
            "application/rss+xml",
            "digests.xml",
            site.digest_title.as_str(),
        ),
    ] {
        let _ = write!(out, "<link rel=\"alternate\" type=\"{kind}\" title=\"");
        push_html(out, name);
        out.push_str("\" href=\"");
        links.push(out, file);
        out.push_str("\">\n");
    }
    out.push_str("<style>\n");
    out.push_str(STYLE);
    out.push_str("\n</style>\n</head>\n<body>\n<main>\n");
}

/// The period label with a draft mark when the digest is not published.
fn push_period(out: &mut String, label: &str, page: &DigestPage) {
    push_html(out, label);
    if !page.published {
        out.push_str("<span class=\"mark\">草稿</span>");
    }
}

fn push_entries(out: &mut String, entries: &[DigestEntry]) {
    if entries.is_empty() {
        out.push_str("<p class=\"period\">本期暂无条目。</p>\n");
        return;
    }
    out.push_str("<ol class=\"entries\">\n");
    for entry in entries {
        push_entry(out, entry);
    }
    out.push_str("</ol>\n");
}

/// One entry: date and marks, linked title, summary paragraphs, and the
/// other places the same story was seen.
fn push_entry(out: &mut String, entry: &DigestEntry) {
    let _ = write!(
        out,
        "<li class=\"entry\">\n<p class=\"meta\"><time datetime=\"{0}\">{0}</time>",
        entry.date
    );
    if entry.pinned {
        out.push_str("<span class=\"mark\">置顶</span>");
    }
    if entry.undated {
        out.push_str(
            "<span class=\"mark\" title=\"来源未注明日期，显示的是收录日期\">日期不详</span>",
        );
    }
    out.push_str("</p>\n<h3>");
    let link = http_url(&entry.url);
    match &link {
        Some(url) => {
            out.push_str("<a href=\"");
            push_html(out, url.as_str());
            out.push_str("\">");
            push_html(out, &entry.title);
            out.push_str("</a></h3>\n");
        }
        None => {
            push_html(out, &entry.title);
            out.push_str("</h3>\n<p class=\"url\">");
            push_html(out, &entry.url);
            out.push_str("</p>\n");
        }
    }
    push_summary(out, &entry.summary);
    push_also_at(out, &entry.also_at);
    out.push_str("</li>\n");
}

/// Summary paragraphs (blank-line separated) as `<p>`, lines kept.
fn push_summary(out: &mut String, summary: &str) {
    let mut paragraphs = summary
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .peekable();
    if paragraphs.peek().is_none() {
        return;
    }
    out.push_str("<div class=\"summary\">\n");
    for paragraph in paragraphs {
        out.push_str("<p>");
        for (index, line) in paragraph.lines().map(str::trim).enumerate() {
            if index > 0 {
                out.push_str("<br>");
            }
            push_html(out, line);
        }
        out.push_str("</p>\n");
    }
    out.push_str("</div>\n");
}

/// "亦见于" links showing each duplicate's domain; non-http(s) URLs are
/// left out (there is nothing safe to link to).
fn push_also_at(out: &mut String, also_at: &[String]) {
    let mut first = true;
    for url in also_at.iter().filter_map(|url| http_url(url)) {
        out.push_str(if first {
            "<p class=\"also\">亦见于："
        } else {
            "、"
        });
        first = false;
        out.push_str("<a href=\"");
        push_html(out, url.as_str());
        out.push_str("\">");
        push_html(out, display_host(&url));
        out.push_str("</a>");
    }
    if !first {
        out.push_str("</p>\n");
    }
}

/// Every digest, newest first, with its item count.
fn push_digest_list(out: &mut String, site: &SiteInfo, digests: &[DigestPage]) {
    out.push_str("<h2 class=\"section\">往期</h2>\n<ul class=\"digests\">\n");
    for page in digests {
        out.push_str("<li><a href=\"");
        out.push_str(&digest_path(page.start, "html"));
        out.push_str("\">");
        push_html(out, &site.period_label(page.start));
        let _ = write!(out, "</a> · {} 条", page.entries.len());
        if !page.published {
            out.push_str("<span class=\"mark\">草稿</span>");
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
}

fn push_footer(out: &mut String, links: &PageLinks) {
    out.push_str("<footer><a href=\"");
    links.push(out, "feed.xml");
    out.push_str("\">RSS</a><a href=\"");
    links.push(out, "atom.xml");
    out.push_str("\">Atom</a><a href=\"");
    links.push(out, "digests.xml");
    out.push_str("\">每期订阅</a></footer>\n</main>\n</body>\n</html>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::markdown::{self, tests::site};
    use chrono::NaiveDate;

    /// An undated, pinned entry also seen elsewhere (one place not a link).
    fn entry(title: &str, url: &str, summary: &str) -> DigestEntry {
        DigestEntry {
            also_at: vec![
                "https://www.csdn.net/article/1".into(),
                "javascript:alert(2)".into(),
            ],
            undated: true,
            pinned: true,
            ..markdown::tests::entry(title, url, summary)
        }
    }

    fn page(entries: Vec<DigestEntry>, published: bool) -> DigestPage {
        DigestPage {
            start: NaiveDate::from_ymd_opt(2022, 12, 19).unwrap(),
            published,
            published_at: None,
            entries,
        }
    }

    #[test]
    fn hostile_text_is_escaped_and_only_http_is_linked() {
        let html = render_digest_html(
            &site(false),
            &page(
                vec![
                    entry(
                        "<script>alert(1)</script>",
                        "https://e.org/a?x=1&y=\"2\"",
                        "<img src=x onerror=alert(1)>\n\nsecond",
                    ),
                    entry("plain", "javascript:alert(3)", ""),
                ],
                false,
            ),
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<img"));
        assert!(html.contains("<p>&lt;img src=x onerror=alert(1)&gt;</p>\n<p>second</p>"));
        assert!(html.contains("href=\"https://e.org/a?x=1&amp;y=%222%22\""));
        assert!(!html.contains("href=\"javascript"));
        assert!(html.contains("<p class=\"url\">javascript:alert(3)</p>"));
        assert!(
            html.contains("亦见于：<a href=\"https://www.csdn.net/article/1\">csdn.net</a></p>")
        );
        assert!(html.contains("置顶") && html.contains("日期不详") && html.contains("草稿"));
    }

    #[test]
    fn digest_page_links_to_markdown_index_and_feeds() {
        let html = render_digest_html(
            &site(false),
            &page(vec![entry("t", "https://e.org/", "s")], true),
        );
        assert!(html.starts_with("<!doctype html>\n<html lang=\"zh-CN\">"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("name=\"viewport\""));
        assert!(html.contains("prefers-color-scheme:dark"));
        assert!(html.contains("<title>社区要闻 · 2022-12-19 – 2022-12-25</title>"));
        assert!(html.contains("href=\"2022-12-19.md\""));
        assert!(html.contains("href=\"../index.html\""));
        assert!(html.contains(
            "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"社区要闻\" href=\"../feed.xml\">"
        ));
        assert!(html.contains("href=\"../atom.xml\"") && html.contains("href=\"../digests.xml\""));
        assert!(html.contains("href=\"https://example.org/news/digest/2022-12-19.html\""));
        assert!(!html.contains("草稿"));
        assert!(!html.contains("<script") && !html.contains("src=\""));
    }

    #[test]
    fn index_lists_latest_entries_then_every_digest() {
        let mut older = page(vec![], true);
        older.start = NaiveDate::from_ymd_opt(2022, 12, 12).unwrap();
        let newest = page(vec![entry("最新一条", "https://e.org/n", "s")], false);
        let html = render_index_html(&site(false), &[newest, older]);
        let latest_at = html.find("最新一条").unwrap();
        let list_at = html.find("往期").unwrap();
        assert!(latest_at < list_at);
        let first = html
            .find("href=\"digest/2022-12-19.html\">2022-12-19")
            .unwrap();
        let second = html
            .find("href=\"digest/2022-12-12.html\">2022-12-12")
            .unwrap();
        assert!(first < second);
        assert!(html.contains("</a> · 1 条"));
        assert!(html.contains("</a> · 0 条"));
        assert!(html.contains("href=\"feed.xml\""));
    }

    #[test]
    fn index_without_digests_is_still_a_page() {
        let html = render_index_html(&site(false), &[]);
        assert!(html.contains("还没有内容") && html.ends_with("</html>\n"));
    }
}
