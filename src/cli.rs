//! The command edge: argument parsing (clap derive) and dispatch. Errors
//! become `anyhow` here, with context naming the file or source; exit codes
//! follow DESIGN.md (0 done, 1 failed, 2 bad usage or bad config).

use crate::config::{Config, SourceConfig};
use crate::fetch::{FetchSettings, HttpClient};
use crate::generate;
use crate::pipeline::{self, CycleReport};
use crate::store::Store;
use anyhow::{Context, Result};
use chrono::{NaiveDate, TimeZone, Utc};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(
    name = "yaowen",
    version,
    about = "要闻: collects news into curated digests"
)]
pub struct Cli {
    /// The configuration file.
    #[arg(
        long,
        global = true,
        env = "YAOWEN_CONFIG",
        default_value = "config.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The daemon: fetch on schedule and regenerate outputs.
    Run {
        /// One cycle (fetch all sources, generate), then exit.
        #[arg(long)]
        once: bool,
        /// With --once: exit 1 when any source failed.
        #[arg(long)]
        strict: bool,
    },
    /// Fetch now (all or the named sources), process and store; then exit.
    Fetch {
        /// Only this source (repeatable).
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// Exit 1 when any source failed.
        #[arg(long)]
        strict: bool,
    },
    /// Write all outputs from the store.
    Generate,
    /// Validate the configuration and print the resolved settings.
    Check,
    /// Each source: kind, schedule, last success, last error, items.
    Sources,
    /// What is stored, newest first.
    Items {
        /// Only items dated on or after this day (YYYY-MM-DD).
        #[arg(long)]
        since: Option<NaiveDate>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Write the whole store as JSON lines (a backup).
    Export {
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Read JSON lines written by `export` into the store.
    Import {
        /// The export file (`-` for standard input).
        file: PathBuf,
    },
    /// Editor actions on an item (through the running daemon's API when
    /// it runs, else directly on the store).
    Curate {
        #[command(subcommand)]
        action: CurateCommand,
    },
    /// Freeze a digest (default: the current period).
    Publish {
        /// Any day of the period (YYYY-MM-DD), or `current`.
        period: Option<String>,
    },
    /// Feed lists in OPML, to and from feed readers.
    Opml {
        #[command(subcommand)]
        action: OpmlCommand,
    },
    /// Submit an article link (e.g. WeChat) for the next fetch: appended to
    /// a wechat source's links file.
    Add {
        /// The article URL.
        url: String,
        /// The wechat source to add it to (default: the first one).
        #[arg(long = "source", value_name = "NAME")]
        source: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CurateCommand {
    /// Show the item in its digest even if it is a duplicate.
    Include { id: String },
    /// Leave the item out of its digest.
    Exclude { id: String },
    /// Put the item at the top of its digest.
    Pin { id: String },
    /// Take the pin off (the item stays included).
    Unpin { id: String },
    /// Override the title, summary or date (an empty value restores the original).
    Edit {
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        summary: Option<String>,
        /// YYYY-MM-DD; moves the item into that day's digest.
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OpmlCommand {
    /// Append the file's feeds to the config as `[[source]]` tables
    /// (category outlines become tags; configured URLs are skipped).
    Import {
        /// The OPML file.
        file: PathBuf,
        /// Let the imported sources fetch loopback and private addresses
        /// (intranet feeds; the SSRF guard refuses them otherwise).
        #[arg(long)]
        allow_private: bool,
    },
    /// Print every feed source as OPML 2.0 (tags as category outlines).
    Export,
}

/// `println!` for command output that cannot panic: a reader that went
/// away (`yaowen items | head`) ends the output quietly, another failure
/// is reported on stderr.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::say_raw(&format!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use say;

/// Write `text` to stdout as it is (see `say!`).
pub(crate) fn say_raw(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(error) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("yaowen: cannot write to standard output: {error}");
        }
    }
}

/// True when the error is a reader closing our output early.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let kind = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            });
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// A failure that maps to exit status 2 (bad usage or bad config).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

/// Parse arguments, run, print errors; the whole of `main`.
pub fn main() -> ExitCode {
    crate::memory::tune_allocator();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("yaowen: error: {error:#}");
            if error.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    // The daemon logs its work; one-shot commands print a report on stdout,
    // so their log shows only what the report does not.
    let default_level = match cli.command {
        Command::Run { once: false, .. } => "info",
        Command::Run { once: true, .. } | Command::Fetch { .. } => "error",
        _ => "warn",
    };
    init_logging(default_level);
    let config = load_config(&cli.config)?;
    match cli.command {
        Command::Check => {
            crate::cli::say_raw(&config.resolved_summary());
            say!("configuration OK: {}", config.file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { once: true, strict } => {
            let store = open_store(&config)?;
            let report = fetch(&config, &store, &[])?;
            // What the fetch read and wrote need not stay in memory while
            // generating reads everything again.
            store.release_memory()?;
            write_outputs(&config, &store)?;
            Ok(fetch_exit(&report, strict))
        }
        Command::Run { once: false, .. } => crate::daemon::run(config),
        Command::Fetch { sources, strict } => {
            let store = open_store(&config)?;
            let report = fetch(&config, &store, &sources)?;
            Ok(fetch_exit(&report, strict))
        }
        Command::Generate => {
            let store = open_store(&config)?;
            write_outputs(&config, &store)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sources => {
            let store = open_store(&config)?;
            print_sources(&config, &store)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Items { since, json, limit } => {
            let store = open_store(&config)?;
            print_items(&config, &store, since, json, limit)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { output } => {
            let store = open_store(&config)?;
            let counts = match output {
                Some(path) => {
                    let tmp = path.with_extension("tmp");
                    let file = std::fs::File::create(&tmp)
                        .with_context(|| format!("cannot create {}", tmp.display()))?;
                    let mut writer = std::io::BufWriter::new(file);
                    let counts = store.export(&mut writer)?;
                    writer
                        .flush()
                        .with_context(|| format!("cannot write {}", tmp.display()))?;
                    std::fs::rename(&tmp, &path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    counts
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut writer = std::io::BufWriter::new(stdout.lock());
                    let counts = store.export(&mut writer)?;
                    writer.flush().context("cannot write to standard output")?;
                    counts
                }
            };
            eprintln!("exported {counts}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { file } => {
            let store = open_store(&config)?;
            let counts = if file.as_os_str() == "-" {
                store.import(&mut std::io::stdin().lock())
            } else {
                let handle = std::fs::File::open(&file)
                    .with_context(|| format!("cannot open {}", file.display()))?;
                store.import(&mut std::io::BufReader::new(handle))
            }
            .with_context(|| format!("cannot import {}", file.display()))?;
            eprintln!("imported {counts}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Opml { action } => crate::opml::run(&config, action),
        // The links file is locked, not the store: this works while the daemon runs.
        Command::Add { url, source } => add_link(&config, &url, source.as_deref()),
        Command::Curate { action } => {
            crate::editor_cli::curate(&config, editor_request(action))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Publish { period } => {
            crate::editor_cli::publish(&config, period.as_deref().unwrap_or("current"))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The item id and curation request a `curate` command stands for.
fn editor_request(action: CurateCommand) -> (String, crate::curate::CurationRequest) {
    use crate::curate::{Action, CurationRequest};
    let with_action = |id: String, action: Action| {
        (
            id,
            CurationRequest {
                action: Some(action),
                ..CurationRequest::default()
            },
        )
    };
    match action {
        CurateCommand::Include { id } => with_action(id, Action::Include),
        CurateCommand::Exclude { id } => with_action(id, Action::Exclude),
        CurateCommand::Pin { id } => with_action(id, Action::Pin),
        CurateCommand::Unpin { id } => with_action(id, Action::Unpin),
        CurateCommand::Edit {
            id,
            title,
            summary,
            date,
        } => (
            id,
            CurationRequest {
                action: None,
                title,
                summary,
                date,
            },
        ),
    }
}

/// Append `url` to the links file of the named (or first) wechat source.
fn add_link(config: &Config, url: &str, name: Option<&str>) -> Result<ExitCode> {
    use crate::config::SourceKind;
    use crate::source::wechat::{self, Appended, WechatError};
    let is_wechat = |source: &&SourceConfig| matches!(source.kind, SourceKind::Wechat { .. });
    let source =
        match name {
            Some(name) => config.source(name).ok_or_else(|| {
                UsageError(format!(
                    "no source named {name:?} in {}",
                    config.file.display()
                ))
            })?,
            None => config.sources.iter().find(is_wechat).ok_or_else(|| {
                UsageError(format!("no wechat source in {}", config.file.display()))
            })?,
        };
    let SourceKind::Wechat { links_file } = &source.kind else {
        return Err(UsageError(format!(
            "source {:?} is a {} source; links are added to wechat sources",
            source.name,
            source.kind.label()
        ))
        .into());
    };
    match wechat::append_link(links_file, url) {
        Ok(Appended::Added { line }) => {
            say!(
                "added to {}:{line} (source {})",
                links_file.display(),
                source.name
            );
        }
        Ok(Appended::AlreadyThere { line }) => {
            say!(
                "already in {}:{line} (source {})",
                links_file.display(),
                source.name
            );
        }
        Err(error @ WechatError::NotAUrl(_)) => return Err(UsageError(error.to_string()).into()),
        Err(error) => return Err(error.into()),
    }
    Ok(ExitCode::SUCCESS)
}

fn init_logging(default_level: &str) {
    crate::logging::init(default_level);
}

fn load_config(path: &std::path::Path) -> Result<Config> {
    Config::load(path).map_err(|errors| UsageError(errors.to_string()).into())
}

pub(crate) fn open_store(config: &Config) -> Result<Arc<Store>> {
    Ok(Arc::new(Store::open(&config.store.path)?))
}

pub(crate) fn http_client(config: &Config) -> Result<HttpClient> {
    Ok(HttpClient::new(FetchSettings {
        timeout: Duration::from_secs(config.fetch.timeout_secs),
        connect_timeout: Duration::from_secs(config.fetch.connect_timeout_secs),
        max_body_bytes: config.fetch.max_body_bytes,
        max_redirects: config.fetch.max_redirects,
        retries: config.fetch.retries,
        user_agent: config.fetch.user_agent.clone(),
        per_host: config.fetch.per_host,
        min_host_interval: Duration::from_millis(config.fetch.min_host_interval_ms),
    })?)
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Run one cycle over the named sources (all when `names` is empty) and
/// print what happened.
fn fetch(config: &Config, store: &Arc<Store>, names: &[String]) -> Result<CycleReport> {
    let mut selected: Vec<&SourceConfig> = Vec::new();
    for name in names {
        let source = config.source(name).ok_or_else(|| {
            UsageError(format!(
                "no source named {name:?} in {}",
                config.file.display()
            ))
        })?;
        selected.push(source);
    }
    if names.is_empty() {
        selected = config.sources.iter().filter(|s| s.enabled).collect();
    }
    let client = http_client(config)?;
    let show_progress = std::io::stderr().is_terminal();
    let progress = move |done: usize, total: usize| {
        if show_progress {
            eprint!("\rfetching: {done}/{total} sources");
            if done == total {
                eprintln!();
            }
        }
    };
    let started = Instant::now();
    let report = runtime()?.block_on(pipeline::run_cycle(
        config, store, &client, &selected, &progress,
    ))?;
    print_report(&report, started.elapsed());
    Ok(report)
}

fn print_report(report: &CycleReport, took: Duration) {
    let failed: Vec<_> = report.failed().collect();
    say!(
        "fetched {} sources in {:.2} s: {} new items, {} updated, {} failed",
        report.sources.len(),
        took.as_secs_f64(),
        report.new_items(),
        report.updated_items(),
        failed.len()
    );
    for outcome in failed {
        if let Err(error) = &outcome.result {
            say!(
                "  failed: {} [{}] {}",
                outcome.name,
                error.category(),
                error
            );
        }
    }
}

fn fetch_exit(report: &CycleReport, strict: bool) -> ExitCode {
    if strict && report.failed().next().is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn write_outputs(config: &Config, store: &Store) -> Result<()> {
    let started = Instant::now();
    let report = generate::generate(config, store)
        .with_context(|| format!("cannot generate into {}", config.output.dir.display()))?;
    say!(
        "wrote {} files to {} in {:.2} s",
        report.files.len(),
        config.output.dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn print_sources(config: &Config, store: &Store) -> Result<()> {
    let fmt_time = |t: Option<chrono::DateTime<Utc>>| {
        t.map(|t| {
            t.with_timezone(&config.digest.timezone)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "-".into())
    };
    say!(
        "{:<24} {:<8} {:<16} {:<16} {:<16} {:>5} {:>6}  LAST ERROR",
        "NAME",
        "KIND",
        "SCHEDULE",
        "LAST OK",
        "NEXT DUE",
        "FAILS",
        "ITEMS"
    );
    for source in &config.sources {
        let state = store.source_state(&source.name)?;
        let error = match (&state.last_error_kind, &state.last_error) {
            (Some(kind), Some(message)) => format!("[{kind}] {message}"),
            _ => String::new(),
        };
        say!(
            "{:<24} {:<8} {:<16} {:<16} {:<16} {:>5} {:>6}  {}",
            source.name,
            source.kind.label(),
            config.schedule_for(source).as_str(),
            fmt_time(state.last_ok),
            fmt_time(state.next_due),
            state.failures,
            state.items_stored,
            error
        );
    }
    Ok(())
}

fn print_items(
    config: &Config,
    store: &Store,
    since: Option<NaiveDate>,
    json: bool,
    limit: usize,
) -> Result<()> {
    let since = since.and_then(|day| {
        day.and_hms_opt(0, 0, 0)
            .and_then(|t| config.digest.timezone.from_local_datetime(&t).earliest())
            .map(|t| t.with_timezone(&Utc))
    });
    let items = store.latest_items(limit, |item| {
        since.is_none_or(|since| item.effective_date() >= since)
    })?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for mut item in items {
        if json {
            store.load_body(&mut item)?;
            serde_json::to_writer(&mut out, &item)?;
            writeln!(out)?;
        } else {
            let date = item
                .effective_date()
                .with_timezone(&config.digest.timezone)
                .format("%Y-%m-%d");
            let mark = if item.is_undated() { "?" } else { " " };
            writeln!(
                out,
                "{date}{mark} {:<16} {}  {}",
                item.source, item.title, item.url
            )?;
        }
    }
    out.flush()?;
    Ok(())
}
