//! Article extraction from a whole web page: the title, the body as HTML
//! and text, the byline and the publication time. Feeds often carry only a
//! teaser; summarising from the whole article needs its body without the
//! navigation, comments and ads around it. Generic pages go through a
//! readability port (`dom_smoothie`); WeChat article pages, which generic
//! readability gets wrong (the body is hidden until scripts run and images
//! sit in `data-src`), are read by the WeChat source's own page reader.

use crate::source::wechat::{read_page, Page};
use crate::text::html::to_text;
use dom_smoothie::{Config, Readability, TextMode};

/// What was extracted from a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub title: String,
    /// Plain text of the body, paragraphs separated by newlines.
    pub text: String,
    /// HTML of the body, cleaned by readability (scripts, forms, ads dropped).
    pub html: String,
    pub byline: Option<String>,
    /// The publication time as the page states it (not parsed).
    pub published: Option<String>,
}

/// Extract the article of a page fetched from `url`. `None` when no body
/// with any text was found.
pub fn extract(html: &str, url: &str) -> Option<Extracted> {
    if is_wechat(html, url) {
        if let Some(extracted) = extract_wechat(html, url) {
            return Some(extracted);
        }
    }
    extract_generic(html, url)
}

fn is_wechat(html: &str, url: &str) -> bool {
    let host_is_wechat = url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.eq_ignore_ascii_case("mp.weixin.qq.com"))
        })
        .unwrap_or(false);
    host_is_wechat || html.contains("id=\"js_content\"")
}

fn extract_generic(html: &str, url: &str) -> Option<Extracted> {
    let config = Config {
        text_mode: TextMode::Formatted,
        ..Config::default()
    };
    let document_url = url::Url::parse(url).ok().map(|_| url);
    let mut readability = Readability::new(html, document_url, Some(config)).ok()?;
    let article = readability.parse().ok()?;
    let text = article.text_content.trim().to_string();
    if text.is_empty() {
        return None;
    }
    Some(Extracted {
        title: collapse(&article.title),
        text,
        html: article.content.to_string(),
        byline: article
            .byline
            .map(|b| collapse(&b))
            .filter(|b| !b.is_empty()),
        published: article.published_time,
    })
}

/// A WeChat article as the WeChat source reads it: its title, account and
/// publication time from the page's scripts and meta tags, and `#js_content`
/// (hidden until a script runs, lazy images in `data-src`) sanitised.
fn extract_wechat(html: &str, url: &str) -> Option<Extracted> {
    let Page::Article(article) = read_page(html, url) else {
        return None;
    };
    let html = article.body_html?;
    let text = to_text(&html);
    if text.is_empty() {
        return None;
    }
    Some(Extracted {
        title: article.title,
        text,
        html,
        byline: article.account.filter(|account| !account.is_empty()),
        published: article.published.map(|time| time.to_rfc3339()),
    })
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wechat_body_is_shown_with_real_images() {
        let page = r#"<html><head><meta property="og:title" content="KubeCon 回顾"></head><body>
            <h1 id="activity-name"> KubeCon 回顾 </h1><a id="js_name">云原生社区</a>
            <div id="js_content" style="visibility: hidden;"><p>第一段正文。</p>
            <img data-src="https://mmbiz.qpic.cn/a.png"><script>var x = 1;</script></div></body></html>"#;
        let extracted = extract(page, "https://mp.weixin.qq.com/s/abc").unwrap();
        assert_eq!(extracted.title, "KubeCon 回顾");
        assert_eq!(extracted.byline.as_deref(), Some("云原生社区"));
        assert_eq!(extracted.text, "第一段正文。");
        assert!(extracted
            .html
            .contains("src=\"https://mmbiz.qpic.cn/a.png\""));
        assert!(!extracted.html.contains("var x"));
    }

    #[test]
    fn an_empty_page_gives_nothing() {
        assert_eq!(
            extract("<html><body></body></html>", "https://a.example/"),
            None
        );
    }
}
