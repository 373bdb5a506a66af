//! The `config.toml` schema: defaults, validation and the resolved
//! [`Config`] the rest of yaowen reads. The document is walked key by key
//! (not deserialised with serde) so that one run reports *every* mistake,
//! each with its key path and line, instead of stopping at the first.

use crate::publish::PeriodKind;
use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml_edit::{ImDocument, Item, TableLike, Value};

/// Everything yaowen is configured with, validated, defaults applied and
/// paths made absolute against the config file's directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file this came from (as given).
    pub file: PathBuf,
    /// The directory relative paths are resolved against.
    pub base_dir: PathBuf,
    pub store: StoreConfig,
    pub output: OutputConfig,
    pub digest: DigestConfig,
    pub feed: FeedConfig,
    pub schedule: ScheduleConfig,
    pub fetch: FetchConfig,
    pub wechat: WechatConfig,
    pub server: ServerConfig,
    pub sources: Vec<SourceConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoreConfig {
    /// The sled database directory.
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputConfig {
    pub dir: PathBuf,
    /// Absolute http(s) URL of the published site; always ends in `/`.
    pub base_url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DigestConfig {
    pub title: String,
    pub period: PeriodKind,
    pub timezone: Tz,
    /// Target length of item summaries, in characters.
    pub summary_chars: usize,
    /// Hugo front matter on top of the Markdown digests.
    pub front_matter: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    pub title: String,
    pub description: String,
    /// Items in `feed.xml` / `atom.xml`.
    pub items: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleConfig {
    /// When every source without its own `cron` is fetched.
    pub cron: Schedule,
    /// Up to this many seconds of random delay per run.
    pub jitter_secs: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FetchConfig {
    pub concurrency: usize,
    pub per_host: usize,
    pub timeout_secs: u64,
    pub connect_timeout_secs: u64,
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    pub retries: u32,
    pub user_agent: String,
    pub min_host_interval_ms: u64,
    pub min_refresh_secs: u64,
    pub max_refresh_secs: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WechatConfig {
    /// Seconds between two requests to mp.weixin.qq.com.
    pub min_interval_secs: u64,
    pub jitter_secs: u64,
    /// Back-off after WeChat answers with a verification page.
    pub backoff_min_secs: u64,
    pub backoff_max_secs: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Environment variable holding the editor token; `None` when the
    /// config sets `token_env = ""`.
    pub token_env: Option<String>,
    /// File holding the editor token (first line).
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    /// Unique; no whitespace, no `/`.
    pub name: String,
    pub kind: SourceKind,
    pub tags: Vec<String>,
    /// Overrides `[schedule] cron` for this source.
    pub cron: Option<Schedule>,
    /// The source's `timezone`, else the digest's.
    pub timezone: Tz,
    /// May fetch loopback/private addresses.
    pub allow_private: bool,
    /// Fetch each item's page for the whole article.
    pub full_text: bool,
    /// Hosts (lower case) whose links found in items are queued.
    pub follow: Vec<String>,
    pub enabled: bool,
}

// Built once per source at start-up; boxing `Page` would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    Feed {
        url: url::Url,
    },
    Wechat {
        /// One article URL a line; absolute.
        links_file: PathBuf,
    },
    Page {
        url: url::Url,
        item: Selector,
        link: Selector,
        title: Option<Selector>,
        date: Option<Selector>,
        summary: Option<Selector>,
        /// chrono `strftime` format of the date text.
        date_format: Option<String>,
    },
    Markdown {
        /// A Hugo/Jekyll content tree; absolute.
        path: PathBuf,
        /// Ends in `/`.
        base_url: url::Url,
        permalink: Option<String>,
    },
}

impl SourceKind {
    pub fn label(&self) -> &'static str {
        match self {
            SourceKind::Feed { .. } => "feed",
            SourceKind::Wechat { .. } => "wechat",
            SourceKind::Page { .. } => "page",
            SourceKind::Markdown { .. } => "markdown",
        }
    }
}

/// A CSS selector with an optional attribute: `a@href` reads the `href` of
/// the first `a`; `a` reads its text. An empty `css` (`@href`) means the
/// matched item element itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub css: String,
    pub attr: Option<String>,
}

impl Selector {
    /// Split `css@attr` and check the CSS part parses.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let text = text.trim();
        let (css, attr) = match text.rsplit_once('@') {
            Some((css, attr)) if is_attribute_name(attr) => (css.trim(), Some(attr.to_string())),
            _ => (text, None),
        };
        if css.is_empty() {
            return match attr {
                Some(attr) => Ok(Selector {
                    css: String::new(),
                    attr: Some(attr),
                }),
                None => Err("empty CSS selector".to_string()),
            };
        }
        if let Err(error) = scraper::Selector::parse(css) {
            return Err(format!("not a valid CSS selector: {css:?} ({error})"));
        }
        Ok(Selector {
            css: css.to_string(),
            attr,
        })
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.attr {
            Some(attr) => write!(f, "{}@{attr}", self.css),
            None => f.write_str(&self.css),
        }
    }
}

fn is_attribute_name(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

/// One mistake in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Key path, e.g. `fetch.timeout_secs` or `source[2].url`; empty for
    /// errors about the whole file.
    pub key: String,
    /// 1-based line in the file.
    pub line: Option<usize>,
    pub message: String,
    /// Name of the source the key belongs to, when known.
    pub source: Option<String>,
}

impl ConfigError {
    /// The key path with the source's name after its index:
    /// `source[2] ("kube-blog").url`.
    pub fn display_key(&self) -> String {
        let Some(name) = &self.source else {
            return self.key.clone();
        };
        match self.key.find(']') {
            Some(end) => format!("{} ({name:?}){}", &self.key[..=end], &self.key[end + 1..]),
            None => self.key.clone(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.display_key(), self.message)
        }
    }
}

/// Every mistake found in one config file. Displays one per line:
/// `config.toml:14: source[2] ("kube-blog").url: not an absolute http(s) URL: "foo"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConfigErrors {
    pub file: PathBuf,
    pub errors: Vec<ConfigError>,
}

