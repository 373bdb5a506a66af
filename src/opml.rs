//! OPML 2.0 in and out, so editors can move their feed lists between
//! yaowen and any feed reader. Import appends `[[source]]` tables to the
//! end of `config.toml` (the file's comments and layout stay as written);
//! category outlines become tags. Export writes every feed source, its
//! tags as nested category outlines.

use crate::cli::OpmlCommand;
use crate::config::{Config, ConfigErrors, SourceKind};
use crate::publish::escape::xml_exact;
use quick_xml::events::{BytesStart, Event};
use quick_xml::XmlVersion;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Longest source name the config accepts, in characters.
const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path} is not valid OPML: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("the imported sources would make the config invalid (nothing was written):\n{0}")]
    Config(#[from] ConfigErrors),
    #[error("cannot write {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// One feed outline, with the titles of the outlines around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    /// `text`, else `title`; may be empty.
    pub label: String,
    /// `xmlUrl`, as written.
    pub url: String,
    /// Enclosing category outlines, outermost first, then any `category`
    /// attribute's path segments.
    pub categories: Vec<String>,
}

/// A feed the import adds, as it will appear in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSource {
    pub name: String,
    pub url: String,
    pub tags: Vec<String>,
    pub allow_private: bool,
}

/// A feed the import leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub url: String,
    pub reason: String,
}

/// What an import did (or, before writing, will do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub added: Vec<NewSource>,
    pub skipped: Vec<Skipped>,
}

/// `yaowen opml import FILE` / `yaowen opml export`.
pub fn run(config: &Config, action: OpmlCommand) -> anyhow::Result<ExitCode> {
    match action {
        OpmlCommand::Import {
            file,
            allow_private,
        } => {
            let report = import(config, &file, allow_private)?;
            print_report(&report, &config.file);
        }
        OpmlCommand::Export => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(export(config).as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &ImportReport, config_file: &Path) {
    for source in &report.added {
        let tags = if source.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", source.tags.join(", "))
        };
        crate::cli::say!("added    {}  {}{tags}", source.name, source.url);
    }
    for skipped in &report.skipped {
        crate::cli::say!("skipped  {}  ({})", skipped.url, skipped.reason);
    }
    crate::cli::say!(
        "{} sources added to {}, {} skipped",
        report.added.len(),
        config_file.display(),
        report.skipped.len()
    );
}

/// Read the feed outlines of an OPML document.
pub fn parse(text: &str) -> Result<Vec<OpmlFeed>, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut open: Vec<Outline> = Vec::new();
    let mut elements: Vec<String> = Vec::new();
    let mut feeds = Vec::new();
    let mut saw_opml = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|error| at_line(text, reader.error_position(), &error.to_string()))?;
        match &event {
            Event::Start(element) | Event::Empty(element) => {
                // A start tag stays open until its end; an empty one does not.
                let stays_open = matches!(event, Event::Start(_));
                let name = element_name(element);
                saw_opml |= elements.is_empty() && name == "opml";
                if name == "outline" {
                    let outline = read_outline(element)
                        .map_err(|e| at_line(text, reader.buffer_position(), &e))?;
                    push_feed(&mut feeds, &outline, &open);
                    if stays_open {
                        open.push(outline);
                    }
                }
                if stays_open {
                    elements.push(name);
                }
            }
            Event::End(_) => {
                let closed = elements.pop();
                if closed.as_deref() == Some("outline") {
                    open.pop();
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(unclosed) = elements.last() {
        return Err(format!("the document ends inside <{unclosed}>"));
    }
    if !saw_opml {
        return Err("no <opml> root element".to_string());
    }
    Ok(feeds)
}

/// The attributes of an `<outline>` that matter here.
struct Outline {
    label: String,
    url: Option<String>,
    categories: Vec<String>,
}

fn element_name(element: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(element.local_name().as_ref()).into_owned()
}

fn read_outline(element: &BytesStart<'_>) -> Result<Outline, String> {
    let mut outline = Outline {
        label: String::new(),
        url: None,
        categories: Vec::new(),
    };
    let mut title = String::new();
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| format!("bad attribute: {e}"))?;
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("bad attribute value: {e}"))?;
        let value = value.trim().to_string();
        match attribute.key.local_name().as_ref() {
            b"text" => outline.label = value,
            b"title" => title = value,
            b"xmlUrl" if !value.is_empty() => outline.url = Some(value),
            b"category" => outline.categories = category_segments(&value),
            _ => {}
        }
    }
    if outline.label.is_empty() {
        outline.label = title;
    }
    Ok(outline)
}

