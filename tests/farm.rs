//! The whole binary on the feed farm: `yaowen fetch` stores every story,
//! the published outputs show each cross-posted story once, and no two
//! different stories are merged. `YAOWEN_FARM_FEEDS=1000` runs the big farm.

use crate::common;

use common::farm::{http_get, start_farm};
use common::{stderr, stdout, yaowen};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use yaowen::process::canonical::canonical_url;

#[test]
fn the_farm_is_stored_whole_and_each_story_is_shown_once() {
    let feeds: usize = std::env::var("YAOWEN_FARM_FEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().expect("tempdir");
    let truth_path = dir.path().join("truth.json");
    let farm = start_farm(feeds, &truth_path);
    let urls =
        String::from_utf8(http_get(farm.port, "/urls.txt").expect("urls.txt")).expect("utf-8");

    let mut config = String::from(
        "[store]\npath = \"db\"\n[output]\ndir = \"public\"\n[digest]\nperiod = \"daily\"\n\
         [feed]\nitems = 1000\n[fetch]\nconcurrency = 32\nper_host = 32\nmin_host_interval_ms = 0\n",
    );
    for (n, url) in urls.lines().filter(|l| l.starts_with("http")).enumerate() {
        config.push_str(&format!(
            "[[source]]\nname = \"farm-{n}\"\nkind = \"feed\"\nurl = \"{url}\"\nallow_private = true\n"
        ));
    }
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config).expect("config");

    let run = yaowen(&config_path, &["run", "--once", "--strict"]);
    assert!(run.status.success(), "{}\n{}", stdout(&run), stderr(&run));

    let truth: Value = serde_json::from_str(&std::fs::read_to_string(&truth_path).expect("truth"))
        .expect("truth json");
    let listing = stdout(&yaowen(
        &config_path,
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
    for entry in std::fs::read_dir(dir.path().join("public/digest")).expect("digest dir") {
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