impl ConfigErrors {
    fn render(&self) -> String {
        let file = self.file.display();
        let lines = self.errors.iter().map(|error| match error.line {
            Some(line) => format!("{file}:{line}: {error}"),
            None => format!("{file}: {error}"),
        });
        lines.collect::<Vec<_>>().join("\n")
    }

    fn whole_file(file: &Path, message: String) -> ConfigErrors {
        ConfigErrors {
            file: file.to_path_buf(),
            errors: vec![ConfigError {
                key: String::new(),
                line: None,
                message,
                source: None,
            }],
        }
    }
}

impl Config {
    /// Read and validate a config file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigErrors> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigErrors::whole_file(path, format!("cannot read: {error}")))?;
        Config::from_toml_str(&text, path)
    }

    /// Validate config text as if read from `file` (which sets the
    /// directory relative paths are resolved against).
    pub fn from_toml_str(text: &str, file: impl AsRef<Path>) -> Result<Config, ConfigErrors> {
        let file = file.as_ref();
        let document = ImDocument::parse(text).map_err(|error| {
            let line = error
                .span()
                .map(|span| line_number(&line_starts(text), span.start));
            ConfigErrors {
                file: file.to_path_buf(),
                errors: vec![ConfigError {
                    key: String::new(),
                    line,
                    message: format!("not valid TOML: {}", one_line(error.message())),
                    source: None,
                }],
            }
        })?;
        let base_dir = base_dir_of(file);
        let mut checker = Checker {
            line_starts: line_starts(text),
            base_dir: &base_dir,
            errors: Vec::new(),
        };
        let config = checker.config(document.as_table(), file);
        if checker.errors.is_empty() {
            Ok(config)
        } else {
            // File order reads best; the sort is stable for errors on one line.
            checker.errors.sort_by_key(|error| error.line);
            Err(ConfigErrors {
                file: file.to_path_buf(),
                errors: checker.errors,
            })
        }
    }

    /// The source called `name`.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|source| source.name == name)
    }

    /// The schedule a source runs on: its own `cron`, else `[schedule]`.
    pub fn schedule_for<'a>(&'a self, source: &'a SourceConfig) -> &'a Schedule {
        source.cron.as_ref().unwrap_or(&self.schedule.cron)
    }

    /// When `source` is next due after `after` (evaluated in its time zone).
    pub fn next_run(&self, source: &SourceConfig, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule_for(source).next_after(after, source.timezone)
    }

    /// A readable dump of the resolved settings, for `yaowen check`.
    /// Never contains a token, only where it would come from.
    pub fn resolved_summary(&self) -> String {
        self.resolved_summary_at(Utc::now())
    }

    /// [`Config::resolved_summary`] with next run times computed from `now`.
    pub fn resolved_summary_at(&self, now: DateTime<Utc>) -> String {
        let mut out = Vec::new();
        out.push(format!("config: {}", self.file.display()));
        out.push(format!("base dir: {}", self.base_dir.display()));
        self.summarise_sections(&mut out, now);
        let enabled = self.sources.iter().filter(|s| s.enabled).count();
        out.push(String::new());
        out.push(format!(
            "sources: {} ({enabled} enabled)",
            self.sources.len()
        ));
        for source in &self.sources {
            self.summarise_source(&mut out, source, now);
        }
        out.push(String::new());
        out.join("\n")
    }

    fn summarise_sections(&self, out: &mut Vec<String>, now: DateTime<Utc>) {
        let tz = self.digest.timezone;
        let next = self.schedule.cron.next_after(now, tz);
        let fetch = &self.fetch;
        let wechat = &self.wechat;
        let sections = [
            ("store", vec![kv("path", self.store.path.display())]),
            (
                "output",
                vec![
                    kv("dir", self.output.dir.display()),
                    kv("base_url", &self.output.base_url),
                ],
            ),
            (
                "digest",
                vec![
                    kv("title", &self.digest.title),
                    kv("period", period_label(self.digest.period)),
                    kv("timezone", tz),
                    kv("summary_chars", self.digest.summary_chars),
                    kv("front_matter", self.digest.front_matter),
                ],
            ),
            (
                "feed",
                vec![
                    kv("title", &self.feed.title),
                    kv("description", &self.feed.description),
                    kv("items", self.feed.items),
                ],
            ),
            (
                "schedule",
                vec![
                    kv(
                        "cron",
                        format!("{}  (next: {})", self.schedule.cron, when(next, tz)),
                    ),
                    kv("jitter_secs", self.schedule.jitter_secs),
                ],
            ),
            (
                "fetch",
                vec![
                    kv("concurrency", fetch.concurrency),
                    kv("per_host", fetch.per_host),
                    kv("timeout_secs", fetch.timeout_secs),
                    kv("connect_timeout_secs", fetch.connect_timeout_secs),
                    kv("max_body_bytes", fetch.max_body_bytes),
                    kv("max_redirects", fetch.max_redirects),
                    kv("retries", fetch.retries),
                    kv("user_agent", &fetch.user_agent),
                    kv("min_host_interval_ms", fetch.min_host_interval_ms),
                    kv("min_refresh_secs", fetch.min_refresh_secs),
                    kv("max_refresh_secs", fetch.max_refresh_secs),
                ],
            ),
            (
                "wechat",
                vec![
                    kv("min_interval_secs", wechat.min_interval_secs),
                    kv("jitter_secs", wechat.jitter_secs),
                    kv("backoff_min_secs", wechat.backoff_min_secs),
                    kv("backoff_max_secs", wechat.backoff_max_secs),
                ],
            ),
            ("server", self.server_lines()),
        ];
        for (name, lines) in sections {
            out.push(String::new());
            out.push(format!("[{name}]"));
            out.extend(lines);
        }
    }

    fn server_lines(&self) -> Vec<String> {
        let token_env = match &self.server.token_env {
            Some(var) => {
                let state = if std::env::var_os(var).is_some() {
                    "set"
                } else {
                    "unset"
                };
                format!("${var} ({state})")
            }
            None => "(none)".to_string(),
        };
        let token_file = match &self.server.token_file {
            Some(path) => path.display().to_string(),
            None => "(none)".to_string(),
        };
        vec![
            kv("listen", self.server.listen),
            kv("token_env", token_env),
            kv("token_file", token_file),
        ]
    }

    fn summarise_source(&self, out: &mut Vec<String>, source: &SourceConfig, now: DateTime<Utc>) {
        let state = if source.enabled { "" } else { "  (disabled)" };
        out.push(format!(
            "  {}  [{}]{state}",
            source.name,
            source.kind.label()
        ));
        for line in kind_lines(&source.kind) {
            out.push(format!("      {line}"));
        }
        let own = if source.cron.is_some() {
            ""
        } else {
            " (from [schedule])"
        };
        let next = self.next_run(source, now);
        out.push(format!(
            "      schedule = {}{own}  (next: {})",
            self.schedule_for(source),
            when(next, source.timezone)
        ));
        out.push(format!("      timezone = {}", source.timezone));
        if !source.tags.is_empty() {
            out.push(format!("      tags = {}", source.tags.join(", ")));
        }
        if !source.follow.is_empty() {
            out.push(format!("      follow = {}", source.follow.join(", ")));
        }
        out.push(format!(
            "      allow_private = {}, full_text = {}",
            source.allow_private, source.full_text
        ));
    }
}