/// OPML's `category="/Tech/Cloud,/Chinese"`: every path segment.
fn category_segments(value: &str) -> Vec<String> {
    value
        .split(',')
        .flat_map(|path| path.split('/'))
        .map(str::trim)
        .filter(|segment| !segment.is_empty())
        .map(str::to_string)
        .collect()
}

fn push_feed(feeds: &mut Vec<OpmlFeed>, outline: &Outline, open: &[Outline]) {
    let Some(url) = &outline.url else {
        return;
    };
    let mut categories: Vec<String> = open
        .iter()
        .filter(|parent| parent.url.is_none() && !parent.label.is_empty())
        .map(|parent| parent.label.clone())
        .collect();
    categories.extend(outline.categories.iter().cloned());
    feeds.push(OpmlFeed {
        label: outline.label.clone(),
        url: url.clone(),
        categories,
    });
}

fn at_line(text: &str, position: u64, message: &str) -> String {
    let end = usize::try_from(position)
        .unwrap_or(usize::MAX)
        .min(text.len());
    let line = text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1;
    format!("line {line}: {message}")
}

/// Decide, for each OPML feed, whether it is added (under which name and
/// tags) or skipped: already configured, repeated, or not an http(s) URL.
pub fn plan_import(config: &Config, feeds: &[OpmlFeed], allow_private: bool) -> ImportReport {
    let mut known_urls: Vec<(url::Url, String)> = config
        .sources
        .iter()
        .filter_map(|source| match &source.kind {
            SourceKind::Feed { url } => Some((url.clone(), source.name.clone())),
            _ => None,
        })
        .collect();
    let mut names: HashSet<String> = config.sources.iter().map(|s| s.name.clone()).collect();
    let mut report = ImportReport::default();
    for feed in feeds {
        let url = match url::Url::parse(&feed.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => url,
            _ => {
                report.skipped.push(Skipped {
                    url: feed.url.clone(),
                    reason: "not an absolute http(s) URL".to_string(),
                });
                continue;
            }
        };
        if let Some((_, owner)) = known_urls.iter().find(|(known, _)| *known == url) {
            report.skipped.push(Skipped {
                url: feed.url.clone(),
                reason: format!("already configured as {owner:?}"),
            });
            continue;
        }
        let name = unique_name(&source_name(&feed.label, &url), &names);
        names.insert(name.clone());
        known_urls.push((url.clone(), name.clone()));
        report.added.push(NewSource {
            name,
            url: url.to_string(),
            tags: tags_of(&feed.categories),
            allow_private,
        });
    }
    report
}

/// A valid source name from a feed's label (its host when the label has
/// nothing usable): lower-case ASCII, letters and digits of any script,
/// `-` between words, at most 64 characters.
pub fn source_name(label: &str, url: &url::Url) -> String {
    let slug = slugify(label);
    if !slug.is_empty() {
        return slug;
    }
    let host = slugify(url.host_str().unwrap_or_default());
    if host.is_empty() {
        "feed".to_string()
    } else {
        host
    }
}

fn slugify(text: &str) -> String {
    let mut slug = String::new();
    let mut pending_dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() || matches!(c, '_' | '.') {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.extend(c.to_lowercase());
        } else {
            pending_dash = true;
        }
    }
    slug.chars().take(MAX_NAME_CHARS).collect::<String>()
}

/// `name`, or `name-2`, `name-3`, … when taken; always within 64 characters.
fn unique_name(name: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(name) {
        return name.to_string();
    }
    (2..)
        .map(|n| {
            let suffix = format!("-{n}");
            let keep = MAX_NAME_CHARS - suffix.chars().count();
            let stem: String = name.chars().take(keep).collect();
            format!("{stem}{suffix}")
        })
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or_else(|| unreachable!("the counter is unbounded"))
}

/// Categories become tags: trimmed, without repeats, in order.
fn tags_of(categories: &[String]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for category in categories {
        let tag = category.trim();
        if !tag.is_empty() && !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_string());
        }
    }
    tags
}

