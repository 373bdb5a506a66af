//! Reading one mp.weixin.qq.com page: is it an article, a verification
//! (anti-spider) page or a page saying the article is gone, and if an
//! article, its fields and its sanitised body.
//!
//! WeChat keeps an article's facts in inline JavaScript (`var msg_title =
//! "…"`, `var ct = "1522968980"`, newer pages `window.cgiDataNew = {…}` with
//! `JsDecode('…')`), so those are read first; `og:`/meta tags and the
//! visible layout (`#activity-name`, `#js_name`) are the fallbacks.

use chrono::{DateTime, Utc};
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// What a fetched page turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    Article(Box<Article>),
    /// WeChat wants a human to pass a check: slow down, retry later.
    Verify(String),
    /// The article is gone for good (deleted, expired, blocked).
    Gone(String),
    /// Neither an article nor a known refusal (a layout we do not know).
    Unrecognised,
}

/// One article as its page describes it. Text fields are decoded and
/// trimmed; `None` when the page did not say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Article {
    pub title: String,
    /// The official account (公众号) name.
    pub account: Option<String>,
    /// The individual author, when the page names one.
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    /// The author's own summary (`msg_desc`).
    pub digest: Option<String>,
    pub cover: Option<String>,
    /// The article's permanent link as the page gives it (`msg_link`).
    pub link: Option<String>,
    pub biz: Option<String>,
    pub mid: Option<String>,
    pub idx: Option<String>,
    pub sn: Option<String>,
    /// Sanitised HTML of `#js_content`.
    pub body_html: Option<String>,
}

impl Article {
    /// `wx:{biz}:{mid}:{idx}` when the page named all three.
    pub fn identity(&self) -> Option<String> {
        match (&self.biz, &self.mid, &self.idx) {
            (Some(biz), Some(mid), Some(idx)) => {
                Some(crate::process::canonical::wechat_identity(biz, mid, idx))
            }
            _ => None,
        }
    }
}

/// Visible text that means "prove you are human" (WeChat's own check and
/// the Sogou anti-spider page that fronts WeChat search).
const VERIFY_MARKERS: &[&str] = &[
    "环境异常",
    "完成验证后即可继续访问",
    "wappoc_appmsgcaptcha",
    "访问过于频繁",
    "需要您协助验证",
    "请输入验证码",
];

/// Visible text that means the article will not come back.
const GONE_MARKERS: &[&str] = &[
    "该内容已被发布者删除",
    "此内容因违规无法查看",
    "此内容被投诉且经审核涉嫌侵权",
    "此内容因涉嫌违反相关法律法规和政策",
    "链接已过期",
    "参数错误",
    "该公众号已迁移",
    "此帐号已被屏蔽",
    "此账号已被屏蔽",
    "此帐号已自主注销",
    "此账号已自主注销",
    "此帐号处于帐号迁移流程中",
    "该内容已被删除",
];

/// Classify and read a page fetched from `url` (the final URL after
/// redirects; an article's relative links are resolved against it).
pub fn read_page(html: &str, url: &str) -> Page {
    if url.contains("wappoc_appmsgcaptcha") {
        return Page::Verify("redirected to the WeChat captcha".to_string());
    }
    let document = Html::parse_document(html);
    let scripts = Scripts::of(&document);
    // An article whose text happens to mention "链接已过期" is still an
    // article: markers only count on pages that are not articles.
    if let Some(article) = read_article(&document, &scripts, url) {
        return Page::Article(Box::new(article));
    }
    let visible = visible_text(&document);
    if let Some(marker) = find_marker(&visible, VERIFY_MARKERS)
        .or_else(|| find_marker(&scripts.text, &["wappoc_appmsgcaptcha"]))
    {
        return Page::Verify(format!("verification page ({marker})"));
    }
    if let Some(marker) = find_marker(&visible, GONE_MARKERS) {
        return Page::Gone(marker.to_string());
    }
    Page::Unrecognised
}

fn find_marker<'a>(text: &str, markers: &[&'a str]) -> Option<&'a str> {
    markers.iter().copied().find(|marker| text.contains(marker))
}