fn kv(key: &str, value: impl fmt::Display) -> String {
    format!("  {key} = {value}")
}

fn when(next: Option<DateTime<Utc>>, tz: Tz) -> String {
    match next {
        Some(next) => next
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S %:z")
            .to_string(),
        None => "never".to_string(),
    }
}

fn period_label(period: PeriodKind) -> &'static str {
    match period {
        PeriodKind::Daily => "daily",
        PeriodKind::Weekly => "weekly",
    }
}

fn kind_lines(kind: &SourceKind) -> Vec<String> {
    let optional = |name: &str, value: &Option<Selector>| {
        value.as_ref().map(|value| format!("{name} = {value}"))
    };
    match kind {
        SourceKind::Feed { url } => vec![format!("url = {url}")],
        SourceKind::Wechat { links_file } => {
            vec![format!("links_file = {}", links_file.display())]
        }
        SourceKind::Page {
            url,
            item,
            link,
            title,
            date,
            summary,
            date_format,
        } => {
            let mut lines = vec![
                format!("url = {url}"),
                format!("item = {item}"),
                format!("link = {link}"),
            ];
            lines.extend(optional("title", title));
            lines.extend(optional("date", date));
            lines.extend(optional("summary", summary));
            lines.extend(date_format.as_ref().map(|f| format!("date_format = {f}")));
            lines
        }
        SourceKind::Markdown {
            path,
            base_url,
            permalink,
        } => {
            let mut lines = vec![
                format!("path = {}", path.display()),
                format!("base_url = {base_url}"),
            ];
            lines.extend(permalink.as_ref().map(|p| format!("permalink = {p}")));
            lines
        }
    }
}

/// The config file's directory, absolute when the working directory is
/// known, so a later `chdir` cannot change what the paths mean.
fn base_dir_of(file: &Path) -> PathBuf {
    let parent = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::path::absolute(&parent).unwrap_or(parent)
}

/// Byte offset where each line starts.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(at, _)| at + 1))
        .collect()
}

/// The 1-based line holding byte `offset`, from `line_starts`.
fn line_number(line_starts: &[usize], offset: usize) -> usize {
    match line_starts.binary_search(&offset) {
        Ok(index) => index + 1,
        Err(index) => index,
    }
}

fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

pub const DEFAULT_DIGEST_TITLE: &str = "社区要闻";
pub const DEFAULT_CRON: &str = "*/30 * * * *";
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080/";
pub const DEFAULT_TOKEN_ENV: &str = "YAOWEN_ADMIN_TOKEN";

pub fn default_user_agent() -> String {
    format!(
        "yaowen/{} (+https://github.com/yaowen)",
        env!("CARGO_PKG_VERSION")
    )
}

const SECTIONS: &[&str] = &[
    "store", "output", "digest", "feed", "schedule", "fetch", "wechat", "server", "source",
];
const SOURCE_COMMON_KEYS: &[&str] = &[
    "name",
    "kind",
    "tags",
    "cron",
    "timezone",
    "allow_private",
    "full_text",
    "follow",
    "enabled",
];
const KINDS: &[(&str, &[&str])] = &[
    ("feed", &["url"]),
    ("wechat", &["links_file"]),
    (
        "page",
        &[
            "url",
            "item",
            "link",
            "title",
            "date",
            "summary",
            "date_format",
        ],
    ),
    ("markdown", &["path", "base_url", "permalink"]),
];

/// A table being checked, with what messages need to say where it is.
struct Node<'a> {
    table: &'a dyn TableLike,
    /// `fetch`, `source[2]`.
    path: String,
    source: Option<String>,
    /// Line of the table's header, for missing keys.
    line: Option<usize>,
}

/// A value and the line it is on.
struct At<T> {
    value: T,
    line: Option<usize>,
}