/// The `[[source]]` tables for `added`, with a comment saying where they
/// came from.
pub fn render_sources(added: &[NewSource], from: &Path) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n# Imported from {} by `yaowen opml import`.",
        from.display().to_string().replace(['\n', '\r'], " ")
    );
    for source in added {
        let _ = writeln!(out, "\n[[source]]");
        let _ = writeln!(out, "name = {}", toml_string(&source.name));
        let _ = writeln!(out, "kind = \"feed\"");
        let _ = writeln!(out, "url = {}", toml_string(&source.url));
        if !source.tags.is_empty() {
            let tags: Vec<String> = source.tags.iter().map(|t| toml_string(t)).collect();
            let _ = writeln!(out, "tags = [{}]", tags.join(", "));
        }
        if source.allow_private {
            let _ = writeln!(out, "allow_private = true");
        }
    }
    out
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Import `opml_file` into the config file `config` was loaded from:
/// plan, append, validate the whole new text, then replace the file
/// atomically. Nothing is written when nothing is added or the result
/// would not validate.
pub fn import(
    config: &Config,
    opml_file: &Path,
    allow_private: bool,
) -> Result<ImportReport, OpmlError> {
    let opml = std::fs::read(opml_file).map_err(|error| OpmlError::Read {
        path: opml_file.to_path_buf(),
        error,
    })?;
    let invalid = |message: String| OpmlError::Invalid {
        path: opml_file.to_path_buf(),
        message,
    };
    let opml = String::from_utf8(opml).map_err(|_| invalid("not UTF-8 text".to_string()))?;
    let feeds = parse(&opml).map_err(invalid)?;
    let report = plan_import(config, &feeds, allow_private);
    if report.added.is_empty() {
        return Ok(report);
    }
    let current = std::fs::read_to_string(&config.file).map_err(|error| OpmlError::Read {
        path: config.file.clone(),
        error,
    })?;
    let mut updated = current;
    if !updated.is_empty() && !updated.ends_with('\n') {
        updated.push('\n');
    }
    updated.push_str(&render_sources(&report.added, opml_file));
    Config::from_toml_str(&updated, &config.file)?;
    write_atomically(&config.file, &updated)?;
    Ok(report)
}

/// Temp file beside the target, then rename: a crash leaves the old or the
/// new config, never half of one. The old file's permissions are kept.
fn write_atomically(path: &Path, text: &str) -> Result<(), OpmlError> {
    let fail = |error| OpmlError::Write {
        path: path.to_path_buf(),
        error,
    };
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.toml".to_string());
    let temp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        if let Ok(metadata) = std::fs::metadata(path) {
            file.set_permissions(metadata.permissions())?;
        }
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.map_err(fail)
}

/// OPML 2.0 of every feed source; a source's tags, in order, are the
/// nested category outlines it sits in.
pub fn export(config: &Config) -> String {
    let mut root = Category::default();
    for source in &config.sources {
        if let SourceKind::Feed { url } = &source.kind {
            root.insert(&source.tags, (source.name.clone(), url.to_string()));
        }
    }
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n");
    let _ = writeln!(
        out,
        "  <head>\n    <title>{}</title>\n  </head>\n  <body>",
        xml_exact(&config.feed.title)
    );
    root.render(&mut out, 2);
    out.push_str("  </body>\n</opml>\n");
    out
}

/// A category outline: its feeds (name, URL) and sub-categories, in the
/// order first seen.
#[derive(Default)]
struct Category {
    feeds: Vec<(String, String)>,
    children: Vec<(String, Category)>,
}

impl Category {
    fn insert(&mut self, path: &[String], feed: (String, String)) {
        let Some((first, rest)) = path.split_first() else {
            self.feeds.push(feed);
            return;
        };
        let index = match self.children.iter().position(|(name, _)| name == first) {
            Some(index) => index,
            None => {
                self.children.push((first.clone(), Category::default()));
                self.children.len() - 1
            }
        };
        self.children[index].1.insert(rest, feed);
    }

