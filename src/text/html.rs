//! HTML to plain text, and escaping.
//!
//! Feed descriptions, WeChat articles and pages all carry HTML; summaries,
//! dedupe fingerprints and the store want plain text with the paragraph
//! structure kept as line breaks. html5ever (through `scraper`) does the
//! parsing, so entities, broken markup and hostile input are handled the way
//! browsers do, in linear time; the tree is walked iteratively so deep
//! nesting cannot overflow the stack.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

/// Elements whose content is never text a reader sees.
const HIDDEN: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "svg", "math", "head", "title", "object",
    "embed", "canvas", "select", "button", "audio", "video",
];

/// Elements that start and end a line.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
];

/// Table cells: separated by a space within their row's line.
const CELLS: &[&str] = &["td", "th"];

/// Plain text of an HTML fragment or document: scripts and styles dropped,
/// block elements separated by newlines, whitespace collapsed.
pub fn to_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return normalise_lines(html);
    }
    if nesting_estimate(html) > MAX_PARSE_DEPTH {
        return normalise_lines(&strip_tags(html));
    }
    let parsed = if looks_like_document(html) {
        Html::parse_document(html)
    } else {
        Html::parse_fragment(html)
    };
    normalise_lines(&raw_text(&parsed))
}

/// Deeper than this, html5ever's scope checks (linear in the depth of open
/// elements, for every tag) make parsing quadratic; real pages stay far below.
const MAX_PARSE_DEPTH: usize = 512;

/// Elements that never hold content, or that the parser closes implicitly
/// when a sibling starts, so they do not deepen the tree.
const NOT_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "p", "li", "td", "th", "tr", "dt", "dd", "option",
];

/// Upper estimate of how deep the element tree gets: start tags minus end
/// tags, in one linear pass over the tags.
fn nesting_estimate(html: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for (_, rest) in html.match_indices('<').map(|(i, _)| (i, &html[i + 1..])) {
        if rest.starts_with('/') {
            depth = depth.saturating_sub(1);
            continue;
        }
        let name = tag_name(rest);
        if name.is_empty() || NOT_NESTING.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            continue;
        }
        depth += 1;
        deepest = deepest.max(depth);
    }
    deepest
}

fn tag_name(after_lt: &str) -> &str {
    let len = after_lt
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(after_lt.len());
    match after_lt.as_bytes().first() {
        Some(b) if b.is_ascii_alphabetic() => &after_lt[..len],
        _ => "",
    }
}

/// Linear-time fallback for pathological markup: drop tags (and script or
/// style content), break lines at block tags, decode the common entities.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            out.push_str(&decode_entities(&rest[lt..]));
            return out;
        };
        let name = tag_name(after.trim_start_matches('/')).to_ascii_lowercase();
        rest = &after[gt + 1..];
        if BLOCKS.contains(&name.as_str()) {
            out.push('\n');
        } else if HIDDEN.contains(&name.as_str()) && !after.starts_with('/') {
            rest = match find_end_tag(rest, &name) {
                Some(at) => &rest[at..],
                None => "",
            };
        }
    }
    out.push_str(&decode_entities(rest));
    out
}

/// Where `</name` starts, ignoring case; stops at the first match so the
/// whole strip stays linear.
fn find_end_tag(text: &str, name: &str) -> Option<usize> {
    text.match_indices("</").map(|(i, _)| i).find(|&i| {
        text.get(i + 2..i + 2 + name.len())
            .is_some_and(|candidate| candidate.eq_ignore_ascii_case(name))
    })
}

/// The handful of entities that matter in text, for [`strip_tags`].
fn decode_entities(text: &str) -> String {
    decode_entities_with(text, entity_char)
}

/// `text` with each reference `&name;` (name at most 8 bytes) that `entity`
/// knows replaced by its character; any other `&` stays as it is.
pub(crate) fn decode_entities_with(text: &str, entity: fn(&str) -> Option<char>) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..].find(';').map(|e| e + 1).filter(|&e| e <= 10);
        let decoded = end.and_then(|e| entity(&rest[1..e]));
        match (end, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character of the XML entities, `&nbsp;` (as a plain space) and
/// numeric references.
pub(crate) fn entity_char(name: &str) -> Option<char> {
    let numeric = |digits: &str, radix| {
        u32::from_str_radix(digits, radix)
            .ok()
            .and_then(char::from_u32)
    };
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => match name.strip_prefix('#') {
            Some(hex) if hex.starts_with(['x', 'X']) => numeric(&hex[1..], 16),
            Some(dec) => numeric(dec, 10),
            None => None,
        },
    }
}

fn looks_like_document(html: &str) -> bool {
    let head: String = html
        .chars()
        .take(1024)
        .collect::<String>()
        .to_ascii_lowercase();
    head.contains("<html") || head.contains("<!doctype") || head.contains("<body")
}

/// Text of the tree with `\n` at block boundaries; whitespace not yet
/// collapsed.
fn raw_text(parsed: &Html) -> String {
    let mut out = String::new();
    let mut hidden_depth = 0usize;
    let mut pre_depth = 0usize;
    for edge in parsed.tree.root().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(element) => {
                    let name = element.name();
                    if HIDDEN.contains(&name) {
                        hidden_depth += 1;
                    } else if name == "pre" {
                        pre_depth += 1;
                    }
                    if hidden_depth == 0 {
                        open_or_close(name, &mut out);
                    }
                }
                Node::Text(text) if hidden_depth == 0 => {
                    if pre_depth > 0 {
                        out.push_str(text);
                    } else {
                        // Source line breaks inside a paragraph are spaces.
                        out.extend(text.chars().map(|c| if c == '\n' { ' ' } else { c }));
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(element) = node.value() {
                    let name = element.name();
                    if hidden_depth == 0 {
                        open_or_close(name, &mut out);
                    }
                    if HIDDEN.contains(&name) {
                        hidden_depth = hidden_depth.saturating_sub(1);
                    } else if name == "pre" {
                        pre_depth = pre_depth.saturating_sub(1);
                    }
                }
            }
        }
    }
    out
}