/// Walks the document, collecting every error.
struct Checker<'t> {
    /// Byte offset where each line starts: a config of a thousand sources
    /// has tens of thousands of values to place.
    line_starts: Vec<usize>,
    base_dir: &'t Path,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn line(&self, span: Option<Range<usize>>) -> Option<usize> {
        span.map(|span| line_number(&self.line_starts, span.start))
    }

    fn error(&mut self, node: &Node<'_>, key: &str, line: Option<usize>, message: String) {
        let key = if key.is_empty() {
            node.path.clone()
        } else if node.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", node.path)
        };
        self.errors.push(ConfigError {
            key,
            line,
            message,
            source: node.source.clone(),
        });
    }

    fn key_line(&self, node: &Node<'_>, key: &str) -> Option<usize> {
        let span = node.table.key(key).and_then(|key| key.span());
        self.line(span).or(node.line)
    }

    /// Reports keys `allowed` does not accept; `explain` may give a better
    /// message than "unknown key" for a given key.
    fn unknown_keys(
        &mut self,
        node: &Node<'_>,
        allowed: &dyn Fn(&str) -> bool,
        explain: &dyn Fn(&str) -> Option<String>,
        known: &[&str],
    ) {
        let unknown: Vec<String> = node
            .table
            .iter()
            .map(|(key, _)| key)
            .filter(|key| !allowed(key))
            .map(str::to_string)
            .collect();
        for key in unknown {
            let line = self.key_line(node, &key);
            let message = explain(&key).unwrap_or_else(|| unknown_key_message(&key, known));
            self.error(node, &key, line, message);
        }
    }

    /// The value under `key`, reporting a table where a value belongs.
    fn value<'n>(&mut self, node: &Node<'n>, key: &str) -> Option<At<&'n Value>> {
        let item = node.table.get(key)?;
        match item {
            Item::Value(value) => Some(At {
                value,
                line: self.line(value.span()).or_else(|| self.key_line(node, key)),
            }),
            Item::None => None,
            other => {
                let line = self.key_line(node, key);
                let message = format!("expected a value, found a {}", other.type_name());
                self.error(node, key, line, message);
                None
            }
        }
    }

    fn wrong_type(&mut self, node: &Node<'_>, key: &str, at: &At<&Value>, expected: &str) {
        let message = format!("expected {expected}, found {}", describe(at.value));
        self.error(node, key, at.line, message);
    }

    fn string(&mut self, node: &Node<'_>, key: &str) -> Option<At<String>> {
        let at = self.value(node, key)?;
        match at.value.as_str() {
            Some(text) => Some(At {
                value: text.to_string(),
                line: at.line,
            }),
            None => {
                self.wrong_type(node, key, &at, "a string");
                None
            }
        }
    }

    fn required_string(&mut self, node: &Node<'_>, key: &str) -> Option<At<String>> {
        if node.table.get(key).is_none() {
            self.error(node, key, node.line, "missing required key".to_string());
            return None;
        }
        self.string(node, key)
    }

    /// A string turned into `T` by `convert`, whose error message is
    /// reported on the value's line.
    fn convert<T>(
        &mut self,
        node: &Node<'_>,
        key: &str,
        at: Option<At<String>>,
        convert: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let at = at?;
        match convert(&at.value) {
            Ok(value) => Some(value),
            Err(message) => {
                self.error(node, key, at.line, message);
                None
            }
        }
    }

    fn parsed<T>(
        &mut self,
        node: &Node<'_>,
        key: &str,
        convert: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let at = self.string(node, key);
        self.convert(node, key, at, convert)
    }

    fn required<T>(
        &mut self,
        node: &Node<'_>,
        key: &str,
        convert: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let at = self.required_string(node, key);
        self.convert(node, key, at, convert)
    }

    fn integer(&mut self, node: &Node<'_>, key: &str, range: RangeInclusive<u64>) -> Option<u64> {
        let at = self.value(node, key)?;
        let Some(number) = at.value.as_integer() else {
            self.wrong_type(node, key, &at, "an integer");
            return None;
        };
        match u64::try_from(number) {
            Ok(number) if range.contains(&number) => Some(number),
            _ => {
                let message = format!(
                    "must be between {} and {}, got {number}",
                    range.start(),
                    range.end()
                );
                self.error(node, key, at.line, message);
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node<'_>, key: &str) -> Option<bool> {
        let at = self.value(node, key)?;
        let flag = at.value.as_bool();
        if flag.is_none() {
            self.wrong_type(node, key, &at, "true or false");
        }
        flag
    }

    /// An array of strings, each checked by `check`.
    fn strings(
        &mut self,
        node: &Node<'_>,
        key: &str,
        check: impl Fn(&str) -> Result<String, String>,
    ) -> Option<Vec<String>> {
        let at = self.value(node, key)?;
        let Some(array) = at.value.as_array() else {
            self.wrong_type(node, key, &at, "an array of strings");
            return None;
        };
        let mut values = Vec::new();
        let mut ok = true;
        for (index, element) in array.iter().enumerate() {
            let line = self.line(element.span()).or(at.line);
            let element_key = format!("{key}[{index}]");
            let checked = match element.as_str() {
                Some(text) => check(text),
                None => Err(format!("expected a string, found {}", describe(element))),
            };
            match checked {
                Ok(value) => values.push(value),
                Err(message) => {
                    ok = false;
                    self.error(node, &element_key, line, message);
                }
            }
        }
        ok.then_some(values)
    }

    fn path(&mut self, node: &Node<'_>, key: &str) -> Option<PathBuf> {
        let base_dir = self.base_dir.to_path_buf();
        self.parsed(node, key, |text| resolve_path(&base_dir, text))
    }

    fn required_path(&mut self, node: &Node<'_>, key: &str) -> Option<PathBuf> {
        let base_dir = self.base_dir.to_path_buf();
        self.required(node, key, |text| resolve_path(&base_dir, text))
    }

    /// A top-level section as a node; an absent section is an empty table.
    fn section<'d>(
        &mut self,
        root: &'d toml_edit::Table,
        name: &str,
        empty: &'d toml_edit::Table,
    ) -> Node<'d> {
        let node = |table: &'d dyn TableLike, line| Node {
            table,
            path: name.to_string(),
            source: None,
            line,
        };
        let Some(item) = root.get(name) else {
            return node(empty, None);
        };
        let line = self
            .line(item.span())
            .or_else(|| self.line(root.key(name).and_then(|k| k.span())));
        match item.as_table_like() {
            Some(table) => node(table, line),
            None => {
                let root_node = node(empty, None);
                let message = format!("expected a table ([{name}]), found {}", item.type_name());
                self.error(&root_node, "", line, message);
                root_node
            }
        }
    }

    fn config(&mut self, root: &toml_edit::Table, file: &Path) -> Config {
        let empty = toml_edit::Table::new();
        let root_node = Node {
            table: root,
            path: String::new(),
            source: None,
            line: None,
        };
        self.unknown_keys(
            &root_node,
            &|key| SECTIONS.contains(&key),
            &|_| None,
            SECTIONS,
        );
        let section = self.section(root, "store", &empty);
        let store = self.store(&section);
        let section = self.section(root, "output", &empty);
        let output = self.output(&section);
        let section = self.section(root, "digest", &empty);
        let digest = self.digest(&section);
        let section = self.section(root, "feed", &empty);
        let feed = self.feed(&section, &digest);
        let section = self.section(root, "schedule", &empty);
        let schedule = self.schedule(&section);
        let section = self.section(root, "fetch", &empty);
        let fetch = self.fetch(&section);
        let section = self.section(root, "wechat", &empty);
        let wechat = self.wechat(&section);
        let section = self.section(root, "server", &empty);
        let server = self.server(&section);
        let sources = self.sources(root, &digest);
        Config {
            file: file.to_path_buf(),
            base_dir: self.base_dir.to_path_buf(),
            store,
            output,
            digest,
            feed,
            schedule,
            fetch,
            wechat,
            server,
            sources,
        }
    }

    fn keys_only(&mut self, node: &Node<'_>, known: &[&str]) {
        self.unknown_keys(node, &|key| known.contains(&key), &|_| None, known);
    }

    fn store(&mut self, node: &Node<'_>) -> StoreConfig {
        self.keys_only(node, &["path"]);
        StoreConfig {
            path: self
                .path(node, "path")
                .unwrap_or_else(|| self.base_dir.join("data/yaowen.db")),
        }
    }

    fn output(&mut self, node: &Node<'_>) -> OutputConfig {
        self.keys_only(node, &["dir", "base_url"]);
        let dir = self
            .path(node, "dir")
            .unwrap_or_else(|| self.base_dir.join("public"));
        let base_url = self
            .parsed(node, "base_url", |text| {
                http_url(text).map(with_trailing_slash)
            })
            .map(String::from)
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        OutputConfig { dir, base_url }
    }

    fn digest(&mut self, node: &Node<'_>) -> DigestConfig {
        let keys = [
            "title",
            "period",
            "timezone",
            "summary_chars",
            "front_matter",
        ];
        self.keys_only(node, &keys);
        DigestConfig {
            title: self
                .parsed(node, "title", non_empty)
                .unwrap_or_else(|| DEFAULT_DIGEST_TITLE.to_string()),
            period: self
                .parsed(node, "period", parse_period)
                .unwrap_or_default(),
            timezone: self
                .parsed(node, "timezone", parse_timezone)
                .unwrap_or(chrono_tz::Asia::Shanghai),
            summary_chars: self
                .integer(node, "summary_chars", 20..=1000)
                .unwrap_or(120) as usize,
            front_matter: self.boolean(node, "front_matter").unwrap_or(false),
        }
    }

    fn feed(&mut self, node: &Node<'_>, digest: &DigestConfig) -> FeedConfig {
        self.keys_only(node, &["title", "description", "items"]);
        let title = self
            .parsed(node, "title", non_empty)
            .unwrap_or_else(|| digest.title.clone());
        let description = self
            .string(node, "description")
            .map(|at| at.value)
            .unwrap_or_else(|| title.clone());
        FeedConfig {
            title,
            description,
            items: self.integer(node, "items", 1..=1000).unwrap_or(50) as usize,
        }
    }

    fn schedule(&mut self, node: &Node<'_>) -> ScheduleConfig {
        self.keys_only(node, &["cron", "jitter_secs"]);
        let cron = self
            .parsed(node, "cron", parse_cron)
            .unwrap_or_else(default_cron);
        ScheduleConfig {
            cron,
            jitter_secs: self.integer(node, "jitter_secs", 0..=86_400).unwrap_or(30),
        }
    }

    fn fetch(&mut self, node: &Node<'_>) -> FetchConfig {
        let keys = [
            "concurrency",
            "per_host",
            "timeout_secs",
            "connect_timeout_secs",
            "max_body_bytes",
            "max_redirects",
            "retries",
            "user_agent",
            "min_host_interval_ms",
            "min_refresh_secs",
            "max_refresh_secs",
        ];
        self.keys_only(node, &keys);
        let fetch = FetchConfig {
            concurrency: self.integer(node, "concurrency", 1..=1024).unwrap_or(16) as usize,
            per_host: self.integer(node, "per_host", 1..=64).unwrap_or(1) as usize,
            timeout_secs: self.integer(node, "timeout_secs", 1..=3600).unwrap_or(20),
            connect_timeout_secs: self
                .integer(node, "connect_timeout_secs", 1..=3600)
                .unwrap_or(10),
            max_body_bytes: self
                .integer(node, "max_body_bytes", 1024..=1 << 30)
                .unwrap_or(10 << 20),
            max_redirects: self.integer(node, "max_redirects", 0..=20).unwrap_or(5) as usize,
            retries: self.integer(node, "retries", 0..=10).unwrap_or(2) as u32,
            user_agent: self
                .parsed(node, "user_agent", header_value)
                .unwrap_or_else(default_user_agent),
            min_host_interval_ms: self
                .integer(node, "min_host_interval_ms", 0..=3_600_000)
                .unwrap_or(1000),
            min_refresh_secs: self
                .integer(node, "min_refresh_secs", 0..=604_800)
                .unwrap_or(300),
            max_refresh_secs: self
                .integer(node, "max_refresh_secs", 60..=2_592_000)
                .unwrap_or(86_400),
        };
        if fetch.connect_timeout_secs > fetch.timeout_secs {
            let line = self.key_line(node, "connect_timeout_secs");
            let message = format!(
                "{} is longer than timeout_secs ({})",
                fetch.connect_timeout_secs, fetch.timeout_secs
            );
            self.error(node, "connect_timeout_secs", line, message);
        }
        self.ordered(
            node,
            ("min_refresh_secs", fetch.min_refresh_secs),
            ("max_refresh_secs", fetch.max_refresh_secs),
        );
        fetch
    }

    /// Reports `low` above `high` on the line of whichever key is present.
    fn ordered(&mut self, node: &Node<'_>, low: (&str, u64), high: (&str, u64)) {
        if low.1 <= high.1 {
            return;
        }
        let key = if node.table.contains_key(low.0) {
            low.0
        } else {
            high.0
        };
        let line = self.key_line(node, key);
        let message = format!("{} ({}) is above {} ({})", low.0, low.1, high.0, high.1);
        self.error(node, key, line, message);
    }

    fn wechat(&mut self, node: &Node<'_>) -> WechatConfig {
        let keys = [
            "min_interval_secs",
            "jitter_secs",
            "backoff_min_secs",
            "backoff_max_secs",
        ];
        self.keys_only(node, &keys);
        let wechat = WechatConfig {
            min_interval_secs: self
                .integer(node, "min_interval_secs", 0..=3600)
                .unwrap_or(5),
            jitter_secs: self.integer(node, "jitter_secs", 0..=3600).unwrap_or(3),
            backoff_min_secs: self
                .integer(node, "backoff_min_secs", 0..=604_800)
                .unwrap_or(900),
            backoff_max_secs: self
                .integer(node, "backoff_max_secs", 0..=2_592_000)
                .unwrap_or(21_600),
        };
        self.ordered(
            node,
            ("backoff_min_secs", wechat.backoff_min_secs),
            ("backoff_max_secs", wechat.backoff_max_secs),
        );
        wechat
    }

    fn server(&mut self, node: &Node<'_>) -> ServerConfig {
        self.keys_only(node, &["listen", "token_env", "token_file"]);
        let listen = self
            .parsed(node, "listen", parse_listen)
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
        let token_env = match self.parsed(node, "token_env", parse_env_name) {
            Some(name) => name,
            None if node.table.contains_key("token_env") => None,
            None => Some(DEFAULT_TOKEN_ENV.to_string()),
        };
        ServerConfig {
            listen,
            token_env,
            token_file: self.path(node, "token_file"),
        }
    }

    fn sources(&mut self, root: &toml_edit::Table, digest: &DigestConfig) -> Vec<SourceConfig> {
        let Some(item) = root.get("source") else {
            return Vec::new();
        };
        let tables = self.source_tables(root, item);
        let mut sources = Vec::new();
        let mut seen: HashMap<String, Option<usize>> = HashMap::new();
        for (index, (table, line)) in tables.into_iter().enumerate() {
            let name = table.get("name").and_then(Item::as_str).map(str::to_string);
            let node = Node {
                table,
                path: format!("source[{index}]"),
                source: name.filter(|name| !name.is_empty()),
                line,
            };
            if let Some(source) = self.source(&node, digest) {
                let name_line = self.key_line(&node, "name");
                match seen.get(&source.name) {
                    Some(first) => {
                        let at = first.map(|l| format!(" on line {l}")).unwrap_or_default();
                        let message =
                            format!("duplicate source name {:?} (first used{at})", source.name);
                        self.error(&node, "name", name_line, message);
                    }
                    None => {
                        seen.insert(source.name.clone(), name_line);
                        sources.push(source);
                    }
                }
            }
        }
        sources
    }

    /// The `[[source]]` tables (or an array of inline tables) with the
    /// line each starts on.
    fn source_tables<'d>(
        &mut self,
        root: &'d toml_edit::Table,
        item: &'d Item,
    ) -> Vec<(&'d dyn TableLike, Option<usize>)> {
        if let Some(array) = item.as_array_of_tables() {
            return array
                .iter()
                .map(|table| (table as &dyn TableLike, self.line(table.span())))
                .collect();
        }
        let root_node = Node {
            table: root,
            path: String::new(),
            source: None,
            line: None,
        };
        let line = self.key_line(&root_node, "source");
        let Some(array) = item.as_array() else {
            let message = format!("expected [[source]] tables, found {}", item.type_name());
            self.error(&root_node, "source", line, message);
            return Vec::new();
        };
        let mut tables = Vec::new();
        for (index, value) in array.iter().enumerate() {
            match value.as_inline_table() {
                Some(table) => tables.push((table as &dyn TableLike, self.line(value.span()))),
                None => {
                    let message = format!("expected a table, found {}", describe(value));
                    self.error(&root_node, &format!("source[{index}]"), line, message);
                }
            }
        }
        tables
    }

    fn source(&mut self, node: &Node<'_>, digest: &DigestConfig) -> Option<SourceConfig> {
        let kind_name = self.required(node, "kind", parse_kind_name);
        self.source_keys(node, kind_name);
        let name = self.required(node, "name", parse_source_name);
        let kind = match kind_name {
            Some("feed") => self.feed_source(node),
            Some("wechat") => self.wechat_source(node),
            Some("page") => self.page_source(node),
            Some("markdown") => self.markdown_source(node),
            _ => None,
        };
        let tags = self.strings(node, "tags", |tag| {
            non_empty(tag).map(|t| t.trim().to_string())
        });
        let follow = self.strings(node, "follow", parse_host);
        let cron = self.parsed(node, "cron", parse_cron);
        let had_cron = node.table.contains_key("cron");
        let timezone = self.parsed(node, "timezone", parse_timezone);
        let allow_private = self.boolean(node, "allow_private").unwrap_or(false);
        let full_text = self.boolean(node, "full_text").unwrap_or(false);
        let enabled = self.boolean(node, "enabled").unwrap_or(true);
        // Any error in this source has been reported; build it only when whole.
        if had_cron && cron.is_none() {
            return None;
        }
        Some(SourceConfig {
            name: name?,
            kind: kind?,
            tags: tags.unwrap_or_default(),
            cron,
            timezone: timezone.unwrap_or(digest.timezone),
            allow_private,
            full_text,
            follow: follow.unwrap_or_default(),
            enabled,
        })
    }

    /// Keys the source's kind does not use: unknown everywhere, or known
    /// only to other kinds.
    fn source_keys(&mut self, node: &Node<'_>, kind: Option<&'static str>) {
        let kind_keys: &[&str] = KINDS
            .iter()
            .find(|(name, _)| Some(*name) == kind)
            .map(|(_, keys)| *keys)
            .unwrap_or(&[]);
        let known_anywhere = |key: &str| KINDS.iter().any(|(_, keys)| keys.contains(&key));
        let allowed = |key: &str| {
            SOURCE_COMMON_KEYS.contains(&key)
                || kind_keys.contains(&key)
                || (kind.is_none() && known_anywhere(key))
        };
        let explain = |key: &str| explain_kind_key(key, kind?);
        let mut known: Vec<&str> = SOURCE_COMMON_KEYS.to_vec();
        known.extend(kind_keys);
        self.unknown_keys(node, &allowed, &explain, &known);
    }

    fn feed_source(&mut self, node: &Node<'_>) -> Option<SourceKind> {
        let url = self.required(node, "url", http_url)?;
        Some(SourceKind::Feed { url })
    }

    fn wechat_source(&mut self, node: &Node<'_>) -> Option<SourceKind> {
        if node.table.contains_key("url") && !node.table.contains_key("links_file") {
            // `url` itself is reported by `source_keys`; no second error.
            return None;
        }
        let links_file = self.required_path(node, "links_file")?;
        Some(SourceKind::Wechat { links_file })
    }

    fn page_source(&mut self, node: &Node<'_>) -> Option<SourceKind> {
        let url = self.required(node, "url", http_url);
        let item = self.required(node, "item", Selector::parse);
        let link = self.required(node, "link", Selector::parse);
        let title = self.parsed(node, "title", Selector::parse);
        let date = self.parsed(node, "date", Selector::parse);
        let summary = self.parsed(node, "summary", Selector::parse);
        let date_format = self.parsed(node, "date_format", parse_date_format);
        let all_optional_ok = ["title", "date", "summary", "date_format"]
            .iter()
            .zip([
                title.is_some(),
                date.is_some(),
                summary.is_some(),
                date_format.is_some(),
            ])
            .all(|(key, ok)| ok || !node.table.contains_key(key));
        if !all_optional_ok {
            return None;
        }
        Some(SourceKind::Page {
            url: url?,
            item: item?,
            link: link?,
            title,
            date,
            summary,
            date_format,
        })
    }

    fn markdown_source(&mut self, node: &Node<'_>) -> Option<SourceKind> {
        let path = self.required_path(node, "path");
        let base_url = self.required(node, "base_url", |text| {
            http_url(text).map(with_trailing_slash)
        });
        let permalink = self.parsed(node, "permalink", non_empty);
        if permalink.is_none() && node.table.contains_key("permalink") {
            return None;
        }
        Some(SourceKind::Markdown {
            path: path?,
            base_url: base_url?,
            permalink,
        })
    }
}

