//! What `yaowen check` promises operators: the shipped config works, every
//! key of the design's example is known, and a broken config is reported in
//! full (every mistake, with key path and line), not one error per run.

use std::path::{Path, PathBuf};
use yaowen::config::{Config, ConfigErrors, SourceKind};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn errors_of(text: &str) -> ConfigErrors {
    match Config::from_toml_str(text, "config.toml") {
        Ok(config) => panic!("accepted a bad config: {config:#?}"),
        Err(errors) => errors,
    }
}

/// (key, line) of each error, in order.
fn keys_and_lines(errors: &ConfigErrors) -> Vec<(String, Option<usize>)> {
    errors
        .errors
        .iter()
        .map(|error| (error.key.clone(), error.line))
        .collect()
}

#[test]
fn shipped_config_validates() {
    let path = manifest_dir().join("config.toml");
    let config = Config::load(&path).unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(config.base_dir, manifest_dir());
    assert_eq!(config.store.path, manifest_dir().join("data/yaowen.db"));
    assert_eq!(config.digest.timezone, chrono_tz::Asia::Shanghai);
    let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "kubernetes-blog",
            "cncf-blog",
            "istio-blog",
            "cloudnative-to",
            "wechat-picks"
        ]
    );
    let wechat = config
        .source("wechat-picks")
        .unwrap_or_else(|| panic!("no wechat source"));
    assert_eq!(
        wechat.kind,
        SourceKind::Wechat {
            links_file: manifest_dir().join("links.txt")
        }
    );
    let cncf = config
        .source("cncf-blog")
        .unwrap_or_else(|| panic!("no cncf source"));
    assert_eq!(config.schedule_for(cncf).as_str(), "0 */2 * * *");

    let summary = config.resolved_summary();
    for name in names {
        assert!(summary.contains(name), "{name} missing from:\n{summary}");
    }
    for section in [
        "[store]",
        "[output]",
        "[digest]",
        "[feed]",
        "[schedule]",
        "[fetch]",
        "[wechat]",
        "[server]",
    ] {
        assert!(summary.contains(section), "{section} missing:\n{summary}");
    }
    assert!(summary.contains("https://kubernetes.io/feed.xml"));
    assert!(summary.contains("next: "), "{summary}");
}

/// Every key the design's configuration example uses must be known.
#[test]
fn design_example_validates() {
    let design = manifest_dir().join("../shared/DESIGN.md");
    let text = std::fs::read_to_string(&design)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", design.display()));
    let section = text
        .split("## Configuration")
        .nth(1)
        .unwrap_or_else(|| panic!("no Configuration section in DESIGN.md"));
    let example = section
        .split("```toml")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("no toml block in the Configuration section"));
    let config = Config::from_toml_str(example, "/srv/yaowen/config.toml")
        .unwrap_or_else(|errors| panic!("{errors}"));
    let kinds: Vec<&str> = config.sources.iter().map(|s| s.kind.label()).collect();
    assert_eq!(kinds, ["feed", "wechat", "page", "markdown"]);
    let Some(SourceKind::Page { link, date, .. }) =
        config.source("community-news").map(|s| &s.kind)
    else {
        panic!("community-news is not a page source");
    };
    assert_eq!(
        (link.css.as_str(), link.attr.as_deref()),
        ("a", Some("href"))
    );
    let date = date.as_ref().unwrap_or_else(|| panic!("no date selector"));
    assert_eq!(date.attr.as_deref(), Some("datetime"));
}

