//! The whole binary on the feed farm: `yaowen fetch` stores every story,
//! the published outputs show each cross-posted story once, and no two
//! different stories are merged, also after a run killed halfway.
//! `YAOWEN_FARM_FEEDS=1000` runs the big farm.

use crate::common;

use common::farm::{http_get, start_farm};
use common::{stderr, stdout, yaowen};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use yaowen::process::canonical::canonical_url;

#[test]
fn the_farm_is_stored_whole_and_each_story_is_shown_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let truth_path = dir.path().join("truth.json");
    let feeds = farm_feeds();
    let farm = start_farm(feeds, &truth_path);
    let config_path = farm_config(dir.path(), farm.port);

    let run = yaowen(&config_path, &["run", "--once", "--strict"]);
    assert!(run.status.success(), "{}\n{}", stdout(&run), stderr(&run));
    check_stories(dir.path(), &config_path, &truth_path, feeds);
}

#[test]
fn a_run_killed_halfway_loses_nothing_and_splits_no_story() {
    let dir = tempfile::tempdir().expect("tempdir");
    let truth_path = dir.path().join("truth.json");
    let feeds = farm_feeds();
    let farm = start_farm(feeds, &truth_path);
    let config_path = farm_config(dir.path(), farm.port);

    // SIGKILL once the store has grown past its first writes: whenever the
    // kill lands, the next run must end where an unbroken one would.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_yaowen"))
        .arg("--config")
        .arg(&config_path)
        .args(["run", "--once"])
        .env_remove("YAOWEN_CONFIG")
        .env("RUST_LOG", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start yaowen");
    let data = dir.path().join("db").join("db");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let written = std::fs::metadata(&data).map_or(0, |m| m.len());
        if written > 1_000_000 || child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();

    let run = yaowen(&config_path, &["run", "--once", "--strict"]);
    assert!(run.status.success(), "{}\n{}", stdout(&run), stderr(&run));
    check_stories(dir.path(), &config_path, &truth_path, feeds);
}

fn farm_feeds() -> usize {
    std::env::var("YAOWEN_FARM_FEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

/// A config with one feed source per farm feed, written into `dir`.
fn farm_config(dir: &Path, port: u16) -> PathBuf {
    let urls = String::from_utf8(http_get(port, "/urls.txt").expect("urls.txt")).expect("utf-8");

    let mut config = String::from(
        "[store]\npath = \"db\"\n[output]\ndir = \"public\"\n[digest]\nperiod = \"daily\"\n\
         [feed]\nitems = 1000\n[fetch]\nconcurrency = 32\nper_host = 32\nmin_host_interval_ms = 0\n",
    );
    for (n, url) in urls.lines().filter(|l| l.starts_with("http")).enumerate() {
        config.push_str(&format!(
            "[[source]]\nname = \"farm-{n}\"\nkind = \"feed\"\nurl = \"{url}\"\nallow_private = true\n"
        ));
    }
    let config_path = dir.join("config.toml");
    std::fs::write(&config_path, config).expect("config");
    config_path
}

/// Every story stored, each shown once, none merged with another.
fn check_stories(dir: &Path, config_path: &Path, truth_path: &Path, feeds: usize) {
    let truth: Value = serde_json::from_str(&std::fs::read_to_string(truth_path).expect("truth"))
        .expect("truth json");
    let listing = stdout(&yaowen(
        config_path,
        &["items", "--json", "--limit", "1000000"],
    ));
    let items: Vec<Value> = listing
        .lines()
        .map(|l| serde_json::from_str(l).expect("item json"))
        .collect();
    // Canonical URL → (id, cluster). A copy that differs only by tracking
    // parameters is the same URL, so it is one item, not a stored copy.
    let by_url: HashMap<&str, (&str, &str)> = items
        .iter()
        .map(|i| {
            let field = |key: &str| i[key].as_str().unwrap_or("");
            (field("url"), (field("id"), field("cluster")))
        })
        .collect();
    let lookup = |link: &str| {
        canonical_url(link)
            .and_then(|url| by_url.get(url.as_str()).copied())
            .unwrap_or_else(|| panic!("{link} is stored"))
    };
    let mut grouped_urls = HashSet::new();
    let mut copies_left = 0;
    for group in truth["groups"].as_array().expect("groups") {
        let members: Vec<&str> = group
            .as_array()
            .expect("group")
            .iter()
            .map(|m| m["link"].as_str().expect("link"))
            .collect();
        grouped_urls.extend(members.iter().filter_map(|l| canonical_url(l)));
        let ids: HashSet<&str> = members.iter().map(|l| lookup(l).0).collect();
        let clusters: HashSet<&str> = members.iter().map(|l| lookup(l).1).collect();
        copies_left += clusters.len() - 1;
        for cluster in &clusters {
            assert!(
                ids.contains(cluster),
                "a group clustered under a story outside it: {members:?}"
            );
        }
    }
    // A story that is nobody's copy must head its own cluster.
    let wrongly_merged = items
        .iter()
        .filter(|i| !grouped_urls.contains(i["url"].as_str().unwrap_or("")))
        .filter(|i| i["cluster"] != i["id"])
        .count();
    let unique = truth["unique_articles"].as_u64().expect("unique") as usize;
    let heads = items.iter().filter(|i| i["cluster"] == i["id"]).count();
    println!(
        "farm {feeds} feeds: {} items stored, {} stories shown (truth {unique}), {copies_left} copies left, {wrongly_merged} wrong merges",
        items.len(),
        heads
    );
    assert_eq!(copies_left, 0, "no cross-post copy is shown");
    assert_eq!(wrongly_merged, 0, "no two different stories merged");
    assert_eq!(heads, unique);

    // The published digests list each story once.
    let mut digest_lines = 0;
    for entry in std::fs::read_dir(dir.join("public/digest")).expect("digest dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            digest_lines += std::fs::read_to_string(&path)
                .expect("digest")
                .lines()
                .filter(|l| l.starts_with("- [**"))
                .count();
        }
    }
    assert_eq!(digest_lines, unique, "digests show each story once");
}
