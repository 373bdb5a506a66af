//! RSS/Atom/JSON Feed parsing: turns decoded feed text into `RawEntry`s.
//! feed-rs does the format work; this module adapts it to what the web
//! really serves (already-decoded text whose prolog still names another
//! encoding, HTML entities XML does not define, bare `&`, truncated bodies,
//! `CST` and Chinese dates) and keeps only ids the document itself gave.
//! What feed-rs misreads or drops is rewritten before it reads the text
//! (Atom base64 and escaped-XHTML text constructs, RSS 1.0 items without a
//! link) or read by small passes of our own (`dc:title`/`media:title` when
//! an entry has no title, Microsoft CDF channels).

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::LazyLock;

use base64::Engine;
use chrono_tz::Tz;
use feed_rs::model::{Entry, Feed, Link, Text};
use feed_rs::parser::{Builder, ParseErrorKind, ParseFeedError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::XmlVersion;
use regex::Regex;
use url::Url;

use crate::model::RawEntry;
use crate::process::dates::parse_date;

/// What the parser needs to know about where a feed came from.
#[derive(Debug, Clone)]
pub struct FeedContext<'a> {
    /// The URL the feed was fetched from (base for relative links).
    pub url: &'a str,
    /// Time zone for dates that carry no offset.
    pub timezone: Tz,
}

/// A parsed feed.
#[derive(Debug, Clone, Default)]
pub struct ParsedFeed {
    pub title: Option<String>,
    /// RSS `<ttl>` in minutes.
    pub ttl_minutes: Option<u32>,
    pub entries: Vec<RawEntry>,
    /// Entries that were skipped, each with the reason.
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The body is empty or only whitespace.
    #[error("empty document")]
    Empty,
    /// A document of another kind (an HTML page, plain text, other XML or JSON).
    #[error("not a feed: {0}")]
    NotAFeed(String),
    /// A feed the parser could not read, even after repair.
    #[error("malformed feed: {0}")]
    Malformed(String),
}

/// Marker returned by our id generator, so ids feed-rs invents for entries
/// without one can be told apart from ids in the document.
const GENERATED_ID: &str = "\u{0}generated";

/// Parse decoded feed text.
pub fn parse(text: &str, ctx: &FeedContext<'_>) -> Result<ParsedFeed, FeedError> {
    let text = neutralise_encoding_declaration(text.trim_start_matches('\u{feff}').trim());
    let text = normalise_dialects(&text);
    if text.is_empty() {
        return Err(FeedError::Empty);
    }
    if looks_like_html(&text) {
        return Err(FeedError::NotAFeed("an HTML page".into()));
    }
    if root_element_name(&text).is_some_and(|name| name.eq_ignore_ascii_case("channel")) {
        return parse_cdf(&text, ctx);
    }
    let (feed, read_text) = match run_feed_rs(&text, ctx) {
        Ok(feed) => (feed, Cow::Borrowed(text.as_ref())),
        Err(first_error) => repair_xml(&text)
            .and_then(|repaired| Some((run_feed_rs(&repaired, ctx).ok()?, Cow::Owned(repaired))))
            .ok_or_else(|| classify(first_error, &text))?,
    };
    Ok(convert(feed, ctx, &read_text))
}

/// Why feed-rs failed, before we map it to a `FeedError`.
enum Failure {
    Parse(ParseFeedError),
    Panicked,
}

fn run_feed_rs(text: &str, ctx: &FeedContext<'_>) -> Result<Feed, Failure> {
    let timezone = ctx.timezone;
    let base = Url::parse(ctx.url).ok().map(|url| url.to_string());
    let parser = Builder::new()
        .base_uri(base)
        .timestamp_parser(move |date| parse_date(date, timezone))
        .id_generator(|_links, _title, _uri| GENERATED_ID.to_string())
        .build();
    // feed-rs is not known to panic, but a feed is outside input: a panic
    // there must cost one feed, not the daemon.
    match catch_unwind(AssertUnwindSafe(|| parser.parse(text.as_bytes()))) {
        Ok(result) => result.map_err(Failure::Parse),
        Err(_) => Err(Failure::Panicked),
    }
}

fn classify(failure: Failure, text: &str) -> FeedError {
    let error = match failure {
        Failure::Panicked => return FeedError::Malformed("the feed parser panicked".into()),
        Failure::Parse(error) => error,
    };
    let is_json = text.starts_with('{') || text.starts_with('[');
    match error {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) if is_json => {
            FeedError::NotAFeed("JSON that is not a JSON Feed".into())
        }
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) if !text.starts_with('<') => {
            FeedError::NotAFeed("neither XML nor JSON".into())
        }
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => FeedError::NotAFeed(format!(
            "XML whose root <{}> is not rss, feed or rdf:RDF",
            root_element_name(text).unwrap_or("?")
        )),
        ParseFeedError::JsonSerde(_) | ParseFeedError::JsonUnsupportedVersion(_)
            if !text.contains("jsonfeed.org") =>
        {
            FeedError::NotAFeed("JSON that is not a JSON Feed".into())
        }
        other => FeedError::Malformed(other.to_string()),
    }
}

/// The text is UTF-8 by now, whatever its prolog says; feed-rs would
/// otherwise decode it a second time with the declared encoding.
fn neutralise_encoding_declaration(text: &str) -> String {
    static PROLOG: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(r#"^<\?xml[^>]*?\?>"#).expect("valid regex")
    });
    static ENCODING: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(r#"encoding\s*=\s*("[^"]*"|'[^']*')"#).expect("valid regex")
    });
    let Some(prolog) = PROLOG.find(text) else {
        return text.to_string();
    };
    let fixed = ENCODING.replace(prolog.as_str(), r#"encoding="utf-8""#);
    format!("{fixed}{}", &text[prolog.end()..])
}

/// Namespaces of older or variant formats, mapped to the ones feed-rs
/// reads: Atom 0.3 to Atom 1.0, RSS 0.90 and Userland's RSS 2.0 namespace to
/// plain RSS.
const NAMESPACE_ALIASES: [(&str, &str); 4] = [
    ("http://purl.org/atom/ns#", "http://www.w3.org/2005/Atom"),
    (
        "http://my.netscape.com/rdf/simple/0.9/",
        "http://purl.org/rss/1.0/",
    ),
    (
        "http://backend.userland.com/rss2",
        "http://purl.org/rss/1.0/",
    ),
    (
        "http://backend.userland.com/rss",
        "http://purl.org/rss/1.0/",
    ),
];