#[test]
fn every_mistake_is_reported_with_key_and_line() {
    let text = r#"[store]
path = 5

[digest]
period = "monthly"
timezone = "Asia/Shangai"
summary_chars = 5

[fetch]
timeout_secs = "20"
retires = 3

[[source]]
name = "kube-blog"
kind = "feed"
url = "foo"
item = "li"

[[source]]
kind = "wechat"
links_file = "links.txt"

[[source]]
name = "pages"
kind = "page"
url = "https://example.org/"
item = "ul li["
"#;
    let errors = errors_of(text);
    let found = keys_and_lines(&errors);
    let expected: Vec<(String, Option<usize>)> = [
        ("store.path", 2),
        ("digest.period", 5),
        ("digest.timezone", 6),
        ("digest.summary_chars", 7),
        ("fetch.timeout_secs", 10),
        ("fetch.retires", 11),
        ("source[0].url", 16),
        ("source[0].item", 17),
        ("source[1].name", 19),
        ("source[2].link", 23),
        ("source[2].item", 27),
    ]
    .iter()
    .map(|(key, line)| (key.to_string(), Some(*line)))
    .collect();
    assert_eq!(found, expected, "\n{errors}");

    // One line each, naming the file, the line, the key and the source.
    let rendered = errors.to_string();
    assert_eq!(rendered.lines().count(), expected.len(), "{rendered}");
    assert!(
        rendered.contains(
            "config.toml:16: source[0] (\"kube-blog\").url: not an absolute http(s) URL: \"foo\""
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains("config.toml:2: store.path: expected a string, found integer 5"),
        "{rendered}"
    );
    assert!(
        rendered.contains("source[1].name: missing required key"),
        "{rendered}"
    );
    assert!(rendered.contains("\"Asia/Shangai\""), "{rendered}");
    assert!(rendered.contains("did you mean `retries`"), "{rendered}");
}

#[test]
fn unknown_keys_are_rejected() {
    let errors =
        errors_of("[stroe]\npath = \"db\"\n\n[output]\ndir = \"public\"\ncolour = \"red\"\n");
    assert_eq!(
        keys_and_lines(&errors),
        [
            ("stroe".to_string(), Some(1)),
            ("output.colour".to_string(), Some(6))
        ],
        "\n{errors}"
    );
    assert!(
        errors.to_string().contains("did you mean `store`"),
        "{errors}"
    );

    let in_source = errors_of(
        "[[source]]\nname = \"k\"\nkind = \"feed\"\nurl = \"https://kubernetes.io/feed.xml\"\nlabels = [\"x\"]\n",
    );
    assert_eq!(
        keys_and_lines(&in_source),
        [("source[0].labels".to_string(), Some(5))]
    );
}

#[test]
fn relative_paths_are_resolved_against_the_config_directory() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let config_dir = dir.path().join("etc");
    std::fs::create_dir_all(&config_dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let file = config_dir.join("yaowen.toml");
    let text = r#"
[store]
path = "state/db"
[output]
dir = "../www"
[server]
token_file = "/run/secrets/yaowen"
[[source]]
name = "wx"
kind = "wechat"
links_file = "links.txt"
[[source]]
name = "blog"
kind = "markdown"
path = "content/blog"
base_url = "https://example.org/blog"
"#;
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("write: {e}"));
    let config = Config::load(&file).unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(config.base_dir, config_dir);
    assert_eq!(config.store.path, config_dir.join("state/db"));
    assert_eq!(config.output.dir, config_dir.join("../www"));
    assert_eq!(
        config.server.token_file.as_deref(),
        Some(Path::new("/run/secrets/yaowen"))
    );
    let wx = config.source("wx").map(|s| &s.kind);
    assert_eq!(
        wx,
        Some(&SourceKind::Wechat {
            links_file: config_dir.join("links.txt")
        })
    );
    match config.source("blog").map(|s| &s.kind) {
        Some(SourceKind::Markdown { path, base_url, .. }) => {
            assert_eq!(path, &config_dir.join("content/blog"));
            assert_eq!(base_url.as_str(), "https://example.org/blog/");
        }
        other => panic!("blog is {other:?}"),
    }
}

#[test]
fn invalid_cron_is_named() {
    let errors = errors_of(
        "[schedule]\ncron = \"61 * * * *\"\n\n[[source]]\nname = \"k\"\nkind = \"feed\"\nurl = \"https://kubernetes.io/feed.xml\"\ncron = \"0 8 * * 8\"\n",
    );
    assert_eq!(
        keys_and_lines(&errors),
        [
            ("schedule.cron".to_string(), Some(2)),
            ("source[0].cron".to_string(), Some(8))
        ]
    );
    let rendered = errors.to_string();
    assert!(
        rendered.contains("minute") && rendered.contains("61"),
        "{rendered}"
    );
    assert!(
        rendered.contains("day-of-week") && rendered.contains("\"8\""),
        "{rendered}"
    );
}

#[test]
fn unreadable_file_is_named() {
    let missing = manifest_dir().join("no-such-dir/config.toml");
    let Err(errors) = Config::load(&missing) else {
        panic!("loaded a missing file")
    };
    let rendered = errors.to_string();
    assert!(rendered.contains("no-such-dir/config.toml"), "{rendered}");
    assert!(rendered.contains("cannot read"), "{rendered}");
}

/// `yaowen check | head -0`: a reader that goes away ends the output
/// quietly; it is not a crash.
#[test]
fn a_closed_output_pipe_is_not_a_crash() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_yaowen"))
        .arg("--config")
        .arg(manifest_dir().join("config.toml"))
        .arg("check")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("yaowen starts");
    // Close the reading end before yaowen writes anything.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("yaowen ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}
