//! The feeds subscribers put in their readers: `feed.xml` (RSS 2.0) and
//! `atom.xml` (Atom 1.0) carry the latest items; `digests.xml` (RSS 2.0)
//! carries one entry per published digest.
//!
//! Every file is a pure function of its input (no "now"), so regenerating
//! an unchanged site gives identical bytes and unchanged ETags.

use super::escape::{http_url, push_xml};
use super::{digest_path, DigestPage, FeedEntry, SiteInfo};
use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt::Write as _;

/// How many digests `digests.xml` carries: a reader only needs the recent
/// issues, and each one holds a whole digest as HTML.
pub const DIGEST_FEED_ITEMS: usize = 20;

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

/// `feed.xml`: RSS 2.0 with the given items (newest first).
pub fn render_rss(site: &SiteInfo, latest: &[FeedEntry]) -> String {
    let mut out = String::with_capacity(1024 + latest.len() * 1024);
    let newest = latest.iter().map(|entry| entry.published).max();
    push_rss_channel_head(
        &mut out,
        site,
        &site.feed_title,
        &site.feed_description,
        "feed.xml",
        newest,
    );
    for entry in latest {
        push_rss_item(&mut out, entry);
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// `atom.xml`: Atom 1.0 with the same items as `feed.xml`.
pub fn render_atom(site: &SiteInfo, latest: &[FeedEntry]) -> String {
    let mut out = String::with_capacity(1024 + latest.len() * 1024);
    // An empty feed still needs an `updated`; the epoch keeps it stable.
    let updated = latest
        .iter()
        .map(|entry| entry.published)
        .max()
        .unwrap_or_default();
    out.push_str(XML_DECLARATION);
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"zh-CN\">\n<title>");
    push_xml(&mut out, &site.feed_title);
    out.push_str("</title>\n<subtitle>");
    push_xml(&mut out, &site.feed_description);
    out.push_str("</subtitle>\n<id>");
    push_xml(&mut out, &site.url_of(""));
    out.push_str("</id>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"");
    push_xml(&mut out, &site.url_of("atom.xml"));
    out.push_str("\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
    push_xml(&mut out, &site.url_of(""));
    let _ = write!(out, "\"/>\n<updated>{}</updated>\n", rfc3339(updated));
    // Atom requires an author per entry, or one on the feed for entries without.
    out.push_str("<author><name>");
    push_xml(&mut out, &site.feed_title);
    out.push_str("</name></author>\n<generator>yaowen</generator>\n");
    for entry in latest {
        push_atom_entry(&mut out, entry);
    }
    out.push_str("</feed>\n");
    out
}

/// `digests.xml`: one RSS item per *published* digest, newest first,
/// linking to its HTML page. Drafts are left out even when nothing is
/// published yet: a feed reader keeps the first version of an item it
/// sees, so a draft that later gains or loses items would stay wrong in
/// every subscriber's reader; an empty channel is the honest answer.
pub fn render_digests_rss(site: &SiteInfo, digests: &[DigestPage]) -> String {
    let published: Vec<&DigestPage> = digests
        .iter()
        .filter(|page| page.published)
        .take(DIGEST_FEED_ITEMS)
        .collect();
    let newest = published
        .iter()
        .map(|page| published_instant(site, page))
        .max();
    let mut out = String::with_capacity(1024 + published.len() * 8192);
    push_rss_channel_head(
        &mut out,
        site,
        &site.digest_title,
        &site.feed_description,
        "digests.xml",
        newest,
    );
    for page in published {
        push_digest_item(&mut out, site, page);
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// XML declaration, `<rss>` with the Atom and Dublin Core namespaces, and
/// the channel's own elements. `lastBuildDate` is the newest item's date
/// (not the wall clock) so unchanged content gives an unchanged file.
fn push_rss_channel_head(
    out: &mut String,
    site: &SiteInfo,
    title: &str,
    description: &str,
    self_path: &str,
    newest: Option<DateTime<Utc>>,
) {
    out.push_str(XML_DECLARATION);
    out.push_str(
        "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n<title>",
    );
    push_xml(out, title);
    out.push_str("</title>\n<link>");
    push_xml(out, &site.url_of(""));
    out.push_str("</link>\n<description>");
    push_xml(out, description);
    out.push_str("</description>\n<language>zh-cn</language>\n<generator>yaowen</generator>\n");
    if let Some(newest) = newest {
        let _ = writeln!(
            out,
            "<lastBuildDate>{}</lastBuildDate>",
            newest.to_rfc2822()
        );
    }
    out.push_str("<atom:link href=\"");
    push_xml(out, &site.url_of(self_path));
    out.push_str("\" rel=\"self\" type=\"application/rss+xml\"/>\n");
}

fn push_rss_item(out: &mut String, entry: &FeedEntry) {
    out.push_str("<item>\n<title>");
    push_xml(out, &entry.title);
    out.push_str("</title>\n");
    if let Some(url) = http_url(&entry.url) {
        out.push_str("<link>");
        push_xml(out, url.as_str());
        out.push_str("</link>\n");
    }
    out.push_str("<guid isPermaLink=\"false\">");
    push_xml(out, &entry.id);
    let _ = writeln!(
        out,
        "</guid>\n<pubDate>{}</pubDate>",
        entry.published.to_rfc2822()
    );
    if let Some(author) = entry.author.as_deref().filter(|a| !a.trim().is_empty()) {
        // RSS `<author>` must be an e-mail address; a name goes in dc:creator.
        out.push_str("<dc:creator>");
        push_xml(out, author);
        out.push_str("</dc:creator>\n");
    }
    push_rss_categories(out, &entry.tags);
    // Readers treat <description> as HTML: escape the text for HTML first,
    // so a summary that says `<img onerror=…>` is shown, not run.
    out.push_str("<description>");
    push_xml(out, &summary_html(&entry.summary));
    out.push_str("</description>\n</item>\n");
}

fn push_rss_categories(out: &mut String, tags: &[String]) {
    for tag in tags.iter().filter(|tag| !tag.trim().is_empty()) {
        out.push_str("<category>");
        push_xml(out, tag);
        out.push_str("</category>\n");
    }
}

fn push_atom_entry(out: &mut String, entry: &FeedEntry) {
    out.push_str("<entry>\n<id>");
    push_xml(out, &atom_id(&entry.id));
    out.push_str("</id>\n<title type=\"text\">");
    push_xml(out, &entry.title);
    out.push_str("</title>\n");
    if let Some(url) = http_url(&entry.url) {
        out.push_str("<link rel=\"alternate\" type=\"text/html\" href=\"");
        push_xml(out, url.as_str());
        out.push_str("\"/>\n");
    }
    let date = rfc3339(entry.published);
    let _ = writeln!(
        out,
        "<published>{date}</published>\n<updated>{date}</updated>"
    );
    if let Some(author) = entry.author.as_deref().filter(|a| !a.trim().is_empty()) {
        out.push_str("<author><name>");
        push_xml(out, author);
        out.push_str("</name></author>\n");
    }
    for tag in entry.tags.iter().filter(|tag| !tag.trim().is_empty()) {
        out.push_str("<category term=\"");
        push_xml(out, tag);
        out.push_str("\"/>\n");
    }
    // type="text": Atom readers show it as plain text, no HTML involved.
    out.push_str("<summary type=\"text\">");
    push_xml(out, &entry.summary);
    out.push_str("</summary>\n</entry>\n");
}

fn push_digest_item(out: &mut String, site: &SiteInfo, page: &DigestPage) {
    let page_url = site.url_of(&digest_path(page.start, "html"));
    out.push_str("<item>\n<title>");
    push_xml(
        out,
        &format!("{} {}", site.digest_title, site.period_label(page.start)),
    );
    out.push_str("</title>\n<link>");
    push_xml(out, &page_url);
    let _ = writeln!(
        out,
        "</link>\n<guid isPermaLink=\"false\">urn:yaowen:digest:{}</guid>\n<pubDate>{}</pubDate>",
        page.start,
        published_instant(site, page).to_rfc2822()
    );
    out.push_str("<description>");
    push_xml(out, &digest_list_html(page));
    out.push_str("</description>\n</item>\n");
}

/// When a digest counts as published: its publish time, or (for a digest
/// published before that was recorded) the end of its period.
fn published_instant(site: &SiteInfo, page: &DigestPage) -> DateTime<Utc> {
    page.published_at
        .unwrap_or_else(|| site.period.bounds(page.start, site.timezone).1)
}

/// The digest's entries as an HTML list (to be XML-escaped by the caller).
fn digest_list_html(page: &DigestPage) -> String {
    let mut html = String::with_capacity(page.entries.len() * 512);
    html.push_str("<ul>");
    for entry in &page.entries {
        html.push_str("<li>");
        match http_url(&entry.url) {
            Some(url) => {
                html.push_str("<a href=\"");
                html.push_str(&crate::text::html::escape(url.as_str()));
                html.push_str("\">");
                html.push_str(&crate::text::html::escape(&entry.title));
                html.push_str("</a>");
            }
            None => html.push_str(&crate::text::html::escape(&entry.title)),
        }
        html.push_str(&summary_html(&entry.summary));
        html.push_str("</li>");
    }
    html.push_str("</ul>");
    html
}

/// A summary as HTML paragraphs of escaped text.
fn summary_html(summary: &str) -> String {
    let mut html = String::with_capacity(summary.len() + 16);
    for paragraph in summary
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        html.push_str("<p>");
        html.push_str(&crate::text::html::escape(paragraph));
        html.push_str("</p>");
    }
    html
}

/// Atom ids must be URIs: `urn:yaowen:` plus the item id, with anything
/// a URN may not contain percent-encoded.
fn atom_id(id: &str) -> String {
    let mut urn = String::with_capacity(id.len() + 11);
    urn.push_str("urn:yaowen:");
    for byte in id.bytes() {
        let c = char::from(byte);
        if c.is_ascii_alphanumeric() || "-._~:@!$&'()*+,;=/".contains(c) {
            urn.push(c);
        } else {
            let _ = write!(urn, "%{byte:02X}");
        }
    }
    urn
}

fn rfc3339(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atom_ids_are_uris() {
        assert_eq!(atom_id("wx:MzA5:2247:1"), "urn:yaowen:wx:MzA5:2247:1");
        assert_eq!(atom_id("a b#c?d%"), "urn:yaowen:a%20b%23c%3Fd%25");
        assert_eq!(atom_id("中"), "urn:yaowen:%E4%B8%AD");
    }

    #[test]
    fn summary_is_escaped_html_paragraphs() {
        assert_eq!(
            summary_html("<img src=x onerror=alert(1)>\n\n第二段"),
            "<p>&lt;img src=x onerror=alert(1)&gt;</p><p>第二段</p>"
        );
    }
}