fn open_or_close(name: &str, out: &mut String) {
    if BLOCKS.contains(&name) {
        out.push('\n');
    } else if CELLS.contains(&name) {
        out.push(' ');
    }
}

/// Collapse whitespace within lines, trim them, and drop empty lines.
fn normalise_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut words = line.split(is_space).filter(|w| !w.is_empty()).peekable();
        if words.peek().is_none() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        let mut first = true;
        for word in words {
            if !first {
                out.push(' ');
            }
            first = false;
            out.extend(word.chars().filter(|&c| !is_invisible(c)));
        }
    }
    out
}

/// Whitespace, including the no-break and ideographic spaces pages use for
/// layout.
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Zero-width characters that only get in the way of matching text.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{AD}'
    )
}

/// Escape text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    use crate::test_support::shared;

    fn after_front_matter(doc: &str) -> &str {
        doc.splitn(3, "---\n").nth(2).expect("front matter")
    }

    #[test]
    fn seed_004_csdn_page_becomes_clean_chinese_text() {
        let seed = shared("seeds/004_be1821cd074cc226.txt");
        let text = to_text(after_front_matter(&seed));
        let first = text.lines().next().expect("some text");
        assert_eq!(first, "云原生技术前沿落地实践分论坛圆满举办");
        assert!(text.contains(
            "12月16日，2023开放原子开发者大会【云原生技术前沿落地实践】分论坛在无锡成功举办。"
        ));
        assert!(!text.contains('<') && !text.contains('>'), "{text}");
        assert!(!text.contains("kdoc_html_views"));
        assert!(!text.contains("\n\n"));
        assert!(text.lines().all(|l| l == l.trim() && !l.contains("  ")));
    }

    #[test]
    fn scripts_styles_and_head_are_dropped() {
        let html = "<html><head><title>T</title><style>p{color:red}</style></head><body>\
                    <script>var x = '<p>no</p>';</script><noscript>enable js</noscript>\
                    <p>可见 text</p><svg><text>chart</text></svg><template><p>t</p></template></body></html>";
        assert_eq!(to_text(html), "可见 text");
    }

    #[test]
    fn blocks_make_lines_and_inline_does_not() {
        let html = "<h2>标题</h2><p>第一段<b>加粗</b>文字，<a href='x'>链接</a>。</p>\
                    <ul><li>one</li><li>two</li></ul>line<br>break<div><div>nested</div></div>\
                    <table><tr><td>a</td><td>b</td></tr></table>";
        assert_eq!(
            to_text(html),
            "标题\n第一段加粗文字，链接。\none\ntwo\nline\nbreak\nnested\na b"
        );
    }

    #[test]
    fn entities_and_whitespace() {
        assert_eq!(
            to_text("Tom &amp; Jerry&nbsp;&lt;3 &#x4E91;&#21407;生"),
            "Tom & Jerry <3 云原生"
        );
        assert_eq!(to_text("  a \t b\n\n\n  c  "), "a b\nc");
        assert_eq!(
            to_text("<p>  spread\n   over\n lines </p>"),
            "spread over lines"
        );
        assert_eq!(to_text("<pre>line 1\nline 2</pre>"), "line 1\nline 2");
        assert_eq!(to_text(""), "");
        assert_eq!(to_text("zero\u{200B}width"), "zerowidth");
    }

    #[test]
    fn broken_and_hostile_markup() {
        assert_eq!(to_text("<p>unclosed <b>bold <i>both"), "unclosed bold both");
        assert_eq!(to_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(to_text("<<<>>><!-- comment --><p>ok"), "<<<>>>\nok");
        let deep = "<div>".repeat(100_000) + "deep &amp; <b>deeper" + &"</div>".repeat(100_000);
        assert_eq!(to_text(&deep), "deep & deeper");
        let formatting = "<b><i>".repeat(50_000) + "x";
        assert_eq!(to_text(&formatting), "x");
        let wide = "<p>x</p>".repeat(100_000);
        assert_eq!(to_text(&wide).lines().count(), 100_000);
        let unclosed = "<p>x<li>y".repeat(50_000);
        assert_eq!(to_text(&unclosed).lines().count(), 100_000);
    }

    #[test]
    fn fallback_stripper_keeps_lines_and_drops_scripts() {
        let html =
            "<div>a &lt;b&gt; &#20113;&#x539F;</div><script>if (a<b) {}</script><p>c &bogus; d";
        assert_eq!(
            normalise_lines(&strip_tags(html)),
            "a <b> 云原\nc &bogus; d"
        );
        assert_eq!(strip_tags("x < y"), "x < y");
        assert_eq!(strip_tags("<STYLE>p{}</Style>ok"), "ok");
        let scripts = "<script>x".repeat(50_000);
        assert_eq!(strip_tags(&scripts), "");
    }

    #[test]
    fn wechat_article_body() {
        let dir =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/wechat-wechatsogou");
        assert!(dir.is_dir(), "missing corpus {}", dir.display());
        let page = dir.join("test/file/article_detail_mpvoice.html");
        let html = std::fs::read_to_string(&page).expect("utf-8 page");
        let text = to_text(&html);
        assert!(!text.contains("function("), "{}", page.display());
        assert!(
            text.chars()
                .filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c))
                .count()
                > 200
        );
    }

    #[test]
    fn escape_round_trips_through_to_text() {
        let text = "a<b & \"c\" 'd'>";
        assert_eq!(to_text(&escape(text)), text);
    }
}
