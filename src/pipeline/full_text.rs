//! Full text for feeds that carry only teasers (`full_text = true`): each
//! new entry whose feed text is a teaser gets its page fetched and the
//! article extracted, so the summary is made from the whole article. Pages
//! are fetched one at a time per source, never for items already stored,
//! and a page that cannot be fetched or read leaves the teaser in place.

use crate::config::SourceConfig;
use crate::fetch::{FetchError, Fetched, HttpClient, Validators};
use crate::model::RawEntry;
use crate::process::dates;
use crate::text::extract::{self, Extracted};
use crate::text::{decode, html, sentences};
use chrono_tz::Tz;

/// Below this many display characters a feed's text is a teaser.
const TEASER_CHARS: usize = 200;
/// A text ending in an ellipsis or "read more" is a teaser up to this length.
const CUT_TEASER_CHARS: usize = 1000;

/// Replace teasers by the articles their links lead to.
pub async fn fill(
    client: &HttpClient,
    source: &SourceConfig,
    entries: &mut [RawEntry],
    known: super::collect::Known<'_>,
) {
    for entry in entries.iter_mut() {
        if !is_teaser(entry) {
            continue;
        }
        let Some(link) = entry.link.clone() else {
            continue;
        };
        if known(&link) {
            continue;
        }
        match fetch_article(client, &link, source.allow_private).await {
            Ok(Some(article)) => apply(entry, article, source.timezone),
            Ok(None) => tracing::info!(url = %link, "no article found on the page; teaser kept"),
            Err(error) => {
                tracing::warn!(url = %link, error = %error, "cannot fetch the full text; teaser kept");
            }
        }
    }
}

/// The feed gave no body, only a short (or visibly cut) text.
fn is_teaser(entry: &RawEntry) -> bool {
    let longest = [entry.content.as_deref(), entry.summary.as_deref()]
        .into_iter()
        .flatten()
        .map(html::to_text)
        .max_by_key(|text| text.len())
        .unwrap_or_default();
    let text = longest.trim();
    let length = sentences::display_len(text);
    length < TEASER_CHARS || (length < CUT_TEASER_CHARS && looks_cut(text))
}

fn looks_cut(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "…",
        "...",
        "[…]",
        "[...]",
        "read more",
        "continue reading",
        "阅读全文",
        "查看全文",
        "更多",
    ]
    .iter()
    .any(|end| lower.ends_with(end))
}

async fn fetch_article(
    client: &HttpClient,
    link: &str,
    allow_private: bool,
) -> Result<Option<Extracted>, FetchError> {
    let Fetched::Body {
        final_url,
        content_type,
        bytes,
        ..
    } = client
        .get(link, &Validators::default(), allow_private)
        .await?
    else {
        return Ok(None);
    };
    // Decoding and extraction are CPU work: keep them off the I/O threads.
    let extracted = tokio::task::spawn_blocking(move || {
        let text = decode::decode(&bytes, content_type.as_deref()).text;
        extract::extract(&text, final_url.as_str())
    })
    .await
    .unwrap_or_else(|error| {
        tracing::error!(error = %error, "extraction crashed (a bug)");
        None
    });
    Ok(extracted)
}

/// Put the article into the entry. The feed's summary stays when it is the
/// author's own description; a teaser cut from the article goes, so the
/// summary is made from the whole text.
fn apply(entry: &mut RawEntry, article: Extracted, timezone: Tz) {
    if entry
        .summary
        .as_deref()
        .is_some_and(|summary| is_cut_from(summary, &article.text))
    {
        entry.summary = None;
    }
    if entry.title.as_deref().is_none_or(|t| t.trim().is_empty()) && !article.title.is_empty() {
        entry.title = Some(article.title);
    }
    if entry.author.is_none() {
        entry.author = article.byline;
    }
    if entry.published.is_none() {
        entry.published = article
            .published
            .as_deref()
            .and_then(|date| dates::parse_date(date, timezone));
    }
    entry.content = Some(article.html);
}

/// Whether a summary is the article's opening, maybe cut with an ellipsis.
fn is_cut_from(summary: &str, article: &str) -> bool {
    let text = html::to_text(summary);
    let text = text.trim();
    if looks_cut(text) {
        return true;
    }
    let summary = letters(text);
    !summary.is_empty() && letters(article).starts_with(&summary)
}

fn letters(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(summary: &str, content: Option<&str>) -> RawEntry {
        RawEntry {
            summary: Some(summary.to_string()),
            content: content.map(str::to_string),
            ..RawEntry::default()
        }
    }

    #[test]
    fn short_or_cut_texts_are_teasers_and_bodies_are_not() {
        assert!(is_teaser(&entry("KubeCon 中国 2024 回顾。", None)));
        let cut = format!("{}…", "云原生".repeat(100));
        assert!(is_teaser(&entry(&cut, None)));
        let body = "云原生社区成立于 2020 年。".repeat(30);
        assert!(!is_teaser(&entry("短", Some(&body))));
    }

    #[test]
    fn a_teaser_cut_from_the_article_is_dropped_and_an_own_summary_kept() {
        let article = Extracted {
            title: "标题".into(),
            text: "第一段正文，讲的是服务网格。第二段讲的是可观测性。".into(),
            html: "<p>第一段正文，讲的是服务网格。</p><p>第二段讲的是可观测性。</p>".into(),
            byline: Some("宋净超".into()),
            published: None,
        };
        let mut cut = entry("第一段正文，讲的是服务…", None);
        apply(&mut cut, article.clone(), chrono_tz::UTC);
        assert_eq!(cut.summary, None);
        assert_eq!(cut.author.as_deref(), Some("宋净超"));
        assert!(cut.content.is_some_and(|c| c.contains("可观测性")));
        let mut own = entry("作者自己写的摘要", None);
        apply(&mut own, article, chrono_tz::UTC);
        assert_eq!(own.summary.as_deref(), Some("作者自己写的摘要"));
    }
}