/// Rewrite dialects feed-rs rejects or misreads into the forms it reads:
/// old namespaces, Atom 0.3 element names, Atom `type` values such as
/// `text/html` (feed-rs fails the whole feed on an unknown one), and an
/// `<rss>` root without a version it knows.
fn normalise_dialects(text: &str) -> Cow<'_, str> {
    // Nearly every feed uses none of the old namespaces: one pass over the
    // document says so, instead of one search per alias and quote.
    static OLD_NAMESPACES: LazyLock<Option<aho_corasick::AhoCorasick>> = LazyLock::new(|| {
        aho_corasick::AhoCorasick::new(NAMESPACE_ALIASES.iter().map(|(old, _)| old)).ok()
    });
    let mut text = Cow::Borrowed(text);
    let mut atom03 = false;
    let aliases_used = OLD_NAMESPACES
        .as_ref()
        .is_none_or(|old_namespaces| old_namespaces.is_match(text.as_ref()));
    if aliases_used {
        for (old, new) in NAMESPACE_ALIASES {
            for quote in ['"', '\''] {
                let quoted = format!("{quote}{old}{quote}");
                if text.contains(&quoted) {
                    atom03 |= old.contains("atom");
                    text = Cow::Owned(text.replace(&quoted, &format!("{quote}{new}{quote}")));
                }
            }
        }
    }
    if atom03 {
        text = Cow::Owned(rename_atom03_elements(&text));
    }
    match root_element_name(&text).map(|name| name.rsplit(':').next().unwrap_or(name)) {
        Some("feed" | "entry") => Cow::Owned(normalise_atom_constructs(&text)),
        Some("RDF") => match link_rdf_items(&text) {
            Cow::Owned(linked) => Cow::Owned(linked),
            Cow::Borrowed(_) => text,
        },
        Some("rss") => match fix_rss_version(&text) {
            Some(fixed) => Cow::Owned(fixed),
            None => text,
        },
        _ => text,
    }
}

fn rename_atom03_elements(text: &str) -> String {
    static ATOM03: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(r"<(/?)([A-Za-z0-9_.-]+:)?(issued|modified|tagline|copyright)\b")
            .expect("valid regex")
    });
    ATOM03
        .replace_all(text, |caps: &regex::Captures<'_>| {
            let renamed = match &caps[3] {
                "issued" => "published",
                "modified" => "updated",
                "tagline" => "subtitle",
                _ => "rights",
            };
            let prefix = caps.get(2).map_or("", |m| m.as_str());
            format!("<{}{prefix}{renamed}", &caps[1])
        })
        .into_owned()
}

/// Atom text constructs as feed-rs reads them: base64 decoded, XHTML with
/// escaped text turned into HTML, types mapped onto `text`, `html` and
/// `xhtml`.
fn normalise_atom_constructs(text: &str) -> String {
    normalise_atom_types(&rewrite_atom_constructs(text))
}

/// Atom text constructs that may carry base64 or inline XHTML content.
const ATOM_TEXT_CONSTRUCT: &str =
    r"<((?:atom:)?(?:title|subtitle|summary|rights|content))(\s[^>]*)?>";

/// Rewrite the base64 and XHTML text constructs feed-rs misreads (see
/// `decode_base64_construct` and `escape_xhtml_construct`). Only their
/// opening tags are inspected on the way, so a document without such
/// constructs costs one scan and is returned as it is.
fn rewrite_atom_constructs(text: &str) -> Cow<'_, str> {
    static OPENING: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(ATOM_TEXT_CONSTRUCT).expect("valid regex")
    });
    let mut out = String::new();
    let mut copied_to = 0;
    let mut search_from = 0;
    while let Some(caps) = OPENING.captures_at(text, search_from) {
        let (Some(tag), Some(name)) = (caps.get(0), caps.get(1)) else {
            break;
        };
        search_from = tag.end();
        let raw_attributes = caps.get(2).map_or("", |m| m.as_str());
        if raw_attributes.ends_with('/') || !may_need_rewrite(raw_attributes) {
            continue;
        }
        let attributes = tag_attributes(raw_attributes);
        let Some(kind) = construct_kind(&attributes) else {
            continue;
        };
        let closing = format!("</{}>", name.as_str());
        let Some(inner_end) = text[tag.end()..].find(&closing).map(|at| tag.end() + at) else {
            continue;
        };
        let inner = &text[tag.end()..inner_end];
        let rewritten = match kind {
            ConstructKind::Base64 { declared_plain } => {
                decode_base64_construct(inner, declared_plain)
            }
            ConstructKind::Xhtml => escape_xhtml_construct(inner),
        };
        if let Some((new_type, new_inner)) = rewritten {
            out.push_str(&text[copied_to..tag.start()]);
            out.push_str(&format!(
                "<{}{}>{new_inner}",
                name.as_str(),
                with_type(&attributes, new_type)
            ));
            copied_to = inner_end;
            search_from = inner_end;
        }
    }
    if copied_to == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied_to..]);
    Cow::Owned(out)
}

/// Cheap test before the attributes are parsed: only a tag naming base64,
/// XHTML or a MIME type (which has a `/`) can need a rewrite; the common
/// `type="html"` cannot.
fn may_need_rewrite(raw_attributes: &str) -> bool {
    let lower = raw_attributes.to_ascii_lowercase();
    lower.contains("base64") || lower.contains("xhtml") || lower.contains('/')
}

/// The text constructs `rewrite_atom_constructs` handles.
enum ConstructKind {
    /// Atom 0.3 marks base64 `mode="base64"`, Atom 1.0 by a MIME type that
    /// is neither text nor XML (RFC 4287 4.1.3.3).
    Base64 {
        declared_plain: bool,
    },
    Xhtml,
}

fn construct_kind(attributes: &[(&str, &str)]) -> Option<ConstructKind> {
    let value = |wanted: &str| {
        attributes
            .iter()
            .find(|(name, _)| *name == wanted)
            .map(|(_, value)| value.trim().to_ascii_lowercase())
    };
    let declared = value("type").unwrap_or_default();
    if value("src").is_some() {
        return None;
    }
    if value("mode").as_deref() == Some("base64") || is_binary_mime_type(&declared) {
        let declared_plain = matches!(declared.as_str(), "text" | "text/plain");
        return Some(ConstructKind::Base64 { declared_plain });
    }
    matches!(declared.as_str(), "xhtml" | "application/xhtml+xml").then_some(ConstructKind::Xhtml)
}

/// The attributes of an opening tag as (name, unquoted raw value) pairs.
fn tag_attributes(attributes: &str) -> Vec<(&str, &str)> {
    static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(r#"([A-Za-z0-9_:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("valid regex")
    });
    ATTRIBUTE
        .captures_iter(attributes)
        .filter_map(|caps| {
            let value = caps.get(2).or_else(|| caps.get(3))?;
            Some((caps.get(1)?.as_str(), value.as_str()))
        })
        .collect()
}

