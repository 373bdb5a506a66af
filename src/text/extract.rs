//! Article extraction from a whole web page: the title, the body as HTML
//! and text, the byline and the publication time. Feeds often carry only a
//! teaser; summarising from the whole article needs its body without the
//! navigation, comments and ads around it. Generic pages go through a
//! readability port (`dom_smoothie`); WeChat article pages, which generic
//! readability gets wrong (the body is hidden until scripts run and images
//! sit in `data-src`), are read by a site rule.

use dom_query::Document;
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
        if let Some(extracted) = extract_wechat(html) {
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

/// WeChat's body is `#js_content`: shown by a script (so hidden in the
/// markup) with lazy images in `data-src`.
fn extract_wechat(html: &str) -> Option<Extracted> {
    let document = Document::from(html);
    let body = document.select("#js_content");
    if !body.exists() {
        return None;
    }
    body.remove_attr("style");
    for image in body.select("img[data-src]").nodes() {
        if let Some(source) = image.attr("data-src") {
            image.set_attr("src", &source);
        }
        image.remove_attr("data-src");
    }
    body.select("script, style").remove();
    let text = body.formatted_text().trim().to_string();
    if text.is_empty() {
        return None;
    }
    let meta = |property: &str| {
        document
            .select(&format!("meta[property=\"{property}\"]"))
            .attr("content")
            .map(|c| collapse(&c))
            .filter(|c| !c.is_empty())
    };
    let title = meta("og:title")
        .or_else(|| Some(collapse(&document.select("#activity-name").text())))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| collapse(&document.select("title").text()));
    let byline = Some(collapse(&document.select("#js_name").text()))
        .filter(|b| !b.is_empty())
        .or_else(|| meta("og:article:author"));
    Some(Extracted {
        title,
        text,
        html: body.inner_html().to_string(),
        byline,
        published: None,
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
