//! Markdown sites (`kind = "markdown"`): a Hugo or Jekyll content tree read
//! from disk. Each post's front matter (YAML `---` or TOML `+++`) gives its
//! title, date, summary, tags and URL; the body is Markdown or, in reposts,
//! raw HTML. Front matter in the wild is sloppy (stray tabs, misspelled
//! keys, mojibake from a wrong re-save), so reading is lenient and a broken
//! file is skipped with its name and line, never failing the whole site.

use crate::model::RawEntry;
use crate::process::dates;
use crate::text::mojibake;
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use url::Url;

/// Where a site lives and how its URLs are made.
#[derive(Debug, Clone)]
pub struct MarkdownSite<'a> {
    /// The content directory.
    pub root: &'a Path,
    /// Ends in `/`.
    pub base_url: &'a Url,
    /// E.g. `/:section/:year/:month/:slug/`; `None` is `base_url` + slug + `/`.
    pub permalink: Option<&'a str>,
    /// Dates without an offset are read in this zone.
    pub timezone: Tz,
}

/// What a site yielded.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ParsedSite {
    pub entries: Vec<RawEntry>,
    /// Files left out (drafts, broken front matter), each with the reason.
    pub skipped: Vec<String>,
}

/// Why a whole site could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MarkdownError {
    #[error("cannot read the content directory {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Read every post under the site's root.
pub fn read_site(site: &MarkdownSite<'_>) -> Result<ParsedSite, MarkdownError> {
    let root_error = |source| MarkdownError::Directory {
        path: site.root.to_path_buf(),
        source,
    };
    std::fs::read_dir(site.root).map_err(root_error)?;
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    walk(site.root, &mut files, &mut skipped);
    files.sort();
    let mut parsed = ParsedSite {
        skipped,
        ..ParsedSite::default()
    };
    for file in files {
        let shown = shown_path(site.root, &file);
        match read_post(site, &file) {
            Ok(Some(entry)) => parsed.entries.push(entry),
            Ok(None) => parsed.skipped.push(format!("{shown}: draft")),
            Err(reason) => parsed.skipped.push(format!("{shown}:{reason}")),
        }
    }
    Ok(parsed)
}

/// Collect post files recursively. Hidden entries are ignored, and so are
/// Hugo section pages (`_index.md`), which list posts rather than being one.
fn walk(dir: &Path, files: &mut Vec<PathBuf>, skipped: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            skipped.push(format!("{}: {error}", dir.display()));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        // `metadata` follows symlinks, so linked folders are read too.
        let is_dir = kind.is_dir() || (kind.is_symlink() && path.is_dir());
        if is_dir {
            walk(&path, files, skipped);
        } else if is_post_file(&name) {
            files.push(path);
        }
    }
}

fn is_post_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let is_markdown = lower.ends_with(".md") || lower.ends_with(".markdown");
    let stem = lower
        .rsplit_once('.')
        .map_or(lower.as_str(), |(stem, _)| stem);
    is_markdown && stem != "_index"
}

/// The file as an operator finds it: the root's own name, then the path
/// below it (`content/post/x.md`).
fn shown_path(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file);
    match root.file_name() {
        Some(name) => Path::new(name).join(relative).display().to_string(),
        None => relative.display().to_string(),
    }
}