/// The attributes with `type` set to `new_type` and Atom 0.3's `mode` dropped.
fn with_type(attributes: &[(&str, &str)], new_type: &str) -> String {
    let mut out: String = attributes
        .iter()
        .filter(|(name, _)| !matches!(*name, "type" | "mode"))
        .map(|(name, value)| format!(r#" {name}="{}""#, value.replace('"', "&quot;")))
        .collect();
    out.push_str(&format!(r#" type="{new_type}""#));
    out
}

/// A base64 construct's new type and its text decoded and escaped again.
/// The text is read as HTML unless the element says it is plain text:
/// base64 is what publishers reach for to protect markup, and feedparser
/// reads it so. `None` (left as it is) when it is not base64 of UTF-8.
fn decode_base64_construct(inner: &str, declared_plain: bool) -> Option<(&'static str, String)> {
    let encoded: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    if encoded.is_empty() {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(bytes).ok()?;
    let new_type = if declared_plain { "text" } else { "html" };
    Some((
        new_type,
        quick_xml::escape::escape(decoded.as_str()).into_owned(),
    ))
}

fn is_binary_mime_type(mime: &str) -> bool {
    mime.contains('/')
        && !mime.starts_with("text/")
        && !mime.ends_with("/xml")
        && !mime.ends_with("+xml")
}

/// Inline XHTML holding escaped characters (`&lt;blink&gt;`), escaped once
/// more as an HTML construct: feed-rs re-serialises XHTML without escaping
/// its text again, so `&lt;blink&gt;` would come back as a tag. XHTML
/// without references is left to feed-rs.
fn escape_xhtml_construct(inner: &str) -> Option<(&'static str, String)> {
    if !inner.contains('&') || inner.contains("<![CDATA[") {
        return None;
    }
    Some(("html", quick_xml::escape::escape(inner).into_owned()))
}

/// feed-rs drops RSS 1.0 items that have no `<link>`. Each such item gets
/// one: its `rdf:about` (the item's URI, by the spec most often its page),
/// else `about:blank`, which keeps the item but is no page (only http(s)
/// links are kept as an entry's link).
fn link_rdf_items(text: &str) -> Cow<'_, str> {
    static ITEM: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(r"<((?:[A-Za-z0-9_.-]+:)?)item(\s[^>]*)?>").expect("valid regex")
    });
    static LINK: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(r"<(?:[A-Za-z0-9_.-]+:)?link[\s/>]").expect("valid regex")
    });
    let mut out = String::new();
    let mut position = 0;
    for caps in ITEM.captures_iter(text) {
        let (Some(tag), Some(prefix)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let attributes = caps.get(2).map_or("", |m| m.as_str());
        let closing = format!("</{}item>", prefix.as_str());
        let Some(inner_end) = text[tag.end()..].find(&closing) else {
            continue;
        };
        if attributes.ends_with('/') || LINK.is_match(&text[tag.end()..tag.end() + inner_end]) {
            continue;
        }
        let about = tag_attributes(attributes)
            .into_iter()
            .find(|(name, _)| name.ends_with(":about") || *name == "about")
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
            .unwrap_or("about:blank");
        out.push_str(&text[position..tag.end()]);
        out.push_str(&format!(
            "<{}link>{about}</{}link>",
            prefix.as_str(),
            prefix.as_str()
        ));
        position = tag.end();
    }
    if position == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[position..]);
    Cow::Owned(out)
}

/// Atom text constructs accept only `text`, `html` and `xhtml`; MIME-style
/// and empty values found in the wild are mapped onto those. Only Atom's own
/// elements (unprefixed or `atom:`) are touched: `media:title` has its own
/// type values.
fn normalise_atom_types(text: &str) -> String {
    static TYPED: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(
            r#"<((?:atom:)?(title|subtitle|summary|rights|content))(\s[^>]*?)?(\stype\s*=\s*)("[^"]*"|'[^']*')"#,
        )
        .expect("valid regex")
    });
    TYPED
        .replace_all(text, |caps: &regex::Captures<'_>| {
            let value = caps[5]
                .trim_matches(['"', '\''])
                .trim()
                .to_ascii_lowercase();
            let is_content = &caps[2] == "content";
            // Content also takes MIME types (and needs one beside `src`),
            // so only the inline XHTML alias is mapped there.
            let mapped = match value.as_str() {
                "application/xhtml+xml" => "xhtml".into(),
                _ if is_content => value.clone(),
                "text" | "html" | "xhtml" => value.clone(),
                "text/html" => "html".into(),
                _ => "text".into(),
            };
            format!(
                r#"<{}{}{}"{mapped}""#,
                &caps[1],
                caps.get(3).map_or("", |m| m.as_str()),
                &caps[4]
            )
        })
        .into_owned()
}

/// feed-rs reads `<rss>` only with version 2.0, 0.91 or 0.92; any other
/// (`2.01`, `0.94`, none) is read as 2.0, a superset of the others.
fn fix_rss_version(text: &str) -> Option<String> {
    static RSS_TAG: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(r"<rss\b[^>]*>").expect("valid regex")
    });
    static VERSION: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(r#"\sversion\s*=\s*("[^"]*"|'[^']*')"#).expect("valid regex")
    });
    let tag = RSS_TAG.find(text)?;
    let version = VERSION
        .captures(tag.as_str())
        .map(|caps| caps[1].trim_matches(['"', '\'']).to_string());
    if matches!(version.as_deref(), Some("2.0" | "0.91" | "0.92")) {
        return None;
    }
    let without = VERSION.replace(tag.as_str(), "");
    let fixed = format!(r#"<rss version="2.0"{}"#, &without[4..]);
    Some(format!(
        "{}{fixed}{}",
        &text[..tag.start()],
        &text[tag.end()..]
    ))
}

/// Name of the first element, skipping the prolog, comments, processing
/// instructions and the doctype.
fn root_element_name(text: &str) -> Option<&str> {
    static ROOT: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(r"<([A-Za-z_][A-Za-z0-9_:.-]*)").expect("valid regex")
    });
    let mut rest = text;
    loop {
        let start = rest.find('<')?;
        rest = &rest[start..];
        let skip_to = if rest.starts_with("<!--") {
            rest.find("-->").map(|end| end + 3)
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            rest.find('>').map(|end| end + 1)
        } else {
            return ROOT
                .captures(rest)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str());
        };
        rest = &rest[skip_to?..];
    }
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html")
        || root_element_name(text).is_some_and(|name| name.eq_ignore_ascii_case("html"))
}

/// A second chance for XML feed-rs rejected: HTML entities replaced by
/// numeric references, bare `&` escaped, control characters dropped, and a
/// truncated body cut after its last complete entry and closed. Returns
/// `None` when there is nothing to repair.
fn repair_xml(text: &str) -> Option<String> {
    if !text.starts_with('<') {
        return None;
    }
    let mut repaired = fix_entities_outside_cdata(text);
    repaired.retain(|c| !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}'));
    if let Some(closed) = close_truncated(&repaired) {
        repaired = closed;
    }
    (repaired != text).then_some(repaired)
}

fn fix_entities_outside_cdata(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(start) = rest.find("<![CDATA[") {
        out.push_str(&fix_entities(&rest[..start]));
        let cdata = &rest[start..];
        let end = cdata.find("]]>").map_or(cdata.len(), |end| end + 3);
        out.push_str(&cdata[..end]);
        rest = &cdata[end..];
    }
    out.push_str(&fix_entities(rest));
    out
}