fn read_article(document: &Html, scripts: &Scripts, url: &str) -> Option<Article> {
    let title = scripts
        .var(&["msg_title"])
        .or_else(|| scripts.cgi(&["title"]))
        .or_else(|| meta(document, "property", "og:title"))
        .or_else(|| element_text(document, "#activity-name"))
        .map(|title| one_line(&title))
        .filter(|title| !title.is_empty())?;
    let body = select_first(document, "#js_content");
    let biz = scripts
        .var(&["biz", "__biz"])
        .or_else(|| scripts.cgi(&["biz"]));
    if body.is_none() && biz.is_none() {
        // A title alone (any web page has one) does not make an article.
        return None;
    }
    let link = scripts
        .var(&["msg_link"])
        .or_else(|| scripts.cgi(&["link"]))
        .or_else(|| meta(document, "property", "og:url"))
        .filter(|link| is_http_url(link));
    let url_key = [link.as_deref(), Some(url)]
        .into_iter()
        .flatten()
        .find_map(super::long_key_parts);
    let from_url = |pick: fn(&(String, String, String)) -> &String| {
        url_key.as_ref().map(|key| pick(key).clone())
    };
    let mid = scripts
        .var(&["mid", "appmsgid"])
        .or_else(|| scripts.cgi(&["mid", "appmsgid"]))
        .filter(|mid| is_number(mid))
        .or_else(|| from_url(|key| &key.1));
    let idx = scripts
        .var(&["idx", "itemidx"])
        .or_else(|| scripts.cgi(&["idx", "itemidx"]))
        .filter(|idx| is_number(idx))
        .or_else(|| from_url(|key| &key.2));
    let biz = biz.or_else(|| from_url(|key| &key.0));
    let base = url::Url::parse(url).ok();
    Some(Article {
        title,
        account: scripts
            .var(&["nickname", "nick_name"])
            .or_else(|| scripts.cgi(&["nick_name", "nickname"]))
            .or_else(|| element_text(document, "#js_name"))
            .or_else(|| meta(document, "property", "og:article:author"))
            .or_else(|| element_text(document, ".profile_nickname"))
            .map(|name| one_line(&name)),
        author: scripts
            .var(&["author"])
            .or_else(|| scripts.cgi(&["author"]))
            .or_else(|| meta(document, "name", "author"))
            .or_else(|| element_text(document, "#js_author_name"))
            .or_else(|| {
                element_text(
                    document,
                    "#meta_content em.rich_media_meta_text:not(#post-date)",
                )
            })
            .map(|name| one_line(&name))
            .filter(|name| !name.is_empty()),
        published: published(document, scripts),
        digest: scripts
            .var(&["msg_desc"])
            .or_else(|| scripts.cgi(&["desc"]))
            .or_else(|| meta(document, "property", "og:description"))
            .or_else(|| meta(document, "name", "description"))
            .map(|digest| one_line(&digest))
            .filter(|digest| !digest.is_empty()),
        cover: scripts
            .var(&["msg_cdn_url"])
            .or_else(|| scripts.cgi(&["cdn_url"]))
            .or_else(|| meta(document, "property", "og:image"))
            .filter(|cover| is_http_url(cover)),
        link,
        biz,
        mid,
        idx,
        sn: scripts
            .var(&["sn"])
            .or_else(|| scripts.cgi(&["sn"]))
            .filter(|sn| sn.bytes().all(|b| b.is_ascii_alphanumeric())),
        body_html: body
            .map(|body| sanitise_body(&body.inner_html(), base.as_ref()))
            .filter(|html| !html.trim().is_empty()),
    })
}

/// `ct` is Unix seconds; failing that the date text, read in China time
/// (the zone every WeChat page is written in).
fn published(document: &Html, scripts: &Scripts) -> Option<DateTime<Utc>> {
    let unix = scripts
        .number_var(&["ct"])
        .or_else(|| scripts.cgi(&["create_time", "ori_create_time"]));
    if let Some(seconds) = unix.and_then(|text| text.trim().parse::<i64>().ok()) {
        if seconds > 0 {
            return DateTime::from_timestamp(seconds, 0);
        }
    }
    let text = scripts
        .var(&["publish_time", "createTime"])
        .or_else(|| element_text(document, "#publish_time"))
        .or_else(|| element_text(document, "#post-date"))?;
    crate::process::dates::parse_date(&text, chrono_tz::Asia::Shanghai)
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
}

fn select_first<'a>(document: &'a Html, css: &str) -> Option<ElementRef<'a>> {
    let selector = Selector::parse(css).ok()?;
    document.select(&selector).next()
}

fn element_text(document: &Html, css: &str) -> Option<String> {
    let text: String = select_first(document, css)?.text().collect();
    let text = one_line(&text);
    (!text.is_empty()).then_some(text)
}

/// `<meta {attr}="{name}" content="…">`.
fn meta(document: &Html, attr: &str, name: &str) -> Option<String> {
    let selector = Selector::parse(&format!("meta[{attr}=\"{name}\"]")).ok()?;
    document
        .select(&selector)
        .filter_map(|element| element.value().attr("content"))
        .map(|content| content.trim().to_string())
        .find(|content| !content.is_empty())
}