/// One post; `Ok(None)` for a draft; `Err(" LINE: reason")` otherwise.
fn read_post(site: &MarkdownSite<'_>, file: &Path) -> Result<Option<RawEntry>, String> {
    let bytes = std::fs::read(file).map_err(|e| format!(" {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let (front, body) = split_front_matter(text)?;
    let meta = Meta(front);
    if meta.flag("draft") {
        return Ok(None);
    }
    // Title and description are short: the damaged body tells the repair
    // which reading of an ambiguous byte run the document uses.
    let raw_body = body;
    let body = repaired(body);
    let body_html = body_to_html(&body);
    let file_slug = file_slug(site.root, file);
    let title = meta
        .text("title")
        .map(|t| repaired_in(&t, raw_body))
        .filter(|t| !t.trim().is_empty())
        .or_else(|| first_heading(&body))
        .unwrap_or_else(|| file_slug.clone());
    let published = ["date", "publishDate", "publishdate", "pubDate", "published"]
        .iter()
        .find_map(|key| meta.text(key))
        .and_then(|text| dates::parse_date(&text, site.timezone));
    let summary = ["description", "summary", "excerpt"]
        .iter()
        .find_map(|key| meta.text(key))
        .map(|s| repaired_in(&s, raw_body))
        .filter(|s| !s.trim().is_empty());
    let mut tags: Vec<String> = Vec::new();
    for tag in meta.list("tags").into_iter().chain(meta.list("categories")) {
        let tag = repaired(tag.trim());
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let author = author(&meta);
    let slug = meta
        .text("slug")
        .map(|s| s.trim().trim_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| file_slug.clone());
    let section = section(site.root, file);
    let link = post_url(site, &meta, &slug, &file_slug, &section, &title, published)
        .ok_or_else(|| format!(" cannot make a URL for slug {slug:?}"))?;
    let image = ["image", "cover", "featured_image", "banner"]
        .iter()
        .find_map(|key| meta.get(key).and_then(image_path))
        .and_then(|path| absolute(site.base_url, &path));
    Ok(Some(RawEntry {
        link: Some(link),
        title: Some(title),
        summary,
        content: Some(body_html),
        published,
        author,
        tags,
        image,
        ..RawEntry::default()
    }))
}

/// Repair text that was once mis-saved as Latin-1/cp1252.
fn repaired(text: &str) -> String {
    mojibake::repair(text).unwrap_or_else(|| text.to_string())
}

/// Repair a field using the rest of the document as context.
fn repaired_in(text: &str, context: &str) -> String {
    mojibake::repair_with_context(text, context).unwrap_or_else(|| text.to_string())
}

/// Split front matter from the body; a file without any is all body.
fn split_front_matter(text: &str) -> Result<(Map<String, Value>, &str), String> {
    let first_line = text.lines().next().unwrap_or("").trim_end();
    let (fence, is_yaml) = match first_line {
        "---" => ("---", true),
        "+++" => ("+++", false),
        _ => return Ok((Map::new(), text)),
    };
    let after_open = &text[text.find('\n').map_or(text.len(), |i| i + 1)..];
    let mut offset = 0;
    let mut close = None;
    for line in after_open.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == fence || (is_yaml && bare == "...") {
            close = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((end, body_start)) = close else {
        return Err(format!(
            "1: front matter: no closing `{fence}` line after the opening one"
        ));
    };
    let source = &after_open[..end];
    let front = if is_yaml {
        parse_yaml(source)
    } else {
        parse_toml(source)
    }
    // The front matter starts on the file's second line.
    .map_err(|(line, message)| format!("{}: front matter: {message}", line + 1))?;
    Ok((front, &after_open[body_start..]))
}

/// YAML front matter. Trailing whitespace (a stray tab after a value is
/// common) is dropped before parsing; a document that is not a mapping is
/// an error. Errors carry the 1-based line within the front matter.
fn parse_yaml(source: &str) -> Result<Map<String, Value>, (usize, String)> {
    let cleaned: String = source
        .lines()
        .map(|line| line.trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    if cleaned.trim().is_empty() {
        return Ok(Map::new());
    }
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&cleaned).map_err(|error| {
        let line = error.location().map_or(1, |l| l.line());
        let message = error.to_string();
        // The message repeats the position; keep only what went wrong.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        (line, message)
    })?;
    match yaml_to_json(value) {
        Value::Object(map) => Ok(map),
        _ => Err((1, "not a mapping of keys to values".to_string())),
    }
}

fn parse_toml(source: &str) -> Result<Map<String, Value>, (usize, String)> {
    let table: toml::Table = toml::from_str(source).map_err(|error| {
        let line = error.span().map_or(1, |span| {
            source[..span.start.min(source.len())]
                .lines()
                .count()
                .max(1)
        });
        (line, error.message().to_string())
    })?;
    match toml_to_json(toml::Value::Table(table)) {
        Value::Object(map) => Ok(map),
        _ => Err((1, "not a table".to_string())),
    }
}

fn yaml_to_json(value: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Yaml;
    match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => Value::String(n.to_string()),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.into_iter()
                .filter_map(|(key, value)| Some((scalar_key(key)?, yaml_to_json(value))))
                .collect(),
        ),
        Yaml::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn scalar_key(key: serde_yaml_ng::Value) -> Option<String> {
    match key {
        serde_yaml_ng::Value::String(s) => Some(s),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::String(i.to_string()),
        toml::Value::Float(f) => Value::String(f.to_string()),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(key, value)| (key, toml_to_json(value)))
                .collect(),
        ),
    }
}

/// Front matter keys, matched without regard to case (`publishDate`,
/// `PublishDate`); unknown keys are ignored.
struct Meta(Map<String, Value>);

impl Meta {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).or_else(|| {
            self.0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    }

    /// A scalar as text; a list gives its first item.
    fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Array(items) => items.iter().find_map(|v| v.as_str().map(str::to_string)),
            _ => None,
        }
    }

    /// A list of strings; a single string counts as a one-item list.
    fn list(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn flag(&self, key: &str) -> bool {
        match self.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
            _ => false,
        }
    }
}