/// Every `&` that does not start an XML-valid reference becomes either a
/// numeric reference (for a known HTML entity such as `&nbsp;`) or `&amp;`.
fn fix_entities(text: &str) -> String {
    static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
        // A valid pattern literal: compiling it cannot fail.
        Regex::new(r"^&(?:#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|([A-Za-z][A-Za-z0-9]{0,31});)")
            .expect("valid regex")
    });
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(reference) = REFERENCE.captures(rest) else {
            out.push_str("&amp;");
            rest = &rest[1..];
            continue;
        };
        let whole = reference.get(0).map_or("&", |m| m.as_str());
        match reference.get(1).map(|m| m.as_str()) {
            // XML allows only a lowercase `x` in hexadecimal references.
            None if whole.starts_with("&#X") => out.push_str(&whole.replacen("&#X", "&#x", 1)),
            Some("amp" | "lt" | "gt" | "quot" | "apos") | None => out.push_str(whole),
            Some(_) => match decode_html_entity(whole) {
                Some(decoded) => {
                    for c in decoded.chars() {
                        out.push_str(&format!("&#{};", u32::from(c)));
                    }
                }
                None => {
                    out.push_str("&amp;");
                    out.push_str(&whole[1..]);
                }
            },
        }
        rest = &rest[whole.len()..];
    }
    out.push_str(rest);
    out
}

/// The characters an HTML named reference such as `&nbsp;` stands for,
/// using the HTML parser's own entity table.
fn decode_html_entity(reference: &str) -> Option<String> {
    let decoded = html_to_text(reference);
    (!decoded.is_empty() && decoded != reference).then_some(decoded)
}

/// Cut a truncated feed after its last complete entry and close the root,
/// so the entries that did arrive are kept.
fn close_truncated(text: &str) -> Option<String> {
    let root = root_element_name(text)?;
    if text.trim_end().ends_with(&format!("</{root}>")) {
        return None;
    }
    let local = root.rsplit(':').next().unwrap_or(root);
    let (entry_end, closing) = match local {
        "rss" => ("</item>", format!("</channel></{root}>")),
        "RDF" => ("</item>", format!("</{root}>")),
        "feed" => ("</entry>", format!("</{root}>")),
        _ => return None,
    };
    let cut = text.rfind(entry_end)? + entry_end.len();
    Some(format!("{}{closing}", &text[..cut]))
}

/// `text` is the document feed-rs read, for the fields it does not keep.
fn convert(feed: Feed, ctx: &FeedContext<'_>, text: &str) -> ParsedFeed {
    let json_images = json_item_images(text);
    // The second reading costs a pass over the document: only when an
    // entry lacks the title it could supply.
    let secondary = if feed.entries.iter().any(|entry| entry.title.is_none())
        && may_have_secondary_titles(text)
    {
        secondary_titles(text, feed.entries.len())
    } else {
        Vec::new()
    };
    let mut parsed = ParsedFeed {
        title: feed.title.as_ref().and_then(text_of),
        ttl_minutes: feed.ttl,
        ..ParsedFeed::default()
    };
    for (index, entry) in feed.entries.into_iter().enumerate() {
        let json_image = json_images.get(index).cloned().flatten();
        let mut raw = raw_entry(entry, ctx, json_image);
        if raw.title.is_none() {
            raw.title = secondary.get(index).cloned().flatten();
        }
        keep_or_skip(&mut parsed, index + 1, raw);
    }
    parsed
}

/// Keep an entry unless it has nothing to show (no title, link or content).
fn keep_or_skip(parsed: &mut ParsedFeed, number: usize, raw: RawEntry) {
    if raw.title.is_none() && raw.link.is_none() && raw.summary.is_none() && raw.content.is_none() {
        parsed
            .skipped
            .push(format!("entry {number}: no title, link or content"));
    } else {
        parsed.entries.push(raw);
    }
}

const DUBLIN_CORE: &str = "http://purl.org/dc/elements/1.1/";
const MEDIA_RSS: &str = "http://search.yahoo.com/mrss/";

/// Titles feed-rs does not read, per item or entry in document order:
/// `dc:title`, else `media:title` (feed-rs keeps the latter only inside
/// media objects). Empty when the document cannot be read this way or its
/// items do not line up with the `entry_count` feed-rs returned.
fn secondary_titles(text: &str, entry_count: usize) -> Vec<Option<String>> {
    if !text.starts_with('<') {
        return Vec::new();
    }
    let titles = read_secondary_titles(text).unwrap_or_default();
    if titles.len() == entry_count {
        titles
    } else {
        Vec::new()
    }
}

/// Whether the document declares Dublin Core or Media RSS and has a
/// prefixed `title` element, without which `secondary_titles` finds
/// nothing (a default namespace of either is too rare to read for).
fn may_have_secondary_titles(text: &str) -> bool {
    (text.contains(DUBLIN_CORE) || text.contains(MEDIA_RSS)) && text.contains(":title")
}

/// One item's candidate titles while it is being read.
struct OpenItem {
    depth: usize,
    /// Depth of an open media-RSS element (`media:group`, `media:content`)
    /// directly inside the item, whose `media:title` also counts.
    media_parent: Option<usize>,
    dublin_core: Option<String>,
    media: Option<String>,
}

impl OpenItem {
    /// Which title a `title` element opening at `depth` would be: only
    /// the item's own, not one inside its content (an SVG's metadata, say).
    fn title_kind(&self, namespace: &ResolveResult<'_>, depth: usize) -> Option<TitleKind> {
        let is_child = depth == self.depth + 1;
        if is_bound_to(namespace, DUBLIN_CORE) && is_child {
            Some(TitleKind::DublinCore)
        } else if is_bound_to(namespace, MEDIA_RSS)
            && (is_child || self.media_parent.is_some_and(|parent| depth == parent + 1))
        {
            Some(TitleKind::Media)
        } else {
            None
        }
    }

    fn keep(&mut self, kind: TitleKind, raw: &str) {
        let slot = match kind {
            TitleKind::DublinCore => &mut self.dublin_core,
            TitleKind::Media => &mut self.media,
        };
        if slot.is_none() {
            *slot = plain_text(&unescape_xml(raw), false);
        }
    }
}

#[derive(Clone, Copy)]
enum TitleKind {
    DublinCore,
    Media,
}

/// The title element being collected: its kind, the depth it opened at,
/// and its raw (still escaped) text.
struct Capture {
    kind: TitleKind,
    depth: usize,
    raw: String,
}