    fn render(&self, out: &mut String, depth: usize) {
        let indent = "  ".repeat(depth);
        for (name, url) in &self.feeds {
            let name = xml_exact(name);
            let _ = writeln!(
                out,
                "{indent}<outline type=\"rss\" text=\"{name}\" title=\"{name}\" xmlUrl=\"{}\"/>",
                xml_exact(url)
            );
        }
        for (name, child) in &self.children {
            let name = xml_exact(name);
            let _ = writeln!(out, "{indent}<outline text=\"{name}\" title=\"{name}\">");
            child.render(out, depth + 1);
            let _ = writeln!(out, "{indent}</outline>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::from_toml_str(text, "/etc/yaowen/config.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn nested_outlines_become_tags() {
        let feeds = parse(
            r#"<?xml version="1.0"?>
<opml version="2.0"><head/><body>
  <outline text="Cloud Native">
    <outline text="Service Mesh &amp; Proxies">
      <outline type="rss" text="Istio Blog" xmlUrl="https://istio.io/latest/blog/feed.xml"/>
    </outline>
    <outline type="rss" title="K8s" xmlUrl="https://kubernetes.io/feed.xml" category="/CNCF/Graduated"/>
  </outline>
  <outline type="rss" text="Loose" xmlUrl="https://example.org/rss"/>
</body></opml>"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(feeds.len(), 3);
        assert_eq!(feeds[0].label, "Istio Blog");
        assert_eq!(
            feeds[0].categories,
            ["Cloud Native", "Service Mesh & Proxies"]
        );
        assert_eq!(feeds[1].label, "K8s");
        assert_eq!(feeds[1].categories, ["Cloud Native", "CNCF", "Graduated"]);
        assert!(feeds[2].categories.is_empty());
    }

    #[test]
    fn broken_documents_say_where() {
        let mismatched = parse("<opml><body>\n<outline text=\"a\">\n</body></opml>");
        assert!(
            mismatched.as_ref().is_err_and(|e| e.starts_with("line 3")),
            "{mismatched:?}"
        );
        assert!(parse("<opml><body><outline text=\"a\"/>").is_err());
        assert!(parse("<rss></rss>").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn names_are_valid_and_unique() {
        let url =
            url::Url::parse("https://blog.example.org/feed").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            source_name("Feed 3: Cloud  Native/Daily", &url),
            "feed-3-cloud-native-daily"
        );
        assert_eq!(source_name("云原生社区 博客", &url), "云原生社区-博客");
        assert_eq!(source_name(" :: ", &url), "blog.example.org");
        let long = "x".repeat(100);
        let taken: HashSet<String> = [long[..64].to_string()].into_iter().collect();
        let unique = unique_name(&source_name(&long, &url), &taken);
        assert_eq!(unique.chars().count(), 64);
        assert!(unique.ends_with("-2"));
    }

    #[test]
    fn configured_and_repeated_urls_are_skipped() {
        let config = config(
            "[[source]]\nname = \"k8s\"\nkind = \"feed\"\nurl = \"https://kubernetes.io/feed.xml\"\n",
        );
        let feed = |label: &str, url: &str| OpmlFeed {
            label: label.into(),
            url: url.into(),
            categories: vec![],
        };
        let report = plan_import(
            &config,
            &[
                feed("k8s", "https://kubernetes.io/feed.xml"),
                feed("k8s", "https://k8s.example/a.xml"),
                feed("again", "https://k8s.example/a.xml"),
                feed("mail", "mailto:someone@example.org"),
            ],
            false,
        );
        assert_eq!(report.added.len(), 1);
        assert_eq!(report.added[0].name, "k8s-2");
        assert_eq!(report.skipped.len(), 3);
        assert!(report.skipped[0].reason.contains("\"k8s\""));
    }

    #[test]
    fn export_escapes_and_nests() {
        let config = config(
            "[feed]\ntitle = \"A & B\"\n[[source]]\nname = \"q\"\nkind = \"feed\"\nurl = \"https://x.example/f?a=1&b=2\"\ntags = [\"<k8s>\", \"\\\"mesh\\\"\"]\n",
        );
        let opml = export(&config);
        assert!(opml.contains("<title>A &amp; B</title>"), "{opml}");
        assert!(
            opml.contains("xmlUrl=\"https://x.example/f?a=1&amp;b=2\""),
            "{opml}"
        );
        let feeds = parse(&opml).unwrap_or_else(|e| panic!("{e}\n{opml}"));
        assert_eq!(feeds[0].url, "https://x.example/f?a=1&b=2");
        assert_eq!(feeds[0].categories, ["<k8s>", "\"mesh\""]);
    }

    #[test]
    fn appended_tables_are_valid_toml() {
        let added = vec![NewSource {
            name: "a\"b".into(),
            url: "https://example.org/\\".into(),
            tags: vec!["t\u{1}".into()],
            allow_private: true,
        }];
        let text = render_sources(&added, Path::new("in.opml"));
        let config = config(&text);
        assert_eq!(config.sources[0].name, "a\"b");
        assert_eq!(config.sources[0].tags, ["t\u{1}"]);
        assert!(config.sources[0].allow_private);
    }
}