/// Text a reader sees (and the `<title>`): everything but scripts/styles.
fn visible_text(document: &Html) -> String {
    let mut out = String::new();
    for node in document.tree.root().descendants() {
        let Node::Text(text) = node.value() else {
            continue;
        };
        let hidden = node.ancestors().any(|ancestor| {
            ancestor
                .value()
                .as_element()
                .is_some_and(|element| matches!(element.name(), "script" | "style" | "template"))
        });
        if !hidden {
            out.push_str(text);
            out.push(' ');
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---- inline JavaScript ------------------------------------------------------

/// The text of every inline script, where WeChat keeps an article's facts.
struct Scripts {
    text: String,
    /// Byte offset of `cgiDataNew` (newer pages), where property-style
    /// values (`title: JsDecode('…')`) live.
    cgi_start: Option<usize>,
}

impl Scripts {
    fn of(document: &Html) -> Scripts {
        let mut text = String::new();
        if let Ok(selector) = Selector::parse("script") {
            for script in document.select(&selector) {
                text.extend(script.text());
                text.push('\n');
            }
        }
        let cgi_start = text.find("cgiDataNew");
        Scripts { text, cgi_start }
    }

    /// The first non-empty string value assigned to one of `names`
    /// (`var x = "…"`, `window.x = '…'`, `d.x = "…"`), decoded.
    fn var(&self, names: &[&str]) -> Option<String> {
        self.assigned(names, false)
    }

    /// Like `var`, also accepting a bare number (`var ct = 1528776000`).
    fn number_var(&self, names: &[&str]) -> Option<String> {
        self.assigned(names, true)
    }

    fn assigned(&self, names: &[&str], allow_number: bool) -> Option<String> {
        names.iter().find_map(|name| {
            let pattern = format!(
                r"(?:\bvar\s+|\blet\s+|\bconst\s+|\bwindow\.|\bd\.){}\s*=[^=]",
                regex::escape(name)
            );
            let regex = Regex::new(&pattern).ok()?;
            let value = regex.find_iter(&self.text).find_map(|found| {
                // The match ends one character past the `=`.
                let equals = found.start() + found.as_str().rfind('=')?;
                let rest = self.text.get(equals + 1..)?;
                js_value(rest, allow_number).map(|value| decode_entities(&value))
            });
            value
        })
    }

    /// A property of `cgiDataNew` (`name: JsDecode('…')`, `name: '…' * 1`).
    fn cgi(&self, names: &[&str]) -> Option<String> {
        let block = self.text.get(self.cgi_start?..)?;
        names.iter().find_map(|name| {
            let pattern = format!(r#"[{{,\s]["']?{}["']?\s*:\s*"#, regex::escape(name));
            let regex = Regex::new(&pattern).ok()?;
            let value = regex.find_iter(block).find_map(|found| {
                let rest = block.get(found.end()..)?;
                js_value(rest, true).map(|value| decode_entities(&value))
            });
            value
        })
    }
}

/// The first non-empty alternative of a JS expression like
/// `"" || "ODUzMjkwMzYx"`, `'…'.html(false)`, `JsDecode('…')`, `"1" * 1`.
fn js_value(text: &str, allow_number: bool) -> Option<String> {
    let mut rest = text;
    loop {
        let (value, after) = js_atom(rest.trim_start(), allow_number)?;
        let after = skip_js_suffixes(after);
        if !value.trim().is_empty() {
            return Some(value.trim().to_string());
        }
        rest = after.trim_start().strip_prefix("||")?;
    }
}

fn js_atom(text: &str, allow_number: bool) -> Option<(String, &str)> {
    if let Some(inner) = text.strip_prefix("JsDecode(") {
        let (value, rest) = js_atom(inner.trim_start(), allow_number)?;
        let rest = rest.trim_start();
        return Some((value, rest.strip_prefix(')').unwrap_or(rest)));
    }
    let first = text.chars().next()?;
    if first == '"' || first == '\'' {
        return js_string(text, first);
    }
    if allow_number && first.is_ascii_digit() {
        let end = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        return Some((text[..end].to_string(), &text[end..]));
    }
    None
}

/// A quoted JS string literal at the start of `text`, unescaped.
fn js_string(text: &str, quote: char) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        if c == quote {
            return Some((out, &text[at + c.len_utf8()..]));
        }
        if c == '\n' {
            // Unterminated on this line: not a literal we understand.
            return None;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let (_, escaped) = chars.next()?;
        match escaped {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'x' => {
                let hex: String = (0..2)
                    .filter_map(|_| chars.next().map(|(_, c)| c))
                    .collect();
                out.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
            }
            'u' => {
                let hex: String = (0..4)
                    .filter_map(|_| chars.next().map(|(_, c)| c))
                    .collect();
                out.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
            }
            other => out.push(other),
        }
    }
    None
}

/// Skip `.html(false)`, `.html(true)`, `* 1` and closing parentheses after
/// a value.
fn skip_js_suffixes(mut text: &str) -> &str {
    loop {
        let trimmed = text.trim_start();
        if let Some(rest) = trimmed.strip_prefix(".html(") {
            text = rest.find(')').map_or("", |end| &rest[end + 1..]);
        } else if let Some(rest) = trimmed.strip_prefix('*') {
            let rest = rest.trim_start();
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            text = &rest[end..];
        } else {
            return trimmed;
        }
    }
}

/// Decode the character references WeChat leaves in its values
/// (`.html(false)` in the page does the same in a browser).
pub fn decode_entities(text: &str) -> String {
    crate::text::html::decode_entities_with(text, entity)
}

/// WeChat's named entities (`&nbsp;` kept as a no-break space), else the
/// XML and numeric ones.
fn entity(name: &str) -> Option<char> {
    Some(match name {
        "nbsp" => '\u{a0}',
        "yen" => '¥',
        "middot" => '·',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "ldquo" => '“',
        "rdquo" => '”',
        "lsquo" => '‘',
        "rsquo" => '’',
        _ => return crate::text::html::entity_char(name),
    })
}

// ---- body -------------------------------------------------------------------

static IMG_TAG: LazyLock<Regex> =
    // A literal pattern: cannot fail to compile.
    LazyLock::new(|| Regex::new(r"(?i)<img\b[^>]*>").expect("valid regex"));
static DATA_SRC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\sdata-src\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("valid regex")
});
static PLAIN_SRC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\ssrc\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)"#).expect("valid regex")
});