fn read_secondary_titles(text: &str) -> Option<Vec<Option<String>>> {
    let mut reader = quick_xml::NsReader::from_str(text);
    let mut titles = Vec::new();
    let mut depth = 0usize;
    let mut item: Option<OpenItem> = None;
    let mut capture: Option<Capture> = None;
    loop {
        let (namespace, event) = reader.read_resolved_event().ok()?;
        match (&event, item.as_mut()) {
            (Event::Start(element), None) => {
                if is_item_name(element.local_name().as_ref()) {
                    item = Some(OpenItem {
                        depth,
                        media_parent: None,
                        dublin_core: None,
                        media: None,
                    });
                }
                depth += 1;
            }
            (Event::Start(element), Some(open)) => {
                let is_media = is_bound_to(&namespace, MEDIA_RSS);
                if element.local_name().as_ref() == b"title" && capture.is_none() {
                    capture = open.title_kind(&namespace, depth).map(|kind| Capture {
                        kind,
                        depth,
                        raw: String::new(),
                    });
                } else if is_media && depth == open.depth + 1 {
                    open.media_parent = Some(depth);
                }
                depth += 1;
            }
            (Event::Empty(element), None) if is_item_name(element.local_name().as_ref()) => {
                titles.push(None);
            }
            (Event::End(_), open) => {
                depth = depth.saturating_sub(1);
                let Some(open) = open else { continue };
                if let Some(done) = capture.take_if(|capture| capture.depth == depth) {
                    open.keep(done.kind, &done.raw);
                }
                if open.media_parent == Some(depth) {
                    open.media_parent = None;
                }
                if open.depth == depth {
                    titles.push(open.dublin_core.take().or(open.media.take()));
                    item = None;
                }
            }
            (Event::Eof, _) => return Some(titles),
            (other, _) => {
                if let Some(capture) = capture.as_mut() {
                    append_raw_text(&mut capture.raw, other);
                }
            }
        }
    }
}

fn is_bound_to(namespace: &ResolveResult<'_>, uri: &str) -> bool {
    matches!(namespace, ResolveResult::Bound(Namespace(bound)) if *bound == uri.as_bytes())
}

fn is_item_name(local_name: &[u8]) -> bool {
    matches!(local_name, b"item" | b"entry")
}

/// XML text with its references resolved; the raw text when one is not
/// XML's (the repair pass has made those rare).
fn unescape_xml(raw: &str) -> String {
    quick_xml::escape::unescape(raw).map_or_else(|_| raw.to_string(), Cow::into_owned)
}