/// "`item` is for page sources, not feed".
fn explain_kind_key(key: &str, kind: &str) -> Option<String> {
    if kind == "wechat" && key == "url" {
        return Some(
            "a wechat source reads article links from `links_file`, not `url` \
             (WeChat accounts have no feed)"
                .to_string(),
        );
    }
    let owners: Vec<&str> = KINDS
        .iter()
        .filter(|(_, keys)| keys.contains(&key))
        .map(|(name, _)| *name)
        .collect();
    if owners.is_empty() {
        return None;
    }
    Some(format!(
        "not used by {kind} sources (only by {})",
        owners.join(", ")
    ))
}

fn unknown_key_message(key: &str, known: &[&str]) -> String {
    let closest = known
        .iter()
        .map(|candidate| (edit_distance(key, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min();
    match closest {
        Some((_, candidate)) => format!("unknown key (did you mean `{candidate}`?)"),
        None => format!("unknown key; known here: {}", known.join(", ")),
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// `"foo"` for strings, the type name otherwise.
fn describe(value: &Value) -> String {
    match value.as_str() {
        Some(text) => format!("string {text:?}"),
        None => match value {
            Value::Integer(number) => format!("integer {}", number.value()),
            Value::Boolean(flag) => format!("boolean {}", flag.value()),
            other => other.type_name().to_string(),
        },
    }
}

fn non_empty(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("must not be empty".to_string())
    } else {
        Ok(text.to_string())
    }
}

fn resolve_path(base_dir: &Path, text: &str) -> Result<PathBuf, String> {
    if text.trim().is_empty() {
        return Err("empty path".to_string());
    }
    Ok(base_dir.join(text))
}

fn http_url(text: &str) -> Result<url::Url, String> {
    let bad = || format!("not an absolute http(s) URL: {text:?}");
    let url = url::Url::parse(text.trim()).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad());
    }
    Ok(url)
}

fn with_trailing_slash(mut url: url::Url) -> url::Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

fn parse_period(text: &str) -> Result<PeriodKind, String> {
    match text {
        "daily" => Ok(PeriodKind::Daily),
        "weekly" => Ok(PeriodKind::Weekly),
        _ => Err(format!("expected \"daily\" or \"weekly\", found {text:?}")),
    }
}

fn parse_timezone(text: &str) -> Result<Tz, String> {
    text.parse::<Tz>().map_err(|_| {
        format!("unknown time zone {text:?} (use an IANA name like \"Asia/Shanghai\")")
    })
}

fn parse_cron(text: &str) -> Result<Schedule, String> {
    Schedule::parse(text).map_err(|error| format!("invalid cron expression {text:?}: {error}"))
}

fn default_cron() -> Schedule {
    // The constant is a valid 5-field line; the tests parse it.
    Schedule::parse(DEFAULT_CRON).unwrap_or_else(|_| unreachable!("DEFAULT_CRON parses"))
}

fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.parse::<SocketAddr>()
        .map_err(|_| format!("expected an address:port like \"127.0.0.1:8080\", found {text:?}"))
}

/// `""` disables the token variable.
fn parse_env_name(text: &str) -> Result<Option<String>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let mut chars = text.chars();
    let valid = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(Some(text.to_string()))
    } else {
        Err(format!("not an environment variable name: {text:?}"))
    }
}