/// WeChat lazy-loads images: the real URL is in `data-src` and `src` is a
/// placeholder (or missing). Make `data-src` the `src`.
fn promote_data_src(html: &str) -> String {
    IMG_TAG
        .replace_all(html, |caps: &regex::Captures<'_>| {
            let tag = &caps[0];
            let Some(found) = DATA_SRC.captures(tag) else {
                return tag.to_string();
            };
            let value = found
                .get(1)
                .or_else(|| found.get(2))
                .map_or("", |m| m.as_str())
                .replace('"', "&quot;");
            let without_src = PLAIN_SRC.replace_all(tag, "");
            format!("<img src=\"{value}\"{}", &without_src[4..])
        })
        .into_owned()
}

/// Sanitise the article body: images made real and marked
/// `referrerpolicy="no-referrer"` (WeChat's image hosts refuse other
/// referrers), scripts and styles dropped with their content, inline
/// `style` (including WeChat's `visibility: hidden`/`opacity: 0`) dropped,
/// links only http/https, relative URLs resolved against the page.
pub fn sanitise_body(inner_html: &str, base: Option<&url::Url>) -> String {
    let prepared = promote_data_src(inner_html);
    let tags: HashSet<&str> = [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "del",
        "div",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "section",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    ]
    .into_iter()
    .collect();
    let tag_attributes: HashMap<&str, HashSet<&str>> = [
        ("a", ["href", "title"].into_iter().collect()),
        ("img", ["src", "alt", "title"].into_iter().collect()),
        ("td", ["colspan", "rowspan"].into_iter().collect()),
        ("th", ["colspan", "rowspan"].into_iter().collect()),
    ]
    .into_iter()
    .collect();
    let mut builder = ammonia::Builder::default();
    builder
        .tags(tags)
        .generic_attributes(HashSet::new())
        .tag_attributes(tag_attributes)
        .url_schemes(["http", "https"].into_iter().collect())
        .set_tag_attribute_value("img", "referrerpolicy", "no-referrer");
    match base {
        Some(base) => builder.url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone())),
        None => builder.url_relative(ammonia::UrlRelative::Deny),
    };
    builder.clean(&prepared).to_string().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_values_take_the_first_non_empty_alternative() {
        assert_eq!(
            js_value(r#" "" || "ODUzMjkwMzYx";"#, false).as_deref(),
            Some("ODUzMjkwMzYx")
        );
        assert_eq!(
            js_value(r#"'' || '' || "2654593305";"#, false).as_deref(),
            Some("2654593305")
        );
        assert_eq!(js_value(r#""";"#, false), None);
        assert_eq!(js_value("0;", false), None);
        assert_eq!(js_value("1528776000;", true).as_deref(), Some("1528776000"));
    }

    #[test]
    fn newer_page_forms_are_decoded() {
        let html = r#"<html><head><script>
            var msg_title = '云原生 &amp; K8s &quot;周报&quot;'.html(false);
            d.ct = "1528776000";
            window.cgiDataNew = {
              nick_name: JsDecode('\u4e91\u539f\u751f'),
              title: JsDecode('ignored because msg_title exists'),
              desc: JsDecode('K8s \x26amp; 云原生\x0a周报'),
              author: JsDecode('\u5f20\u4e09'),
              biz: 'MzA3MDM3NjE5NQ==', mid: '2650000001' * 1, idx: '2' * 1,
              sn: JsDecode('abc123'),
            };
            </script></head><body><div id="js_content" style="visibility: hidden; opacity: 0;">
            <p>正文<script>alert(1)</script></p></div></body></html>"#;
        let Page::Article(article) = read_page(html, "https://mp.weixin.qq.com/s/abc") else {
            panic!("not read as an article");
        };
        assert_eq!(article.title, r#"云原生 & K8s "周报""#);
        assert_eq!(
            article.published.map(|t| t.timestamp()),
            Some(1_528_776_000)
        );
        assert_eq!(article.author.as_deref(), Some("张三"));
        assert_eq!(article.account.as_deref(), Some("云原生"));
        assert_eq!(article.digest.as_deref(), Some("K8s & 云原生 周报"));
        assert_eq!(
            article.identity().as_deref(),
            Some("wx:MzA3MDM3NjE5NQ==:2650000001:2")
        );
        assert_eq!(article.sn.as_deref(), Some("abc123"));
        let body = article.body_html.unwrap_or_default();
        assert_eq!(body, "<p>正文</p>");
    }

    #[test]
    fn lazy_images_become_real_and_refuse_referrers() {
        let html = r#"<p><img class="x" src="data:image/gif;base64,AAAA" data-src="https://mmbiz.qpic.cn/mmbiz_png/abc/640?wx_fmt=png&amp;tp=webp" style="visibility: hidden"></p>
            <a href="javascript:alert(1)">bad</a><a href="/s/slug">rel</a>"#;
        let base = url::Url::parse("https://mp.weixin.qq.com/s/abc").ok();
        let clean = sanitise_body(html, base.as_ref());
        assert!(
            clean.contains(
                r#"src="https://mmbiz.qpic.cn/mmbiz_png/abc/640?wx_fmt=png&amp;tp=webp""#
            ),
            "{clean}"
        );
        assert!(clean.contains(r#"referrerpolicy="no-referrer""#), "{clean}");
        assert!(!clean.contains("visibility"), "{clean}");
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(
            clean.contains(r#"href="https://mp.weixin.qq.com/s/slug""#),
            "{clean}"
        );
    }

    #[test]
    fn entities_decode_and_unknown_ones_stay() {
        assert_eq!(
            decode_entities("a &amp; b &#39;c&#x27; &bogus; &"),
            "a & b 'c' &bogus; &"
        );
    }

    #[test]
    fn an_article_mentioning_a_gone_marker_is_still_an_article() {
        let html = r#"<html><body><h2 id="activity-name">链接已过期怎么办</h2>
            <div id="js_content"><p>如果看到“链接已过期”，请重新分享。</p></div></body></html>"#;
        assert!(matches!(
            read_page(html, "https://mp.weixin.qq.com/s/x"),
            Page::Article(_)
        ));
    }

    #[test]
    fn refusal_pages_are_classified() {
        let verify = "<html><body><div class=weui-msg><p>环境异常</p><p>完成验证后即可继续访问</p></div></body></html>";
        assert!(matches!(
            read_page(verify, "https://mp.weixin.qq.com/s/x"),
            Page::Verify(_)
        ));
        let captcha = "<html><body>ok</body></html>";
        let url = "https://mp.weixin.qq.com/mp/wappoc_appmsgcaptcha?poc_token=x&target_url=y";
        assert!(matches!(read_page(captcha, url), Page::Verify(_)));
        let deleted =
            "<html><body><h2 class=weui-msg__title>该内容已被发布者删除</h2></body></html>";
        assert_eq!(
            read_page(deleted, "https://mp.weixin.qq.com/s/x"),
            Page::Gone("该内容已被发布者删除".into())
        );
        assert_eq!(
            read_page("<html><body>hello</body></html>", "https://example.org/"),
            Page::Unrecognised
        );
    }
}