/// Author as a name, a list of names, or `{name: …}`; a Markdown link
/// `[name](url)` gives its name.
fn author(meta: &Meta) -> Option<String> {
    let names: Vec<String> = match meta.get("author").or_else(|| meta.get("authors"))? {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(author_name).collect(),
        other => author_name(other).into_iter().collect(),
    };
    let names: Vec<String> = names
        .iter()
        .map(|name| link_text(&repaired(name.trim())))
        .filter(|name| !name.is_empty())
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

fn author_name(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => map.get("name").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn link_text(text: &str) -> String {
    if let Some(rest) = text.strip_prefix('[') {
        if let Some((name, tail)) = rest.split_once("](") {
            if tail.ends_with(')') {
                return name.trim().to_string();
            }
        }
    }
    text.to_string()
}

/// An image given as a path or as `{path: …}` / `{src: …}` / `{url: …}`.
fn image_path(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Object(map) => ["path", "src", "url"]
            .iter()
            .find_map(|key| map.get(*key).and_then(Value::as_str))
            .map(str::to_string),
        _ => None,
    }
}

/// An absolute http(s) URL for a site path (leading `/` is the site root,
/// i.e. `base_url`, as Hugo reads it).
fn absolute(base: &Url, path: &str) -> Option<String> {
    if let Ok(url) = Url::parse(path) {
        return matches!(url.scheme(), "http" | "https").then(|| url.to_string());
    }
    let url = base.join(path.trim_start_matches('/')).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// The slug from the file: the bundle folder for `index.md`, else the file
/// name without extension or a Jekyll `YYYY-MM-DD-` prefix.
fn file_slug(root: &Path, file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem.eq_ignore_ascii_case("index") {
        if let Some(dir) = file.parent().filter(|dir| *dir != root) {
            if let Some(name) = dir.file_name() {
                return name.to_string_lossy().into_owned();
            }
        }
    }
    strip_date_prefix(&stem).to_string()
}

fn strip_date_prefix(stem: &str) -> &str {
    let bytes = stem.as_bytes();
    let is_dated = bytes.len() > 11
        && bytes[..10].iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
        && bytes[10] == b'-';
    if is_dated {
        &stem[11..]
    } else {
        stem
    }
}

/// Hugo's section: the first folder below the root.
fn section(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file);
    let mut parts = relative.components();
    let first = parts.next();
    match (first, parts.next()) {
        (Some(first), Some(_)) => first.as_os_str().to_string_lossy().into_owned(),
        _ => String::new(),
    }
}

/// The item URL: front matter `url`, else the permalink pattern, else
/// `base_url` + slug + `/`.
fn post_url(
    site: &MarkdownSite<'_>,
    meta: &Meta,
    slug: &str,
    file_slug: &str,
    section: &str,
    title: &str,
    published: Option<DateTime<Utc>>,
) -> Option<String> {
    if let Some(url) = meta.text("url").or_else(|| meta.text("permalink")) {
        if let Some(url) = absolute(site.base_url, &url) {
            return Some(url);
        }
    }
    let path = match site.permalink {
        Some(pattern) => expand_permalink(
            pattern,
            slug,
            file_slug,
            section,
            title,
            published,
            site.timezone,
        )
        .unwrap_or_else(|| format!("{slug}/")),
        None => format!("{slug}/"),
    };
    absolute(site.base_url, &path)
}

/// Expand `:year`, `:month`, `:day`, `:slug`, `:title`, `:filename` and
/// `:section`. `None` when the pattern needs a date the post lacks.
fn expand_permalink(
    pattern: &str,
    slug: &str,
    file_slug: &str,
    section: &str,
    title: &str,
    published: Option<DateTime<Utc>>,
    timezone: Tz,
) -> Option<String> {
    let local = published.map(|d| d.with_timezone(&timezone));
    let needs_date = [":year", ":month", ":day"]
        .iter()
        .any(|token| pattern.contains(token));
    if needs_date && local.is_none() {
        return None;
    }
    let mut out = pattern.to_string();
    if let Some(local) = local {
        out = out
            .replace(":year", &format!("{:04}", local.year()))
            .replace(":month", &format!("{:02}", local.month()))
            .replace(":day", &format!("{:02}", local.day()));
    }
    // `:filename` before `:title`... none is a prefix of another, but
    // `:slugified_title`-style tokens are not supported, so order is free.
    let title_slug = slugify(title);
    let title_part = if title_slug.is_empty() {
        slug
    } else {
        &title_slug
    };
    Some(
        out.replace(":slug", slug)
            .replace(":filename", file_slug)
            .replace(":title", title_part)
            .replace(":section", section)
            .replace("//", "/"),
    )
}

/// Hugo's `:title`: lower case, spaces to dashes, punctuation dropped;
/// Chinese characters are kept (the URL is percent-encoded later).
fn slugify(title: &str) -> String {
    let mut out = String::new();
    for c in title.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if (c.is_whitespace() || c == '-' || c == '_') && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Whether a body is HTML rather than Markdown: its first line opens a
/// block element (a repost saved from a web page).
fn is_html_body(body: &str) -> bool {
    let Some(first) = body.lines().map(str::trim).find(|line| !line.is_empty()) else {
        return false;
    };
    let lower = first.to_ascii_lowercase();
    const BLOCKS: [&str; 12] = [
        "<!doctype",
        "<html",
        "<body",
        "<div",
        "<article",
        "<section",
        "<p",
        "<table",
        "<main",
        "<header",
        "<figure",
        "<blockquote",
    ];
    BLOCKS.iter().any(|tag| {
        lower.starts_with(tag)
            && lower[tag.len()..]
                .chars()
                .next()
                .is_none_or(|c| c == '>' || c == ' ' || c == '/' || c == '\t')
    })
}

/// The body as HTML: HTML bodies as they are, Markdown rendered.
fn body_to_html(body: &str) -> String {
    if is_html_body(body) {
        return body.to_string();
    }
    use pulldown_cmark::{Options, Parser};
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS;
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(body, options));
    html
}

/// The first Markdown heading, for a post with no title.
fn first_heading(body: &str) -> Option<String> {
    body.lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix('#'))
        .map(|rest| rest.trim_start_matches('#').trim().to_string())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_front_matter_with_a_stray_tab_is_read() {
        let text = "---\ntitle: \"云栖大会2021 专场\"\t\ndate: 2020-08-09T15:00:00+08:00\ndescripton: x\n---\n\n# Body\n";
        let (front, body) = split_front_matter(text).unwrap();
        let meta = Meta(front);
        assert_eq!(meta.text("title").as_deref(), Some("云栖大会2021 专场"));
        assert_eq!(
            meta.text("date").as_deref(),
            Some("2020-08-09T15:00:00+08:00")
        );
        assert_eq!(body, "\n# Body\n");
    }

    #[test]
    fn toml_front_matter_and_its_dates_are_read() {
        let text = "+++\ntitle = \"Istio 周报\"\ndate = 2023-01-02T10:00:00+08:00\ntags = [\"Istio\"]\ndraft = false\n+++\nbody";
        let (front, body) = split_front_matter(text).unwrap();
        let meta = Meta(front);
        assert_eq!(meta.text("title").as_deref(), Some("Istio 周报"));
        assert_eq!(
            meta.text("date").as_deref(),
            Some("2023-01-02T10:00:00+08:00")
        );
        assert_eq!(meta.list("tags"), vec!["Istio".to_string()]);
        assert!(!meta.flag("draft"));
        assert_eq!(body, "body");
    }

    #[test]
    fn a_front_matter_error_names_the_file_line() {
        let text = "---\ntitle: ok\ndate: [unclosed\nauthor: x\n---\nbody";
        let error = split_front_matter(text).unwrap_err();
        assert!(
            error.starts_with("3: front matter:") || error.starts_with("4: front matter:"),
            "{error}"
        );
        let unclosed = split_front_matter("---\ntitle: x\nbody").unwrap_err();
        assert!(unclosed.contains("no closing"), "{unclosed}");
    }

    #[test]
    fn permalinks_expand_in_the_source_zone() {
        let published = dates::parse_date("2024-01-01T01:00:00+08:00", chrono_tz::UTC);
        let path = expand_permalink(
            "/:section/:year/:month/:day/:slug/",
            "kcd",
            "2024-01-01-kcd",
            "post",
            "KCD 回顾",
            published,
            chrono_tz::Asia::Shanghai,
        );
        assert_eq!(path.as_deref(), Some("/post/2024/01/01/kcd/"));
        assert_eq!(
            expand_permalink(
                ":title/",
                "s",
                "f",
                "",
                "Hello, World 你好",
                None,
                chrono_tz::UTC
            )
            .as_deref(),
            Some("hello-world-你好/")
        );
    }

    #[test]
    fn slugs_come_from_bundles_and_jekyll_names() {
        let root = Path::new("/site/content");
        assert_eq!(
            file_slug(root, Path::new("/site/content/post/kcd-2024/index.md")),
            "kcd-2024"
        );
        assert_eq!(
            file_slug(root, Path::new("/site/content/_posts/2024-03-01-kcd.md")),
            "kcd"
        );
        assert!(!is_post_file("_index.md"));
        assert!(is_post_file("post.markdown"));
    }

    #[test]
    fn html_bodies_are_told_from_markdown() {
        assert!(is_html_body(
            "\n<div class=\"blog-content-box\">\n <p>x</p>"
        ));
        assert!(!is_html_body("**加粗**\n<img src=\"a.png\">"));
        assert!(!is_html_body("<https://example.org> is a link"));
    }
}