fn header_value(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("must not be empty".to_string());
    }
    if text.chars().all(|c| (' '..='~').contains(&c)) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "must be printable ASCII (it is sent as an HTTP header): {text:?}"
        ))
    }
}

fn parse_kind_name(text: &str) -> Result<&'static str, String> {
    KINDS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name == text)
        .ok_or_else(|| format!("unknown kind {text:?} (expected feed, wechat, page or markdown)"))
}

/// Names appear in logs, CLI arguments and store keys: no whitespace,
/// no path separators, no control characters.
fn parse_source_name(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("must not be empty".to_string());
    }
    if text.chars().count() > 64 {
        return Err(format!("longer than 64 characters: {text:?}"));
    }
    let bad = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '\\'));
    match bad {
        Some(c) => Err(format!(
            "{text:?} contains {c:?}; names may not contain whitespace or slashes"
        )),
        None => Ok(text.to_string()),
    }
}

/// A bare host name (`mp.weixin.qq.com`), lower-cased.
fn parse_host(text: &str) -> Result<String, String> {
    let bad = || format!("expected a host name like \"mp.weixin.qq.com\", found {text:?}");
    if text.is_empty() || text.contains(['/', ':', ' ', '@']) {
        return Err(bad());
    }
    match url::Host::parse(text) {
        Ok(_) => Ok(text.to_ascii_lowercase()),
        Err(_) => Err(bad()),
    }
}