/// Microsoft's Channel Definition Format (1997), which feed-rs does not
/// read: `<CHANNEL>` holding `<ITEM HREF=… LASTMOD=…>` elements, each with
/// a `<TITLE>` and an `<ABSTRACT>`. Element and attribute names are
/// matched without regard to case, as CDF files were written both ways.
fn parse_cdf(text: &str, ctx: &FeedContext<'_>) -> Result<ParsedFeed, FeedError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut parsed = ParsedFeed::default();
    let mut depth = 0usize;
    let mut item: Option<(usize, RawEntry)> = None;
    let mut field: Option<(CdfField, usize, String)> = None;
    let mut item_count = 0;
    loop {
        let event = reader
            .read_event()
            .map_err(|error| FeedError::Malformed(format!("CDF: {error}")))?;
        match &event {
            Event::Start(element) => {
                match (cdf_element(element), &item) {
                    (Some(CdfField::Item), None) => {
                        item = Some((depth, cdf_item(element, ctx)));
                    }
                    (Some(found @ (CdfField::Title | CdfField::Abstract)), _)
                        if field.is_none() =>
                    {
                        field = Some((found, depth, String::new()));
                    }
                    _ => {}
                }
                depth += 1;
            }
            Event::Empty(element) => {
                if item.is_none() && cdf_element(element) == Some(CdfField::Item) {
                    item_count += 1;
                    keep_or_skip(&mut parsed, item_count, cdf_item(element, ctx));
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some((kind, _, raw)) = field.take_if(|(_, opened, _)| *opened == depth) {
                    let text = unescape_xml(&raw);
                    match (kind, item.as_mut()) {
                        (CdfField::Title, Some((_, entry))) => {
                            entry.title = plain_text(&text, true)
                        }
                        (CdfField::Abstract, Some((_, entry))) => {
                            entry.summary = Some(text).filter(|s| !s.trim().is_empty());
                        }
                        (CdfField::Title, None) if parsed.title.is_none() => {
                            parsed.title = plain_text(&text, true);
                        }
                        _ => {}
                    }
                }
                if let Some((_, entry)) = item.take_if(|(opened, _)| *opened == depth) {
                    item_count += 1;
                    keep_or_skip(&mut parsed, item_count, entry);
                }
            }
            Event::Eof => return Ok(parsed),
            other => {
                if let Some((_, _, raw)) = field.as_mut() {
                    append_raw_text(raw, other);
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CdfField {
    Item,
    Title,
    Abstract,
}

fn cdf_element(element: &BytesStart<'_>) -> Option<CdfField> {
    let name = element.local_name();
    let name = name.as_ref();
    if name.eq_ignore_ascii_case(b"item") {
        Some(CdfField::Item)
    } else if name.eq_ignore_ascii_case(b"title") {
        Some(CdfField::Title)
    } else if name.eq_ignore_ascii_case(b"abstract") {
        Some(CdfField::Abstract)
    } else {
        None
    }
}

/// An item's link (`HREF`) and date (`LASTMOD`); title and abstract are
/// child elements, filled in as they are read.
fn cdf_item(element: &BytesStart<'_>, ctx: &FeedContext<'_>) -> RawEntry {
    let mut entry = RawEntry::default();
    for attribute in element.attributes().flatten() {
        let Ok(value) = attribute.normalized_value(XmlVersion::Implicit1_0) else {
            continue;
        };
        let key = attribute.key.local_name();
        if key.as_ref().eq_ignore_ascii_case(b"href") {
            entry.link = absolute(&value, ctx).filter(|href| is_http_url(href));
        } else if key.as_ref().eq_ignore_ascii_case(b"lastmod") {
            entry.published = parse_date(&value, ctx.timezone);
        }
    }
    entry
}

/// Add a text event's raw (still escaped) text to `raw`; other events add
/// nothing.
fn append_raw_text(raw: &mut String, event: &Event<'_>) {
    match event {
        Event::Text(content) => {
            if let Ok(text) = content.decode() {
                raw.push_str(&text);
            }
        }
        Event::GeneralRef(reference) => {
            if let Ok(name) = reference.decode() {
                raw.push('&');
                raw.push_str(&name);
                raw.push(';');
            }
        }
        Event::CData(content) => {
            if let Ok(text) = content.decode() {
                raw.push_str(&quick_xml::escape::escape(text));
            }
        }
        _ => {}
    }
}

fn raw_entry(entry: Entry, ctx: &FeedContext<'_>, json_image: Option<String>) -> RawEntry {
    let guid = Some(entry.id.trim().to_string())
        .filter(|id| !id.is_empty() && !id.starts_with(GENERATED_ID));
    let link = entry_link(&entry.links, ctx).or_else(|| {
        guid.as_deref()
            .filter(|id| is_http_url(id))
            .map(str::to_string)
    });
    let image = entry_image(&entry, ctx).or_else(|| json_image.and_then(|i| absolute(&i, ctx)));
    let tags = entry_tags(&entry);
    RawEntry {
        guid,
        link,
        title: entry.title.as_ref().and_then(text_of),
        summary: entry
            .summary
            .map(|summary| summary.content)
            .filter(|s| !s.trim().is_empty()),
        content: entry
            .content
            .and_then(|content| content.body)
            .filter(|body| !body.trim().is_empty()),
        published: entry.published.or(entry.updated),
        author: entry.authors.iter().find_map(|person| {
            let name = person_name(&person.name, person.email.as_deref());
            (!name.is_empty()).then_some(name)
        }),
        tags,
        image,
        ..RawEntry::default()
    }
}

/// RSS `<author>` arrives as name "author" with the text in `email`
/// (`jane@example.com (Jane Doe)`); the name in parentheses is preferred.
fn person_name(name: &str, email: Option<&str>) -> String {
    match (name.trim(), email) {
        ("author" | "", Some(email)) => {
            let email = email.trim();
            match (email.find('('), email.rfind(')')) {
                (Some(open), Some(close)) if open < close => email[open + 1..close].trim().into(),
                _ => email.to_string(),
            }
        }
        (name, _) => name.to_string(),
    }
}

fn entry_tags(entry: &Entry) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for category in &entry.categories {
        let tag = category
            .label
            .as_deref()
            .unwrap_or(&category.term)
            .trim()
            .to_string();
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

/// The entry's page: an alternate (or rel-less) http(s) link first, then
/// any http(s) link that is not an enclosure or other media.
fn entry_link(links: &[Link], ctx: &FeedContext<'_>) -> Option<String> {
    let resolved = |link: &Link| absolute(&link.href, ctx).filter(|href| is_http_url(href));
    let is_page = |link: &&Link| matches!(link.rel.as_deref(), None | Some("alternate"));
    let is_other = |link: &&Link| {
        !matches!(
            link.rel.as_deref(),
            Some("enclosure" | "self" | "edit" | "replies" | "license" | "hub" | "via")
        )
    };
    links
        .iter()
        .filter(is_page)
        .find_map(resolved)
        .or_else(|| links.iter().filter(is_other).find_map(resolved))
}

fn entry_image(entry: &Entry, ctx: &FeedContext<'_>) -> Option<String> {
    let thumbnail = entry
        .media
        .iter()
        .flat_map(|media| &media.thumbnails)
        .map(|thumbnail| thumbnail.image.uri.as_str())
        .find(|uri| !uri.trim().is_empty());
    let image_content = entry
        .media
        .iter()
        .flat_map(|media| &media.content)
        .filter(|content| {
            content
                .content_type
                .as_ref()
                .is_some_and(|mime| mime.ty() == "image")
        })
        .find_map(|content| content.url.as_ref().map(Url::as_str));
    let image_link = entry
        .links
        .iter()
        .filter(|link| link.rel.as_deref() == Some("enclosure"))
        .find(|link| {
            link.media_type
                .as_deref()
                .is_some_and(|mime| mime.starts_with("image/"))
        })
        .map(|link| link.href.as_str());
    thumbnail
        .or(image_content)
        .or(image_link)
        .and_then(|uri| absolute(uri, ctx))
}

/// JSON Feed `image` (or `banner_image`) per item, in item order; feed-rs
/// does not keep them. Empty for anything but a JSON document.
fn json_item_images(text: &str) -> Vec<Option<String>> {
    if !text.starts_with('{') {
        return Vec::new();
    }
    let Ok(document) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let Some(items) = document.get("items").and_then(|items| items.as_array()) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            ["image", "banner_image"]
                .iter()
                .find_map(|key| item.get(*key).and_then(|v| v.as_str()))
                .map(str::to_string)
        })
        .collect()
}

fn is_http_url(text: &str) -> bool {
    Url::parse(text).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
}

/// `href` made absolute against the feed URL (feed-rs has already applied
/// `xml:base` where the document gave one).
fn absolute(href: &str, ctx: &FeedContext<'_>) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    if let Ok(url) = Url::parse(href) {
        return Some(url.to_string());
    }
    Url::parse(ctx.url)
        .and_then(|base| base.join(href))
        .ok()
        .map(|url| url.to_string())
}

/// A title as plain text: markup stripped when the text is HTML or XHTML,
/// entities decoded either way (feeds often escape twice), whitespace
/// collapsed. `None` when nothing is left.
fn text_of(text: &Text) -> Option<String> {
    plain_text(&text.content, text.content_type.subty() != "plain")
}

/// `content` (HTML when `is_html`) as plain text, as for `text_of`.
fn plain_text(content: &str, is_html: bool) -> Option<String> {
    let plain = if is_html {
        html_to_text(content)
    } else {
        // Plain text may still hold `&amp;`-style references: decode them
        // without reading `<` as markup.
        html_to_text(&content.replace('<', "&lt;"))
    };
    let collapsed = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}

/// Text of an HTML fragment: tags dropped (with the content of scripts,
/// styles and other non-text elements), entities decoded.
fn html_to_text(html: &str) -> String {
    const HIDDEN: [&str; 4] = ["script", "style", "noscript", "template"];
    let fragment = scraper::Html::parse_fragment(html);
    let mut out = String::new();
    for node in fragment.tree.root().descendants() {
        let Some(text) = node.value().as_text() else {
            continue;
        };
        let hidden = node.ancestors().any(|ancestor| {
            ancestor
                .value()
                .as_element()
                .is_some_and(|element| HIDDEN.contains(&element.name()))
        });
        if !hidden {
            out.push_str(text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn ctx(timezone: Tz) -> FeedContext<'static> {
        FeedContext {
            url: "https://example.com/blog/feed.xml",
            timezone,
        }
    }

    fn parse_utc(text: &str) -> Result<ParsedFeed, FeedError> {
        parse(text, &ctx(Tz::UTC))
    }

    fn instant(text: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    const RSS: &str = r#"<?xml version="1.0" encoding="GB2312"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>云原生周报</title>
  <link>https://example.com/</link>
  <ttl>60</ttl>
  <item>
    <title>Kubernetes 1.30 发布 &amp;amp; 新特性</title>
    <link>/posts/k8s-130</link>
    <guid isPermaLink="false">post-130</guid>
    <description>&lt;p&gt;摘要&lt;/p&gt;</description>
    <content:encoded><![CDATA[<p>全文 &nbsp; here</p>]]></content:encoded>
    <pubDate>Wed, 21 Dec 2022 10:00:00 CST</pubDate>
    <author>editor@example.com (张三)</author>
    <category>k8s</category>
    <category>release</category>
    <media:thumbnail url="/img/k8s.png"/>
  </item>
  <item>
    <title>No guid here</title>
    <link>https://example.com/posts/2</link>
    <pubDate>2022年12月21日 10:00</pubDate>
  </item>
  <item>
    <description></description>
  </item>
</channel>
</rss>"#;

    #[test]
    fn rss_entry_fields() {
        let feed = parse(RSS, &ctx(chrono_tz::Asia::Shanghai)).expect("parses");
        assert_eq!(feed.title.as_deref(), Some("云原生周报"));
        assert_eq!(feed.ttl_minutes, Some(60));
        let first = &feed.entries[0];
        assert_eq!(first.guid.as_deref(), Some("post-130"));
        assert_eq!(
            first.link.as_deref(),
            Some("https://example.com/posts/k8s-130")
        );
        assert_eq!(
            first.title.as_deref(),
            Some("Kubernetes 1.30 发布 & 新特性")
        );
        assert_eq!(first.summary.as_deref(), Some("<p>摘要</p>"));
        assert_eq!(first.content.as_deref(), Some("<p>全文 &nbsp; here</p>"));
        // CST in an Asia/Shanghai feed is +08:00.
        assert_eq!(first.published, instant("2022-12-21T02:00:00Z"));
        assert_eq!(first.author.as_deref(), Some("张三"));
        assert_eq!(first.tags, vec!["k8s", "release"]);
        assert_eq!(
            first.image.as_deref(),
            Some("https://example.com/img/k8s.png")
        );
    }

    #[test]
    fn entry_without_guid_has_none_and_chinese_date() {
        let feed = parse(RSS, &ctx(chrono_tz::Asia::Shanghai)).expect("parses");
        let second = &feed.entries[1];
        assert_eq!(second.guid, None);
        assert_eq!(second.published, instant("2022-12-21T02:00:00Z"));
    }

    #[test]
    fn empty_entry_is_skipped_with_reason() {
        let feed = parse(RSS, &ctx(chrono_tz::Asia::Shanghai)).expect("parses");
        assert_eq!(feed.entries.len(), 2);
        assert_eq!(feed.skipped, vec!["entry 3: no title, link or content"]);
    }

    #[test]
    fn atom_entry_fields() {
        let atom = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example.org/base/">
  <title type="html">Atom &lt;b&gt;Feed&lt;/b&gt;</title>
  <id>urn:feed</id>
  <entry>
    <id>tag:example.org,2022:1</id>
    <title type="html">&lt;em&gt;Hello&lt;/em&gt; &amp;amp; world</title>
    <link rel="enclosure" type="image/jpeg" href="cover.jpg"/>
    <link rel="alternate" href="entries/1"/>
    <updated>2022-12-21T10:00:00+08:00</updated>
    <published>2022-12-20T10:00:00+08:00</published>
    <summary>Short</summary>
    <content type="html">&lt;p&gt;Long&lt;/p&gt;</content>
    <author><name>Li Si</name></author>
    <category term="cloud" label="Cloud"/>
  </entry>
</feed>"#;
        let feed = parse_utc(atom).expect("parses");
        assert_eq!(feed.title.as_deref(), Some("Atom Feed"));
        let entry = &feed.entries[0];
        assert_eq!(entry.guid.as_deref(), Some("tag:example.org,2022:1"));
        assert_eq!(entry.title.as_deref(), Some("Hello & world"));
        assert_eq!(
            entry.link.as_deref(),
            Some("https://atom.example.org/base/entries/1")
        );
        assert_eq!(entry.published, instant("2022-12-20T02:00:00Z"));
        assert_eq!(entry.summary.as_deref(), Some("Short"));
        assert_eq!(entry.content.as_deref(), Some("<p>Long</p>"));
        assert_eq!(entry.author.as_deref(), Some("Li Si"));
        assert_eq!(entry.tags, vec!["Cloud"]);
        assert_eq!(
            entry.image.as_deref(),
            Some("https://atom.example.org/base/cover.jpg")
        );
    }

    #[test]
    fn json_feed_entry_fields() {
        let json = r#"{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "JSON 要闻",
  "items": [
    {"id": "1", "url": "https://example.com/1", "title": "First",
     "content_html": "<p>Hi</p>", "summary": "Sum",
     "image": "/img/1.png", "date_published": "2022-12-21T10:00:00+08:00",
     "tags": ["a", "b"], "authors": [{"name": "Wang"}]},
    {"url": "https://example.com/2", "content_text": "Plain"}
  ]
}"#;
        let feed = parse_utc(json).expect("parses");
        assert_eq!(feed.title.as_deref(), Some("JSON 要闻"));
        let first = &feed.entries[0];
        assert_eq!(first.guid.as_deref(), Some("1"));
        assert_eq!(first.content.as_deref(), Some("<p>Hi</p>"));
        assert_eq!(first.summary.as_deref(), Some("Sum"));
        assert_eq!(
            first.image.as_deref(),
            Some("https://example.com/img/1.png")
        );
        assert_eq!(first.published, instant("2022-12-21T02:00:00Z"));
        assert_eq!(first.author.as_deref(), Some("Wang"));
        assert_eq!(first.tags, vec!["a", "b"]);
        let second = &feed.entries[1];
        assert_eq!(second.guid, None);
        assert_eq!(second.content.as_deref(), Some("Plain"));
    }

    #[test]
    fn html_page_is_not_a_feed() {
        let page = "<!DOCTYPE html><html><head><title>Blog</title></head><body><p>Hi</body></html>";
        assert!(matches!(parse_utc(page), Err(FeedError::NotAFeed(_))));
        let page = "<html><body>no doctype</body></html>";
        assert!(matches!(parse_utc(page), Err(FeedError::NotAFeed(_))));
    }

    #[test]
    fn other_documents_are_errors() {
        assert!(matches!(parse_utc(""), Err(FeedError::Empty)));
        assert!(matches!(parse_utc("  \n "), Err(FeedError::Empty)));
        assert!(matches!(
            parse_utc("just some text"),
            Err(FeedError::NotAFeed(_))
        ));
        assert!(matches!(
            parse_utc(r#"{"hello": "world"}"#),
            Err(FeedError::NotAFeed(_))
        ));
        assert!(matches!(
            parse_utc("<note><to>x</to></note>"),
            Err(FeedError::NotAFeed(_))
        ));
    }

    #[test]
    fn truncated_feed_keeps_complete_entries() {
        let cut = RSS.find("<title>No guid").expect("fixture has it");
        let feed = parse(&RSS[..cut], &ctx(chrono_tz::Asia::Shanghai)).expect("recovered");
        assert_eq!(feed.entries.len(), 1);
        assert_eq!(feed.entries[0].guid.as_deref(), Some("post-130"));
    }

    #[test]
    fn truncated_beyond_recovery_is_an_error() {
        let cut = RSS.find("<item>").expect("fixture has it") + 10;
        assert!(parse(&RSS[..cut], &ctx(Tz::UTC)).is_err());
        assert!(parse_utc("<rss version=\"2.0\"><chan").is_err());
    }

    #[test]
    fn html_entities_and_bare_ampersands_are_repaired() {
        let rss = r#"<rss version="2.0"><channel><title>T</title>
<item><title>A&nbsp;B &copy; C & D</title><link>https://example.com/?a=1&b=2</link></item>
</channel></rss>"#;
        let feed = parse_utc(rss).expect("repaired");
        assert_eq!(feed.entries[0].title.as_deref(), Some("A B © C & D"));
        assert_eq!(
            feed.entries[0].link.as_deref(),
            Some("https://example.com/?a=1&b=2")
        );
    }

    #[test]
    fn atom03_and_loose_types_are_read() {
        let atom03 = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#">
<entry>
  <title type="text/html" mode="escaped">Q&amp;amp;A &lt;b&gt;session&lt;/b&gt;</title>
  <link rel="alternate" type="text/html" href="http://example.org/qa"/>
  <issued>2003-12-31T10:14:55Z</issued>
</entry>
</feed>"#;
        let feed = parse_utc(atom03).expect("Atom 0.3 parses");
        let entry = &feed.entries[0];
        assert_eq!(entry.title.as_deref(), Some("Q&A session"));
        assert_eq!(entry.link.as_deref(), Some("http://example.org/qa"));
        assert_eq!(entry.published, instant("2003-12-31T10:14:55Z"));
    }

    #[test]
    fn base64_text_constructs_are_decoded() {
        // "Example <b>Atom</b>" and "<p>AT&amp;T</p>", base64-encoded.
        let atom = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#">
<entry>
  <title mode="base64">
    RXhhbXBsZSA8Yj5BdG9tPC9iPg==
  </title>
  <summary type="text/plain" mode="base64">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</summary>
  <content type="text/html" mode="base64">PHA+QVQmYW1wO1Q8L3A+</content>
</entry>
</feed>"#;
        let entry = &parse_utc(atom).expect("parses").entries[0];
        assert_eq!(entry.title.as_deref(), Some("Example Atom"));
        assert_eq!(entry.summary.as_deref(), Some("Example <b>Atom</b>"));
        assert_eq!(entry.content.as_deref(), Some("<p>AT&amp;T</p>"));
        // Atom 1.0 says base64 by a MIME type that is neither text nor XML.
        let atom10 = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry>
<title type="application/octet-stream">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title>
<content type="image/png">iVBORw0KGgo=</content>
</entry></feed>"#;
        let entry = &parse_utc(atom10).expect("parses").entries[0];
        assert_eq!(entry.title.as_deref(), Some("Example Atom"));
    }

    #[test]
    fn xhtml_titles_keep_escaped_markup_as_text() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry>
<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">The &lt;blink&gt; tag &amp; <b>bold</b></div></title>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Use &lt;blink&gt;</p></div></content>
</entry></feed>"#;
        let entry = &parse_utc(atom).expect("parses").entries[0];
        assert_eq!(entry.title.as_deref(), Some("The <blink> tag & bold"));
        let content = entry.content.as_deref().unwrap_or_default();
        assert!(content.contains("<p>Use &lt;blink&gt;</p>"), "{content}");
    }

    #[test]
    fn rss1_items_without_link_are_kept() {
        let rdf = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="http://example.com/index.rdf"><title>C</title></channel>
<item rdf:about="http://example.com/1"><title>With about</title></item>
<item><title>Bare</title></item>
<item rdf:about="http://example.com/3"><title>Linked</title><link>http://example.com/page3</link></item>
</rdf:RDF>"#;
        let feed = parse_utc(rdf).expect("parses");
        let seen: Vec<_> = feed
            .entries
            .iter()
            .map(|e| (e.title.as_deref(), e.link.as_deref()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (Some("With about"), Some("http://example.com/1")),
                (Some("Bare"), None),
                (Some("Linked"), Some("http://example.com/page3")),
            ]
        );
    }

    #[test]
    fn dc_and_media_titles_stand_in_for_a_missing_title() {
        let rss = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:m="http://search.yahoo.com/mrss/">
<channel>
<item><dc:title>DC &amp; title</dc:title></item>
<item><m:group><m:title>Grouped media</m:title></m:group></item>
<item><title>Own</title><dc:title>Not used</dc:title></item>
<item><link>http://example.com/4</link><description><![CDATA[<p>x</p>]]></description></item>
</channel></rss>"#;
        let titles: Vec<_> = parse_utc(rss)
            .expect("parses")
            .entries
            .into_iter()
            .map(|e| e.title)
            .collect();
        assert_eq!(
            titles,
            vec![
                Some("DC & title".to_string()),
                Some("Grouped media".to_string()),
                Some("Own".to_string()),
                None
            ]
        );
    }

    #[test]
    fn dc_title_inside_content_is_not_the_entry_title() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry>
<link href="http://example.com/1"/>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><svg xmlns="http://www.w3.org/2000/svg"><metadata>
<dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">Drawing</dc:title></metadata></svg></div></content>
</entry></feed>"#;
        let entry = &parse_utc(atom).expect("parses").entries[0];
        assert_eq!(entry.title, None);
    }

    #[test]
    fn cdf_channels_are_read() {
        let cdf = r#"<?xml version="1.0"?>
<CHANNEL HREF="http://example.com/" LASTMOD="2004-04-06T23:05:43-05:00">
  <TITLE>Channel</TITLE>
  <ITEM HREF="/items/1" LASTMOD="2004-04-06T23:05:43-05:00">
    <TITLE>First &amp; best</TITLE>
    <ABSTRACT>About it</ABSTRACT>
  </ITEM>
  <item href="http://example.com/items/2"/>
  <ITEM LASTMOD="2004-04-06T23:05:43-05:00"></ITEM>
</CHANNEL>"#;
        let feed = parse_utc(cdf).expect("parses");
        assert_eq!(feed.title.as_deref(), Some("Channel"));
        let first = &feed.entries[0];
        assert_eq!(first.title.as_deref(), Some("First & best"));
        assert_eq!(first.link.as_deref(), Some("https://example.com/items/1"));
        assert_eq!(first.summary.as_deref(), Some("About it"));
        assert_eq!(first.published, instant("2004-04-07T04:05:43Z"));
        assert_eq!(
            feed.entries[1].link.as_deref(),
            Some("http://example.com/items/2")
        );
        assert_eq!(feed.skipped, vec!["entry 3: no title, link or content"]);
        // A cut-off channel keeps the items that arrived whole.
        let cut = r#"<CHANNEL><ITEM HREF="http://e.com/1"></ITEM><ITEM><TITLE>cu"#;
        let feed = parse_utc(cut).expect("complete items kept");
        assert_eq!(feed.entries.len(), 1);
    }

    #[test]
    fn rss_without_known_version_is_read() {
        for root in [
            r#"<rss>"#,
            r#"<rss version="2.01">"#,
            r#"<rss version='0.94'>"#,
        ] {
            let rss = format!(
                "{root}<channel><item><title>T</title><link>http://e.com/1</link></item></channel></rss>"
            );
            let feed = parse_utc(&rss).expect("parses");
            assert_eq!(feed.entries[0].title.as_deref(), Some("T"), "{root}");
        }
    }

    #[test]
    fn prolog_encoding_is_neutralised() {
        assert_eq!(
            neutralise_encoding_declaration("<?xml version='1.0' encoding='gbk'?><rss/>"),
            r#"<?xml version='1.0' encoding="utf-8"?><rss/>"#
        );
        assert_eq!(neutralise_encoding_declaration("<rss/>"), "<rss/>");
    }
}