fn parse_date_format(text: &str) -> Result<String, String> {
    use chrono::format::{Item as FormatItem, StrftimeItems};
    if text.is_empty() {
        return Err("must not be empty".to_string());
    }
    if StrftimeItems::new(text).any(|item| matches!(item, FormatItem::Error)) {
        return Err(format!("not a valid strftime format: {text:?}"));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigErrors> {
        Config::from_toml_str(text, "/etc/yaowen/config.toml")
    }

    fn errors(text: &str) -> Vec<ConfigError> {
        match load(text) {
            Ok(config) => panic!("accepted: {config:?}"),
            Err(errors) => errors.errors,
        }
    }

    #[test]
    fn empty_config_gets_every_default() {
        let config = load("").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.base_dir, PathBuf::from("/etc/yaowen"));
        assert_eq!(
            config.store.path,
            PathBuf::from("/etc/yaowen/data/yaowen.db")
        );
        assert_eq!(config.output.dir, PathBuf::from("/etc/yaowen/public"));
        assert_eq!(config.output.base_url, DEFAULT_BASE_URL);
        assert_eq!(config.digest.title, "社区要闻");
        assert_eq!(config.digest.period, PeriodKind::Weekly);
        assert_eq!(config.digest.timezone, chrono_tz::Asia::Shanghai);
        assert_eq!(config.feed.title, "社区要闻");
        assert_eq!(config.feed.items, 50);
        assert_eq!(config.schedule.cron.as_str(), "*/30 * * * *");
        assert_eq!(config.fetch.max_body_bytes, 10 * 1024 * 1024);
        assert!(config.fetch.user_agent.starts_with("yaowen/"));
        assert_eq!(
            config.server.token_env.as_deref(),
            Some("YAOWEN_ADMIN_TOKEN")
        );
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert!(config.sources.is_empty());
    }

    #[test]
    fn base_url_gets_a_trailing_slash() {
        let config = load("[output]\nbase_url = \"https://example.org/news\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.output.base_url, "https://example.org/news/");
    }

    #[test]
    fn selectors_split_the_attribute() {
        let link = Selector::parse("a@href").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(link.css, "a");
        assert_eq!(link.attr.as_deref(), Some("href"));
        let plain = Selector::parse("ul.news li").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plain.attr, None);
        let own = Selector::parse("@datetime").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(own.css, "");
        assert!(Selector::parse("a[").is_err());
        assert!(Selector::parse("").is_err());
    }

    #[test]
    fn page_keys_on_a_feed_name_the_kind() {
        let found = errors(
            "[[source]]\nname = \"k8s\"\nkind = \"feed\"\nurl = \"https://kubernetes.io/feed.xml\"\nitem = \"li\"\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "source[0].item");
        assert_eq!(found[0].line, Some(5));
        assert!(found[0].message.contains("feed"), "{}", found[0].message);
        assert!(found[0].message.contains("page"), "{}", found[0].message);
    }

    #[test]
    fn wechat_with_url_is_explained() {
        let found = errors(
            "[[source]]\nname = \"wx\"\nkind = \"wechat\"\nurl = \"https://mp.weixin.qq.com/\"\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("links_file"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn duplicate_names_are_reported() {
        let source =
            "[[source]]\nname = \"a\"\nkind = \"feed\"\nurl = \"https://a.example/feed\"\n";
        let found = errors(&format!("{source}{source}"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("duplicate"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].line, Some(6));
    }

    #[test]
    fn unknown_key_suggests_the_close_one() {
        let found = errors("[fetch]\ntimeout_sec = 5\n");
        assert_eq!(found[0].key, "fetch.timeout_sec");
        assert!(
            found[0].message.contains("timeout_secs"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn display_names_the_source() {
        let text = "[[source]]\nname = \"kube-blog\"\nkind = \"feed\"\nurl = \"foo\"\n";
        let Err(errors) = Config::from_toml_str(text, "config.toml") else {
            panic!("accepted")
        };
        assert_eq!(
            errors.to_string(),
            "config.toml:4: source[0] (\"kube-blog\").url: not an absolute http(s) URL: \"foo\""
        );
    }

    #[test]
    fn broken_toml_names_the_line() {
        let found = errors("[store]\npath = \"x\n");
        assert_eq!(found[0].line, Some(2), "{found:?}");
        assert!(found[0].message.contains("TOML"));
    }

    #[test]
    fn empty_token_env_disables_it() {
        let config = load("[server]\ntoken_env = \"\"\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.server.token_env, None);
    }
}

/// The configuration as several long-lived parts of the daemon see it: the
/// scheduler replaces it on SIGHUP and the HTTP server reads the current one
/// on every request. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SharedConfig(Arc<std::sync::RwLock<Arc<Config>>>);

impl SharedConfig {
    pub fn new(config: Arc<Config>) -> SharedConfig {
        SharedConfig(Arc::new(std::sync::RwLock::new(config)))
    }

    /// The configuration in force now.
    pub fn get(&self) -> Arc<Config> {
        // A poisoned lock still holds a complete Arc: use it.
        match self.0.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Put a newly loaded configuration in force.
    pub fn set(&self, config: Arc<Config>) {
        match self.0.write() {
            Ok(mut guard) => *guard = config,
            Err(poisoned) => *poisoned.into_inner() = config,
        }
    }
}
